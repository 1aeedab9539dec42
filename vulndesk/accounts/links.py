"""Single-use, expiring links mailed to a person: team invitations and password resets.

The token carries 256 bits of randomness and only its digest is stored (``token_digest``), so the
database never holds a link that opens an account. A link is used at most once: ``claim_link``
marks it used in the transaction of what it does.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from vulndesk.accounts.models import AccountLink, LinkPurpose, User, token_digest

LIFETIMES = {
    LinkPurpose.INVITATION: dt.timedelta(days=7),
    # A reset link is a key to the account for as long as it lives: an hour is enough to read mail.
    LinkPurpose.PASSWORD_RESET: dt.timedelta(hours=1),
}
ROUTES = {LinkPurpose.INVITATION: "team-invitation", LinkPurpose.PASSWORD_RESET: "password-reset-link"}
MAX_TOKEN_LENGTH = 100


def issue_link(user: User, purpose: LinkPurpose, **fields: object) -> str:
    """Store a new link (inside the caller's transaction) and return its address, to mail once."""
    raw = secrets.token_urlsafe(32)
    AccountLink.objects.create(
        user=user,
        purpose=purpose,
        digest=token_digest(raw),
        expires_at=timezone.now() + LIFETIMES[purpose],
        **fields,
    )
    return settings.BASE_URL + reverse(ROUTES[purpose], args=[raw])


def access_link(raw: str, purpose: LinkPurpose) -> AccountLink | None:
    """The usable link behind ``raw``; the same None when unknown, used, expired or another kind."""
    if len(raw) > MAX_TOKEN_LENGTH:
        return None
    link = (
        AccountLink.objects.select_related("user", "project")
        .filter(digest=token_digest(raw), purpose=purpose)
        .first()
    )
    return link if link is not None and link.is_usable() else None


def claim_link(link: AccountLink) -> bool:
    """Mark the link used; False if another request used it first (a conditional update)."""
    return bool(AccountLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now()))


def set_password_by_link(link: AccountLink, password: str) -> bool:
    """In the caller's transaction: spend the link and give its person ``password`` (validated by
    the form); False, and nothing changed, if the link was already used."""
    if not claim_link(link):
        return False
    link.user.set_password(password)
    link.user.save(update_fields=["password"])
    return True
