"""The metrics as JSON: the same figures as the metrics pages and their CSV (cases/metrics.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.token_auth import TokenAuth, token_caller
from vulndesk.cases.metrics import DEFAULT_MONTHS, MAX_MONTHS, Metrics
from vulndesk.cases.metrics_snapshots import current_metrics
from vulndesk.projects.access import access_project
from vulndesk.projects.models import Project
from vulndesk.web.problems import Problems

router = Router(tags=["metrics"], auth=TokenAuth())


class SpreadOut(Schema):
    count: int
    median_days: float | None
    p90_days: float | None


class SlaShareOut(Schema):
    due: int
    met: int
    share: float | None


class PeriodOut(Schema):
    month: str
    reports: int
    times: dict[str, SpreadOut]
    sla: dict[str, SlaShareOut]
    outcomes: dict[str, int]


class MetricsOut(Schema):
    """Times in days from receipt (median and nearest-rank 90th percentile), the SLA deadlines
    that fell due and how many were met, and reports by outcome; by month of receipt (UTC)."""

    scope: str
    generated_at: dt.datetime
    months: list[PeriodOut]
    total: PeriodOut


Months = Annotated[int, Query(ge=1, le=MAX_MONTHS, description="How many months, up to the current one.")]


def _caller(request: HttpRequest) -> User:
    return token_caller(request, Permission.PROJECT_REPORT_READ)


def _out(metrics: Metrics) -> MetricsOut:
    return MetricsOut.model_validate(dataclasses.asdict(metrics))


@router.get(
    "/metrics",
    response={200: MetricsOut, 404: Problems},
    summary="Metrics for every project on this instance (administrators)",
)
def instance_metrics(request: HttpRequest, months: Months = DEFAULT_MONTHS) -> MetricsOut:
    if not _caller(request).is_admin:
        raise HttpError(404, "Not Found")
    return _out(current_metrics(Project.objects.all(), scope="instance", project=None, months=months))


@router.get(
    "/projects/{slug}/metrics",
    response={200: MetricsOut, 404: Problems},
    summary="Metrics for one project (its team)",
)
def project_metrics(request: HttpRequest, slug: str, months: Months = DEFAULT_MONTHS) -> MetricsOut:
    project = access_project(slug, _caller(request), Permission.PROJECT_REPORT_READ)
    return _out(current_metrics([project], scope=project.slug, project=project, months=months))
