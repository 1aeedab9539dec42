"""SLA clocks: when each promise of a project's policy falls due, and whether it was kept.

Deadlines count working days on the project's calendar from when the report arrived. Time spent
waiting on the reporter (an open request for information) is added back: the clock pauses.
The update cadence counts calendar days since the team last wrote to the reporter, by severity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from vulndesk.projects.calendar import BusinessCalendar
from vulndesk.projects.policy import Policy

AMBER_BEFORE = dt.timedelta(days=1)


class ClockState(StrEnum):
    MET = "met"
    RUNNING = "running"  # green: more than a day left
    DUE_SOON = "due_soon"  # amber
    OVERDUE = "overdue"  # red
    PAUSED = "paused"
    STOPPED = "stopped"  # the case closed before this promise fell due: nothing more is owed


@dataclass(frozen=True)
class Clock:
    name: str  # acknowledge, first_reply, triage, update
    label: str
    due: dt.datetime
    met_at: dt.datetime | None
    state: ClockState


@dataclass(frozen=True)
class CaseTimes:
    """What the clocks need to know about one report, gathered by the caller."""

    received_at: dt.datetime
    first_team_reply_at: dt.datetime | None
    triaged_at: dt.datetime | None
    last_team_update_at: dt.datetime | None
    rating: str  # Critical, High, Medium, Low or "" (not scored yet)
    open_case: bool  # valid, accepted or deferred: updates are owed
    pauses: tuple[tuple[dt.datetime, dt.datetime | None], ...] = ()
    acknowledged_at: dt.datetime | None = None  # the team's own acknowledgement (actions/acknowledgement.py)
    closed: bool = False  # a closed case owes nothing more: every clock stops


def paused_for(times: CaseTimes, until: dt.datetime) -> dt.timedelta:
    total = dt.timedelta()
    for start, end in times.pauses:
        total += max(dt.timedelta(), min(end or until, until) - start)
    return total


def is_paused(times: CaseTimes) -> bool:
    return any(end is None for _, end in times.pauses)


def clocks(policy: Policy, times: CaseTimes, now: dt.datetime) -> list[Clock]:
    calendar = BusinessCalendar(policy.calendar)
    pause = paused_for(times, now)
    sla = policy.sla

    def working(days: int) -> dt.datetime:
        return calendar.add_working_days(times.received_at, days) + pause

    # Acknowledging is met by the acknowledgement, the first reply or the triage decision,
    # whichever comes first: a decision made before any acknowledgement still counts as one.
    moments = (times.acknowledged_at, times.first_team_reply_at, times.triaged_at)
    acknowledged = min((t for t in moments if t), default=None)
    result = [
        _clock(
            "acknowledge",
            "Acknowledge",
            working(sla.acknowledge_working_days),
            acknowledged,
            times=times,
            now=now,
        ),
        _clock(
            "first_reply",
            "First reply",
            working(sla.first_reply_working_days),
            times.first_team_reply_at,
            times=times,
            now=now,
        ),
        _clock(
            "triage",
            "Triage decision",
            working(sla.triage_decision_working_days),
            times.triaged_at,
            times=times,
            now=now,
        ),
    ]
    if times.open_case and not times.closed:
        cadence = _cadence_days(policy, times.rating)
        since = times.last_team_update_at or times.triaged_at or times.received_at
        result.append(
            _clock(
                "update",
                "Next update",
                since + dt.timedelta(days=cadence) + pause,
                None,
                times=times,
                now=now,
            )
        )
    return result


def _cadence_days(policy: Policy, rating: str) -> int:
    cadence = policy.sla.update_cadence_days
    return {"critical": cadence.critical, "high": cadence.high, "low": cadence.low}.get(
        rating.lower(), cadence.medium
    )


def _clock(
    name: str, label: str, due: dt.datetime, met_at: dt.datetime | None, *, times: CaseTimes, now: dt.datetime
) -> Clock:
    if met_at is not None:
        state = ClockState.MET
    elif times.closed:
        state = ClockState.STOPPED
    elif is_paused(times):
        state = ClockState.PAUSED
    elif now > due:
        state = ClockState.OVERDUE
    elif due - now < AMBER_BEFORE:
        state = ClockState.DUE_SOON
    else:
        state = ClockState.RUNNING
    return Clock(name, label, due, met_at, state)


def next_commitment(all_clocks: list[Clock]) -> Clock | None:
    """The earliest promise not yet kept: what the reporter's page shows."""
    pending = [c for c in all_clocks if c.state not in {ClockState.MET, ClockState.STOPPED}]
    return min(pending, key=lambda c: c.due, default=None)
