"""A person's own choices: how they hear of each kind of team notice, and their timezone (the
account page's "Notices" form, ``accounts/notice_choices.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction

from vulndesk.audit.actions import JsonScalar, record_event
from vulndesk.notify.models import Delivery, NoticeKind, NoticePreference
from vulndesk.notify.preferences import PreferenceError, owns_open_cases

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


def do_set_notice_preferences(user: User, choices: dict[NoticeKind, Delivery], *, acting_user: User) -> None:
    """Store the person's choices. A case owner cannot turn "overdue" off: the deadline of their
    case passed, and the policy's promise to the reporter is theirs to keep."""
    if acting_user != user:
        raise PreferenceError("each person chooses their own notices")
    if choices.get(NoticeKind.OVERDUE) == Delivery.NONE and owns_open_cases(user):
        raise PreferenceError("you own open cases: choose how you hear that a deadline passed, not whether")
    with transaction.atomic():
        for kind, delivery in choices.items():
            NoticePreference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})
        details: dict[str, JsonScalar | list[str]] = {str(k): str(d) for k, d in choices.items()}
        record_event("user.notices_changed", acting_user=acting_user, target=user, details=details)


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def do_set_timezone(user: User, name: str, *, acting_user: User) -> None:
    if not is_zone(name):
        raise PreferenceError(f"{name!r} is not a timezone")
    if user.timezone == name:
        return
    with transaction.atomic():
        before, user.timezone = user.timezone, name
        user.save(update_fields=["timezone"])
        record_event(
            "user.timezone_changed",
            acting_user=acting_user,
            target=user,
            details={"from": before, "to": name},
        )
