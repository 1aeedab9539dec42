"""The metrics pages: for the instance (administrators) and for one project (its team), as HTML
with charts and tables, and as CSV. The API serves the same figures as JSON (cases/metrics_api.py)."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.metric_charts import metric_charts
from vulndesk.cases.metrics import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    STAGES,
    Metrics,
    csv_header,
    csv_row,
)
from vulndesk.cases.metrics_snapshots import current_metrics
from vulndesk.projects.access import access_project
from vulndesk.projects.models import Project

MONTH_CHOICES = (6, 12, 24, 36)


def chosen_months(request: HttpRequest) -> int:
    text = request.GET.get("months", "")
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_MONTHS else DEFAULT_MONTHS


def _instance_metrics(request: HttpRequest) -> Metrics:
    if not signed_in_user(request).is_admin:
        raise Http404
    return current_metrics(
        Project.objects.all(), scope="instance", project=None, months=chosen_months(request)
    )


def _project_metrics(request: HttpRequest, slug: str) -> tuple[Project, Metrics]:
    project = access_project(slug, signed_in_user(request), Permission.PROJECT_REPORT_READ)
    return project, current_metrics(
        [project], scope=project.slug, project=project, months=chosen_months(request)
    )


@login_required
@never_cache
@require_GET
def instance_metrics(request: HttpRequest) -> HttpResponse:
    metrics = _instance_metrics(request)
    return _page(request, metrics, project=None)


@login_required
@never_cache
@require_GET
def project_metrics(request: HttpRequest, slug: str) -> HttpResponse:
    project, metrics = _project_metrics(request, slug)
    return _page(request, metrics, project=project)


@login_required
@never_cache
@require_GET
def instance_metrics_csv(request: HttpRequest) -> HttpResponse:
    return _csv(_instance_metrics(request))


@login_required
@never_cache
@require_GET
def project_metrics_csv(request: HttpRequest, slug: str) -> HttpResponse:
    return _csv(_project_metrics(request, slug)[1])


def _page(request: HttpRequest, metrics: Metrics, *, project: Project | None) -> HttpResponse:
    return render(
        request,
        "cases/metrics.html",
        {
            "metrics": metrics,
            "project": project,
            "projects": Project.objects.order_by("name").only("slug", "name") if project is None else [],
            "charts": metric_charts(metrics.months),
            "summary": [
                (
                    label,
                    f"{metrics.total.times[stage].median_days:g} days"
                    if metrics.total.times[stage].count
                    else "—",
                )
                for stage, label in STAGES
            ],
            "months": len(metrics.months),
            "month_choices": MONTH_CHOICES,
        },
    )


def _csv(metrics: Metrics) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_header())
    for period in [*metrics.months, metrics.total]:
        writer.writerow(csv_row(period))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vulndesk-metrics-{metrics.scope}.csv"'
    return response
