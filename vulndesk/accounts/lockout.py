"""Sign-in throttling: a few wrong tries lock an account name for a while, many lock it until an
administrator unlocks it (``vulndesk user unlock``, audited); one network address failing with
many names is paused too, never locked for good.

Keyed on an HMAC of the email as typed (normalised), whether or not such an account exists, so the
answers never tell an attacker which addresses have accounts. Wrong passwords and wrong second
factors count alike. An attempt counts from the moment it starts (``begin_attempt``), so that
guesses sent in parallel are held to the same limits as guesses sent one after another; a right
password is taken off the count again (``password_accepted``), so a person who types it right and
then walks away from the second step is not counted as guessing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vulndesk.accounts.models import LoginThrottle, User
from vulndesk.audit.actions import JsonScalar, record_event

FAILURES_BEFORE_PAUSE = 5
PAUSE = dt.timedelta(minutes=15)
FAILURES_BEFORE_LOCK = 20
# One network address trying many account names: paused too, never locked for good (an office
# behind one address must not lock out its colleagues for longer than a pause).
ADDRESS_FAILURES_BEFORE_PAUSE = 30


@dataclass(frozen=True)
class _Rule:
    pause_every: int
    lock_after: int | None  # None: never locked for good
    forgiven_after_quiet: bool  # a quiet PAUSE starts the count again
    whose: str  # how the refusal names what is throttled
    paused_event: str


_NAME = _Rule(
    pause_every=FAILURES_BEFORE_PAUSE,
    lock_after=FAILURES_BEFORE_LOCK,
    forgiven_after_quiet=False,
    whose="",
    paused_event="user.paused",
)
_ADDRESS = _Rule(
    pause_every=ADDRESS_FAILURES_BEFORE_PAUSE,
    lock_after=None,
    forgiven_after_quiet=True,
    whose=" from your network",
    paused_event="user.address_paused",
)


class LockedOutError(Exception):
    """Too many failures: the text says for how long, the same for every account name."""


def _key(email: str) -> str:
    normalised = email.strip().lower()
    return hmac.new(settings.SECRET_KEY.encode(), f"login:{normalised}".encode(), hashlib.sha256).hexdigest()


def _address_key(address: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"login-from:{address}".encode(), hashlib.sha256
    ).hexdigest()


def check_allowed(email: str, now: dt.datetime | None = None) -> None:
    throttle = LoginThrottle.objects.filter(key=_key(email)).first()
    if throttle is not None:
        _raise_if_locked(throttle, _NAME, now or timezone.now())


def _raise_if_locked(throttle: LoginThrottle, rule: _Rule, moment: dt.datetime) -> None:
    if throttle.locked_for_good:
        raise LockedOutError(
            "this account is locked after too many failed sign-ins; an administrator can unlock it"
        )
    until = throttle.locked_until
    # Attempts still being checked count too: the pause starts with the count, not with the verdict.
    if _at_a_pause(throttle.failures, rule) and throttle.last_failure_at:
        until = max(until or moment, throttle.last_failure_at + PAUSE)
    if until and until > moment:
        minutes = max(1, int((until - moment).total_seconds() // 60) + 1)
        raise LockedOutError(f"too many failed sign-ins{rule.whose}: try again in {minutes} minutes")


def _paused(throttle: LoginThrottle, moment: dt.datetime) -> bool:
    return bool(throttle.locked_until and throttle.locked_until > moment)


def _at_a_pause(failures: int, rule: _Rule) -> bool:
    return failures > 0 and failures % rule.pause_every == 0


def begin_attempt(email: str, address: str = "", now: dt.datetime | None = None) -> None:
    """Count an attempt before its password or code is checked, and refuse it while locked:
    first for the network address it comes from (when given), then for the account name."""
    moment = now or timezone.now()
    if address:
        _begin(_address_key(address), _ADDRESS, moment)
    _begin(_key(email), _NAME, moment)


def _begin(key: str, rule: _Rule, moment: dt.datetime) -> None:
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
        quiet = throttle.last_failure_at and moment - throttle.last_failure_at > PAUSE
        if rule.forgiven_after_quiet and quiet and not _paused(throttle, moment):
            throttle.failures = 0
        _raise_if_locked(throttle, rule, moment)
        throttle.failures += 1
        throttle.last_failure_at = moment
        throttle.save(update_fields=["failures", "last_failure_at"])


def password_accepted(email: str, address: str = "") -> None:
    """The password was right: its attempt is taken off the counts (the code step counts on its own)."""
    keys = [_key(email), *([_address_key(address)] if address else [])]
    LoginThrottle.objects.filter(key__in=keys, failures__gt=0).update(failures=F("failures") - 1)


def record_failure(email: str, address: str = "", now: dt.datetime | None = None) -> None:
    """The attempt counted by ``begin_attempt`` failed: pause or lock when it is time."""
    moment = now or timezone.now()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email.strip()).first()
        _failed(_key(email), _NAME, moment, user)
        if address:
            _failed(_address_key(address), _ADDRESS, moment, None)


def _failed(key: str, rule: _Rule, moment: dt.datetime, user: User | None) -> None:
    throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
    details: dict[str, JsonScalar | list[str]] = {"failures": throttle.failures}
    if rule.lock_after is not None and throttle.failures >= rule.lock_after:
        if not throttle.locked_for_good:
            throttle.locked_for_good = True
            record_event("user.locked", acting_user=None, target=user, details=details)
    elif _at_a_pause(throttle.failures, rule) and not _paused(throttle, moment):
        throttle.locked_until = moment + PAUSE
        record_event(rule.paused_event, acting_user=None, target=user, details=details)
    throttle.save()


def record_success(email: str) -> None:
    LoginThrottle.objects.filter(key=_key(email), locked_for_good=False).delete()


def do_unlock(email: str, *, acting_user: User | None) -> bool:
    """Lift a lock, audited; whether there was one."""
    with transaction.atomic():
        deleted, _ = LoginThrottle.objects.filter(key=_key(email)).delete()
        user = User.objects.filter(email__iexact=email.strip()).first()
        record_event(
            "user.unlocked", acting_user=acting_user, target=user, details={"was_locked": bool(deleted)}
        )
    return bool(deleted)
