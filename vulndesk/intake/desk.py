"""The team's side of intake: the queue of reports and a report's page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.audit.actions import record_event
from vulndesk.cases import triage
from vulndesk.cases.actions import do_post_team_message
from vulndesk.cases.calculator import CVSS31, CVSS40, submitted_vector
from vulndesk.cases.clocks import Clock, ClockState, next_commitment
from vulndesk.cases.fixes import backport_matrix, fix_plan_of, unsupported_lines
from vulndesk.cases.models import BackportStatus, Message, Resolution, Triage, Visibility
from vulndesk.cases.severity import LlmRisk, SeverityError, cwe_name
from vulndesk.cases.sla import many_report_clocks, report_clocks
from vulndesk.cases.vultron import RM_TRANSITIONS, CaseEvent, CaseState, RMState, TransitionError
from vulndesk.distributors.views import distributors_context
from vulndesk.embargo.views import embargo_context
from vulndesk.intake.access import access_report_for_team, reports_visible_to
from vulndesk.intake.actions import do_replace_tracking_link, do_revoke_tracking_link
from vulndesk.intake.emails import acknowledgement_due
from vulndesk.intake.models import Report
from vulndesk.intake.search import search
from vulndesk.intake.submission import SubmissionError
from vulndesk.projects.commitments import FIELD_LABELS
from vulndesk.projects.models import Project
from vulndesk.projects.policy import ReportField
from vulndesk.projects.releases import supported_releases
from vulndesk.web.sealed_session import keep_sealed, read_sealed

QUEUE_PAGE_SIZE = 50
MAX_QUEUE_PAGE = 2_000
CONVERSATION_TAIL = 50


SORTS = {"newest": "-received_at", "oldest": "received_at", "number": "number"}


QUEUE_SEARCH = "queue_search"  # the session key of the sealed search words
MAX_SEARCH = 200


@login_required
@never_cache
def queue(request: HttpRequest) -> HttpResponse:
    """Open reports first, filtered and searched; each with the time left on its deadline.

    Search words are words of reports: they are posted, kept sealed in the session, and the page
    they lead to says only ``search=1``. No URL, and so no log or Referer, ever carries them.
    """
    user = signed_in_user(request)
    if request.method == "POST":
        return _start_search(request, user)
    if "q" in request.GET:
        messages.error(request, "Search words are never put in an address: use the search form.")
        return redirect("report-queue")
    reports = reports_visible_to(user)
    filters = {key: request.GET.get(key, "") for key in ("project", "state", "sort")}
    filters["q"] = _saved_search(request, user) if request.GET.get("search") else ""
    if filters["project"]:
        reports = reports.filter(project__slug=filters["project"])
    if filters["state"] == "quarantine":
        reports = reports.filter(quarantined=True)
    elif filters["state"]:
        reports = reports.filter(rm_state=filters["state"], quarantined=False)
    else:
        reports = reports.exclude(rm_state__in=["closed"]).filter(quarantined=False)
    if filters["q"].strip():
        reports = search(reports, filters["q"])
    number = _page_number(request.GET.get("page", "1"))
    start = (number - 1) * QUEUE_PAGE_SIZE
    # One row more than a page tells whether an older page exists, without counting every report.
    page = list(
        reports.order_by(SORTS.get(filters["sort"], "-received_at"))[start : start + QUEUE_PAGE_SIZE + 1]
    )
    has_next = len(page) > QUEUE_PAGE_SIZE
    page = page[:QUEUE_PAGE_SIZE]
    shared: dict[int, Project] = {}
    for report in page:  # one Project per project, so its policy is read once, not once per row
        report.project = shared.setdefault(report.project_id, report.project)
    clocks = many_report_clocks(page, timezone.now())
    cases = {t.report_id: t for t in Triage.objects.filter(report__in=page).select_related("owner")}
    rows = [_queue_row(report, clocks[report.pk], cases.get(report.pk)) for report in page]
    return render(
        request,
        "intake/queue.html",
        {
            "rows": rows,
            "filters": filters,
            "states": [s.value for s in RMState if s != RMState.START],
            "page": number,
            "has_next": has_next,
            "page_query": _query(filters),
        },
    )


def _query(filters: dict[str, str]) -> str:
    """The page's address: the filters, and whether a search applies; never the words."""
    shown = {k: v for k, v in filters.items() if v and k != "q"}
    return urlencode({**shown, **({"search": "1"} if filters.get("q") else {})})


def _start_search(request: HttpRequest, user: User) -> HttpResponse:
    words = request.POST.get("q", "").strip()[:MAX_SEARCH]
    if words:
        keep_sealed(request, QUEUE_SEARCH, words, user_id=user.pk)
    else:
        request.session.pop(QUEUE_SEARCH, None)
    filters = {key: request.POST.get(key, "") for key in ("project", "state", "sort")} | {"q": words}
    query = _query(filters)
    return redirect(reverse("report-queue") + (f"?{query}" if query else ""))


def _saved_search(request: HttpRequest, user: User) -> str:
    return read_sealed(request, QUEUE_SEARCH, user_id=user.pk)


def _page_number(text: str) -> int:
    try:
        return min(max(int(text), 1), MAX_QUEUE_PAGE)
    except ValueError:
        return 1


def _queue_row(report: Report, report_clocks: list[Clock], case: Triage | None) -> dict[str, object]:
    """A queue line: the nearest promise not yet kept, coloured by the time left on it."""
    pending = next_commitment(report_clocks)
    return {
        "report": report,
        "rating": case.rating if case else "",
        "owner": case.owner if case else None,
        "clock": pending,
        "urgency": _URGENCY.get(pending.state, "") if pending else "",
    }


_URGENCY = {
    ClockState.OVERDUE: "red",
    ClockState.DUE_SOON: "amber",
    ClockState.RUNNING: "green",
    ClockState.PAUSED: "paused",
}


@login_required
@never_cache
def report_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user)
    with transaction.atomic():
        # Reading a report's contents is an audited event: who read which report, and when.
        record_event("report.read", acting_user=user, project=report.project, target=report)
    fields = report.fields
    labelled = [("Description", fields.pop("description", ""))]
    labelled += [(_label(name), value) for name, value in fields.items()]
    return render(
        request,
        "intake/report_page.html",
        {
            "report": report,
            "fields": labelled,
            "reporter": report.reporter,
            "attachments": report.attachments.all(),
            "acknowledge_by": acknowledgement_due(report),
            **_conversation(report, show_all=request.GET.get("all") == "1"),
            "triage": triage.triage_of(report),
            "clocks": report_clocks(report),
            "case_events": _case_events(triage.triage_of(report).case_state),
            "team": triage.team_of(report),
            "assignee_ids": set(triage.triage_of(report).assignees.values_list("pk", flat=True)),
            "public_bug_text": (
                triage.public_bug_text(report)
                if triage.triage_of(report).resolution == Resolution.NOT_SECURITY
                else ""
            ),
            "llm_risks": list(LlmRisk),
            "cwe_names": {c: cwe_name(c) for c in triage.triage_of(report).cwes},
            **_fix_context(report),
            **embargo_context(report),
            **distributors_context(report),
            "embargo_action": reverse("report-embargo", args=[report.project.slug, report.number]),
            "next_states": sorted(t.value for (s, t) in RM_TRANSITIONS if s == RMState(report.rm_state)),
        },
    )


@login_required
@require_POST
def tracking_link(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Replace the reporter's link (the new one is mailed to them) or revoke their access."""
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    if request.POST.get("action") == "revoke":
        do_revoke_tracking_link(report, acting_user=user)
        messages.success(request, "The reporter's tracking link is revoked.")
    else:
        do_replace_tracking_link(report, acting_user=user)
        sent = " and mailed to the reporter" if report.reporter.get("email") else ""
        messages.success(request, f"A new tracking link was made{sent}; the old one no longer works.")
    return redirect("report-page", slug=slug, number=number)


@login_required
@require_POST
def post_message(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    internal = request.POST.get("visibility") == Visibility.INTERNAL
    try:
        do_post_team_message(report, request.POST.get("body", ""), internal=internal, acting_user=user)
    except SubmissionError as exc:
        messages.error(request, f"The message {exc.problems.get('body', 'could not be sent')}.")
    else:
        messages.success(request, "Internal note saved." if internal else "Message sent to the reporter.")
    return redirect(reverse("report-page", args=[slug, number]) + "#conversation")


def _label(name: str) -> str:
    try:
        return FIELD_LABELS[ReportField(name)]
    except ValueError:
        return name.replace("_", " ").capitalize()


def _decide(decision: str, report: Report, user: User, form: QueryDict) -> None:
    """Apply one triage decision from the report page's form."""
    reason = form.get("reason", "")
    match decision:
        case "valid":
            triage.do_mark_valid(report, acting_user=user)
        case "invalid":
            triage.do_mark_invalid(report, reason, acting_user=user)
        case "not_security":
            triage.do_mark_not_security(report, reason, acting_user=user)
        case "duplicate":
            triage.do_mark_duplicate(
                report, _original(report, form.get("duplicate_of", "")), acting_user=user
            )
        case "accept":
            triage.do_accept(report, acting_user=user)
        case "defer":
            triage.do_defer(report, reason, acting_user=user)
        case "close":
            triage.do_close(report, acting_user=user)
        case "request_info":
            triage.do_request_info(report, reason, acting_user=user)
        case event if event.startswith("event:"):
            triage.do_record_case_event(report, CaseEvent(event.removeprefix("event:")), acting_user=user)
        case _:
            raise SubmissionError({"decision": "choose a decision"})


def _original(report: Report, number: str) -> Report:
    original = Report.objects.filter(
        project=report.project, number=int(number) if number.isdigit() else 0
    ).first()
    if original is None:
        raise SubmissionError({"duplicate_of": f"there is no report #{number} in this project"})
    return original


@login_required
@require_POST
def triage_decision(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    try:
        _decide(request.POST.get("decision", ""), report, user, request.POST)
    except (SubmissionError, TransitionError) as exc:
        problem = "; ".join(exc.problems.values()) if isinstance(exc, SubmissionError) else str(exc)
        messages.error(request, f"Not recorded: {problem}.")
    else:
        messages.success(request, "Decision recorded; the reporter has been told.")
    return redirect("report-page", slug=slug, number=number)


@login_required
@require_POST
def set_severity(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    try:
        triage.do_set_severity(
            report,
            acting_user=user,
            cvss31_vector=submitted_vector(request.POST, CVSS31),
            cvss40_vector=submitted_vector(request.POST, CVSS40),
            cwes=request.POST.get("cwes", "").replace(",", " ").split(),
            llm_risks=request.POST.getlist("llm_risks"),
        )
    except SeverityError as exc:
        messages.error(request, f"Severity not saved: {exc}.")
    else:
        messages.success(request, "Severity saved.")
    return redirect(reverse("report-page", args=[slug, number]) + "#severity")


@login_required
@require_POST
def assign(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    team = {str(member.pk): member for member in triage.team_of(report)}
    owner = team.get(request.POST.get("owner", ""))
    assignees = [team[pk] for pk in request.POST.getlist("assignees") if pk in team]
    triage.do_assign(report, owner=owner, assignees=assignees, acting_user=user)
    messages.success(request, "Owner and assignees saved.")
    return redirect(reverse("report-page", args=[slug, number]) + "#people")


def _conversation(report: Report, *, show_all: bool) -> dict[str, object]:
    """The latest messages of a long conversation, with a link to the rest (as long threads do)."""
    messages_of = Message.objects.filter(report=report).select_related("author")
    total = messages_of.count()
    if show_all or total <= CONVERSATION_TAIL:
        return {"conversation": list(messages_of), "conversation_hidden": 0}
    latest = list(messages_of.order_by("-created_at", "-pk")[:CONVERSATION_TAIL])
    return {"conversation": latest[::-1], "conversation_hidden": total - CONVERSATION_TAIL}


def _fix_context(report: Report) -> dict[str, object]:
    return {
        "affected_packages": report.affected_packages.all(),
        "backport_rows": backport_matrix(report),
        "unsupported_lines": unsupported_lines(report),
        "backport_statuses": BackportStatus.choices,
        "supported_lines": supported_releases(report.project),
        "fix_plan": fix_plan_of(report),
    }


def _case_events(notation: str) -> list[tuple[str, str, bool]]:
    """(letter, name, happened) for each Vultron case event, for the report page."""
    happened = CaseState.parse(notation).happened
    names = {
        CaseEvent.VENDOR_AWARE: "Vendor aware",
        CaseEvent.FIX_READY: "Fix ready",
        CaseEvent.FIX_DEPLOYED: "Fix deployed",
        CaseEvent.PUBLIC_AWARE: "Public aware",
        CaseEvent.EXPLOIT_PUBLIC: "Exploit public",
        CaseEvent.ATTACKS_OBSERVED: "Attacks observed",
    }
    return [(event.value, names[event], event in happened) for event in CaseEvent]
