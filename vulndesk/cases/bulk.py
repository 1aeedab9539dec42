"""Bulk actions on the queue: one ``do_*`` per selected report, each in its own transaction.

A report the action cannot apply to (already closed, not on that project's team, gone) is skipped
and named in the summary; the reports before and after it are done all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import Http404, QueryDict

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.actions import triage
from vulndesk.cases.actions.labels import clean_label, do_label_report
from vulndesk.cases.models import Triage
from vulndesk.cases.vultron import RMState, TransitionError
from vulndesk.intake.access import access_report_for_team
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError, clean_text

MAX_SELECTED = 200  # a page holds 50; a handful of pages at most

# Each action: what the summary says of the reports it was done to.
BULK_ACTIONS = {
    "assign": "assigned",
    "duplicate": "marked duplicate",
    "invalid": "closed as not a vulnerability",
    "not_security": "closed as not a security issue",
    "label": "labelled",
    "release": "released from quarantine",
}


class BulkError(ValueError):
    """Input that fails for every selected report: nothing is attempted."""


class Skipped(ValueError):  # noqa: N818 - reads as the outcome, as AlreadyAcknowledged
    """This one report is left as it was; the message says why."""


@dataclass
class BulkOutcome:
    verb: str
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """ "10 closed as not a security issue; 1 skipped: llm-d #12 already invalid"."""
        text = f"{len(self.done)} {self.verb}"
        if self.skipped:
            reasons = "; ".join(f"{name} {why}" for name, why in self.skipped)
            text += f"; {len(self.skipped)} skipped: {reasons}"
        return text


Apply = Callable[[Report, User], object]


def run_bulk(form: QueryDict, user: User) -> BulkOutcome:
    action = form.get("action", "")
    if action not in BULK_ACTIONS:
        raise BulkError("choose an action")
    keys = list(dict.fromkeys(form.getlist("report")))
    if not keys:
        raise BulkError("select at least one report")
    if len(keys) > MAX_SELECTED:
        raise BulkError(f"select at most {MAX_SELECTED} reports at once")
    apply = _prepare(action, form)
    outcome = BulkOutcome(BULK_ACTIONS[action])
    for key in keys:
        _apply_one(key, apply, user, outcome)
    return outcome


def _apply_one(key: str, apply: Apply, user: User, outcome: BulkOutcome) -> None:
    slug, _, number = key.partition("/")
    name = f"{slug} #{number}"
    try:
        report = access_report_for_team(
            slug, int(number) if number.isdigit() else 0, user, Permission.PROJECT_REPORT_TRIAGE
        )
        result = apply(report, user)
    except Http404:
        outcome.skipped.append((name, "not found"))
    except (Skipped, TransitionError, triage.ReleaseRefusedError) as exc:
        outcome.skipped.append((name, _why(exc, report)))
    except SubmissionError as exc:
        outcome.skipped.append((name, "; ".join(exc.problems.values())))
    else:
        if result is False:
            outcome.skipped.append((name, "already had it"))
        else:
            outcome.done.append(name)


def _why(exc: ValueError, report: Report) -> str:
    if isinstance(exc, TransitionError) and RMState(report.rm_state) in {RMState.INVALID, RMState.CLOSED}:
        return f"already {report.rm_state}"
    return str(exc)


def _prepare(action: str, form: QueryDict) -> Apply:
    """Check the action's own input once, before any report is touched."""
    if action in {"invalid", "not_security"}:
        reason = clean_text(form.get("reason", ""))
        if len(reason) < triage.MIN_REASON:
            raise BulkError(
                f"write the reason each reporter will read (at least {triage.MIN_REASON} characters)"
            )
        decide = triage.do_mark_invalid if action == "invalid" else triage.do_mark_not_security
        return lambda report, user: decide(report, reason, acting_user=user)
    if action == "assign":
        return _assign(form.get("owner", ""))
    if action == "duplicate":
        return _duplicate(form.get("duplicate_of", ""))
    if action == "release":
        return lambda report, user: triage.do_release_held_report(report, acting_user=user)
    try:
        label = clean_label(form.get("label", ""))
    except SubmissionError as exc:
        raise BulkError(exc.problems["label"]) from None
    return lambda report, user: do_label_report(report, label, acting_user=user)


def _assign(owner_id: str) -> Apply:
    if not owner_id.isdigit():
        raise BulkError("choose who owns the reports")

    def assign(report: Report, user: User) -> object:
        team = {member.pk: member for member in triage.team_of(report)}
        owner = team.get(int(owner_id))
        if owner is None:
            raise Skipped(f"has no such member on the {report.project.slug} team")
        case = Triage.objects.filter(report=report).first()
        assignees = list(case.assignees.all()) if case else []
        return triage.do_assign(report, owner=owner, assignees=assignees, acting_user=user)

    return assign


def _duplicate(number: str) -> Apply:
    digits = number.strip().lstrip("#")
    if not digits.isdigit():
        raise BulkError("give the number of the report they repeat, such as 12")

    def mark(report: Report, user: User) -> object:
        original = Report.objects.filter(project=report.project, number=int(digits)).first()
        if original is None:
            raise Skipped(f"has no report #{digits} in its project to be a duplicate of")
        if original.pk == report.pk:
            raise Skipped("cannot duplicate itself")
        return triage.do_mark_duplicate(report, original, acting_user=user)

    return mark
