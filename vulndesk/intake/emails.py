"""The named emails of intake. Each returns what to send; notify renders and queues it.

Neither carries what the reporter wrote: mail crosses relays in clear, so it says that something
happened and links to the page where it can be read.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse

from vulndesk.intake.models import Report
from vulndesk.intake.replies import reply_address
from vulndesk.notify.actions import Email
from vulndesk.projects.calendar import BusinessCalendar


def tracking_url(token: str) -> str:
    return settings.BASE_URL + reverse("tracking", args=[token])


def acknowledgement_deadline(report: Report) -> dt.datetime:
    """When the project's policy says the report must be acknowledged, in UTC."""
    policy = report.project.policy
    return BusinessCalendar(policy.calendar).add_working_days(
        report.received_at, policy.sla.acknowledge_working_days
    )


def acknowledgement_due(report: Report) -> str:
    """The acknowledgement deadline as people read it: local time, with the timezone named."""
    policy = report.project.policy
    local = BusinessCalendar(policy.calendar).local(acknowledgement_deadline(report))
    return local.strftime("%A %d %B %Y, %H:%M %Z") + f" ({policy.calendar.timezone})"


def report_received(report: Report, token: str) -> Email:
    policy = report.project.policy
    return Email(
        kind="report-received",
        to=[report.reporter["email"]],
        # The mail says "you can also reply to this email": the answer lands in the conversation.
        reply_to=[reply_address(report)],
        context={
            "project_name": policy.project.name,
            "security_team": policy.project.security_team,
            "number": report.number,
            "tracking_url": tracking_url(token),
            "acknowledge_by": acknowledgement_due(report),
        },
    )


def new_report_for_team(report: Report) -> Email:
    return Email(
        kind="new-report-team",
        to=report.project.team_recipients(),
        context={
            "project_name": report.project.name,
            "number": report.number,
            "channel": report.get_channel_display(),
            "desk_url": settings.BASE_URL + reverse("desk"),
            "acknowledge_by": acknowledgement_due(report),
        },
    )


def tracking_link_replaced(report: Report, token: str) -> Email:
    policy = report.project.policy
    return Email(
        kind="tracking-link-replaced",
        to=[report.reporter["email"]],
        reply_to=[reply_address(report)],
        context={
            "project_name": policy.project.name,
            "number": report.number,
            "tracking_url": tracking_url(token),
        },
    )
