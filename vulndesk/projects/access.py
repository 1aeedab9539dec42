"""The one door to a project named in a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import Http404

from vulndesk.projects.models import Project

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.accounts.permissions import Permission


def access_public_project(slug: str) -> Project:
    """A project's public face (policy page, form, security.txt) is open to everyone."""
    try:
        return Project.objects.get(slug=slug)
    except Project.DoesNotExist:
        raise Http404 from None


def access_project(slug: str, user: User, permission: Permission) -> Project:
    """A project the user holds ``permission`` on; 404 whether it is missing or forbidden."""
    project = Project.objects.filter(slug=slug).first()
    if project is None or not user.is_authenticated or not user.has_project_permission(project, permission):
        raise Http404
    return project


def default_project() -> Project | None:
    """The project whose security.txt the instance serves at /.well-known/security.txt."""
    slug = getattr(settings, "DEFAULT_PROJECT", "")
    if slug:
        return Project.objects.filter(slug=slug).first()
    return Project.objects.order_by("created_at", "pk").first()
