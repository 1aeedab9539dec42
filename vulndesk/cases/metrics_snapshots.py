"""The metrics as the worker last computed them, so a page or an API read costs one small row.

Computing the figures reads one row per report and runs the business calendar for each SLA
deadline: seconds at 100,000 reports. The worker does that every few minutes, in one pass over
every report of the longest range (``MAX_MONTHS``), and keeps per scope (the instance, and each
project) every month's figures and the whole-range figures for each length of range, which are
exactly what ``compute_metrics`` would have said at that moment. A read takes the snapshot and
says how fresh it is ("figures as of"). Reads never write, so a read with no fresh snapshot (no
worker yet, or the worker stopped more than ``FRESH_FOR`` ago, or a month turned over since)
computes the figures itself, as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from vulndesk.cases.metrics import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    Metrics,
    PeriodFigures,
    ReportHistory,
    SlaShare,
    Spread,
    compute_metrics,
    figures,
    month_keys,
    report_histories,
)
from vulndesk.cases.models import MetricsSnapshot
from vulndesk.projects.models import Project

# How often the sweep asks for new figures, and how old a snapshot may be before a read ignores it.
REFRESH_EVERY = dt.timedelta(minutes=10)
FRESH_FOR = dt.timedelta(hours=1)
INSTANCE = "instance"


def scope_key(project: Project | None) -> str:
    return INSTANCE if project is None else f"project:{project.pk}"


def current_metrics(
    projects: Iterable[Project],
    *,
    scope: str,
    project: Project | None,
    months: int = DEFAULT_MONTHS,
    now: dt.datetime | None = None,
) -> Metrics:
    """The figures of ``project`` (or of the instance), from the worker's snapshot when fresh."""
    moment = now or timezone.now()
    count = max(1, min(months, MAX_MONTHS))
    snapshot = (
        MetricsSnapshot.objects.filter(scope=scope_key(project), computed_at__gt=moment - FRESH_FOR)
        .only("computed_at", "figures")
        .first()
    )
    if snapshot is not None and (found := _from_snapshot(snapshot, scope=scope, count=count, now=moment)):
        return found
    return compute_metrics(projects, scope=scope, months=count, now=moment)


def _from_snapshot(snapshot: MetricsSnapshot, *, scope: str, count: int, now: dt.datetime) -> Metrics | None:
    keys = month_keys(now, count)
    stored: dict[str, Any] = snapshot.figures
    by_month = {period["month"]: period for period in stored["months"]}
    if keys[-1] != stored["months"][-1]["month"] or any(key not in by_month for key in keys):
        return None  # a month turned over since the snapshot: its months are not these
    return Metrics(
        scope=scope,
        months=[_period(by_month[key]) for key in keys],
        total=_period(stored["totals"][str(count)]),
        generated_at=snapshot.computed_at,
    )


def _period(stored: dict[str, Any]) -> PeriodFigures:
    return PeriodFigures(
        month=stored["month"],
        reports=stored["reports"],
        times={key: Spread(**value) for key, value in stored["times"].items()},
        sla={key: SlaShare(**value) for key, value in stored["sla"].items()},
        outcomes=dict(stored["outcomes"]),
    )


def snapshot_figures(histories: Sequence[ReportHistory], keys: list[str]) -> dict[str, Any]:
    """Every month of ``keys`` and, for each length of range ending with the last, its total:
    the same grouping as ``compute_metrics`` (a report counts from its month on)."""
    by_month: dict[str, list[ReportHistory]] = {key: [] for key in keys}
    for history in histories:
        by_month.setdefault(history.month, []).append(history)
    totals = {
        str(count): dataclasses.asdict(figures("all", [h for h in histories if h.month >= keys[-count]]))
        for count in range(1, len(keys) + 1)
    }
    return {"months": [dataclasses.asdict(figures(key, by_month[key])) for key in keys], "totals": totals}


def refresh_metrics(now: dt.datetime | None = None) -> int:
    """Recompute every scope's snapshot in one pass over the reports; the number of scopes."""
    moment = now or timezone.now()
    projects = list(Project.objects.all())
    keys = month_keys(moment, MAX_MONTHS)
    start = dt.datetime.fromisoformat(f"{keys[0]}-01T00:00:00+00:00")
    histories = report_histories(projects, since=start, now=moment)
    scopes: dict[str, list[ReportHistory]] = {INSTANCE: histories}
    for project in projects:
        scopes[scope_key(project)] = [h for h in histories if h.project == project.pk]
    with transaction.atomic():
        for scope, among in scopes.items():
            MetricsSnapshot.objects.update_or_create(
                scope=scope, defaults={"computed_at": moment, "figures": snapshot_figures(among, keys)}
            )
        MetricsSnapshot.objects.exclude(scope__in=list(scopes)).delete()  # projects since removed
    return len(scopes)


def refresh_due(now: dt.datetime) -> bool:
    """Whether the newest snapshot is older than ``REFRESH_EVERY`` (or there is none)."""
    return not MetricsSnapshot.objects.filter(computed_at__gt=now - REFRESH_EVERY).exists()
