"""The named emails of the conversation. They say a message arrived, never what it says."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from vulndesk.cases.replies import reply_address
from vulndesk.cases.wording import reporter_status
from vulndesk.intake.models import Report
from vulndesk.notify.actions import Email


def reporter_replied(report: Report) -> Email:
    members = report.project.memberships.select_related("user").filter(user__is_active=True)
    return Email(
        kind="reporter-replied",
        to=sorted(m.user.email for m in members),
        context={
            "project_name": report.project.name,
            "number": report.number,
            "report_url": settings.BASE_URL
            + reverse("report-page", args=[report.project.slug, report.number]),
        },
    )


def team_replied(report: Report) -> Email:
    return Email(
        kind="team-replied",
        to=[report.reporter["email"]],
        reply_to=[reply_address(report)],
        context={
            "project_name": report.project.name,
            "security_team": report.project.policy.project.security_team,
            "number": report.number,
        },
    )


def status_changed(report: Report) -> Email:
    return Email(
        kind="status-changed",
        to=[report.reporter["email"]],
        reply_to=[reply_address(report)],
        context={
            "project_name": report.project.name,
            "security_team": report.project.policy.project.security_team,
            "number": report.number,
            "status": reporter_status(report.rm_state),
        },
    )
