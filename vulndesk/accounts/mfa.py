"""Two-factor sign-in: a TOTP authenticator (RFC 6238, via pyotp) and one-time recovery codes.

Every account signs in with a second factor: admins, team members and distributor members alike.
A person without an authenticator sets one up as the last step of their first sign-in, before any
page opens; ``vulndesk user reset-mfa`` (audited) lets an operator start that over for someone who
lost both the authenticator and the recovery codes. The changes themselves (enrolling, verifying,
renewing, resetting) are actions in accounts/actions.py; this module holds the mechanics.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from django.conf import settings
from django.utils import timezone

from vulndesk.accounts.models import RecoveryCode, TotpDevice, User

ISSUER = "vulndesk"
RECOVERY_CODES = 10
# One step either side: a phone whose clock is 30 seconds off still signs in.
VALID_WINDOW = 1
SIX_DIGITS = re.compile(r"[0-9]{6}")


def has_second_factor(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def pending_secret(user: User, shown: str) -> str:
    """The secret a setup session shows: the one it showed before (``shown``), or a new one.

    Each setup session has its own secret, kept (sealed) in the session and stored on the account
    only when a code for it matched: a secret shown to someone else, in another session (a person
    who once had the password), is never the one confirmed, and cannot disturb this one.
    """
    if has_second_factor(user):
        raise ValueError("this account already has an authenticator")
    return shown or pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(user: User, secret: str) -> str:
    """The provisioning URI as an inline SVG QR code, for the phone's camera (no image request,
    no script: it passes the Content-Security-Policy)."""
    svg: str = segno.make(provisioning_uri(user, secret), error="m").svg_inline(
        scale=4, title="Scan with your authenticator app", dark="#111827"
    )
    return svg


def accept_totp(device: TotpDevice, code: str) -> bool:
    """Accept a code for a time step after the last one used: a code cannot be replayed."""
    code = code.strip()
    if not SIX_DIGITS.fullmatch(code):
        return False  # ASCII digits only: str.isdigit() also takes other scripts' digits
    totp = pyotp.TOTP(device.secret)
    now = timezone.now()
    step_now = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        step = step_now + offset
        if step > device.last_used_step and hmac.compare_digest(totp.generate_otp(step), code):
            device.last_used_step = step
            return True
    return False


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [f"{secrets.token_hex(5)}-{secrets.token_hex(5)}" for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, digest=recovery_digest(code.replace("-", ""))) for code in codes
    )
    return codes


def recovery_digest(code: str) -> str:
    # Keyed: 80-bit codes are out of reach anyway, and a database copy alone cannot test guesses.
    return hmac.new(settings.SECRET_KEY.encode(), f"recovery:{code}".encode(), hashlib.sha256).hexdigest()
