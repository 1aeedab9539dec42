"""A case's embargo: the agreed moment of disclosure, and how the parties got there.

The state follows Vultron's embargo management (EM): none, proposed, active, revise, exited. The
end is an exact instant in UTC; pages show it in UTC, in the project's timezone and in the viewer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from vulndesk.cases.vultron import EMState


class ProposerKind(models.TextChoices):
    TEAM = "team", "The security team"
    REPORTER = "reporter", "The reporter"
    DISTRIBUTOR = "distributor", "A distributor"


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    COUNTERED = "countered", "Countered"
    SUPERSEDED = "superseded", "Superseded"


class ExitReason(models.TextChoices):
    PUBLIC = "public", "The issue became public"
    EXPLOIT_PUBLISHED = "exploit_published", "An exploit was published"
    ATTACKS_OBSERVED = "attacks_observed", "Attacks were seen in the wild"
    REPORTER_AGREED = "reporter_agreed", "Disclosed early with the reporter's agreement"
    EARLY_OTHER = "early_other", "Disclosed early by the security team"
    DISCLOSED = "disclosed", "Disclosed as agreed"
    ABANDONED = "abandoned", "Ended by the team"


# Why a team may publish before the agreed end. "Disclosed as agreed" is never one of them: an early
# publication is recorded as what it is, so the reporter and distributors read the real reason.
EARLY_DISCLOSURE_REASONS = (
    ExitReason.PUBLIC,
    ExitReason.EXPLOIT_PUBLISHED,
    ExitReason.ATTACKS_OBSERVED,
    ExitReason.REPORTER_AGREED,
    ExitReason.EARLY_OTHER,
)
# What the team may end an embargo with by hand, without publishing.
MANUAL_EXIT_REASONS = (
    ExitReason.PUBLIC,
    ExitReason.EXPLOIT_PUBLISHED,
    ExitReason.ATTACKS_OBSERVED,
    ExitReason.ABANDONED,
)
MIN_EARLY_NOTE = 10


@dataclass(frozen=True)
class EarlyDisclosure:
    """The team's decision to publish before the agreed end, and why."""

    reason: ExitReason
    note: str = ""

    def problems(self) -> list[str]:
        if self.reason not in EARLY_DISCLOSURE_REASONS:
            choices = ", ".join(EARLY_DISCLOSURE_REASONS)
            return [f"early_disclosure.reason: must be one of {choices}"]
        if self.reason == ExitReason.EARLY_OTHER and len(self.note.strip()) < MIN_EARLY_NOTE:
            return [f"early_disclosure.note: say why in at least {MIN_EARLY_NOTE} characters"]
        if len(self.note) > MAX_EXIT_NOTE:
            return [f"early_disclosure.note: at most {MAX_EXIT_NOTE} characters"]
        return []


MAX_EXIT_NOTE = 500


class Embargo(models.Model):
    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="embargo")
    state = models.CharField(
        max_length=10, choices=[(s.value, s.value) for s in EMState], default=EMState.NONE
    )
    ends_at = models.DateTimeField(null=True, blank=True, help_text="The agreed end, in UTC.")
    exited_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=20, choices=ExitReason.choices, blank=True)
    exit_note = models.CharField(
        max_length=MAX_EXIT_NOTE, blank=True, help_text="The team's words on an early end."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"embargo of {self.report}: {self.state}"

    @property
    def exit_reason_text(self) -> str:
        """The reason as the reporter and distributors read it, with the team's words if any."""
        label = self.get_exit_reason_display()
        return f"{label}: {self.exit_note}" if self.exit_note else label


class EmbargoProposal(models.Model):
    embargo = models.ForeignKey(Embargo, on_delete=models.CASCADE, related_name="proposals")
    proposer_kind = models.CharField(max_length=12, choices=ProposerKind.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_proposer_kind_display()} proposes {self.ends_at:%Y-%m-%d %H:%M} UTC"
