"""The case page's forms: each posts here, saves only its own fields, and returns to the page."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.actions import case_events, do_post_team_message, triage
from vulndesk.cases.actions.acknowledgement import do_acknowledge_report
from vulndesk.cases.actions.closing import do_record_no_fix_needed
from vulndesk.cases.calculator import CVSS31, CVSS40, submitted_vector
from vulndesk.cases.models import Visibility
from vulndesk.cases.severity import SeverityError
from vulndesk.cases.vultron import CaseEvent, TransitionError
from vulndesk.intake.access import access_report_for_team
from vulndesk.intake.actions import do_replace_tracking_link, do_revoke_tracking_link
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError
from vulndesk.web.forms import flash_outcome

# A handler answers None to go back to the page's section, or a page of its own (a re-authentication).
CaseForm = Callable[[HttpRequest, Report, User], HttpResponse | None]
CaseView = Callable[[HttpRequest, str, int], HttpResponse]


def case_form(permission: Permission, anchor: str = "") -> Callable[[CaseForm], CaseView]:
    """A case page form's handler: posted by a signed-in person whom ``permission`` lets at the
    report (through its door), then back to the page's section (``anchor``). The handler only acts
    and flashes the outcome."""

    def wrap(handle: CaseForm) -> CaseView:
        @functools.wraps(handle)
        def view(request: HttpRequest, slug: str, number: int) -> HttpResponse:
            user = signed_in_user(request)
            answer = handle(request, access_report_for_team(slug, number, user, permission), user)
            if answer is not None:
                return answer
            return redirect(reverse("report-page", args=[slug, number]) + (f"#{anchor}" if anchor else ""))

        return login_required(require_POST(view))

    return wrap


@case_form(Permission.PROJECT_REPORT_TRIAGE)
def acknowledge(request: HttpRequest, report: Report, user: User) -> None:
    flash_outcome(
        request,
        lambda: do_acknowledge_report(report, request.POST.get("message", ""), acting_user=user),
        refused=SubmissionError,
        not_done=lambda exc: f"Not acknowledged: the {_problems(exc)}.",
        done="Acknowledged: the reporter has been told.",
    )


@case_form(Permission.PROJECT_REPORT_TRIAGE, anchor="triage")
def release_from_quarantine(request: HttpRequest, report: Report, user: User) -> None:
    """The spam check held the report; a team member read it and judged it genuine."""
    if not report.quarantined:
        messages.info(request, "This report is not in quarantine.")
        return
    mailed = " and the receipt held since it arrived is on its way to the reporter"
    flash_outcome(
        request,
        lambda: triage.do_release_held_report(report, acting_user=user),
        refused=triage.ReleaseRefusedError,
        not_done=lambda exc: f"Not released: it {exc}; nothing is sent to the address it gave.",
        done="Released from quarantine: the report is in the queue, the team is told"
        + (mailed if report.reporter.get("email") else "")
        + ".",
    )


@case_form(Permission.PROJECT_REPORT_TRIAGE)
def tracking_link(request: HttpRequest, report: Report, user: User) -> None:
    """Replace the reporter's link (the new one is mailed to them) or revoke their access."""
    if request.POST.get("action") == "revoke":
        do_revoke_tracking_link(report, acting_user=user)
        messages.success(request, "The reporter's tracking link is revoked.")
    else:
        do_replace_tracking_link(report, acting_user=user)
        sent = " and mailed to the reporter" if report.reporter.get("email") else ""
        messages.success(request, f"A new tracking link was made{sent}; the old one no longer works.")


@case_form(Permission.PROJECT_REPORT_TRIAGE, anchor="conversation")
def post_message(request: HttpRequest, report: Report, user: User) -> None:
    internal = request.POST.get("visibility") == Visibility.INTERNAL
    flash_outcome(
        request,
        lambda: do_post_team_message(
            report, request.POST.get("body", ""), internal=internal, acting_user=user
        ),
        refused=SubmissionError,
        not_done=lambda exc: f"The message {_problems(exc, only='body', otherwise='could not be sent')}.",
        done="Internal note saved." if internal else "Message sent to the reporter.",
    )


def _problems(exc: Exception, only: str = "", otherwise: str = "") -> str:
    """What a refused form says went wrong: a submission's problems (or only one of them), else the error."""
    if not isinstance(exc, SubmissionError):
        return str(exc)
    if only:
        return exc.problems.get(only, otherwise)
    return "; ".join(exc.problems.values())


def _valid_and_accepted(report: Report, user: User, _form: QueryDict) -> None:
    # The common path in one press: confirmed, then accepted (two Vultron steps, each audited).
    triage.do_mark_valid(report, acting_user=user)
    triage.do_accept(report, acting_user=user)


def _duplicate(report: Report, user: User, form: QueryDict) -> None:
    triage.do_mark_duplicate(report, _original(report, form.get("duplicate_of", "")), acting_user=user)


Decision = Callable[[Report, User, QueryDict], object]
DECISIONS: dict[str, Decision] = {
    "valid": lambda r, u, _f: triage.do_mark_valid(r, acting_user=u),
    "valid_accept": _valid_and_accepted,
    "invalid": lambda r, u, f: triage.do_mark_invalid(r, f.get("reason", ""), acting_user=u),
    "not_security": lambda r, u, f: triage.do_mark_not_security(r, f.get("reason", ""), acting_user=u),
    "duplicate": _duplicate,
    "accept": lambda r, u, _f: triage.do_accept(r, acting_user=u),
    "defer": lambda r, u, f: triage.do_defer(r, f.get("reason", ""), acting_user=u),
    "close": lambda r, u, _f: triage.do_close(r, acting_user=u),
    "request_info": lambda r, u, f: triage.do_request_info(r, f.get("reason", ""), acting_user=u),
    "no_fix": lambda r, u, f: do_record_no_fix_needed(r, f.get("reason", ""), acting_user=u),
}


def _decide(decision: str, report: Report, user: User, form: QueryDict) -> None:
    """Apply one triage decision, or record one case event (``event:D``), from the case page."""
    if decision.startswith("event:"):
        case_events.do_record_case_event(report, CaseEvent(decision.removeprefix("event:")), acting_user=user)
        return
    if decision not in DECISIONS:
        raise SubmissionError({"decision": "choose a decision"})
    DECISIONS[decision](report, user, form)


def _original(report: Report, number: str) -> Report:
    original = Report.objects.filter(
        project=report.project, number=int(number) if number.isdigit() else 0
    ).first()
    if original is None:
        raise SubmissionError({"duplicate_of": f"there is no report #{number} in this project"})
    return original


@case_form(Permission.PROJECT_REPORT_TRIAGE)
def triage_decision(request: HttpRequest, report: Report, user: User) -> None:
    flash_outcome(
        request,
        lambda: _decide(request.POST.get("decision", ""), report, user, request.POST),
        refused=(SubmissionError, TransitionError, ValueError),
        not_done=lambda exc: f"Not recorded: {_problems(exc)}.",
        done="Decision recorded; the reporter has been told.",
    )


@case_form(Permission.PROJECT_REPORT_TRIAGE, anchor="severity")
def set_severity(request: HttpRequest, report: Report, user: User) -> None:
    flash_outcome(
        request,
        lambda: triage.do_set_severity(
            report,
            acting_user=user,
            cvss31_vector=submitted_vector(request.POST, CVSS31),
            cvss40_vector=submitted_vector(request.POST, CVSS40),
            cwes=request.POST.get("cwes", "").replace(",", " ").split(),
            llm_risks=request.POST.getlist("llm_risks"),
        ),
        refused=SeverityError,
        not_done="Severity not saved",
        done="Severity saved.",
    )


@case_form(Permission.PROJECT_REPORT_TRIAGE, anchor="people")
def assign(request: HttpRequest, report: Report, user: User) -> None:
    team = {str(member.pk): member for member in triage.team_of(report)}
    owner = team.get(request.POST.get("owner", ""))
    assignees = [team[pk] for pk in request.POST.getlist("assignees") if pk in team]
    triage.do_assign(report, owner=owner, assignees=assignees, acting_user=user)
    messages.success(request, "Owner and assignees saved.")
