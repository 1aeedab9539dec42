"""A report's stage in the words a reporter understands (Vultron's names are for the team).

The report-management state alone says "accepted" from triage to publication, so the words here
read the case too: a fix planned, a fix ready (Vultron F), the fix released (D), the advisory
published, and the case closed. The tracking page, the status mails and a duplicate's reporter
all read the same words from ``reporter_status_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from vulndesk.cases.models import FixPlan, Triage
from vulndesk.cases.vultron import CaseEvent, CaseState, RMState

if TYPE_CHECKING:
    from vulndesk.intake.models import Report

REPORTER_WORDS: dict[RMState, str] = {
    RMState.START: "not yet received",
    RMState.RECEIVED: "received, waiting for the security team's first look",
    RMState.INVALID: "not accepted as a vulnerability",
    RMState.VALID: "confirmed as a vulnerability",
    RMState.ACCEPTED: "accepted: a fix is being planned",
    RMState.DEFERRED: "on hold",
    RMState.CLOSED: "closed",
}
FIX_PLANNED = "accepted: a fix is planned"
FIX_READY = "fixed: the fix is ready and not released yet"
FIX_RELEASED = "fixed: the fix is released, and the advisory follows"
PUBLISHED = "published"
CLOSED_PUBLISHED = "published"  # the tracking page adds that the case is closed


@dataclass(frozen=True)
class CaseFacts:
    """What of a case, beyond its RM state, decides the reporter's words."""

    case_state: str = "Vfdpxa"
    fix_planned: bool = False
    published: bool = False


@dataclass(frozen=True)
class ReporterStatus:
    words: str
    advisory_id: str = ""  # the published advisory, once there is one
    advisory_url: str = ""


def reporter_status(rm_state: str, facts: CaseFacts | None = None) -> str:
    """The reporter's words for a report in ``rm_state`` whose case is as ``facts`` say."""
    try:
        state = RMState(rm_state)
    except ValueError:
        return rm_state
    facts = facts or CaseFacts()
    if state == RMState.CLOSED:
        return CLOSED_PUBLISHED if facts.published else REPORTER_WORDS[state]
    if state != RMState.ACCEPTED:
        return REPORTER_WORDS[state]
    return _accepted_words(CaseState.parse(facts.case_state), facts)


def _accepted_words(case: CaseState, facts: CaseFacts) -> str:
    # Later stages first: a published case may have had its fix released long before.
    if facts.published:
        return PUBLISHED
    if CaseEvent.FIX_DEPLOYED in case.happened:
        return FIX_RELEASED
    if CaseEvent.FIX_READY in case.happened:
        return FIX_READY
    return FIX_PLANNED if facts.fix_planned else REPORTER_WORDS[RMState.ACCEPTED]


def reporter_status_of(report: Report) -> ReporterStatus:
    """The words for this report as it stands, with its published advisory's address when public."""
    # By the report's relation, not through the advisories domain, which builds on this one.
    advisory = (
        report.advisories.filter(published_at__isnull=False)
        .exclude(state="withdrawn")
        .select_related("project")
        .first()
    )
    # Read afresh, not from the report's cached relations: an action may have just changed them.
    case_state = Triage.objects.filter(report=report).values_list("case_state", flat=True).first()
    planned = FixPlan.objects.filter(report=report).filter(
        ~Q(sealed_timeline="") | Q(fix_available_at__isnull=False)
    )
    facts = CaseFacts(
        case_state=case_state or CaseFacts.case_state,
        fix_planned=planned.exists(),
        published=advisory is not None,
    )
    words = reporter_status(report.rm_state, facts)
    if advisory is None:
        return ReporterStatus(words)
    path = reverse("advisory-page", args=[advisory.project.slug, advisory.identifier])
    return ReporterStatus(words, advisory.public_id, settings.BASE_URL + path)
