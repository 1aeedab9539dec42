"""The SLA clocks of a stored report: gathers its times from the database for ``clocks.py``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Max, Min
from django.utils import timezone

from vulndesk.audit.models import AuditEvent
from vulndesk.cases.clocks import CaseTimes, Clock, ClockState, clocks, next_commitment
from vulndesk.cases.models import Author, InfoRequest, Message, Triage, Visibility
from vulndesk.cases.vultron import RMState
from vulndesk.intake.models import Report
from vulndesk.projects.policy import Policy

OPEN_CASE_STATES = {RMState.VALID, RMState.ACCEPTED, RMState.DEFERRED}


def case_times(report: Report) -> CaseTimes:
    return many_case_times([report])[report.pk]


def many_case_times(reports: list[Report]) -> dict[int, CaseTimes]:
    """The clocks' inputs for many reports in five queries, whatever their number (the queue)."""
    ids = [r.pk for r in reports]
    replies = {
        row["report_id"]: row
        for row in Message.objects.filter(
            # The acknowledgement is its own promise, not the first reply (cases/actions/acknowledgement.py).
            report_id__in=ids,
            author_kind=Author.TEAM,
            visibility=Visibility.SHARED,
            acknowledges__isnull=True,
        )
        .values("report_id")
        .annotate(first=Min("created_at"), last=Max("created_at"))
    }
    triages = {
        report_id: (rating, acknowledged_at)
        for report_id, rating, acknowledged_at in Triage.objects.filter(report_id__in=ids).values_list(
            "report_id", "rating", "acknowledged_at"
        )
    }
    decisions = {
        int(row["target_id"]): row["first"]
        for row in AuditEvent.objects.filter(
            target_type="intake.report",
            target_id__in=[str(i) for i in ids],
            action__startswith="report.marked_",
        )
        .values("target_id")
        .annotate(first=Min("occurred_at"))
    }
    pauses: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for report_id, asked, answered in (
        InfoRequest.objects.filter(report_id__in=ids)
        .order_by("asked_at")
        .values_list("report_id", "asked_at", "answered_at")
    ):
        pauses.setdefault(report_id, []).append((asked, answered))
    return {
        r.pk: CaseTimes(
            received_at=r.received_at,
            first_team_reply_at=replies.get(r.pk, {}).get("first"),
            triaged_at=decisions.get(r.pk),
            last_team_update_at=replies.get(r.pk, {}).get("last"),
            rating=triages.get(r.pk, ("", None))[0],
            open_case=RMState(r.rm_state) in OPEN_CASE_STATES,
            pauses=tuple(pauses.get(r.pk, ())),
            acknowledged_at=triages.get(r.pk, ("", None))[1],
            closed=RMState(r.rm_state) == RMState.CLOSED,
        )
        for r in reports
    }


def report_clocks(report: Report, now: dt.datetime | None = None) -> list[Clock]:
    return clocks(report.project.policy, case_times(report), now or timezone.now())


def many_report_clocks(reports: list[Report], now: dt.datetime) -> dict[int, list[Clock]]:
    """Every report's clocks, reading each project's policy once."""
    times = many_case_times(reports)
    policies: dict[int, Policy] = {}
    for report in reports:
        policies.setdefault(report.project_id, report.project.policy)
    return {r.pk: clocks(policies[r.project_id], times[r.pk], now) for r in reports}


def local_time(report: Report, moment: dt.datetime) -> str:
    """A deadline as people read it: the project's local time, with its timezone named."""
    calendar = report.project.policy.calendar
    local = moment.astimezone(ZoneInfo(calendar.timezone))
    return local.strftime("%A %d %B %Y, %H:%M %Z") + f" ({calendar.timezone})"


def reporter_commitment(report: Report) -> str:
    """The next promise the team made to the reporter, in words, or "" when none is pending."""
    pending = next_commitment(report_clocks(report))
    if pending is None:
        return ""
    if pending.state == ClockState.PAUSED:
        return "Paused: the team is waiting for your answer"
    words = {"acknowledge": "Acknowledgement", "first_reply": "A first reply", "triage": "A triage decision"}
    return f"{words.get(pending.name, 'An update')} by {local_time(report, pending.due)}"
