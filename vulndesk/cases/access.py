"""The one door to a case-domain object named in a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from vulndesk.accounts.permissions import Permission
from vulndesk.cases.models import SavedReply
from vulndesk.projects.access import access_project

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


def access_saved_reply(slug: str, reply_id: int, user: User) -> SavedReply:
    """A saved reply of a project the user triages; 404 whether it is missing or forbidden."""
    project = access_project(slug, user, Permission.PROJECT_REPORT_TRIAGE)
    reply = SavedReply.objects.filter(project=project, pk=reply_id).select_related("project").first()
    if reply is None:
        raise Http404
    return reply
