"""The named emails of the conversation. They say a message arrived, never what it says."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse

from vulndesk.accounts.models import User
from vulndesk.cases.wording import reporter_status_of
from vulndesk.intake.models import Report
from vulndesk.intake.replies import reply_address
from vulndesk.notify.actions import Email
from vulndesk.projects.calendar import BusinessCalendar


def reporter_replied(report: Report, *, replies: int = 1) -> Email:
    """``replies`` counts the messages since the last notice (they are batched, cases.reply_notices)."""
    return Email(
        kind="reporter-replied",
        to=report.project.team_recipients(),
        context={
            "project_name": report.project.name,
            "number": report.number,
            "replies": replies,
            "report_url": settings.BASE_URL
            + reverse("report-page", args=[report.project.slug, report.number]),
        },
    )


def case_assigned(report: Report, people: list[str], *, as_owner: bool, by: User) -> Email:
    return Email(
        kind="case-assigned",
        to=people,
        context={
            "project_name": report.project.name,
            "number": report.number,
            "as_owner": as_owner,
            "by": str(by),
            "report_url": settings.BASE_URL
            + reverse("report-page", args=[report.project.slug, report.number]),
        },
    )


def to_reporter(report: Report, kind: str, **context: object) -> Email:
    """A mail to a report's reporter; answering it lands in the report's conversation."""
    return Email(
        kind=kind,
        to=[report.reporter["email"]],
        reply_to=[reply_address(report)],
        context={
            "project_name": report.project.name,
            "security_team": report.project.policy.project.security_team,
            "number": report.number,
            **context,
        },
    )


def team_replied(report: Report) -> Email:
    return to_reporter(report, "team-replied")


def status_changed(report: Report) -> Email:
    """The report's stage in the reporter's words, with the advisory's public address once published."""
    status = reporter_status_of(report)
    return to_reporter(
        report,
        "status-changed",
        status=status.words,
        advisory_id=status.advisory_id,
        advisory_url=status.advisory_url,
    )


def sla_notice(report: Report, clock: str, kind: str, due: dt.datetime, people: list[str]) -> Email:
    """Before a deadline: the owner and assignees (or the team). After it: the team and the admins."""
    team = report.project.team_recipients()
    if kind == "reminder":
        to = people or team
    else:
        admins = User.objects.filter(is_admin=True, is_active=True).values_list("email", flat=True)
        to = sorted({*team, *admins})
    calendar = BusinessCalendar(report.project.policy.calendar)
    return Email(
        kind=f"sla-{kind}",
        to=to,
        context={
            "project_name": report.project.name,
            "number": report.number,
            "clock": clock.replace("_", " "),
            "due": calendar.local(due).strftime("%A %d %B %Y, %H:%M %Z") + f" ({calendar.policy.timezone})",
            "report_url": settings.BASE_URL
            + reverse("report-page", args=[report.project.slug, report.number]),
        },
    )


def closing_soon(report: Report, closes_at: dt.datetime) -> Email:
    return to_reporter(report, "closing-soon", closes_at=f"{closes_at:%A %d %B %Y, %H:%M} UTC")


def original_changed(duplicate: Report, original: Report) -> Email:
    return to_reporter(
        duplicate,
        "original-changed",
        original_number=original.number,
        status=reporter_status_of(original).words,
    )
