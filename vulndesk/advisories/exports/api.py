"""GET /api/v1/projects/{slug}/advisories/{identifier}/export/{format}: anonymous, published only."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from vulndesk.advisories.access import access_published_advisory
from vulndesk.advisories.exports.context import ExportError
from vulndesk.advisories.exports.published import export_advisory
from vulndesk.advisories.exports.views import export_response

router = Router(tags=["advisories"])

ExportFormat = Literal["osv", "cve", "csaf", "csaf-vex", "openvex"]


class ExportRefused(Schema):
    detail: str


@router.get(
    "/{slug}/advisories/{identifier}/export/{format_name}",
    response={200: dict[str, Any], 422: ExportRefused},
    summary="A published advisory as OSV, CVE JSON 5.1, CSAF 2.0 (advisory or VEX) or OpenVEX",
)
def export_published_advisory(
    request: HttpRequest, slug: str, identifier: str, format_name: ExportFormat
) -> HttpResponse | Status[ExportRefused]:
    advisory = access_published_advisory(slug, identifier)
    try:
        body = export_advisory(advisory, format_name)
    except ExportError as exc:
        return Status(422, ExportRefused(detail=str(exc)))
    # Named by the advisory's own id even when asked by its CVE id: a CSAF file name is its tracking id's.
    return export_response(body, advisory.identifier, format_name)
