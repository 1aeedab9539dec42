"""The JSON API under /api/v1/: one NinjaAPI, each domain adding its router."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from vulndesk.accounts.access import access_token_user
from vulndesk.accounts.models import User


class TokenAuth(HttpBearer):
    """``Authorization: Bearer vd_…``; the token's user is put on the request."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = access_token_user(token)
        if found is None:
            return None
        user, api_token = found
        request.api_token = api_token  # type: ignore[attr-defined]
        return user


api = NinjaAPI(
    title="vulndesk API",
    version="1",
    description="Coordinated vulnerability disclosure: projects, policies, reports, cases and advisories.",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _register_routers() -> None:
    from vulndesk.accounts.api import router as accounts_router  # noqa: PLC0415 - after api exists
    from vulndesk.cases.api import router as cases_router  # noqa: PLC0415
    from vulndesk.intake.api import router as intake_router  # noqa: PLC0415
    from vulndesk.projects.api import router as projects_router  # noqa: PLC0415

    api.add_router("/", accounts_router)
    api.add_router("/projects", projects_router)
    api.add_router("/projects", intake_router)
    api.add_router("/", cases_router)


_register_routers()
