"""Public export files of a published advisory: /p/<slug>/advisories/<identifier>/<format>.json."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from vulndesk.advisories.exports.context import ExportError
from vulndesk.advisories.exports.published import export_published, file_name
from vulndesk.advisories.exports.render import FORMATS


def export_response(body: bytes, identifier: str, format_name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{file_name(identifier, format_name)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def refusal(exc: ExportError) -> HttpResponse:
    """422 naming what the format cannot express: published facts only, never report text."""
    return HttpResponse(f"{exc}\n", status=422, content_type="text/plain; charset=utf-8")


@require_safe
def advisory_export(request: HttpRequest, slug: str, identifier: str, format_name: str) -> HttpResponse:
    if format_name not in FORMATS:
        raise Http404
    try:
        body = export_published(slug, identifier, format_name)
    except ExportError as exc:
        return refusal(exc)
    return export_response(body, identifier, format_name)
