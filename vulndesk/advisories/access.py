"""The doors to an advisory: the public one opens only on published (or withdrawn) advisories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from vulndesk.accounts.permissions import Permission
from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.projects.access import access_project

if TYPE_CHECKING:
    from vulndesk.accounts.models import User

PUBLIC_STATES = (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN)


def public_advisories() -> QuerySet[Advisory]:
    return Advisory.objects.filter(state__in=PUBLIC_STATES, published_at__isnull=False).select_related(
        "project"
    )


def access_published_advisory(project_slug: str, identifier: str) -> Advisory:
    """A published or withdrawn advisory by its id or CVE id; 404 for a draft or anything unknown."""
    found = (
        public_advisories().filter(project__slug=project_slug).filter(identifier=identifier).first()
        or public_advisories()
        .filter(project__slug=project_slug, cve_id=identifier)
        .exclude(cve_id="")
        .first()
    )
    if found is None:
        raise Http404
    return found


def access_advisory_for_team(
    user: User, project_slug: str, identifier: str, permission: Permission
) -> Advisory:
    project = access_project(project_slug, user, permission)
    found = (
        Advisory.objects.filter(project=project, identifier=identifier)
        .select_related("project", "report")
        .first()
    )
    if found is None:
        raise Http404
    return found
