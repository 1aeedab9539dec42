from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.accounts.token_auth import TokenAuth, request_token

router = Router(tags=["accounts"])


class MeOut(Schema):
    email: str
    display_name: str
    is_admin: bool
    projects: list[str]
    # What this token may do: every other operation checks its scope; empty means all of the
    # person's permissions. Any valid token may ask who it belongs to and what it may do.
    token_scopes: list[str]
    token_expires_at: dt.datetime | None


@router.get("/me", response=MeOut, auth=TokenAuth(), summary="Who the token belongs to, and what it may do")
def me(request: HttpRequest) -> MeOut:
    user: User = request.auth  # type: ignore[attr-defined]
    token = request_token(request)
    slugs = list(
        user.memberships.filter(role__in=[Role.TEAM, Role.LEAD]).values_list("project__slug", flat=True)
    )
    return MeOut(
        email=user.email,
        display_name=user.display_name,
        is_admin=user.is_admin,
        projects=slugs,
        token_scopes=[str(scope) for scope in token.scopes],
        token_expires_at=token.expires_at,
    )
