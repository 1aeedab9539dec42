"""The API's door: a bearer token names its user, and its scopes say what it may do.

``TokenAuth`` signs the request in; ``token_caller`` is the one scope check every operation makes.
A token whose scopes do not include the operation's permission answers 404, as a missing object
does: a narrow token cannot probe for what a wider one would see.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from vulndesk.accounts.access import access_token_user
from vulndesk.accounts.models import ApiToken, User
from vulndesk.accounts.permissions import Permission


class TokenAuth(HttpBearer):
    """``Authorization: Bearer vd_…``; the token's user is put on the request."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = access_token_user(token)
        if found is None:
            return None
        user, api_token = found
        request.api_token = api_token  # type: ignore[attr-defined]
        return user


def request_token(request: HttpRequest) -> ApiToken:
    """The token a request signed in with (``TokenAuth``)."""
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    return token


def token_caller(request: HttpRequest, permission: Permission) -> User:
    """The token's user, if its scopes allow ``permission``; 404 if they do not."""
    if not request_token(request).allows(permission):
        raise HttpError(404, "Not Found")
    user: User = request.auth  # type: ignore[attr-defined]
    return user
