"""How a team is doing, by month: how long reports wait for each step, how often the SLA
deadlines are kept, and how reports end.

A report counts in the month it arrived (UTC), so a month's figures settle as its reports move
on. Times are wall-clock days from receipt: to acknowledgement (the acknowledgement, first reply
or triage decision, whichever came first, as the SLA clock counts it), to the triage decision, to
a fix being available, and to the first publication of its advisory. The median is the middle
value (the mean of the two middle ones for an even count); the 90th percentile is the
nearest-rank one. Both are computed here in Python from one row per report, so they are the same
on SQLite and PostgreSQL, and the number of queries does not depend on the number of reports.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Min
from django.utils import timezone

from vulndesk.cases.clocks import CaseTimes, ClockState, clocks
from vulndesk.cases.models import Author, FixPlan, InfoRequest, Message, Resolution, Triage, Visibility
from vulndesk.cases.vultron import RMState
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project
from vulndesk.projects.policy import Policy

STAGES = (
    ("acknowledge", "Time to acknowledge"),
    ("triage", "Time to triage decision"),
    ("fix", "Time to fix"),
    ("disclosure", "Time to disclosure"),
)
SLA_CLOCKS = (
    ("acknowledge", "Acknowledge"),
    ("first_reply", "First reply"),
    ("triage", "Triage decision"),
)
OUTCOMES = (
    ("valid", "Valid"),
    ("invalid", "Invalid"),
    ("duplicate", "Duplicate"),
    ("not_security", "Not a security issue"),
    ("spam", "Spam"),
    ("undecided", "Not decided yet"),
)
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
_VALID_STATES = {RMState.VALID, RMState.ACCEPTED, RMState.DEFERRED, RMState.CLOSED}


@dataclass(frozen=True)
class ReportHistory:
    """What the metrics need to know about one report."""

    month: str
    durations: dict[str, float]  # stage -> days, for the stages the report reached
    sla: dict[str, bool]  # clock -> kept, for the deadlines that fell due or were met
    outcome: str
    project: int = 0  # the project's pk, so one pass over the reports serves every scope


@dataclass(frozen=True)
class Spread:
    count: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class SlaShare:
    due: int
    met: int
    share: float | None  # 0..1; None when no deadline fell due


@dataclass(frozen=True)
class PeriodFigures:
    month: str  # "2026-03", or "all" for the whole range
    reports: int
    times: dict[str, Spread]
    sla: dict[str, SlaShare]
    outcomes: dict[str, int]


@dataclass(frozen=True)
class Metrics:
    scope: str  # a project's slug, or "instance"
    months: list[PeriodFigures]
    total: PeriodFigures
    generated_at: dt.datetime = field(default_factory=timezone.now)


def percentile90(values: Sequence[float]) -> float:
    """Nearest rank: the smallest value with at least 90 % of the values at or below it."""
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def spread(values: Sequence[float]) -> Spread:
    if not values:
        return Spread(0, None, None)
    return Spread(len(values), round(statistics.median(values), 2), round(percentile90(values), 2))


def sla_share(kept: Sequence[bool]) -> SlaShare:
    met = sum(kept)
    return SlaShare(len(kept), met, round(met / len(kept), 4) if kept else None)


def figures(month: str, histories: Sequence[ReportHistory]) -> PeriodFigures:
    outcomes = {key: 0 for key, _ in OUTCOMES}
    for history in histories:
        outcomes[history.outcome] += 1
    return PeriodFigures(
        month=month,
        reports=len(histories),
        times={key: spread([h.durations[key] for h in histories if key in h.durations]) for key, _ in STAGES},
        sla={key: sla_share([h.sla[key] for h in histories if key in h.sla]) for key, _ in SLA_CLOCKS},
        outcomes=outcomes,
    )


def month_keys(now: dt.datetime, count: int) -> list[str]:
    """The ``count`` months up to and including ``now``'s, oldest first."""
    year, month = now.year, now.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def compute_metrics(
    projects: Iterable[Project], *, scope: str, months: int = DEFAULT_MONTHS, now: dt.datetime | None = None
) -> Metrics:
    moment = now or timezone.now()
    keys = month_keys(moment, max(1, min(months, MAX_MONTHS)))
    start = dt.datetime.fromisoformat(f"{keys[0]}-01T00:00:00+00:00")
    histories = report_histories(list(projects), since=start, now=moment)
    by_month: dict[str, list[ReportHistory]] = {key: [] for key in keys}
    for history in histories:
        by_month.setdefault(history.month, []).append(history)
    return Metrics(
        scope=scope,
        months=[figures(key, by_month[key]) for key in keys],
        total=figures("all", histories),
        generated_at=moment,
    )


def report_histories(projects: list[Project], *, since: dt.datetime, now: dt.datetime) -> list[ReportHistory]:
    """One history per report received since ``since``, in six queries whatever their number."""
    policies: dict[int, Policy] = {p.pk: p.policy for p in projects}
    reports = Report.objects.filter(project_id__in=list(policies), received_at__gte=since)
    in_range = {"report__project_id__in": list(policies), "report__received_at__gte": since}
    rows = list(reports.values_list("pk", "project_id", "received_at", "rm_state", "quarantined"))
    triages = {
        row[0]: row[1:]
        for row in Triage.objects.filter(**in_range).values_list(
            "report_id", "resolution", "decided_at", "acknowledged_at", "rating"
        )
    }
    first_replies = dict(
        Message.objects.filter(
            **in_range, author_kind=Author.TEAM, visibility=Visibility.SHARED, acknowledges__isnull=True
        )
        .values("report_id")
        .annotate(first=Min("created_at"))
        .values_list("report_id", "first")
    )
    fixes = dict(
        FixPlan.objects.filter(**in_range, fix_available_at__isnull=False).values_list(
            "report_id", "fix_available_at"
        )
    )
    # By the reports' relation, not through the advisories domain, which builds on this one.
    disclosures = dict(
        reports.filter(advisories__published_at__isnull=False)
        .values("pk")
        .annotate(first=Min("advisories__published_at"))
        .values_list("pk", "first")
    )
    pauses: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for report_id, asked, answered in (
        InfoRequest.objects.filter(**in_range)
        .order_by("asked_at")
        .values_list("report_id", "asked_at", "answered_at")
    ):
        pauses.setdefault(report_id, []).append((asked, answered))
    return [
        _history(
            row,
            policies[row[1]],
            triage=triages.get(row[0], ("", None, None, "")),
            first_reply=first_replies.get(row[0]),
            fixed=fixes.get(row[0]),
            disclosed=disclosures.get(row[0]),
            pauses=tuple(pauses.get(row[0], ())),
            now=now,
        )
        for row in rows
    ]


def _history(
    row: tuple[int, int, dt.datetime, str, bool],
    policy: Policy,
    *,
    triage: tuple[str, dt.datetime | None, dt.datetime | None, str],
    first_reply: dt.datetime | None,
    fixed: dt.datetime | None,
    disclosed: dt.datetime | None,
    pauses: tuple[tuple[dt.datetime, dt.datetime | None], ...],
    now: dt.datetime,
) -> ReportHistory:
    _pk, project, received, rm_state, quarantined = row
    resolution, decided, acknowledged, rating = triage
    acknowledged_first = min((t for t in (acknowledged, first_reply, decided) if t), default=None)
    reached = {"acknowledge": acknowledged_first, "triage": decided, "fix": fixed, "disclosure": disclosed}
    times = CaseTimes(
        received_at=received,
        first_team_reply_at=first_reply,
        triaged_at=decided,
        last_team_update_at=None,
        rating=rating,
        open_case=False,
        pauses=pauses,
        acknowledged_at=acknowledged,
        closed=RMState(rm_state) == RMState.CLOSED,
    )
    outcome = _outcome(resolution, rm_state, quarantined=quarantined)
    if outcome == "spam":
        # Held in quarantine, not yet a report the team owes anything: counted, not timed.
        return ReportHistory(
            month=received.strftime("%Y-%m"), durations={}, sla={}, outcome=outcome, project=project
        )
    return ReportHistory(
        month=received.strftime("%Y-%m"),
        durations={key: _days(moment - received) for key, moment in reached.items() if moment is not None},
        sla=_deadlines(policy, times, now),
        outcome=outcome,
        project=project,
    )


def _deadlines(policy: Policy, times: CaseTimes, now: dt.datetime) -> dict[str, bool]:
    """Each SLA deadline that was met, or passed unmet while the case was open: kept or not."""
    wanted = {key for key, _ in SLA_CLOCKS}
    return {
        clock.name: clock.met_at is not None and clock.met_at <= clock.due
        for clock in clocks(policy, times, now)
        if clock.name in wanted
        and (clock.met_at is not None or (clock.due <= now and clock.state != ClockState.STOPPED))
    }


def _outcome(resolution: str, rm_state: str, *, quarantined: bool) -> str:
    if quarantined:
        return "spam"
    if resolution in {Resolution.INVALID, Resolution.DUPLICATE, Resolution.NOT_SECURITY}:
        return str(resolution)
    if RMState(rm_state) in _VALID_STATES:
        return "valid"
    return "undecided"


def _days(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 86400


def csv_header() -> list[str]:
    columns = ["month", "reports"]
    for stage, _ in STAGES:
        columns += [f"{stage}_count", f"{stage}_median_days", f"{stage}_p90_days"]
    for clock, _ in SLA_CLOCKS:
        columns += [f"sla_{clock}_due", f"sla_{clock}_met"]
    return columns + [f"outcome_{outcome}" for outcome, _ in OUTCOMES]


def csv_row(period: PeriodFigures) -> list[str | int | float]:
    row: list[str | int | float] = [period.month, period.reports]
    for stage, _ in STAGES:
        times = period.times[stage]
        row += [times.count, _blank(times.median_days), _blank(times.p90_days)]
    for clock, _ in SLA_CLOCKS:
        row += [period.sla[clock].due, period.sla[clock].met]
    return row + [period.outcomes[outcome] for outcome, _ in OUTCOMES]


def _blank(value: float | None) -> str | float:
    return "" if value is None else value
