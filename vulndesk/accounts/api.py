from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.api import TokenAuth

router = Router(tags=["accounts"])


class MeOut(Schema):
    email: str
    display_name: str
    is_admin: bool
    projects: list[str]


@router.get("/me", response=MeOut, auth=TokenAuth(), summary="Who the token belongs to")
def me(request: HttpRequest) -> MeOut:
    user: User = request.auth  # type: ignore[attr-defined]
    slugs = list(user.memberships.filter(role=Role.TEAM).values_list("project__slug", flat=True))
    return MeOut(email=user.email, display_name=user.display_name, is_admin=user.is_admin, projects=slugs)
