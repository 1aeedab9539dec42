"""The outbox: every outgoing mail is a row first, written in the transaction of the change it
announces, and delivered by the worker with retries. Its contents are sealed like a report's."""

from __future__ import annotations

import json
import uuid
from typing import ClassVar

from django.conf import settings
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


class OutboxPriority(models.IntegerChoices):
    """The order the worker sends in: the highest first, then the oldest (django-tasks' priority,
    -100 to 100). A flood's acknowledgements must not keep a reporter with a proof of concept
    waiting, nor the team's replies; whatever waits longer than ``delivery.PRIORITY_AGES_AFTER``
    goes up to the top (``Courier.promote_waiting``), so nothing waits for ever behind them."""

    EVIDENCE = 20, "To a reporter whose report carries evidence"
    NORMAL = 0, "Everything else"
    # A sender's later reports of the hour: whoever floods delays only their own acknowledgements.
    BULK = -20, "To a sender with many reports this hour"


class OutboxRow(models.Model):
    """The columns every outbox row shares: notify/delivery.py claims, retries and fails them the
    same way whether the row is a mail or a webhook POST."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    # Kept on the row so a retry, a requeue or a release goes back in the queue at the same place.
    priority = models.SmallIntegerField(choices=OutboxPriority.choices, default=OutboxPriority.NORMAL)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering: ClassVar = ["created_at"]
        indexes: ClassVar = [models.Index(fields=["status", "next_attempt_at"])]


class OutboundEmail(SealedColumns, OutboxRow):
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


class OutboundWebhook(OutboxRow):
    """One delivery: claimed, retried and failed like a mail; its id lets the receiver drop repeats."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(help_text="Public content only.")

    def __str__(self) -> str:
        return f"{self.event} to webhook {self.webhook_id} ({self.status})"


class NoticeKind(models.TextChoices):
    """What the team is told about; each person chooses per kind how (``NoticePreference``)."""

    NEW_REPORT = "new-report", "A new report arrived"
    ASSIGNMENT = "assignment", "A case was given to me"
    REVIEW_REQUESTED = "review-requested", "My review of an advisory draft is asked"
    REPORTER_REPLIED = "reporter-replied", "A reporter replied"
    DEADLINE_APPROACHING = "deadline-approaching", "A deadline is near"
    OVERDUE = "overdue", "A deadline passed"
    EMBARGO_ENDING = "embargo-ending", "An embargo ends soon"
    PROPOSAL = "proposal", "A distributor's or reporter's proposal (embargo dates, applications)"


class Delivery(models.TextChoices):
    AT_ONCE = "at-once", "Mail at once"
    DIGEST = "digest", "In my daily digest"
    NONE = "none", "Not at all"


class NoticePreference(models.Model):
    """How one person hears of one kind of notice; without a row, by mail at once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.AT_ONCE)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.delivery} for {self.user}"


class Digest(models.Model):
    """One person's daily digest for one day of their own calendar: sent once (the unique pair)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    local_date = models.DateField(help_text="The day, in the person's timezone.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "local_date"], name="one_digest_per_day"),
        ]

    def __str__(self) -> str:
        return f"digest of {self.local_date} for {self.user}"


class DigestItem(models.Model):
    """A notice kept for a person's next digest: its subject line and link, never report text."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    subject = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    digest = models.ForeignKey(Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")

    class Meta:
        indexes: ClassVar = [models.Index(fields=["user", "digest"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user}'s digest"
