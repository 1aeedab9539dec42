"""Finding who is calling: API tokens. Web sessions use Django's own authentication."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from vulndesk.accounts.actions import TOKEN_PREFIX
from vulndesk.accounts.models import ApiToken, User, token_digest

MAX_TOKEN_LENGTH = 100
LAST_USED_RESOLUTION_SECONDS = 60


def access_token_user(raw_token: str) -> tuple[User, ApiToken] | None:
    """The active user behind a bearer token, or None; the same None for any kind of failure."""
    if not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > MAX_TOKEN_LENGTH:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw_token)).first()
    if token is None or not token.is_usable():
        return None
    # Last use is kept to the minute so a busy client does not write on every request.
    now = timezone.now()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


def request_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def signed_in_user(request: HttpRequest) -> User:
    """The user of a view behind ``login_required``; refuses anything else."""
    user = request_user(request)
    if user is None:
        raise PermissionDenied
    return user
