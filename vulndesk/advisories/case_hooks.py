"""What the advisories domain registers in the cases domain's hooks (``cases/hooks.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vulndesk.advisories.actions import draft_revision
from vulndesk.advisories.documents import for_reporter
from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.cases.hooks import AdvisoryFacts

if TYPE_CHECKING:
    from vulndesk.intake.models import Report


def advisory_facts(report: Report) -> AdvisoryFacts:
    """For the stage of a case: its drafts being written, and whether one is out (withdrawn ones
    do not count)."""
    advisories = list(Advisory.objects.filter(report=report).exclude(state=AdvisoryState.WITHDRAWN))
    drafts = [d for d in (draft_revision(a) for a in advisories) if d is not None]
    return AdvisoryFacts(
        has_draft=bool(drafts),
        draft_approved=any(d.approved_at is not None for d in drafts),
        published=any(a.state == AdvisoryState.PUBLISHED for a in advisories),
    )


def tracking_context(report: Report, _token: str) -> dict[str, object]:
    """The reporter's tracking page: the draft shared with them, or the published advisory."""
    return {"advisory": for_reporter(report.pk)}
