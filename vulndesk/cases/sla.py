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

OPEN_CASE_STATES = {RMState.VALID, RMState.ACCEPTED, RMState.DEFERRED}


def case_times(report: Report) -> CaseTimes:
    team_replies = Message.objects.filter(
        report=report, author_kind=Author.TEAM, visibility=Visibility.SHARED
    )
    replies = team_replies.aggregate(first=Min("created_at"), last=Max("created_at"))
    triage = Triage.objects.filter(report=report).first()
    first_decision = (
        AuditEvent.objects.filter(
            target_type="intake.report", target_id=str(report.pk), action__startswith="report.marked_"
        )
        .order_by("seq")
        .values_list("occurred_at", flat=True)
        .first()
    )
    pauses = tuple(
        InfoRequest.objects.filter(report=report).order_by("asked_at").values_list("asked_at", "answered_at")
    )
    return CaseTimes(
        received_at=report.received_at,
        first_team_reply_at=replies["first"],
        triaged_at=first_decision,
        last_team_update_at=replies["last"],
        rating=triage.rating if triage else "",
        open_case=RMState(report.rm_state) in OPEN_CASE_STATES,
        pauses=pauses,
    )


def report_clocks(report: Report, now: dt.datetime | None = None) -> list[Clock]:
    return clocks(report.project.policy, case_times(report), now or timezone.now())


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
