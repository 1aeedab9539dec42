"""What every form view does the same way: reading a datetime-local field, and running one action
with its outcome shown to the person as a flash message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest


def datetime_local(text: str, zone: dt.tzinfo, invalid: Callable[[str], Exception]) -> dt.datetime:
    """A ``<input type="datetime-local">`` value, read in the zone the form names, as UTC. A value
    that is no date and time (or none) raises ``invalid(text)``, the form's own error."""
    try:
        return dt.datetime.fromisoformat(text.strip()).replace(tzinfo=zone).astimezone(dt.UTC)
    except ValueError:
        raise invalid(text) from None


def optional_datetime_local(
    text: str, zone: dt.tzinfo, invalid: Callable[[str], Exception]
) -> dt.datetime | None:
    """The same, where leaving the field empty means "no date"."""
    return datetime_local(text, zone, invalid) if text.strip() else None


def flash_outcome(
    request: HttpRequest,
    act: Callable[[], object],
    *,
    refused: type[Exception] | tuple[type[Exception], ...],
    not_done: str | Callable[[Exception], str],
    done: str | Callable[[object], str],
) -> bool:
    """Run ``act``; say ``done`` (or ``done(what act returned)``), or why not (``"<not_done>: <the
    error>."``, or ``not_done(error)``) when it raises one of ``refused``. Whether it was done."""
    try:
        outcome = act()
    except refused as exc:
        messages.error(request, not_done(exc) if callable(not_done) else f"{not_done}: {exc}.")
        return False
    messages.success(request, done(outcome) if callable(done) else done)
    return True
