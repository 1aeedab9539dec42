"""The desk home, "My work": what needs the signed-in member now, each count a link to act on it.

Every report count is counted by ``matching(filters)``, the very condition the queue lists the rows
behind its link by, so the number on the desk is the number of rows the queue shows. All of them
are one query (one pass over the open reports), whatever the number of reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.advisories.models import AdvisoryRevision, AdvisoryState
from vulndesk.cases.queue import QueueFilters, matching
from vulndesk.distributors.models import Organisation, OrganisationState
from vulndesk.intake.access import reports_visible_to
from vulndesk.projects.models import Project
from vulndesk.projects.teams import teamless_projects

MAX_LISTED = 10  # drafts and applications are listed by name up to this many


@dataclass(frozen=True)
class WorkRow:
    label: str
    count: int
    url: str
    tone: str = ""  # "red" or "amber" when it is a deadline


# The report rows of the desk home: label, the queue's filters behind the link, and tone.
REPORT_ROWS: tuple[tuple[str, QueueFilters, str], ...] = (
    ("Overdue", QueueFilters(due="overdue"), "red"),
    ("Due within 24 hours", QueueFilters(due="soon"), "amber"),
    ("Waiting for acknowledgement", QueueFilters(waiting="acknowledgement"), ""),
    ("Assigned to me", QueueFilters(owner="me"), ""),
    ("Reporter replies not yet answered", QueueFilters(waiting="reply"), ""),
    ("Embargoes ending within 7 days", QueueFilters(waiting="embargo"), ""),
)


def queue_url(filters: QueueFilters) -> str:
    return reverse("report-queue") + "?" + urlencode(filters.shown())


def report_rows(user: User, now: dt.datetime) -> list[WorkRow]:
    """Every count in one pass over the open reports, each by the condition the queue lists by."""
    open_reports = reports_visible_to(user).filter(matching(QueueFilters(), user, now))
    counts = open_reports.aggregate(
        **{f"row{n}": Count("pk", filter=matching(f, user, now)) for n, (_, f, _) in enumerate(REPORT_ROWS)}
    )
    return [
        WorkRow(label, counts[f"row{n}"], queue_url(filters), tone)
        for n, (label, filters, tone) in enumerate(REPORT_ROWS)
    ]


def projects_of(user: User) -> QuerySet[Project]:
    projects = Project.objects.all() if user.is_admin else Project.objects.filter(memberships__user=user)
    return projects.order_by("name")


def drafts_for_review(user: User, projects: QuerySet[Project]) -> QuerySet[AdvisoryRevision]:
    """Drafts someone else wrote, not approved yet: the last editor cannot approve their own words.
    The drafts whose author asked this person by name ("Request review") come first."""
    return (
        AdvisoryRevision.objects.filter(
            published_at__isnull=True, approved_at__isnull=True, advisory__project__in=projects
        )
        .exclude(advisory__state=AdvisoryState.WITHDRAWN)
        .exclude(Q(edited_by=user) | Q(edited_by__isnull=True, created_by=user))
        .annotate(asked_me=Q(review_requested_from=user))
        .select_related("advisory__project")
        .order_by("-asked_me", "created_at")
    )


def waiting_applications(projects: QuerySet[Project]) -> QuerySet[Organisation]:
    return (
        Organisation.objects.filter(project__in=projects, state=OrganisationState.APPLIED)
        .select_related("project")
        .order_by("applied_at")
    )


@login_required
@never_cache
def desk(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    projects = projects_of(user)
    drafts = drafts_for_review(user, projects)
    applications = waiting_applications(projects)
    return render(
        request,
        "web/desk.html",
        {
            "rows": report_rows(user, timezone.now()),
            "drafts": list(drafts[:MAX_LISTED]),
            "draft_count": drafts.count(),
            "applications": list(applications[:MAX_LISTED]),
            "application_count": applications.count(),
            "projects": list(projects),
            "teamless": teamless_projects(user),
        },
    )
