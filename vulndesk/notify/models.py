"""The outbox: every outgoing mail is a row first, written in the transaction of the change it
announces, and delivered by the worker with retries. Its contents are sealed like a report's."""

from __future__ import annotations

import json
import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone

from vulndesk.crypto import SealedColumns


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed for good"
    # Mail to the address a quarantined report gave: sent if the team releases the report.
    HELD = "held", "Held until its report leaves quarantine"


class Delivery(models.Model):
    """The columns every outbox row shares: notify/delivery.py claims, retries and fails them the
    same way whether the row is a mail or a webhook POST."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering: ClassVar = ["created_at"]
        indexes: ClassVar = [models.Index(fields=["status", "next_attempt_at"])]


class OutboundEmail(SealedColumns, Delivery):
    kind = models.CharField(max_length=60, help_text="Which named email this is, e.g. report-received.")
    project = models.ForeignKey("projects.Project", null=True, blank=True, on_delete=models.SET_NULL)
    report = models.ForeignKey(
        "intake.Report",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set on mail to a report's reporter: their OpenPGP key, if they gave one, encrypts it.",
    )
    message_id = models.CharField(max_length=250, unique=True, help_text="Stable across retries.")
    sealed_message = models.TextField(help_text="Recipients, subject and bodies, as sealed JSON.")

    sealed_contexts: ClassVar = {
        "sealed_message": "outbound:{uid}",
    }

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} ({self.status})"

    @property
    def message(self) -> dict[str, object]:
        value: dict[str, object] = json.loads(self.opened("sealed_message"))
        return value

    @message.setter
    def message(self, value: dict[str, object]) -> None:
        self.sealed_message = self.sealed("sealed_message", json.dumps(value, sort_keys=True))


class WebhookEvent(models.TextChoices):
    # Public events only: a webhook goes to a third party (a chat, a bot), never embargoed material.
    ADVISORY_PUBLISHED = "advisory.published", "An advisory is published (or a revision of it)"


class Webhook(SealedColumns, models.Model):
    """An address a project's announcements are POSTed to, as JSON signed with HMAC-SHA256."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    sealed_secret = models.TextField(help_text="The signing secret, sealed.")
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    sealed_contexts: ClassVar = {
        "sealed_secret": "webhook:{uid}",
    }

    class Meta:
        ordering: ClassVar = ["project", "created_at"]

    def __str__(self) -> str:
        return f"webhook {self.pk} of {self.project}"

    @property
    def secret(self) -> str:
        return self.opened("sealed_secret")

    @secret.setter
    def secret(self, value: str) -> None:
        self.sealed_secret = self.sealed("sealed_secret", value)


class OutboundWebhook(Delivery):
    """One delivery: claimed, retried and failed like a mail; its id lets the receiver drop repeats."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(help_text="Public content only.")

    def __str__(self) -> str:
        return f"{self.event} to webhook {self.webhook_id} ({self.status})"
