"""The JSON API under /api/v1/: one NinjaAPI, each domain adding its router. The domains' routers
import nothing from here (the token door is accounts/token_auth.py, refusals web/problems.py)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from vulndesk import openapi
from vulndesk.accounts.api import router as accounts_router
from vulndesk.advisories.api import router as advisories_router
from vulndesk.advisories.exports.api import router as exports_router
from vulndesk.cases.api import router as cases_router
from vulndesk.cases.fix_api import router as fixes_router
from vulndesk.cases.metrics_api import router as metrics_router
from vulndesk.intake.api import router as intake_router
from vulndesk.projects.api import router as projects_router
from vulndesk.web.problems import Problems


class VulndeskAPI(NinjaAPI):
    """Ninja's API, whose OpenAPI document also lists the refusals that come from outside a route."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problems = Problems.model_json_schema(ref_template="#/components/schemas/{model}")
        openapi.complete(document, problems)
        return document


class JsonObjectParser(Parser):
    """Every request body of this API is a JSON object; anything else answers 400.

    Ninja's schemas read their fields as attributes of whatever they are given, so without this
    ``true`` or ``[]`` would pass for an empty object and the operation would run on defaults.
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        body: object = json.loads(request.body)
        if not isinstance(body, dict):
            msg = "the request body must be a JSON object"
            raise TypeError(msg)
        return body


api = VulndeskAPI(
    parser=JsonObjectParser(),
    title="vulndesk API",
    version="1",
    description="Coordinated vulnerability disclosure: projects, policies, reports, cases and advisories.",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Ninja's own validation errors answer in the one documented shape (``Problems``)."""
    problems: dict[str, str] = {}
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "payload") or "request"
        problems.setdefault(where, str(error.get("msg", "is not valid")))
    body = Problems(detail="the request is not valid", problems=problems)
    return api.create_response(request, body.dict(), status=422)


api.add_router("/", accounts_router)
api.add_router("/projects", projects_router)
api.add_router("/projects", intake_router)
api.add_router("/", cases_router)
api.add_router("/", fixes_router)
api.add_router("/", metrics_router)
api.add_router("/projects", exports_router)
api.add_router("/projects", advisories_router)
