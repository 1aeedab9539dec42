"""The life of a report once it is in: for now, its conversation.

Messages shared with the reporter and the team's internal notes live in one timeline; the body is
sealed at rest like the report itself.
"""

from __future__ import annotations

import json
import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from vulndesk.crypto import SealedColumns
from vulndesk.web.markdown import as_plain_text, render_bounded


class Author(models.TextChoices):
    REPORTER = "reporter", "Reporter"
    TEAM = "team", "Security team"
    SYSTEM = "system", "vulndesk"


class Visibility(models.TextChoices):
    SHARED = "shared", "Shared with the reporter"
    INTERNAL = "internal", "Internal note (team only)"


class Via(models.TextChoices):
    WEB = "web", "web"
    EMAIL = "email", "email"
    API = "api", "API"


class Message(SealedColumns, models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.SHARED)
    via = models.CharField(max_length=10, choices=Via.choices)
    sealed_body = models.TextField()
    # The body rendered as sanitised markdown when it was written, sealed like the body: showing a
    # conversation never runs the markdown parser, whose cost a sender could otherwise choose.
    sealed_html = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    sealed_contexts: ClassVar = {
        "sealed_body": "message:{uid}",
        "sealed_html": "message:{uid}:html",
    }

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        indexes: ClassVar = [models.Index(fields=["report", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_author_kind_display()} message on {self.report}"

    @property
    def body(self) -> str:
        return self.opened("sealed_body")

    @body.setter
    def body(self, value: str) -> None:
        self.sealed_body = self.sealed("sealed_body", value)
        self.sealed_html = self.sealed("sealed_html", render_bounded(value))

    @property
    def html(self) -> SafeString:
        if not self.sealed_html:
            return as_plain_text(self.body)
        # Safe: sanitised by render_bounded before sealing, and the seal is bound to this row.
        return mark_safe(self.opened("sealed_html"))  # noqa: S308  # nosec B308, B703


class Resolution(models.TextChoices):
    NONE = "", "Open"
    INVALID = "invalid", "Not a vulnerability"
    DUPLICATE = "duplicate", "Duplicate of another report"
    NOT_SECURITY = "not_security", "Not a security issue"


class Triage(models.Model):
    """What the team decided about a report, and the case it became when it was valid."""

    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="triage")
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    duplicate_of = models.ForeignKey(
        "intake.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_cases"
    )
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assigned_cases")
    follows_original = models.BooleanField(
        default=False, help_text="A duplicate's reporter is told when the original report changes."
    )
    # Vultron case state in vfdpxa notation; the project, as the vendor, is aware from receipt.
    case_state = models.CharField(max_length=6, default="Vfdpxa")
    decided_at = models.DateTimeField(null=True, blank=True)
    # Severity (cases/severity.py computes the scores; the vectors are what the team entered).
    cvss31_vector = models.CharField(max_length=200, blank=True)
    cvss31_score = models.FloatField(null=True, blank=True)
    cvss40_vector = models.CharField(max_length=300, blank=True)
    cvss40_score = models.FloatField(null=True, blank=True)
    rating = models.CharField(
        max_length=10, blank=True, help_text="Qualitative: Low, Medium, High, Critical."
    )
    cwes = models.JSONField(default=list, blank=True)
    llm_risks = models.JSONField(default=list, blank=True)
    impacts = models.JSONField(default=list, blank=True, help_text="confidentiality, integrity, availability")
    # The team's acknowledgement (cases/actions/acknowledgement.py): its message is not a first reply.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="acknowledges"
    )
    # A case that needs no fix (nothing to deploy) closes once its advisory is published.
    no_fix_needed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"triage of {self.report}"


class InfoRequest(models.Model):
    """The team asked the reporter for more: the SLA clocks pause until the reporter answers."""

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="info_requests")
    asked_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(help_text="With no answer by then, the report closes.")
    warned_at = models.DateTimeField(
        null=True, blank=True, help_text="When the reporter was told it will close."
    )

    class Meta:
        indexes: ClassVar = [models.Index(fields=["answered_at", "closes_at"])]

    def __str__(self) -> str:
        return f"information request on {self.report}"


class SlaNotice(models.Model):
    """A reminder or escalation already sent for one deadline of one report: sent once only."""

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="+")
    clock = models.CharField(max_length=20)
    kind = models.CharField(max_length=12, choices=[("reminder", "Reminder"), ("escalation", "Escalation")])
    due = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["report", "clock", "kind", "due"], name="one_notice_per_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.clock} of {self.report}"


class ReplyNotice(models.Model):
    """The team's "reporter replied" notices for one report: at most one per quiet period.

    A reply that comes while the last notice is recent is counted in ``pending``; the worker sends
    one notice for all of them when the period is over (``cases.reply_notices``).
    """

    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="+")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    pending = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"reply notices for {self.report}"


class AffectedPackage(models.Model):
    """Which versions of one package a case affects, as a ``vers`` range (the univers/purl spec).

    ``affected`` reads like ``vers:pypi/>=1.2.0|<1.2.5|>=1.3.0|<1.3.2``: each ``<`` bound is the
    version that fixes its line, which is how OSV, CSAF and the backport matrix read it too.
    """

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="affected_packages")
    package = models.CharField(max_length=300, help_text="A package URL without a version.")
    affected = models.CharField(max_length=1000, help_text="A vers range of the affected versions.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["package", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["report", "package"], name="one_range_per_package"),
        ]

    def __str__(self) -> str:
        return f"{self.package} {self.affected}"


class BackportStatus(models.TextChoices):
    AFFECTED = "affected", "Affected"
    NOT_AFFECTED = "not_affected", "Not affected"
    FIX_IN_PROGRESS = "fix_in_progress", "Fix in progress"
    FIXED = "fixed", "Fixed"
    WONT_FIX = "wont_fix", "Won't fix"


class BackportEntry(models.Model):
    """The team's word on one supported release line of one package: a row of the backport matrix.

    A line without an entry shows what the affected range says of its newest release.
    """

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="backports")
    package = models.CharField(max_length=300)
    line = models.CharField(max_length=50, help_text="The minor release line, such as 1.4.")
    branch = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=BackportStatus.choices)
    fixed_version = models.CharField(max_length=100, blank=True)
    fix_reference = models.URLField(max_length=500, blank=True, help_text="The fix's commit or pull request.")
    reason = models.TextField(blank=True, help_text="Why a line is not affected or will not be fixed.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["package", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["report", "package", "line"], name="one_entry_per_release_line"),
        ]

    def __str__(self) -> str:
        return f"{self.package} {self.line}: {self.get_status_display()}"


class FixPlan(SealedColumns, models.Model):
    """How and when the fix ships, and what users can do until they upgrade (sealed: it is embargoed)."""

    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="fix_plan")
    sealed_timeline = models.TextField(blank=True)
    sealed_mitigations = models.TextField(blank=True)
    fix_available_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a fix or a mitigation became available: the disclosure gap runs from it.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    sealed_contexts: ClassVar = {
        "sealed_timeline": "fix-timeline:{report_id}",
        "sealed_mitigations": "fix-mitigations:{report_id}",
    }

    def __str__(self) -> str:
        return f"Fix plan for {self.report}"

    @property
    def timeline(self) -> str:
        return self.opened("sealed_timeline") if self.sealed_timeline else ""

    @timeline.setter
    def timeline(self, value: str) -> None:
        self.sealed_timeline = self.sealed("sealed_timeline", value) if value else ""

    @property
    def mitigations(self) -> str:
        if not self.sealed_mitigations:
            return ""
        return self.opened("sealed_mitigations")

    @mitigations.setter
    def mitigations(self, value: str) -> None:
        self.sealed_mitigations = self.sealed("sealed_mitigations", value) if value else ""


class ReportEvidence(SealedColumns, models.Model):
    """What a report carries (``cases/evidence.py``), read once at intake so the queue sorts without
    opening every report.

    ``score`` and ``needs_evidence`` are plain so the database can sort and filter by them: they say
    how much evidence a report holds, never what it says. The details (which versions it names,
    where its proof of concept is) come from the report's text, so they are sealed like it.
    """

    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="evidence")
    score = models.PositiveSmallIntegerField(default=0)
    needs_evidence = models.BooleanField(
        default=True, help_text="No reproduction steps or no proof of concept."
    )
    sealed_details = models.TextField()
    read_at = models.DateTimeField(default=timezone.now)

    sealed_contexts: ClassVar = {"sealed_details": "evidence:{report_id}"}

    class Meta:
        indexes: ClassVar = [models.Index(fields=["-score"], name="evidence_strongest_first")]

    def __str__(self) -> str:
        return f"evidence of {self.report}"

    @property
    def details(self) -> dict[str, object]:
        value: dict[str, object] = json.loads(self.opened("sealed_details"))
        return value

    @details.setter
    def details(self, value: dict[str, object]) -> None:
        self.sealed_details = self.sealed("sealed_details", json.dumps(value, sort_keys=True))


class SavedReply(models.Model):
    """A project's named reply template (``cases/saved_replies.py``): the team's own words, with
    ``{placeholders}`` filled from the report when it is used. Written by the team, not by a
    reporter, and holding no report text, so it is stored in clear."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="saved_replies")
    name = models.CharField(max_length=100)
    body = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["name", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "name"], name="one_saved_reply_name_per_project"),
        ]

    def __str__(self) -> str:
        return f"saved reply {self.name!r} of {self.project}"


class QueueEntry(models.Model):
    """What the queue and the desk home know about a report without reading its conversation.

    Kept by ``cases/queue_entries.py`` after every change to the report (each audit event names it)
    and again by every SLA sweep: sorting 100,000 reports by their next deadline cannot compute each
    one's clocks on the project's calendar at every page view.
    """

    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="queue_entry")
    # The earliest promise not kept yet; empty while the clocks are paused or nothing is owed.
    next_due_at = models.DateTimeField(null=True, blank=True)
    next_due_label = models.CharField(max_length=40, blank=True)
    awaiting_acknowledgement = models.BooleanField(default=False)
    # The reporter wrote last: set to when they did, until the team answers them.
    reporter_waiting_since = models.DateTimeField(null=True, blank=True)
    severity_rank = models.PositiveSmallIntegerField(default=0, help_text="Critical 4 … Low 1, unscored 0.")
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["next_due_at"], name="queue_next_deadline"),
            models.Index(fields=["-severity_rank", "next_due_at"], name="queue_severity"),
        ]

    def __str__(self) -> str:
        return f"queue entry of {self.report}"


class Label(models.Model):
    """A word the team files reports under ("needs-repro", "parser"); the team's own, never the report's."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=40)
    reports = models.ManyToManyField("intake.Report", blank=True, related_name="labels")

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "name"], name="one_label_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class MetricsSnapshot(models.Model):
    """The metrics of one scope (the instance, or one project) as the worker last computed them
    (``cases/metrics_snapshots.py``): every month of the longest range the pages offer, and the
    whole-range figures for each length of range. Counts, days and shares only, no report text,
    so it is stored in clear. A derived cache, rewritten whole by each refresh, not a state of
    any case: the refresh records no audit event."""

    scope = models.CharField(max_length=80, unique=True)  # "instance" or "project:<pk>"
    computed_at = models.DateTimeField()
    figures = models.JSONField()

    def __str__(self) -> str:
        return f"metrics of {self.scope} as of {self.computed_at:%Y-%m-%d %H:%M} UTC"
