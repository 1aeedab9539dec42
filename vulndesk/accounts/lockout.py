"""Sign-in throttling: a few wrong tries lock an account name for a while, many lock it until an
administrator unlocks it (``vulndesk user unlock``, audited).

Keyed on an HMAC of the email as typed (normalised), whether or not such an account exists, so the
answers never tell an attacker which addresses have accounts. Wrong passwords and wrong second
factors count alike, and an attempt counts from the moment it starts (``begin_attempt``), so that
guesses sent in parallel are held to the same limits as guesses sent one after another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vulndesk.accounts.models import LoginThrottle, User
from vulndesk.audit.actions import record_event

FAILURES_BEFORE_PAUSE = 5
PAUSE = dt.timedelta(minutes=15)
FAILURES_BEFORE_LOCK = 20
# One network address trying many account names: paused too, never locked for good (an office
# behind one address must not lock out its colleagues for longer than a pause).
ADDRESS_FAILURES_BEFORE_PAUSE = 30


class LockedOutError(Exception):
    """Too many failures: the text says for how long, the same for every account name."""


def _key(email: str) -> str:
    normalised = email.strip().lower()
    return hmac.new(settings.SECRET_KEY.encode(), f"login:{normalised}".encode(), hashlib.sha256).hexdigest()


def _address_key(address: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"login-from:{address}".encode(), hashlib.sha256
    ).hexdigest()


def check_address_allowed(address: str, now: dt.datetime | None = None) -> None:
    moment = now or timezone.now()
    throttle = LoginThrottle.objects.filter(key=_address_key(address)).first() if address else None
    if throttle is not None and throttle.locked_until and throttle.locked_until > moment:
        minutes = max(1, int((throttle.locked_until - moment).total_seconds() // 60) + 1)
        raise LockedOutError(f"too many failed sign-ins from your network: try again in {minutes} minutes")


def record_address_failure(address: str, now: dt.datetime | None = None) -> None:
    if not address:
        return
    moment = now or timezone.now()
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=_address_key(address))
        if throttle.last_failure_at and moment - throttle.last_failure_at > PAUSE:
            throttle.failures = 0  # a quiet quarter of an hour forgives an address
        throttle.failures += 1
        throttle.last_failure_at = moment
        if throttle.failures % ADDRESS_FAILURES_BEFORE_PAUSE == 0:
            throttle.locked_until = moment + PAUSE
            record_event("user.address_paused", acting_user=None, details={"failures": throttle.failures})
        throttle.save()


def check_allowed(email: str, now: dt.datetime | None = None) -> None:
    throttle = LoginThrottle.objects.filter(key=_key(email)).first()
    if throttle is not None:
        _raise_if_locked(throttle, now or timezone.now())


def _raise_if_locked(throttle: LoginThrottle, moment: dt.datetime) -> None:
    if throttle.locked_for_good:
        raise LockedOutError(
            "this account is locked after too many failed sign-ins; an administrator can unlock it"
        )
    until = throttle.locked_until
    # Attempts still being checked count too: the pause starts with the count, not with the verdict.
    if _at_a_pause(throttle.failures) and throttle.last_failure_at:
        until = max(until or moment, throttle.last_failure_at + PAUSE)
    if until and until > moment:
        minutes = max(1, int((until - moment).total_seconds() // 60) + 1)
        raise LockedOutError(f"too many failed sign-ins: try again in {minutes} minutes")


def _paused(throttle: LoginThrottle, moment: dt.datetime) -> bool:
    return bool(throttle.locked_until and throttle.locked_until > moment)


def _at_a_pause(failures: int) -> bool:
    return failures > 0 and failures % FAILURES_BEFORE_PAUSE == 0


def begin_attempt(email: str, now: dt.datetime | None = None) -> None:
    """Count an attempt before its password or code is checked, and refuse it while locked.

    Counting first means parallel guesses cannot all pass a check made before any of them was
    counted; the attempt is forgotten again when the sign-in succeeds (``record_success``).
    """
    moment = now or timezone.now()
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=_key(email))
        _raise_if_locked(throttle, moment)
        throttle.failures += 1
        throttle.last_failure_at = moment
        throttle.save(update_fields=["failures", "last_failure_at"])


def record_failure(email: str, now: dt.datetime | None = None) -> None:
    """The attempt counted by ``begin_attempt`` failed: pause or lock the name when it is time."""
    moment = now or timezone.now()
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=_key(email))
        user = User.objects.filter(email__iexact=email.strip()).first()
        if throttle.failures >= FAILURES_BEFORE_LOCK:
            if not throttle.locked_for_good:
                throttle.locked_for_good = True
                record_event(
                    "user.locked", acting_user=None, target=user, details={"failures": throttle.failures}
                )
        elif _at_a_pause(throttle.failures) and not _paused(throttle, moment):
            throttle.locked_until = moment + PAUSE
            record_event(
                "user.paused", acting_user=None, target=user, details={"failures": throttle.failures}
            )
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
