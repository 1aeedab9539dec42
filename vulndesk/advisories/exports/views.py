"""Public export files of a published advisory: /p/<slug>/advisories/<identifier>/<format>.json,
and CSAF's provider files: the provider metadata, each project's distribution folder and feed."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from vulndesk.advisories.access import access_published_advisory
from vulndesk.advisories.exports import distribution
from vulndesk.advisories.exports.context import ExportError
from vulndesk.advisories.exports.published import export_advisory, file_name
from vulndesk.advisories.exports.render import FORMATS
from vulndesk.projects.access import access_public_project


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
    advisory = access_published_advisory(slug, identifier)
    try:
        body = export_advisory(advisory, format_name)
    except ExportError as exc:
        return refusal(exc)
    return export_response(body, advisory.identifier, format_name)


# --- CSAF provider (CSAF 2.0 §7.1) -----------------------------------------------------------


def _json(value: dict[str, Any]) -> HttpResponse:
    text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    response = HttpResponse(text.encode(), content_type="application/json; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _text(text: str, content_type: str) -> HttpResponse:
    response = HttpResponse(text.encode(), content_type=f"{content_type}; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def csaf_provider_metadata(request: HttpRequest) -> HttpResponse:
    return _json(distribution.provider_metadata())


@require_safe
def csaf_index(request: HttpRequest, slug: str) -> HttpResponse:
    return _text(distribution.index_txt(access_public_project(slug)), "text/plain")


@require_safe
def csaf_changes(request: HttpRequest, slug: str) -> HttpResponse:
    return _text(distribution.changes_csv(access_public_project(slug)), "text/csv")


@require_safe
def csaf_feed(request: HttpRequest, slug: str) -> HttpResponse:
    return _json(distribution.rolie_feed(access_public_project(slug)))


@require_safe
def csaf_atom_feed(request: HttpRequest, slug: str) -> HttpResponse:
    return _text(distribution.rolie_atom_feed(access_public_project(slug)), "application/atom+xml")


@require_safe
def csaf_document(request: HttpRequest, slug: str, year: int, file_name: str) -> HttpResponse:
    """A document under its canonical name: the same bytes as its export URL, never a redirect
    (requirement 6)."""
    document_name, _, suffix = file_name.rpartition(".")
    if suffix not in (*distribution.HASH_ALGORITHMS, distribution.SIGNATURE_SUFFIX):
        document_name, suffix = file_name, ""
    project = access_public_project(slug)
    found = distribution.find_distributed(project, year, document_name)
    try:
        body = export_advisory(found.advisory, found.format_name)
    except ExportError as exc:
        return refusal(exc)
    if suffix == distribution.SIGNATURE_SUFFIX:  # requirement 19
        return _text(distribution.signature_file(project, body), "application/pgp-signature")
    if suffix:  # requirement 18: the document's hash file
        return _text(distribution.hash_file(body, document_name, suffix), "text/plain")
    return export_response(body, found.advisory.identifier, found.format_name)
