"""Resetting a forgotten password by mail, and by the operator from the command line.

The answer to a request is the same whether or not the account exists: only the mail differs,
and it goes to the account's own address. A reset changes the password only: the second factor
is still asked at the next sign-in, so a stolen mailbox alone does not open the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vulndesk.accounts import emails
from vulndesk.accounts.links import issue_link, set_password_by_link
from vulndesk.accounts.models import AccountLink, LinkPurpose, LoginThrottle, User
from vulndesk.audit.actions import record_event
from vulndesk.notify.actions import queue_email

# Per account: a few mails an hour, then requests are dropped without saying so (the same answer).
RESETS_PER_ACCOUNT = 3
# Per network address, over all names: beyond this the person is told to wait.
REQUESTS_PER_ADDRESS = 10
WINDOW = dt.timedelta(hours=1)


class TooManyResetRequests(Exception):  # noqa: N818 - reads as the condition it reports
    pass


def do_request_password_reset(email: str, *, address: str) -> None:
    """Mail a reset link to ``email`` if it is an active account; raise only on the address limit."""
    _count_request_from(address)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None or not user.has_usable_password() or _recently_sent(user) >= RESETS_PER_ACCOUNT:
            return
        _send_reset(user)


def _count_request_from(address: str) -> None:
    # Keyed like the sign-in throttle's rows (an HMAC), so the table holds no address.
    key = hmac.new(settings.SECRET_KEY.encode(), f"reset-from:{address}".encode(), hashlib.sha256).hexdigest()
    now = timezone.now()
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
        if throttle.last_failure_at is None or now - throttle.last_failure_at > WINDOW:
            throttle.failures, throttle.last_failure_at = 0, now
        if throttle.failures >= REQUESTS_PER_ADDRESS:
            raise TooManyResetRequests
        throttle.failures = F("failures") + 1
        throttle.save(update_fields=["failures", "last_failure_at"])


def _recently_sent(user: User) -> int:
    since = timezone.now() - WINDOW
    return AccountLink.objects.filter(
        user=user, purpose=LinkPurpose.PASSWORD_RESET, created_at__gt=since
    ).count()


def _send_reset(user: User, *, acting_user: User | None = None) -> str:
    url = issue_link(user, LinkPurpose.PASSWORD_RESET)
    record_event("user.password_reset_requested", acting_user=acting_user, target=user)
    queue_email(emails.password_reset(user, url=url, now=timezone.now()))
    return url


def do_send_password_reset(user: User, *, acting_user: User | None) -> None:
    """The operator's reset (``vulndesk user reset-password``): a link to the account's address."""
    with transaction.atomic():
        _send_reset(user, acting_user=acting_user)


def do_reset_password(link: AccountLink, password: str) -> User:
    """Set the new password (validated by the form); every other reset link of the account dies."""
    user = link.user
    with transaction.atomic():
        if not set_password_by_link(link, password):
            raise ValueError("this link was already used")
        AccountLink.objects.filter(
            user=user, purpose=LinkPurpose.PASSWORD_RESET, used_at__isnull=True
        ).update(used_at=timezone.now())
        record_event("user.password_reset", acting_user=user, target=user)
    return user
