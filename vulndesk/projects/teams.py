"""A project's team as the desk reads it: which projects still have nobody on theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vulndesk.accounts.models import Membership
from vulndesk.projects.models import Project

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


def teamless_projects(user: User) -> list[Project]:
    """The projects this person manages the team of that have no active member: the desk asks
    for a team (their notices go to the administrators meanwhile)."""
    if not user.is_admin:
        return []  # a team lead is on their team: it is never empty
    staffed = Membership.objects.filter(user__is_active=True).values("project_id")
    return list(Project.objects.exclude(pk__in=staffed).order_by("name"))
