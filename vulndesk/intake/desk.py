"""The team's side of intake: the queue of reports (a report's page is in ``cases/page.py``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models.expressions import OrderBy
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.cases.clocks import Clock, ClockState, next_commitment
from vulndesk.cases.evidence import BY_EVIDENCE
from vulndesk.cases.models import Triage
from vulndesk.cases.sla import many_report_clocks
from vulndesk.cases.vultron import RMState
from vulndesk.duplicates.views import possible_duplicates
from vulndesk.intake.access import reports_visible_to
from vulndesk.intake.models import Report
from vulndesk.intake.search import search
from vulndesk.projects.models import Project
from vulndesk.web.sealed_session import keep_sealed, read_sealed

QUEUE_PAGE_SIZE = 50
MAX_QUEUE_PAGE = 2_000
CONVERSATION_TAIL = 50


SORTS: dict[str, str | OrderBy] = {
    "newest": "-received_at",
    "oldest": "received_at",
    "number": "number",
    "evidence": BY_EVIDENCE,  # cases/evidence.py: a proof of concept and steps first
}


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
    duplicates = possible_duplicates(page)
    for report, row in zip(page, rows, strict=True):  # the "possible duplicate of #N" chip
        row["possible_duplicate_of"] = duplicates.get(report.pk)
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
