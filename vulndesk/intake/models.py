"""Reports as they arrive, with everything a reporter wrote sealed at rest.

Plain columns hold only what the desk must sort and count by (project, number, channel, times,
state); what the reporter wrote, who they are and what they attached is sealed with
``vulndesk.crypto`` and bound to the report's uid, so a database file alone reveals none of it.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone

from vulndesk.crypto import SealedColumns
from vulndesk.intake.filenames import shown_filename
from vulndesk.openpgp.models import SignatureStatus


class Channel(models.TextChoices):
    WEB = "web", "Web form"
    API = "api", "API"
    EMAIL = "email", "Email"


class CreditPreference(models.TextChoices):
    NAME = "name", "Credit me by name"
    HANDLE = "handle", "Credit me by handle"
    ANONYMOUS = "anonymous", "Do not credit me"


class Report(SealedColumns, models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="reports")
    number = models.PositiveIntegerField(help_text="Counts up per project: the #12 the team talks about.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(default=timezone.now)
    # Vultron report-management state; the cases domain moves it through do_* actions.
    rm_state = models.CharField(max_length=12, default="received")
    sealed_title = models.TextField()
    sealed_fields = models.TextField(help_text="The reporter's answers, as sealed JSON.")
    sealed_reporter = models.TextField(help_text="Name, affiliation, email and credit, as sealed JSON.")
    # Blind index: an HMAC of the normalised sender address, to rate-limit and find a reporter's
    # reports without storing the address in clear.
    reporter_index = models.CharField(max_length=64, blank=True, db_index=True)
    tracking_digest = models.CharField(max_length=64, unique=True)
    tracking_revoked_at = models.DateTimeField(null=True, blank=True)
    idempotency_digest = models.CharField(max_length=64, null=True, blank=True)
    message_id_digest = models.CharField(max_length=64, null=True, blank=True)
    # Mail threads (RFC 5322 §3.6.4): every mail to the reporter refers to the first message of
    # theirs (their own Message-ID for a mailed report, our acknowledgement's otherwise); every
    # notice to the team to the first notice of its own thread.
    thread_root = models.CharField(max_length=250, blank=True)
    team_thread_root = models.CharField(max_length=250, blank=True)
    quarantined = models.BooleanField(default=False)
    quarantine_reason = models.CharField(max_length=200, blank=True)
    was_encrypted = models.BooleanField(default=False, help_text="Arrived OpenPGP-encrypted.")
    signature = models.CharField(max_length=12, choices=SignatureStatus.choices, default=SignatureStatus.NONE)
    signer_fingerprint = models.CharField(max_length=40, blank=True)

    sealed_contexts: ClassVar = {
        "sealed_title": "report:{uid}:title",
        "sealed_fields": "report:{uid}:fields",
        "sealed_reporter": "report:{uid}:reporter",
    }

    class Meta:
        ordering: ClassVar = ["-received_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "number"], name="report_number_per_project"),
            models.UniqueConstraint(
                fields=["project", "idempotency_digest"], name="one_report_per_idempotency_key"
            ),
            models.UniqueConstraint(
                fields=["project", "message_id_digest"], name="one_report_per_message_id"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["project", "rm_state", "received_at"]),
            # The queue's default view, newest first: walked in order and stopped at a page, not
            # sorted whole (its filters, "not closed" and "not quarantined", cannot use an index).
            models.Index(fields=["-received_at"], name="queue_newest_first"),
        ]

    def __str__(self) -> str:
        # Never the title: a report's string form ends up in logs and error pages.
        return f"{self.project.slug} report #{self.number}"

    @property
    def title(self) -> str:
        return self.opened("sealed_title")

    @title.setter
    def title(self, value: str) -> None:
        self.sealed_title = self.sealed("sealed_title", value)

    @property
    def fields(self) -> dict[str, str]:
        value: dict[str, str] = json.loads(self.opened("sealed_fields"))
        return value

    @fields.setter
    def fields(self, value: dict[str, str]) -> None:
        self.sealed_fields = self.sealed("sealed_fields", json.dumps(value, sort_keys=True))

    @property
    def reporter(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.opened("sealed_reporter"))
        return value

    @reporter.setter
    def reporter(self, value: dict[str, Any]) -> None:
        self.sealed_reporter = self.sealed("sealed_reporter", json.dumps(value, sort_keys=True))


class ReportAttachment(SealedColumns, models.Model):
    """A file the reporter attached: name and bytes sealed, size and type kept for the listing."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sealed_filename = models.TextField()
    sealed_content = models.TextField()

    sealed_contexts: ClassVar = {
        "sealed_filename": "attachment:{uid}:filename",
        "sealed_content": "attachment:{uid}:content",
    }

    def __str__(self) -> str:
        return f"attachment of {self.report} ({self.size} bytes)"

    @property
    def filename(self) -> str:
        return self.opened("sealed_filename")

    @filename.setter
    def filename(self, value: str) -> None:
        self.sealed_filename = self.sealed("sealed_filename", value)

    @property
    def shown_filename(self) -> str:
        """The name as pages show it: any bidi or other format character written out (filenames.py)."""
        return shown_filename(self.filename)

    @property
    def content(self) -> bytes:
        return base64.b64decode(self.opened("sealed_content"))

    @content.setter
    def content(self, value: bytes) -> None:
        self.sealed_content = self.sealed("sealed_content", base64.b64encode(value).decode())


class IntakeAttempt(models.Model):
    """One accepted intake attempt, for rate limits; the bucket is an HMAC of who sent it."""

    bucket = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["bucket", "at"])]

    def __str__(self) -> str:
        return f"intake attempt at {self.at:%Y-%m-%d %H:%M}"


class ReportCounter(models.Model):
    """The last report number a project gave (``intake.actions.take_report_number``).

    On PostgreSQL taken in a short transaction of its own, so that one report's transaction (its
    audit event, its mail) never holds up the next report's number: during a flood every report of
    the project waited for the one before it to commit. A report whose transaction then fails
    leaves its number unused, as a gap in the count. (SQLite runs one writer at a time: there the
    number is taken in the report's own transaction.)
    """

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"report #{self.last_number} of project {self.project_id}"


class ReportSearchTerm(models.Model):
    """One keyed hash of one word of a report (see intake/search.py): searchable, not readable."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=16)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["term", "report"], name="one_term_per_report")
        ]

    def __str__(self) -> str:
        return f"search term of report {self.report_id}"
