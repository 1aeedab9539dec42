"""Every change to an embargo, on Vultron's EM states (none, proposed, active, revise, exited).

Anyone on the case may propose an end; the other side accepts, rejects or counters; the security
team has the final say (it may set the end directly), as every seed policy states. When the case
becomes public, an exploit is published or attacks are seen, the embargo exits and the team and the
reporter are told at once; an agreed end also schedules the case's advisory for that moment (the
advisories domain registers for that in ``hooks.on_embargo_agreed``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from vulndesk.audit.actions import record_event
from vulndesk.cases.models import SlaNotice
from vulndesk.cases.vultron import CaseEvent, EMState
from vulndesk.embargo import emails, hooks
from vulndesk.embargo.models import Embargo, EmbargoProposal, ExitReason, ProposalStatus, ProposerKind
from vulndesk.embargo.rules import EmbargoRuleError, check_end
from vulndesk.intake.models import Report
from vulndesk.notify.actions import Email, queue_email
from vulndesk.notify.models import NoticeKind
from vulndesk.notify.preferences import queue_team_notice

if TYPE_CHECKING:
    from vulndesk.accounts.models import User

# Case events that end an embargo at once, and the reason each gives.
DISCLOSING_EVENTS = {
    CaseEvent.PUBLIC_AWARE: ExitReason.PUBLIC,
    CaseEvent.EXPLOIT_PUBLIC: ExitReason.EXPLOIT_PUBLISHED,
    CaseEvent.ATTACKS_OBSERVED: ExitReason.ATTACKS_OBSERVED,
}


class EmbargoError(ValueError):
    pass


def embargo_of(report: Report) -> Embargo:
    """The report's embargo as it stands, to read. Reading never writes: a report without one
    reads as a fresh, unsaved embargo (none proposed); the first action on it creates the row."""
    return Embargo.objects.filter(report=report).first() or Embargo(report=report)


def active_embargo_end(report: Report) -> dt.datetime | None:
    embargo = Embargo.objects.filter(report=report, state__in=[EMState.ACTIVE, EMState.REVISE]).first()
    return embargo.ends_at if embargo else None


def _locked(report: Report) -> Embargo:
    Embargo.objects.get_or_create(report=report)
    return Embargo.objects.select_for_update().select_related("report__project").get(report=report)


def do_propose_embargo(
    report: Report,
    ends_at: dt.datetime,
    *,
    proposer_kind: ProposerKind,
    acting_user: User | None,
    note: str = "",
) -> EmbargoProposal:
    """A proposed end; while an embargo is active, a proposal asks to revise it."""
    try:
        check_end(report.project.policy, report.received_at, ends_at, timezone.now())
    except EmbargoRuleError as exc:
        raise EmbargoError(str(exc)) from None
    with transaction.atomic():
        embargo = _locked(report)
        if embargo.state == EMState.EXITED:
            raise EmbargoError("the embargo is over: the case is public")
        embargo.state = (
            EMState.REVISE if embargo.state in (EMState.ACTIVE, EMState.REVISE) else EMState.PROPOSED
        )
        embargo.updated_at = timezone.now()
        embargo.save(update_fields=["state", "updated_at"])
        proposal = EmbargoProposal.objects.create(
            embargo=embargo,
            proposer_kind=proposer_kind,
            proposed_by=acting_user,
            ends_at=ends_at,
            note=note[:500],
        )
        _audit("embargo.proposed", embargo, acting_user, ends_at=ends_at.isoformat(), by=str(proposer_kind))
        _tell_the_other_side(embargo, proposal)
    return proposal


def do_accept_proposal(
    proposal: EmbargoProposal, *, acting_user: User | None, accepted_by: ProposerKind
) -> Embargo:
    """The other side agrees; the team may accept anyone's proposal (its final say)."""
    with transaction.atomic():
        embargo = _locked(proposal.embargo.report)
        proposal = EmbargoProposal.objects.select_for_update().get(pk=proposal.pk)
        _check_open(proposal, accepted_by)
        _close(proposal, ProposalStatus.ACCEPTED, acting_user)
        _activate(embargo, proposal.ends_at, acting_user)
    return embargo


def do_reject_proposal(
    proposal: EmbargoProposal, *, acting_user: User | None, rejected_by: ProposerKind, reason: str = ""
) -> Embargo:
    with transaction.atomic():
        embargo = _locked(proposal.embargo.report)
        proposal = EmbargoProposal.objects.select_for_update().get(pk=proposal.pk)
        _check_open(proposal, rejected_by)
        _close(proposal, ProposalStatus.REJECTED, acting_user, note=reason)
        _settle(embargo)
        _audit("embargo.rejected", embargo, acting_user, by=str(rejected_by))
        _queue_for_team(emails.embargo_update(embargo, "rejected"), embargo)
    return embargo


def do_counter_proposal(
    proposal: EmbargoProposal,
    ends_at: dt.datetime,
    *,
    acting_user: User | None,
    proposer_kind: ProposerKind,
    note: str = "",
) -> EmbargoProposal:
    """Answer a proposal with another end: the first is countered, the new one waits for an answer."""
    with transaction.atomic():
        locked = EmbargoProposal.objects.select_for_update().get(pk=proposal.pk)
        _check_open(locked, proposer_kind)
        counter = do_propose_embargo(
            locked.embargo.report, ends_at, proposer_kind=proposer_kind, acting_user=acting_user, note=note
        )
        _close(locked, ProposalStatus.COUNTERED, acting_user)
    return counter


def do_set_embargo_end(report: Report, ends_at: dt.datetime, *, acting_user: User, note: str = "") -> Embargo:
    """The team's final say: the end is set, whatever is still open."""
    proposal = do_propose_embargo(
        report, ends_at, proposer_kind=ProposerKind.TEAM, acting_user=acting_user, note=note
    )
    return do_accept_proposal(proposal, acting_user=acting_user, accepted_by=ProposerKind.TEAM)


def do_exit_embargo(
    report: Report, *, reason: ExitReason, acting_user: User | None, note: str = ""
) -> Embargo:
    """End the embargo now; everyone is told at once that disclosure should move forward.

    ``note`` is the team's own words on an early end; the reporter and distributors read it with
    the reason."""
    with transaction.atomic():
        embargo = _locked(report)
        if embargo.state == EMState.EXITED:
            return embargo
        embargo.state, embargo.exited_at, embargo.exit_reason = EMState.EXITED, timezone.now(), reason
        embargo.exit_note = note.strip()
        embargo.updated_at = timezone.now()
        embargo.save()
        embargo.proposals.filter(status=ProposalStatus.OPEN).update(status=ProposalStatus.SUPERSEDED)
        # The note stays out of the audit details (they hold ids and reasons, never free text).
        _audit("embargo.exited", embargo, acting_user, reason=str(reason))
        _queue_for_team(emails.embargo_exited(embargo, to_team=True), embargo)
        if report.reporter.get("email"):
            queue_email(emails.embargo_exited(embargo, to_team=False), project=report.project, report=report)
        _notify_hooks(embargo)
    return embargo


def end_due_embargoes(now: dt.datetime | None = None) -> int:
    """Embargoes whose agreed end has come are over (the advisory, if scheduled, goes out at the
    same moment and usually ends them first, as case event P)."""
    moment = now or timezone.now()
    due = Embargo.objects.filter(state__in=[EMState.ACTIVE, EMState.REVISE], ends_at__lte=moment)
    ended = 0
    for report_id in due.values_list("report_id", flat=True):
        report = Report.objects.select_related("project").get(pk=report_id)
        with transaction.atomic():
            locked = _locked(report)
            if (
                locked.state in (EMState.ACTIVE, EMState.REVISE)
                and locked.ends_at
                and locked.ends_at <= moment
            ):
                do_exit_embargo(report, reason=ExitReason.DISCLOSED, acting_user=None)
                ended += 1
    return ended


ENDING_NOTICE_BEFORE = dt.timedelta(days=2)


def send_embargo_ending_notices(now: dt.datetime | None = None) -> int:
    """Two days before an agreed end, the team hears of it once (an ``SlaNotice`` row per end:
    a new end agreed later is told again)."""
    moment = now or timezone.now()
    ending = Embargo.objects.select_related("report__project").filter(
        state=EMState.ACTIVE, ends_at__gt=moment, ends_at__lte=moment + ENDING_NOTICE_BEFORE
    )
    sent = 0
    for embargo in ending:
        assert embargo.ends_at is not None  # noqa: S101 - the filter above
        with transaction.atomic():
            _, created = SlaNotice.objects.get_or_create(
                report=embargo.report, clock="embargo", kind="reminder", due=embargo.ends_at
            )
            if created:
                _queue_for_team(emails.embargo_ending(embargo), embargo, NoticeKind.EMBARGO_ENDING)
                sent += 1
    return sent


@task()
def embargo_end_due() -> str:
    return f"{end_due_embargoes()} embargoes ended"


def exit_on_disclosing_events(report: Report, events: list[CaseEvent], *, acting_user: User | None) -> None:
    """Called when case events are recorded: a public case, a public exploit or attacks end the embargo."""
    reasons = [DISCLOSING_EVENTS[e] for e in events if e in DISCLOSING_EVENTS]
    embargo = Embargo.objects.filter(report=report).first()
    if reasons and embargo is not None and embargo.state != EMState.EXITED:
        # Attacks weigh most: they are the reason the team and distributors must hurry.
        reason = max(reasons, key=list(DISCLOSING_EVENTS.values()).index)
        do_exit_embargo(report, reason=reason, acting_user=acting_user)


def _check_open(proposal: EmbargoProposal, answered_by: ProposerKind) -> None:
    if proposal.status != ProposalStatus.OPEN:
        raise EmbargoError("this proposal was already answered")
    if proposal.proposer_kind == answered_by and answered_by != ProposerKind.TEAM:
        raise EmbargoError("a proposal is answered by the other side")
    if proposal.proposer_kind == ProposerKind.DISTRIBUTOR and answered_by != ProposerKind.TEAM:
        # The team has the final say: a distributor's date never becomes the end without it.
        raise EmbargoError("the security team answers a distributor's proposal")


def _close(
    proposal: EmbargoProposal, status: ProposalStatus, acting_user: User | None, note: str = ""
) -> None:
    proposal.status, proposal.decided_at, proposal.decided_by = status, timezone.now(), acting_user
    proposal.decision_note = note[:500]
    proposal.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])


def _activate(embargo: Embargo, ends_at: dt.datetime, acting_user: User | None) -> None:
    embargo.proposals.filter(status=ProposalStatus.OPEN).update(status=ProposalStatus.SUPERSEDED)
    embargo.state, embargo.ends_at, embargo.updated_at = EMState.ACTIVE, ends_at, timezone.now()
    embargo.save(update_fields=["state", "ends_at", "updated_at"])
    _audit("embargo.agreed", embargo, acting_user, ends_at=ends_at.isoformat())
    _queue_for_team(emails.embargo_update(embargo, "agreed"), embargo)
    if embargo.report.reporter.get("email"):
        queue_email(
            emails.embargo_agreed_to_reporter(embargo), project=embargo.report.project, report=embargo.report
        )
    for hook in hooks.on_embargo_agreed:
        hook(embargo, acting_user=acting_user)
    embargo_end_due.using(run_after=ends_at).enqueue()
    _notify_hooks(embargo)


def _settle(embargo: Embargo) -> None:
    """After a rejection: back to active (the old end stands) or, with nothing agreed, to none."""
    if embargo.proposals.filter(status=ProposalStatus.OPEN).exists():
        return
    embargo.state = EMState.ACTIVE if embargo.ends_at else EMState.NONE
    embargo.save(update_fields=["state"])


def _notify_hooks(embargo: Embargo) -> None:
    # Inside the change's transaction: what a hook queues (notices, tasks) exists only if the change
    # commits, and is not lost if the process dies right after the commit.
    for hook in hooks.on_embargo_changed:
        hook(embargo)


def _tell_the_other_side(embargo: Embargo, proposal: EmbargoProposal) -> None:
    report = embargo.report
    if proposal.proposer_kind != ProposerKind.TEAM:
        _queue_for_team(emails.embargo_update(embargo, "proposed"), embargo, NoticeKind.PROPOSAL)
    elif report.reporter.get("email"):
        queue_email(
            emails.embargo_proposed_to_reporter(embargo, proposal), project=report.project, report=report
        )


def _queue_for_team(email: Email, embargo: Embargo, kind: NoticeKind | None = None) -> None:
    """An agreement, a rejection or an exit is always mailed: the team's plans depend on it. A
    proposal follows each person's choice."""
    if not email.to:
        return
    if kind is None:
        queue_email(email, project=embargo.report.project, about=embargo.report)
    else:
        queue_team_notice(email, kind, project=embargo.report.project, about=embargo.report)


def _audit(action: str, embargo: Embargo, acting_user: User | None, **details: str) -> None:
    record_event(
        action,
        acting_user=acting_user,
        project=embargo.report.project,
        target=embargo.report,
        details=dict(details.items()),
    )
