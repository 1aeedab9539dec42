"""A case closes when nothing is left to do: its advisory is out and the fix is in users' hands.

That is when the advisory is published and the fix is recorded as deployed (Vultron D), or the
team recorded that no fix is needed. Whichever of the two comes last closes the case, as Vultron
RM allows (Accepted→Closed, or Deferred→Closed): publication calls ``close_if_done`` through
``advisories.hooks.on_published`` (registered in ``advisories/apps.py``), and recording D or "no fix
needed" calls it directly. Once closed, every SLA clock stops (``cases/clocks.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.cases.actions.triage import MIN_REASON, move_report, triage_of, triage_to_change
from vulndesk.cases.models import Author, Message, Via, Visibility
from vulndesk.cases.vultron import CaseEvent, CaseState, RMState, TransitionError
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError, clean_text

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.advisories.models import Advisory, AdvisoryRevision

CLOSABLE = {RMState.ACCEPTED, RMState.DEFERRED}  # Vultron RM: A→C and D→C (V→C is forbidden)


def advisory_published(report: Report) -> bool:
    # By name, not through the advisories domain, which builds on this one.
    return report.advisories.filter(state="published").exists()


def fix_settled(report: Report) -> bool:
    """The fix is deployed (Vultron D), or the team recorded that none is needed."""
    triage = triage_of(report)
    deployed = CaseEvent.FIX_DEPLOYED in CaseState.parse(triage.case_state).happened
    return deployed or triage.no_fix_needed_at is not None


def close_if_done(report: Report, *, acting_user: User | None) -> bool:
    """Close the case when both conditions hold; whether it closed. Inside the caller's transaction."""
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if RMState(locked.rm_state) not in CLOSABLE or not advisory_published(locked) or not fix_settled(locked):
        return False
    move_report(
        locked,
        RMState.CLOSED,
        acting_user=acting_user,
        note="The advisory is published and the fix is out: the security team closed this case. "
        "Thank you for reporting it.",
        event="case.closed",
    )
    return True


def on_advisory_published(advisory: Advisory, _revision: AdvisoryRevision) -> None:
    if advisory.report is not None:
        close_if_done(advisory.report, acting_user=None)


def do_record_no_fix_needed(report: Report, reason: str, *, acting_user: User) -> bool:
    """Nothing needs deploying (a configuration advice, a hosted service already changed): say why.

    The reason stays an internal note; whether the case closed at once is returned.
    """
    text = clean_text(reason)
    if len(text) < MIN_REASON:
        raise SubmissionError({"reason": f"say why no fix is needed (at least {MIN_REASON} characters)"})
    with transaction.atomic():
        locked = Report.objects.select_for_update().select_related("project").get(pk=report.pk)
        triage = triage_to_change(locked)
        if triage.no_fix_needed_at is not None:
            raise TransitionError("it is already recorded that no fix is needed")
        triage.no_fix_needed_at = timezone.now()
        triage.save(update_fields=["no_fix_needed_at"])
        note = Message(
            report=locked,
            author_kind=Author.TEAM,
            author=acting_user,
            via=Via.WEB,
            visibility=Visibility.INTERNAL,
        )
        note.body = f"No fix is needed: {text}"
        note.save()
        record_event("case.no_fix_needed", acting_user=acting_user, project=locked.project, target=locked)
        return close_if_done(locked, acting_user=acting_user)
