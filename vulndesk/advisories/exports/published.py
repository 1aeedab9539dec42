"""Exports of the advisories the public may read: what the CLI, the public URLs and the API serve.

Only a published (or withdrawn) advisory exports, fetched through ``access_published_advisory``
(the same 404 for a draft and for nothing at all), and always from the revision its public page
shows. Nothing here reads a report or a draft, so an export cannot leak embargoed text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from vulndesk.advisories.access import public_advisories
from vulndesk.advisories.documents import document, published_revision
from vulndesk.advisories.exports.context import ExportContext, ExportError, ReleasedVersion
from vulndesk.advisories.exports.csaf import SECURITY_ADVISORY, VEX, canonical_file_name, tracking_id
from vulndesk.advisories.exports.render import FORMATS, render

if TYPE_CHECKING:
    from vulndesk.advisories.models import Advisory
    from vulndesk.projects.models import Project


CSAF_PROFILES = {"csaf": SECURITY_ADVISORY, "csaf-vex": VEX}


class AmbiguousAdvisoryError(LookupError):
    """One CVE id on advisories of two projects: the project has to be named."""


def project_context(project: Project) -> ExportContext:
    """The instance's address and every release the project recorded, in a stable order."""
    releases = project.releases.order_by("package", "version").values_list("package", "version", "commit")
    return ExportContext(
        base_url=settings.BASE_URL,
        releases=tuple(ReleasedVersion(package, version, commit) for package, version, commit in releases),
    )


def export_advisory(advisory: Advisory, format_name: str) -> bytes:
    if format_name not in FORMATS:
        raise ExportError(f"unknown export format {format_name!r}; choose one of {', '.join(FORMATS)}")
    revision = published_revision(advisory)
    if revision is None:  # a public advisory always has one; say so rather than export nothing
        raise ExportError(f"{advisory.public_id} has no published revision")
    return render(format_name, document(revision), project_context(advisory.project))


def published_advisories(project: Project | None) -> list[Advisory]:
    """Published and withdrawn advisories, newest first."""
    found = public_advisories()
    if project is not None:
        found = found.filter(project=project)
    return list(found.order_by("-published_at", "-pk"))


def find_published(identifier: str, project: Project | None) -> Advisory | None:
    """A public advisory by its id or CVE id, on any project unless one is named."""
    found = public_advisories().filter(Q(identifier=identifier) | (Q(cve_id=identifier) & ~Q(cve_id="")))
    if project is not None:
        found = found.filter(project=project)
    matches = list(found[:2])
    if len(matches) > 1:
        raise AmbiguousAdvisoryError(f"{identifier} names advisories of several projects; add --project SLUG")
    return matches[0] if matches else None


def file_name(identifier: str, format_name: str) -> str:
    """The name an export is saved under; a CSAF document takes its canonical one (CSAF 2.0 §5.1)."""
    if format_name in CSAF_PROFILES:
        return canonical_file_name(tracking_id(identifier, CSAF_PROFILES[format_name]))
    return f"{identifier}.{format_name}.json"
