"""Recording Vultron case events (vfdpxa): the team's record of what happened outside the project.

A case event may end the case's embargo (a public case, a public exploit, attacks seen: the embargo
domain registers for that in ``cases/hooks.on_case_events``) and, once the fix is deployed, close
the case (``closing.close_if_done``). Publication records P itself (``do_record_case_public``).
"""

from __future__ import annotations

from django.db import transaction

from vulndesk.accounts.models import User
from vulndesk.audit.actions import record_event
from vulndesk.cases import emails, hooks
from vulndesk.cases.actions.closing import close_if_done
from vulndesk.cases.actions.triage import triage_to_change
from vulndesk.cases.models import Author, Message, Triage, Via, Visibility
from vulndesk.cases.vultron import CaseEvent, CaseState
from vulndesk.intake.models import Report
from vulndesk.notify.actions import queue_email

_EVENT_WORDS = {
    CaseEvent.VENDOR_AWARE: "The project's maintainers are aware of the issue.",
    CaseEvent.FIX_READY: "A fix is ready.",
    CaseEvent.FIX_DEPLOYED: "The fix has been released.",
    CaseEvent.PUBLIC_AWARE: "The issue is now public.",
    CaseEvent.EXPLOIT_PUBLIC: "An exploit for the issue has been published.",
    CaseEvent.ATTACKS_OBSERVED: "Attacks using the issue have been seen.",
}


def do_record_case_public(report: Report, *, acting_user: User | None, via: str) -> None:
    """Publication makes the case public (Vultron P); recorded once, whoever published, with no
    message of its own (the publication tells the reporter)."""
    with transaction.atomic():
        triage, _ = Triage.objects.select_for_update().get_or_create(report=report)
        state = CaseState.parse(triage.case_state)
        if CaseEvent.PUBLIC_AWARE in state.happened:
            return
        new_state, happened = state.record(CaseEvent.PUBLIC_AWARE)
        triage.case_state = str(new_state)
        triage.save(update_fields=["case_state"])
        record_event(
            "case.event",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"events": [e.value for e in happened], "case_state": triage.case_state, "via": via},
        )


def do_record_case_event(report: Report, event: CaseEvent, *, acting_user: User) -> Triage:
    """One Vultron case event; implied events follow it (a public exploit makes the case public)."""
    with transaction.atomic():
        locked = Report.objects.select_for_update(no_key=True).select_related("project").get(pk=report.pk)
        triage = triage_to_change(locked)
        state, happened = CaseState.parse(triage.case_state).record(event)
        triage.case_state = str(state)
        triage.save(update_fields=["case_state"])
        message = Message(report=locked, author_kind=Author.SYSTEM, via=Via.WEB, visibility=Visibility.SHARED)
        message.body = " ".join(_EVENT_WORDS[e] for e in happened)
        message.save()
        record_event(
            "case.event",
            acting_user=acting_user,
            project=locked.project,
            target=locked,
            details={"events": [e.value for e in happened], "case_state": triage.case_state},
        )
        if locked.reporter.get("email"):
            queue_email(emails.status_changed(locked), project=locked.project, report=locked)
        for hook in hooks.on_case_events:
            hook(locked, happened, acting_user=acting_user)
        if CaseEvent.FIX_DEPLOYED in happened:
            close_if_done(locked, acting_user=acting_user)
    return triage
