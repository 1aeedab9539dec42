"""Two-factor sign-in: a TOTP authenticator (RFC 6238, via pyotp) and one-time recovery codes.

Every account signs in with a second factor: admins, team members and distributor members alike.
A person without an authenticator sets one up as the last step of their first sign-in, before any
page opens; ``vulndesk user reset-mfa`` (audited) lets an operator start that over for someone who
lost both the authenticator and the recovery codes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vulndesk.accounts.models import RecoveryCode, TotpDevice, User
from vulndesk.audit.actions import record_event

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


def confirm_enrollment(user: User, code: str, secret: str) -> list[str] | None:
    """The first code for this session's secret matched: the authenticator counts, and fresh
    recovery codes are returned once."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None:
            return None
        if device is None:
            device = TotpDevice(user=user)
        device.secret, device.last_used_step = secret, 0
        if not _accept_totp(device, code):
            return None
        device.confirmed_at = timezone.now()
        device.save()
        codes = _new_recovery_codes(user)
        record_event("user.mfa_enrolled", acting_user=user, target=user)
    return codes


def verify_second_factor(user: User, code: str) -> bool:
    """A current TOTP code, used once; or an unused recovery code, which is then spent."""
    text = code.strip().replace(" ", "").replace("-", "")
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        if device is None:
            return False
        if _accept_totp(device, text):
            device.save(update_fields=["last_used_step"])
            return True
        spent = RecoveryCode.objects.filter(
            user=user, digest=_digest(text.lower()), used_at__isnull=True
        ).update(used_at=timezone.now())
        if spent:
            left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
            record_event("user.recovery_code_used", acting_user=user, target=user, details={"left": left})
        return bool(spent)


def _accept_totp(device: TotpDevice, code: str) -> bool:
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


def do_renew_recovery_codes(user: User) -> list[str]:
    """Ten new codes; every earlier one stops working. Returned once, stored as keyed hashes."""
    if not has_second_factor(user):
        raise ValueError("set up an authenticator first")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record_event("user.recovery_codes_renewed", acting_user=user, target=user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [f"{secrets.token_hex(5)}-{secrets.token_hex(5)}" for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, digest=_digest(code.replace("-", ""))) for code in codes
    )
    return codes


def _digest(code: str) -> str:
    # Keyed: 80-bit codes are out of reach anyway, and a database copy alone cannot test guesses.
    return hmac.new(settings.SECRET_KEY.encode(), f"recovery:{code}".encode(), hashlib.sha256).hexdigest()


def do_reset_second_factor(user: User, *, acting_user: User | None) -> None:
    """For someone who lost the authenticator and every recovery code; they enroll again."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        record_event("user.mfa_reset", acting_user=acting_user, target=user)
