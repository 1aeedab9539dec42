"""Triage: the team's decisions on a report, each one Vultron RM transition.

Each ``do_*`` here checks the transition, records it, writes the audit event, puts a line in the
conversation that the reporter reads, and mails the reporter (without the report's contents).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.audit.actions import record_event
from vulndesk.cases import emails
from vulndesk.cases.models import Author, Message, Resolution, Triage, Via, Visibility
from vulndesk.cases.vultron import RMState, TransitionError, check_rm_transition
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError, clean_text
from vulndesk.notify.actions import queue_email

MIN_REASON = 20  # "a detailed reason for rejection": one word is not a reason


def triage_of(report: Report) -> Triage:
    triage, _ = Triage.objects.get_or_create(report=report)
    return triage


def _move(
    report: Report, target: RMState, *, acting_user: User, note: str, event: str, **details: str
) -> Report:
    """The common path of every decision, inside the caller's transaction."""
    locked = Report.objects.select_for_update().select_related("project").get(pk=report.pk)
    check_rm_transition(RMState(locked.rm_state), target)
    locked.rm_state = target.value
    locked.save(update_fields=["rm_state"])
    message = Message(report=locked, author_kind=Author.SYSTEM, via=Via.WEB, visibility=Visibility.SHARED)
    message.body = note
    message.save()
    record_event(event, acting_user=acting_user, project=locked.project, target=locked, details=dict(details))
    if locked.reporter.get("email"):
        queue_email(emails.status_changed(locked), project=locked.project)
    return locked


def _reason(text: str) -> str:
    reason = clean_text(text)
    if len(reason) < MIN_REASON:
        raise SubmissionError(
            {"reason": f"explain the decision to the reporter (at least {MIN_REASON} characters)"}
        )
    return reason


def do_mark_valid(report: Report, *, acting_user: User, owner: User | None = None) -> Report:
    with transaction.atomic():
        moved = _move(
            report,
            RMState.VALID,
            acting_user=acting_user,
            note="The security team confirmed this is a vulnerability and is working on it.",
            event="report.marked_valid",
        )
        triage = triage_of(moved)
        triage.resolution, triage.owner, triage.decided_at = (
            Resolution.NONE,
            owner or acting_user,
            timezone.now(),
        )
        triage.save()
    return moved


def do_mark_invalid(report: Report, reason: str, *, acting_user: User) -> Report:
    text = _reason(reason)
    with transaction.atomic():
        moved = _move(
            report,
            RMState.INVALID,
            acting_user=acting_user,
            note=f"The security team concluded this is not a vulnerability. Their reason:\n\n{text}",
            event="report.marked_invalid",
        )
        _resolve(moved, Resolution.INVALID)
    return moved


def do_mark_not_security(report: Report, reason: str, *, acting_user: User) -> Report:
    text = _reason(reason)
    with transaction.atomic():
        moved = _move(
            report,
            RMState.INVALID,
            acting_user=acting_user,
            note=(
                "The security team found this is a bug but not a security issue, so it can be "
                f"reported publicly in the project's issue tracker. Their reason:\n\n{text}"
            ),
            event="report.marked_not_security",
        )
        _resolve(moved, Resolution.NOT_SECURITY)
    return moved


def do_mark_duplicate(report: Report, original: Report, *, acting_user: User) -> Report:
    if original.project_id != report.project_id or original.pk == report.pk:
        raise TransitionError("a report can only duplicate another report of the same project")
    with transaction.atomic():
        moved = _move(
            report,
            RMState.INVALID,
            acting_user=acting_user,
            note=(
                f"This issue was already reported (report #{original.number}); the security team "
                "follows it there and will keep you informed."
            ),
            event="report.marked_duplicate",
            original=str(original.number),
        )
        triage = _resolve(moved, Resolution.DUPLICATE)
        triage.duplicate_of = original
        triage.save(update_fields=["duplicate_of"])
    return moved


def do_accept(report: Report, *, acting_user: User) -> Report:
    with transaction.atomic():
        return _move(
            report,
            RMState.ACCEPTED,
            acting_user=acting_user,
            note="The security team accepted the case: a fix is being planned.",
            event="report.accepted",
        )


def do_defer(report: Report, reason: str, *, acting_user: User) -> Report:
    text = _reason(reason)
    with transaction.atomic():
        return _move(
            report,
            RMState.DEFERRED,
            acting_user=acting_user,
            note=f"The security team put this case on hold for now. Their reason:\n\n{text}",
            event="report.deferred",
        )


def do_close(report: Report, *, acting_user: User) -> Report:
    with transaction.atomic():
        return _move(
            report,
            RMState.CLOSED,
            acting_user=acting_user,
            note="The security team closed this report. Thank you for reporting it.",
            event="report.closed",
        )


def _resolve(report: Report, resolution: Resolution) -> Triage:
    triage = triage_of(report)
    triage.resolution, triage.decided_at = resolution, timezone.now()
    triage.save(update_fields=["resolution", "decided_at"])
    return triage
