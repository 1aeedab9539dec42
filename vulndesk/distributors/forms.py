"""Reading the distributors pages' form values: a choice among a field's values, a moment."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from vulndesk.distributors.actions import DistributorError
from vulndesk.distributors.models import MemberState, ProductState
from vulndesk.web.forms import datetime_local, optional_datetime_local

if TYPE_CHECKING:
    from vulndesk.intake.models import Report

_Choice = TypeVar("_Choice", ProductState, MemberState)


def choice(kind: type[_Choice], value: str) -> _Choice:
    try:
        return kind(value)
    except ValueError:
        raise DistributorError(f"{value!r} is not one of {', '.join(kind.values)}") from None


def _zone(zone: str, report: Report) -> dt.tzinfo:
    """The zone a form's times are read in: the project's, or UTC, as the form says."""
    return ZoneInfo(report.project.policy.calendar.timezone) if zone == "project" else dt.UTC


def _not_a_moment(text: str) -> DistributorError:
    return DistributorError(f"{text!r} is not a date and time")


def moment(text: str, zone: str, report: Report) -> dt.datetime:
    """A datetime-local value, read in UTC or in the project's timezone as the form says."""
    return datetime_local(text, _zone(zone, report), _not_a_moment)


def optional_moment(text: str, zone: str, report: Report) -> dt.datetime | None:
    return optional_datetime_local(text, _zone(zone, report), _not_a_moment)
