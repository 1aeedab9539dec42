"""The authenticator app of every test person: remembers each account's secret and never reuses a
time step, as the server refuses a replayed code."""

from __future__ import annotations

import re
import time

import pyotp

_SECRETS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}
SECRET_ON_PAGE = re.compile(r'id="totp-secret">([A-Z2-7]+)<')


def remember_from_page(email: str, html: str) -> None:
    found = SECRET_ON_PAGE.search(html)
    assert found, "the setup page shows the key"
    _SECRETS[email.lower()] = found.group(1)
    _LAST_STEP.pop(email.lower(), None)


def code_for(email: str) -> str:
    """A code the server accepts now: the current step, or the next one if it was just used."""
    totp = pyotp.TOTP(_SECRETS[email.lower()])
    now = totp.timecode(time.time())
    step = max(now, _LAST_STEP.get(email.lower(), now - 1) + 1)
    if step > now + 1:
        # A third sign-in within one 30-second step: wait for the next, as a person would.
        time.sleep(totp.interval - time.time() % totp.interval + 0.5)
    _LAST_STEP[email.lower()] = step
    return str(totp.generate_otp(step))


def secret_of(email: str) -> str:
    return _SECRETS[email.lower()]
