"""Advisories, their revisions, and the people subscribed to a project's announcements.

A revision's text is sealed while it is a draft: it describes an embargoed vulnerability. When a
revision is published, what it says becomes public, so its title and summary are also kept in clear
on the advisory for the public list, search and feeds; a withdrawn advisory keeps only its title.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from vulndesk.crypto import SealedColumns


class AdvisoryState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Advisory(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="advisories")
    report = models.ForeignKey(
        "intake.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="advisories"
    )
    identifier = models.CharField(max_length=64, unique=True, help_text="x_<PREFIX>-YYYY-NNNN")
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    cve_id = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=10, choices=AdvisoryState.choices, default=AdvisoryState.DRAFT)
    is_example = models.BooleanField(default=False, help_text="Loaded as a demonstration by `make run`.")
    publish_at = models.DateTimeField(null=True, blank=True, help_text="Scheduled publication (UTC).")
    published_at = models.DateTimeField(null=True, blank=True, help_text="First publication.")
    modified_at = models.DateTimeField(null=True, blank=True, help_text="Latest published revision.")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    # Public once published (see the module docstring); empty while the advisory is a draft.
    public_title = models.CharField(max_length=300, blank=True)
    public_summary = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-published_at", "-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "year", "sequence"], name="advisory_number_per_year"),
        ]
        indexes: ClassVar = [models.Index(fields=["project", "state", "published_at"])]

    def __str__(self) -> str:
        return self.identifier  # never the title: it is secret while a draft

    @property
    def public_id(self) -> str:
        """The id the world uses: the CVE id when the project has one."""
        return self.cve_id or self.identifier


class AdvisoryRevision(SealedColumns, models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    sealed_content = models.TextField()
    change_summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # "Request review": the team member asked to approve this draft (they hear of it by mail).
    review_requested_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_requested_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_with_reporter_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    sealed_contexts: ClassVar = {
        "sealed_content": "advisory:{uid}",
    }

    class Meta:
        ordering: ClassVar = ["advisory", "-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["advisory", "number"], name="one_revision_number_per_advisory"),
        ]

    def __str__(self) -> str:
        return f"{self.advisory} revision {self.number}"

    @property
    def content(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.opened("sealed_content"))
        return value

    @content.setter
    def content(self, value: dict[str, Any]) -> None:
        self.sealed_content = self.sealed("sealed_content", json.dumps(value, sort_keys=True))


class Subscription(SealedColumns, models.Model):
    """One address on a project's security-announce list: double opt-in, one-click unsubscribe."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="subscriptions")
    address_digest = models.CharField(max_length=64, help_text="HMAC of the address, to find it again.")
    sealed_address = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    sealed_contexts: ClassVar = {
        "sealed_address": "subscription:{uid}",
    }

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["project", "address_digest"], name="one_subscription_per_address"
            ),
        ]

    def __str__(self) -> str:
        return f"subscription {self.uid} to {self.project}"

    @property
    def address(self) -> str:
        return self.opened("sealed_address")

    @address.setter
    def address(self, value: str) -> None:
        self.sealed_address = self.sealed("sealed_address", value)

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None
