"""Mail about an embargo: to the team, and to the reporter (whose replies land in the case)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from vulndesk.cases.emails import to_reporter
from vulndesk.notify.actions import Email

if TYPE_CHECKING:
    from vulndesk.embargo.models import Embargo, EmbargoProposal


def when(moment: dt.datetime | None, timezone_name: str) -> str:
    """An instant in UTC and in the project's timezone, as every deadline is shown."""
    if moment is None:
        return "not set"
    local = moment.astimezone(ZoneInfo(timezone_name))
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC ({local:%Y-%m-%d %H:%M %Z}, {timezone_name})"


def _context(embargo: Embargo) -> dict[str, object]:
    project = embargo.report.project
    return {
        "project_name": project.name,
        "number": embargo.report.number,
        "ends": when(embargo.ends_at, project.policy.calendar.timezone),
        "desk_url": settings.BASE_URL + reverse("report-page", args=[project.slug, embargo.report.number]),
    }


def embargo_update(embargo: Embargo, what: str) -> Email:
    latest = embargo.proposals.first()
    proposed = when(latest.ends_at, embargo.report.project.policy.calendar.timezone) if latest else ""
    return Email(
        kind="embargo-update-team",
        to=embargo.report.project.team_recipients(),
        context={
            **_context(embargo),
            "what": what,
            "proposed": proposed,
            "by": latest.get_proposer_kind_display() if latest else "",
        },
    )


def embargo_ending(embargo: Embargo) -> Email:
    return Email(
        kind="embargo-ending-team", to=embargo.report.project.team_recipients(), context=_context(embargo)
    )


def embargo_exited(embargo: Embargo, *, to_team: bool) -> Email:
    reason = embargo.exit_reason_text
    # An early publication ends the embargo in the publishing transaction: the advisory is out.
    disclosed = embargo.exit_reason == "disclosed" or _advisory_published(embargo)
    if to_team:
        context = {**_context(embargo), "reason": reason, "disclosed": disclosed}
        return Email(kind="embargo-exited-team", to=embargo.report.project.team_recipients(), context=context)
    return to_reporter(embargo.report, "embargo-exited-reporter", reason=reason, disclosed=disclosed)


def _advisory_published(embargo: Embargo) -> bool:
    # By the report's relation, not through the advisories domain, which builds on this one.
    return embargo.report.advisories.filter(state="published").exists()


def embargo_agreed_to_reporter(embargo: Embargo) -> Email:
    return to_reporter(embargo.report, "embargo-agreed-reporter", ends=_context(embargo)["ends"])


def embargo_proposed_to_reporter(embargo: Embargo, proposal: EmbargoProposal) -> Email:
    zone = embargo.report.project.policy.calendar.timezone
    return to_reporter(
        embargo.report, "embargo-proposed-reporter", proposed=when(proposal.ends_at, zone), note=proposal.note
    )
