"""The metrics page's charts, drawn here as SVG shapes: no script and no third-party asset, so
they show without JavaScript and under the strict CSP. Each chart has a name and a description
for assistive technology, and the page prints the same figures as a table beside it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from vulndesk.cases.metrics import OUTCOMES, SLA_CLOCKS, STAGES, PeriodFigures, SlaShare

WIDTH, HEIGHT = 640, 200
# The month labels and the scale are HTML under the plot (site.css .chart-months pads them by
# LEFT and RIGHT), not SVG text: axe-core cannot judge the contrast of text drawn over shapes.
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 8, 1
TICKS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which series' colour (site.css .chart-series-N)
    label: str  # the figure in words, the bar's tooltip


@dataclass(frozen=True)
class Table:
    """The chart's figures for screen readers and for reading: one row per month."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def labelled_rows(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Each cell with its column's name: narrow screens show it beside the value."""
        return [(month, list(zip(self.columns[1:], cells, strict=True))) for month, cells in self.rows]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    legend: tuple[str, ...]
    bars: tuple[Bar, ...]
    months: tuple[str, ...]  # the label under each month's slot ("" to skip one)
    gridlines: tuple[float, ...]  # their y
    scale: str  # the grid lines' values, in words
    table: Table = Table((), ())
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM


def _scale_top(values: Sequence[float]) -> float:
    """A round top for the y axis, at or above the highest value."""
    highest = max(values, default=0.0)
    if highest <= 0:
        return 1.0
    step = 10.0 ** (len(str(int(highest))) - 1)
    for multiple in (1.0, 2.0, 2.5, 5.0):
        if highest <= step * multiple:
            return step * multiple
    return step * 10.0


def _gridlines() -> tuple[float, ...]:
    plot = HEIGHT - TOP - BOTTOM
    return tuple(HEIGHT - BOTTOM - plot * i / TICKS for i in range(TICKS + 1))


def _month_labels(months: Sequence[str]) -> tuple[str, ...]:
    """ "2026-03" as "Mar 26", one in every few when there are many, so they fit under the plot."""
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    every = math.ceil(len(months) / 12)
    return tuple(f"{names[int(m[5:]) - 1]} {m[2:4]}" if i % every == 0 else "" for i, m in enumerate(months))


def _scale_note(top: float, unit: str) -> str:
    steps = ", ".join(f"{top * i / TICKS:g}" for i in range(TICKS + 1))
    return f"Grid lines at {steps}{unit}."


def grouped_chart(
    key: str,
    title: str,
    description: str,
    *,
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str,
    top: float | None = None,
) -> Chart:
    values = [v for _, column in series for v in column if v is not None]
    scale = top or _scale_top(values)
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    width = slot * 0.8 / max(len(series), 1)
    bars = []
    for s, (name, column) in enumerate(series):
        for i, value in enumerate(column):
            if value is None:
                continue
            height = plot * min(value, scale) / scale
            x = LEFT + slot * i + slot * 0.1 + width * s
            bars.append(
                Bar(x, HEIGHT - BOTTOM - height, width, height, s, f"{months[i]}, {name}: {value:g}{unit}")
            )
    return Chart(
        key,
        title,
        description,
        tuple(n for n, _ in series),
        tuple(bars),
        _month_labels(months),
        _gridlines(),
        _scale_note(scale, unit),
    )


def stacked_chart(
    key: str, title: str, description: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]
) -> Chart:
    totals = [sum(column[i] for _, column in series) for i in range(len(months))]
    scale = _scale_top([float(t) for t in totals])
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    bars = []
    for i in range(len(months)):
        bottom = float(HEIGHT - BOTTOM)
        for s, (name, column) in enumerate(series):
            if not column[i]:
                continue
            height = plot * column[i] / scale
            bottom -= height
            bars.append(
                Bar(
                    LEFT + slot * i + slot * 0.15,
                    bottom,
                    slot * 0.7,
                    height,
                    s,
                    f"{months[i]}, {name}: {column[i]}",
                )
            )
    return Chart(
        key,
        title,
        description,
        tuple(n for n, _ in series),
        tuple(bars),
        _month_labels(months),
        _gridlines(),
        _scale_note(scale, " reports"),
    )


def metric_charts(months: Sequence[PeriodFigures]) -> list[Chart]:
    """Each chart with its table."""
    tables = metric_tables(months)
    return [replace(chart, table=tables[chart.key]) for chart in _charts(months)]


def metric_tables(months: Sequence[PeriodFigures]) -> dict[str, Table]:
    tables = {
        stage: Table(
            ("Month", "Reports that got there", "Median (days)", "90th percentile (days)"),
            tuple(
                (
                    m.month,
                    (
                        str(m.times[stage].count),
                        _figure(m.times[stage].median_days),
                        _figure(m.times[stage].p90_days),
                    ),
                )
                for m in months
            ),
        )
        for stage, _ in STAGES
    }
    tables["sla"] = Table(
        ("Month", *(label for _, label in SLA_CLOCKS)),
        tuple((m.month, tuple(_share(m.sla[clock]) for clock, _ in SLA_CLOCKS)) for m in months),
    )
    tables["outcomes"] = Table(
        ("Month", "Reports", *(label for _, label in OUTCOMES)),
        tuple((m.month, (str(m.reports), *(str(m.outcomes[o]) for o, _ in OUTCOMES))) for m in months),
    )
    return tables


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _share(share: SlaShare) -> str:
    if share.share is None:
        return "—"
    return f"{share.share * 100:.0f} % ({share.met} of {share.due})"


def _charts(months: Sequence[PeriodFigures]) -> list[Chart]:
    keys = [m.month for m in months]
    charts = [
        grouped_chart(
            stage,
            title,
            f"{title} in days, median and 90th percentile, for the reports received each month.",
            months=keys,
            series=[
                ("median", [m.times[stage].median_days for m in months]),
                ("90th percentile", [m.times[stage].p90_days for m in months]),
            ],
            unit=" d",
        )
        for stage, title in STAGES
    ]
    charts.append(
        grouped_chart(
            "sla",
            "SLA deadlines met",
            "The share of each SLA deadline that was met on time, in per cent, by month of receipt.",
            months=keys,
            series=[(label, [_percent(m.sla[clock].share) for m in months]) for clock, label in SLA_CLOCKS],
            unit=" %",
            top=100.0,
        )
    )
    charts.append(
        stacked_chart(
            "outcomes",
            "Reports by outcome",
            "How many reports arrived each month, stacked by how they ended.",
            keys,
            [(label, [m.outcomes[outcome] for m in months]) for outcome, label in OUTCOMES],
        )
    )
    return charts


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)
