"""Sign-in throttling: wrong tries pause an account name for a while, each pause longer than the
last: counted per name and network address (a guesser pauses only themselves), per name from
anywhere (guesses spread over many addresses; shorter pauses) and per address over all names.
None of these ever locks an account for good: anyone can send wrong passwords. Only wrong second
factors after a right password, which only someone who knows the password can send, lock the
account until an administrator unlocks it (``vulndesk user unlock``, audited).

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
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from vulndesk.accounts.models import LoginThrottle, User
from vulndesk.audit.actions import JsonScalar, record_event

# From one network address, one account name: a pause every five failures, each twice the last.
FAILURES_BEFORE_PAUSE = 5
PAUSE = dt.timedelta(minutes=15)
LONGEST_PAUSE = dt.timedelta(hours=24)
# One account name from anywhere (guesses spread over many addresses): a pause every twenty
# failures, growing too but never past an hour, since anyone can cause these.
NAME_FAILURES_BEFORE_PAUSE = 20
LONGEST_NAME_PAUSE = dt.timedelta(hours=1)
# One network address trying many account names: paused, growing, forgotten after a quiet day (an
# office behind one address must not lock out its colleagues for longer than a pause).
ADDRESS_FAILURES_BEFORE_PAUSE = 30
LONGEST_ADDRESS_PAUSE = dt.timedelta(hours=4)
# Only someone who knows the password can get this far: wrong second factors after a right
# password lock the account until an administrator unlocks it. Failures of anonymous guessers
# never lock an account for good, or anyone could lock anyone out (the administrator included).
CODE_FAILURES_BEFORE_LOCK = 10


@dataclass(frozen=True)
class _Rule:
    pause_every: int
    longest_pause: dt.timedelta
    lock_after: int | None  # None: never locked for good
    forget_after_quiet: dt.timedelta | None  # a quiet spell this long starts the count again
    whose: str  # how the refusal names what is throttled
    paused_event: str


_NAME_FROM_ADDRESS = _Rule(
    pause_every=FAILURES_BEFORE_PAUSE,
    longest_pause=LONGEST_PAUSE,
    lock_after=None,
    forget_after_quiet=None,
    whose="",
    paused_event="user.paused",
)
_NAME = _Rule(
    pause_every=NAME_FAILURES_BEFORE_PAUSE,
    longest_pause=LONGEST_NAME_PAUSE,
    lock_after=None,
    forget_after_quiet=None,
    whose=" for this account name",
    paused_event="user.name_paused",
)
_ADDRESS = _Rule(
    pause_every=ADDRESS_FAILURES_BEFORE_PAUSE,
    longest_pause=LONGEST_ADDRESS_PAUSE,
    lock_after=None,
    forget_after_quiet=dt.timedelta(hours=24),
    whose=" from your network",
    paused_event="user.address_paused",
)
_CODE = _Rule(
    pause_every=FAILURES_BEFORE_PAUSE,
    longest_pause=LONGEST_PAUSE,
    lock_after=CODE_FAILURES_BEFORE_LOCK,
    forget_after_quiet=None,
    whose="",
    paused_event="user.paused",
)


class LockedOutError(Exception):
    """Too many failures: the text says for how long, the same for every account name."""


def _digest(label: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), label.encode(), hashlib.sha256).hexdigest()


def _normalised(email: str) -> str:
    return email.strip().lower()


def _key(email: str) -> str:
    return _digest(f"login:{_normalised(email)}")


def _pair_key(email: str, address: str) -> str:
    # Starts like no other key but with the name's own prefix, so an unlock finds every address's.
    return _pair_prefix(email) + _digest(f"login:{_normalised(email)}:from:{address}")[:32]


def _pair_prefix(email: str) -> str:
    return _digest(f"login-pair:{_normalised(email)}")[:32]


def _address_key(address: str) -> str:
    return _digest(f"login-from:{address}")


def _code_key(email: str) -> str:
    return _digest(f"login-code:{_normalised(email)}")


def _name_rules(email: str, address: str, *, code: bool) -> list[tuple[str, _Rule]]:
    """The counts an attempt for ``email`` from ``address`` goes on, the address's first."""
    rules = [(_address_key(address), _ADDRESS)] if address else []
    rules += [(_pair_key(email, address), _NAME_FROM_ADDRESS), (_key(email), _NAME)]
    return [*rules, (_code_key(email), _CODE)] if code else rules


def check_allowed(email: str, now: dt.datetime | None = None) -> None:
    """Refuse while the account name is paused everywhere, or locked."""
    moment = now or timezone.now()
    for key, rule in ((_key(email), _NAME), (_code_key(email), _CODE)):
        throttle = LoginThrottle.objects.filter(key=key).first()
        if throttle is not None:
            _raise_if_locked(throttle, rule, moment)


def _raise_if_locked(throttle: LoginThrottle, rule: _Rule, moment: dt.datetime) -> None:
    if throttle.locked_for_good:
        raise LockedOutError(
            "this account is locked after too many wrong codes; an administrator can unlock it"
        )
    until = throttle.locked_until
    # Attempts still being checked count too: the pause starts with the count, not with the verdict.
    if _at_a_pause(throttle.failures, rule) and throttle.last_failure_at:
        until = max(until or moment, throttle.last_failure_at + _pause_for(throttle.failures, rule))
    if until and until > moment:
        minutes = max(1, math.ceil((until - moment).total_seconds() / 60))
        raise LockedOutError(f"too many failed sign-ins{rule.whose}: try again in {_in_words(minutes)}")


def _pause_for(failures: int, rule: _Rule) -> dt.timedelta:
    """Each pause twice as long as the one before it, up to the rule's longest."""
    pauses_so_far = max(1, failures // rule.pause_every)
    doubled: dt.timedelta = PAUSE * (2 ** min(pauses_so_far - 1, 16))
    return min(doubled, rule.longest_pause)


def _in_words(minutes: int) -> str:
    if minutes <= 90:  # noqa: PLR2004 - below an hour and a half, minutes read best
        return f"{minutes} minutes"
    return f"{(minutes + 59) // 60} hours"


def _paused(throttle: LoginThrottle, moment: dt.datetime) -> bool:
    return bool(throttle.locked_until and throttle.locked_until > moment)


def _at_a_pause(failures: int, rule: _Rule) -> bool:
    return failures > 0 and failures % rule.pause_every == 0


def begin_attempt(
    email: str, address: str = "", now: dt.datetime | None = None, *, code: bool = False
) -> None:
    """Count an attempt before its password or code is checked, and refuse it while paused or
    locked: for the network address it comes from, for the name from that address, for the name
    from anywhere; ``code`` is a second-factor attempt after a right password."""
    moment = now or timezone.now()
    # A name locked for good refuses every attempt, the password step's too.
    code_throttle = LoginThrottle.objects.filter(key=_code_key(email)).first()
    if code_throttle is not None and not code:
        _raise_if_locked(code_throttle, _CODE, moment)
    for key, rule in _name_rules(email, address, code=code):
        _begin(key, rule, moment)


def _begin(key: str, rule: _Rule, moment: dt.datetime) -> None:
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
        quiet = (
            throttle.last_failure_at
            and rule.forget_after_quiet
            and moment - throttle.last_failure_at > rule.forget_after_quiet
        )
        if quiet and not _paused(throttle, moment):
            throttle.failures = 0
        _raise_if_locked(throttle, rule, moment)
        throttle.failures += 1
        throttle.last_failure_at = moment
        throttle.save(update_fields=["failures", "last_failure_at"])


def password_accepted(email: str, address: str = "") -> None:
    """The password was right: its attempt is taken off the counts (the code step counts on its own)."""
    keys = [key for key, _rule in _name_rules(email, address, code=False)]
    LoginThrottle.objects.filter(key__in=keys, failures__gt=0).update(failures=F("failures") - 1)


def record_failure(
    email: str, address: str = "", now: dt.datetime | None = None, *, code: bool = False
) -> None:
    """The attempt counted by ``begin_attempt`` failed: pause or lock when it is time."""
    moment = now or timezone.now()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email.strip()).first()
        for key, rule in _name_rules(email, address, code=code):
            _failed(key, rule, moment, user if rule is not _ADDRESS else None)


def _failed(key: str, rule: _Rule, moment: dt.datetime, user: User | None) -> None:
    throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
    details: dict[str, JsonScalar | list[str]] = {"failures": throttle.failures}
    if rule.lock_after is not None and throttle.failures >= rule.lock_after:
        if not throttle.locked_for_good:
            throttle.locked_for_good = True
            record_event("user.locked", acting_user=None, target=user, details=details)
    elif _at_a_pause(throttle.failures, rule) and not _paused(throttle, moment):
        pause = _pause_for(throttle.failures, rule)
        throttle.locked_until = moment + pause
        details["minutes"] = int(pause.total_seconds() // 60)
        record_event(rule.paused_event, acting_user=None, target=user, details=details)
    throttle.save()


def record_success(email: str, address: str = "") -> None:
    """Signed in: the name's counts start again (a lock for good stays until it is lifted)."""
    keys = [_key(email), _pair_key(email, address), _pair_key(email, ""), _code_key(email)]
    LoginThrottle.objects.filter(key__in=keys, locked_for_good=False).delete()


def every_count_of(email: str) -> Q:
    return Q(key__in=[_key(email), _code_key(email)]) | Q(key__startswith=_pair_prefix(email))
