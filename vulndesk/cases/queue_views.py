"""The team's queue page: filters as visible controls, sorts, and actions on many reports at once."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.cases.bulk import BULK_ACTIONS, BulkError, run_bulk
from vulndesk.cases.clocks import Clock, ClockState, next_commitment
from vulndesk.cases.models import Label, Triage
from vulndesk.cases.queue import DUE, SEVERITIES, SORTS, WAITING, QueueFilters, queue_reports
from vulndesk.cases.sla import many_report_clocks
from vulndesk.cases.vultron import RMState
from vulndesk.duplicates.views import possible_duplicates
from vulndesk.intake.models import Report
from vulndesk.intake.search import search
from vulndesk.projects.models import Project
from vulndesk.web.sealed_session import keep_sealed, read_sealed

QUEUE_PAGE_SIZE = 50
MAX_QUEUE_PAGE = 2_000
QUEUE_SEARCH = "queue_search"  # the session key of the sealed search words
MAX_SEARCH = 200


@login_required
@never_cache
def queue(request: HttpRequest) -> HttpResponse:
    """Open reports, next deadline first, filtered and searched; each with the time left on it.

    Search words are words of reports: they are posted, kept sealed in the session, and the page
    they lead to says only ``search=1``. No URL, and so no log or Referer, ever carries them.
    """
    user = signed_in_user(request)
    if request.method == "POST":
        return _start_search(request, user)
    if "q" in request.GET:
        messages.error(request, "Search words are never put in an address: use the search form.")
        return redirect("report-queue")
    return render_queue(request, user, _filters(request, request.GET, user))


def _filters(request: HttpRequest, query: QueryDict, user: User) -> QueueFilters:
    filters = QueueFilters.from_query(query)
    return filters.with_(q=_saved_search(request, user) if query.get("search") else "")


def render_queue(
    request: HttpRequest,
    user: User,
    filters: QueueFilters,
    bulk: Mapping[str, object] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page; ``bulk`` holds a refused bulk action's choices, shown again so nothing is lost."""
    reports = queue_reports(user, filters, timezone.now())
    if filters.q.strip():
        reports = search(reports, filters.q)
    number = _page_number(request.GET.get("page", "1"))
    page, has_next = _page_of(reports, number)
    projects = _projects_of(user)
    return render(
        request,
        "cases/queue.html",
        {
            "rows": _rows(page),
            "filters": filters,
            "states": [s.value for s in RMState if s != RMState.START],
            "sorts": {key: label for key, (label, _) in SORTS.items()},
            "severities": list(SEVERITIES),
            "due_choices": DUE,
            "waiting_choices": WAITING,
            "projects": projects,
            "members": _members_of(projects),
            "bulk_actions": BULK_ACTIONS,
            "bulk": bulk or {},
            "page": number,
            "has_next": has_next,
            "page_query": urlencode(filters.shown()),
        },
        status=status,
    )


def _page_of(reports: QuerySet[Report], number: int) -> tuple[list[Report], bool]:
    start = (number - 1) * QUEUE_PAGE_SIZE
    # One row more than a page tells whether a further page exists, without counting every report.
    page = list(reports.select_related("queue_entry")[start : start + QUEUE_PAGE_SIZE + 1])
    return page[:QUEUE_PAGE_SIZE], len(page) > QUEUE_PAGE_SIZE


def _rows(page: list[Report]) -> list[dict[str, object]]:
    shared: dict[int, Project] = {}
    for report in page:  # one Project per project, so its policy is read once, not once per row
        report.project = shared.setdefault(report.project_id, report.project)
    clocks = many_report_clocks(page, timezone.now())
    cases = {t.report_id: t for t in Triage.objects.filter(report__in=page).select_related("owner")}
    labels: dict[int, list[str]] = {}
    for report_id, name in Label.reports.through.objects.filter(report__in=page).values_list(
        "report_id", "label__name"
    ):
        labels.setdefault(report_id, []).append(name)
    duplicates = possible_duplicates(page)  # the "possible duplicate of #N" chip
    rows = [_row(r, clocks[r.pk], cases.get(r.pk), sorted(labels.get(r.pk, []))) for r in page]
    for report, row in zip(page, rows, strict=True):
        row["possible_duplicate_of"] = duplicates.get(report.pk)
    return rows


def _row(
    report: Report, report_clocks: list[Clock], case: Triage | None, labels: list[str]
) -> dict[str, object]:
    """A queue line: the nearest promise not yet kept, coloured by the time left on it."""
    pending = next_commitment(report_clocks)
    return {
        "report": report,
        "key": f"{report.project.slug}/{report.number}",
        "rating": case.rating if case else "",
        "owner": case.owner if case else None,
        "labels": labels,
        "clock": pending,
        "urgency": _URGENCY.get(pending.state, "") if pending else "",
    }


_URGENCY = {
    ClockState.OVERDUE: "red",
    ClockState.DUE_SOON: "amber",
    ClockState.RUNNING: "green",
    ClockState.PAUSED: "paused",
}


def _projects_of(user: User) -> list[Project]:
    projects = Project.objects.all() if user.is_admin else Project.objects.filter(memberships__user=user)
    return list(projects.order_by("name"))


def _members_of(projects: list[Project]) -> list[User]:
    return list(
        User.objects.filter(memberships__project__in=projects, is_active=True).distinct().order_by("email")
    )


def _start_search(request: HttpRequest, user: User) -> HttpResponse:
    words = request.POST.get("q", "").strip()[:MAX_SEARCH]
    if words:
        keep_sealed(request, QUEUE_SEARCH, words, user_id=user.pk)
    else:
        request.session.pop(QUEUE_SEARCH, None)
    query = urlencode(QueueFilters.from_query(request.POST).with_(q=words).shown())
    return redirect(reverse("report-queue") + (f"?{query}" if query else ""))


def _saved_search(request: HttpRequest, user: User) -> str:
    return read_sealed(request, QUEUE_SEARCH, user_id=user.pk)


def _page_number(text: str) -> int:
    try:
        return min(max(int(text), 1), MAX_QUEUE_PAGE)
    except ValueError:
        return 1


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """One action on every selected report, each through its own ``do_*`` (one audit event each).

    A report the action cannot apply to is skipped and named; the others are done all the same.
    Input that would fail for every report (no selection, a reason too short) changes nothing and
    shows the page again with what was chosen and written.
    """
    user = signed_in_user(request)
    back = QueryDict(request.POST.get("back", ""))
    try:
        outcome = run_bulk(request.POST, user)
    except BulkError as exc:
        messages.error(request, f"Nothing was changed: {exc}.")
        chosen = {
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist("report"),
            "reason": request.POST.get("reason", ""),
            "owner": request.POST.get("owner", ""),
            "duplicate_of": request.POST.get("duplicate_of", ""),
            "label": request.POST.get("label", ""),
        }
        return render_queue(request, user, _filters(request, back, user), bulk=chosen, status=400)
    (messages.success if outcome.done else messages.warning)(request, outcome.summary())
    query = urlencode(_filters(request, back, user).shown())
    return redirect(reverse("report-queue") + (f"?{query}" if query else ""))
