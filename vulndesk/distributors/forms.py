"""Reading the distributors pages' form values: a choice among a field's values, a moment."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from vulndesk.distributors.actions import DistributorError
from vulndesk.distributors.models import MemberState, ProductState

if TYPE_CHECKING:
    from vulndesk.intake.models import Report

_Choice = TypeVar("_Choice", ProductState, MemberState)


def choice(kind: type[_Choice], value: str) -> _Choice:
    try:
        return kind(value)
    except ValueError:
        raise DistributorError(f"{value!r} is not one of {', '.join(kind.values)}") from None


def moment(text: str, zone: str, report: Report) -> dt.datetime:
    """A datetime-local value, read in UTC or in the project's timezone as the form says."""
    tz = ZoneInfo(report.project.policy.calendar.timezone) if zone == "project" else dt.UTC
    try:
        return dt.datetime.fromisoformat(text.strip()).replace(tzinfo=tz).astimezone(dt.UTC)
    except ValueError:
        raise DistributorError(f"{text!r} is not a date and time") from None


def optional_moment(text: str, zone: str, report: Report) -> dt.datetime | None:
    return moment(text, zone, report) if text.strip() else None
