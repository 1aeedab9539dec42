"""Triage: the team's decisions on a report, each one Vultron RM transition.

Each ``do_*`` here checks the transition, records it, writes the audit event, puts a line in the
conversation that the reporter reads, and mails the reporter (without the report's contents).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.audit.actions import record_event
from vulndesk.cases import emails, severity
from vulndesk.cases.models import Author, InfoRequest, Message, Resolution, Triage, Via, Visibility
from vulndesk.cases.stage import release_refusal
from vulndesk.cases.vultron import RMState, TransitionError, check_rm_transition
from vulndesk.intake.actions import do_release_from_quarantine
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError, clean_text
from vulndesk.notify.actions import queue_email
from vulndesk.notify.models import NoticeKind
from vulndesk.notify.preferences import queue_team_notice

MIN_REASON = 20  # "a detailed reason for rejection": one word is not a reason


def triage_of(report: Report) -> Triage:
    """The report's triage as it stands, to read. Reading never writes: a report nobody has
    triaged yet reads as a fresh, unsaved row; the first action that changes it creates it."""
    return Triage.objects.filter(report=report).first() or Triage(report=report)


def triage_to_change(report: Report) -> Triage:
    """The report's triage row, created if this is its first change: for actions only."""
    triage, _ = Triage.objects.get_or_create(report=report)
    return triage


def move_report(
    report: Report, target: RMState, *, acting_user: User | None, note: str, event: str, **details: str
) -> Report:
    """The common path of every decision, inside the caller's transaction."""
    locked = Report.objects.select_for_update(no_key=True).select_related("project").get(pk=report.pk)
    check_rm_transition(RMState(locked.rm_state), target)
    locked.rm_state = target.value
    locked.save(update_fields=["rm_state"])
    message = Message(report=locked, author_kind=Author.SYSTEM, via=Via.WEB, visibility=Visibility.SHARED)
    message.body = note
    message.save()
    record_event(event, acting_user=acting_user, project=locked.project, target=locked, details=dict(details))
    if locked.reporter.get("email"):
        queue_email(emails.status_changed(locked), project=locked.project, report=locked)
    _tell_followers(locked)
    return locked


def _tell_followers(original: Report) -> None:
    """Reporters of duplicates who follow this report hear of its changes, on their own report."""
    followers = Triage.objects.filter(duplicate_of=original, follows_original=True).select_related(
        "report__project"
    )
    for follower in followers:
        if follower.report.reporter.get("email"):
            queue_email(
                emails.original_changed(follower.report, original),
                project=original.project,
                report=follower.report,
            )


def _reason(text: str) -> str:
    reason = clean_text(text)
    if len(reason) < MIN_REASON:
        raise SubmissionError(
            {"reason": f"explain the decision to the reporter (at least {MIN_REASON} characters)"}
        )
    return reason


def do_mark_valid(report: Report, *, acting_user: User, owner: User | None = None) -> Report:
    with transaction.atomic():
        moved = move_report(
            report,
            RMState.VALID,
            acting_user=acting_user,
            note="The security team confirmed this is a vulnerability and is working on it.",
            event="report.marked_valid",
        )
        triage = triage_to_change(moved)
        triage.resolution, triage.owner, triage.decided_at = (
            Resolution.NONE,
            owner or acting_user,
            timezone.now(),
        )
        triage.save()
    return moved


def do_mark_invalid(report: Report, reason: str, *, acting_user: User) -> Report:
    return _reject(
        report,
        reason,
        Resolution.INVALID,
        "The security team concluded this is not a vulnerability.",
        acting_user=acting_user,
    )


def do_mark_not_security(report: Report, reason: str, *, acting_user: User) -> Report:
    return _reject(
        report,
        reason,
        Resolution.NOT_SECURITY,
        "The security team found this is a bug but not a security issue, so it can be "
        "reported publicly in the project's issue tracker.",
        acting_user=acting_user,
    )


def _reject(
    report: Report, reason: str, resolution: Resolution, finding: str, *, acting_user: User
) -> Report:
    """Both rejections carry the team's written reason to the reporter (the seeds require one)."""
    text = _reason(reason)
    with transaction.atomic():
        moved = move_report(
            report,
            RMState.INVALID,
            acting_user=acting_user,
            note=f"{finding} Their reason:\n\n{text}",
            event=f"report.marked_{resolution.value}",
        )
        _resolve(moved, resolution)
    return moved


def do_mark_duplicate(report: Report, original: Report, *, acting_user: User, follow: bool = True) -> Report:
    """Link a report to the one it repeats; by default its reporter follows the original's progress."""
    if original.project_id != report.project_id or original.pk == report.pk:
        raise TransitionError("a report can only duplicate another report of the same project")
    with transaction.atomic():
        moved = move_report(
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
        triage.duplicate_of, triage.follows_original = original, follow
        triage.save(update_fields=["duplicate_of", "follows_original"])
    return moved


def do_accept(report: Report, *, acting_user: User) -> Report:
    with transaction.atomic():
        return move_report(
            report,
            RMState.ACCEPTED,
            acting_user=acting_user,
            note="The security team accepted the case: a fix is being planned.",
            event="report.accepted",
        )


def do_defer(report: Report, reason: str, *, acting_user: User) -> Report:
    text = _reason(reason)
    with transaction.atomic():
        return move_report(
            report,
            RMState.DEFERRED,
            acting_user=acting_user,
            note=f"The security team put this case on hold for now. Their reason:\n\n{text}",
            event="report.deferred",
        )


NO_ANSWER = "report.closed_no_answer"
CLOSED_NOTE = "The security team closed this report. Thank you for reporting it."
UNANSWERED_NOTE = (
    "The security team asked for more information and received no answer, so this report is now closed."
)


def do_close(
    report: Report, *, acting_user: User | None, note: str = CLOSED_NOTE, event: str = "report.closed"
) -> Report:
    with transaction.atomic():
        return move_report(report, RMState.CLOSED, acting_user=acting_user, note=note, event=event)


def do_close_unanswered(report: Report, *, acting_user: User | None) -> bool:
    """The policy's wait for an answer is over: the report closes. One still "received" is first
    marked invalid (Vultron RM has no R→C); whether it could be closed."""
    with transaction.atomic():
        state = RMState(report.rm_state)
        if state == RMState.RECEIVED:
            report = move_report(
                report, RMState.INVALID, acting_user=acting_user, note=UNANSWERED_NOTE, event=NO_ANSWER
            )
            state = RMState.INVALID
        if state not in {RMState.INVALID, RMState.ACCEPTED, RMState.DEFERRED}:
            return False
        do_close(report, acting_user=acting_user, note=UNANSWERED_NOTE, event=NO_ANSWER)
        return True


def _resolve(report: Report, resolution: Resolution) -> Triage:
    triage = triage_to_change(report)
    triage.resolution, triage.decided_at = resolution, timezone.now()
    triage.save(update_fields=["resolution", "decided_at"])
    return triage


def do_set_severity(
    report: Report,
    *,
    acting_user: User,
    cvss31_vector: str = "",
    cvss40_vector: str = "",
    cwes: list[str] | None = None,
    llm_risks: list[str] | None = None,
) -> Triage:
    """Score a report. The qualitative rating follows CVSS 4.0 when given, else 3.1."""
    v31 = severity.cvss31(cvss31_vector) if cvss31_vector.strip() else None
    v40 = severity.cvss40(cvss40_vector) if cvss40_vector.strip() else None
    checked_cwes = [severity.normalise_cwe(c) for c in cwes or [] if c.strip()]
    try:
        risks = [severity.LlmRisk(r).value for r in llm_risks or []]
    except ValueError as exc:
        raise severity.SeverityError(f"not an OWASP LLM Top 10 risk: {exc}") from None
    with transaction.atomic():
        triage = triage_to_change(Report.objects.select_for_update(no_key=True).get(pk=report.pk))
        triage.cvss31_vector, triage.cvss31_score = (v31.vector, v31.score) if v31 else ("", None)
        triage.cvss40_vector, triage.cvss40_score = (v40.vector, v40.score) if v40 else ("", None)
        chosen = v40 or v31
        triage.rating = chosen.rating if chosen else ""
        triage.impacts = sorted(chosen.impacts) if chosen else []
        triage.cwes, triage.llm_risks = checked_cwes, risks
        triage.save()
        record_event(
            "report.severity_set",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"rating": triage.rating, "cwes": checked_cwes},
        )
    return triage


def do_request_info(report: Report, question: str, *, acting_user: User) -> InfoRequest:
    """Ask the reporter for more; the SLA clocks pause until they answer (or the report closes)."""
    text = clean_text(question)
    if not text:
        raise SubmissionError({"question": "write what you need from the reporter"})
    now = timezone.now()
    with transaction.atomic():
        request = InfoRequest.objects.create(
            report=report,
            asked_at=now,
            closes_at=now + dt.timedelta(days=report.project.policy.sla.needs_info_days),
        )
        message = Message(report=report, author_kind=Author.TEAM, author=acting_user, via=Via.WEB)
        message.body = (
            f"{text}\n\n(The team is waiting for your answer; without one by "
            f"{request.closes_at:%Y-%m-%d %H:%M} UTC the report will be closed.)"
        )
        message.save()
        record_event("report.info_requested", acting_user=acting_user, project=report.project, target=report)
        if report.reporter.get("email"):
            queue_email(emails.team_replied(report), project=report.project, report=report)
    return request


def public_bug_text(report: Report) -> str:
    """A report judged not a security issue, as text for the project's public issue tracker.

    It carries what the reporter wrote about the bug and nothing about who they are.
    """
    fields = report.fields
    parts = [f"# {report.title}", "", fields.pop("description", "")]
    for name, value in fields.items():
        parts += ["", f"## {name.replace('_', ' ').capitalize()}", "", value]
    parts += [
        "",
        f"(Reported privately to the security team as report #{report.number}; judged not a security issue.)",
    ]
    return "\n".join(parts).strip() + "\n"


def team_of(report: Report) -> list[User]:
    """Who can own or be assigned a case: the project's team (admins are not on it by default)."""
    return list(User.objects.filter(memberships__project=report.project, is_active=True).order_by("email"))


def do_assign(report: Report, *, owner: User | None, assignees: list[User], acting_user: User) -> Triage:
    team = set(team_of(report))
    outsiders = [u.email for u in [*([owner] if owner else []), *assignees] if u not in team]
    if outsiders:
        raise SubmissionError({"assignees": f"not on the project's team: {', '.join(outsiders)}"})
    with transaction.atomic():
        triage = triage_to_change(Report.objects.select_for_update(no_key=True).get(pk=report.pk))
        before = {*([triage.owner] if triage.owner else []), *triage.assignees.all()}
        previous_owner = triage.owner
        triage.owner = owner
        triage.save(update_fields=["owner"])
        triage.assignees.set(assignees)
        record_event(
            "case.assigned",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"owner": owner.email if owner else "", "assignees": [u.email for u in assignees]},
        )
        _tell_the_assigned(report, owner if owner != previous_owner else None, assignees, before, acting_user)
    return triage


def _tell_the_assigned(
    report: Report, new_owner: User | None, assignees: list[User], before: set[User], acting_user: User
) -> None:
    """Who was given the case just now hears of it; not whoever gave it to themselves."""
    if new_owner is not None and new_owner != acting_user:
        mail = emails.case_assigned(report, [new_owner.email], as_owner=True, by=acting_user)
        queue_team_notice(mail, NoticeKind.ASSIGNMENT, project=report.project, about=report)
    added = sorted(u.email for u in assignees if u not in before and u not in {acting_user, new_owner})
    if added:
        mail = emails.case_assigned(report, added, as_owner=False, by=acting_user)
        queue_team_notice(mail, NoticeKind.ASSIGNMENT, project=report.project, about=report)


class ReleaseRefusedError(ValueError):
    """A held report that stays held; the message says why ("was closed while held")."""


def do_release_held_report(report: Report, *, acting_user: User) -> Report:
    """Release a report the spam check held, unless the team already judged it invalid or closed
    it: its receipt and its decision would then go to whatever address the spam gave."""
    refused = release_refusal(report)
    if refused:
        raise ReleaseRefusedError(refused)
    return do_release_from_quarantine(report, acting_user=acting_user)
