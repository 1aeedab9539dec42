"""The reporter's door: a tracking token names exactly one report."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.intake.actions import digest
from vulndesk.intake.models import Report
from vulndesk.projects.access import access_project

MAX_TOKEN_LENGTH = 64


def access_report_by_tracking_token(token: str) -> Report:
    """The report this link opens; 404 for unknown, malformed and revoked links alike."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Http404
    report = Report.objects.select_related("project").filter(tracking_digest=digest(token)).first()
    if report is None or report.tracking_revoked_at is not None:
        raise Http404
    return report


def access_report_for_team(
    slug: str, number: int, user: User, permission: Permission = Permission.PROJECT_REPORT_READ
) -> Report:
    """A report of a project on which the user holds ``permission``; 404 whether missing or forbidden."""
    project = access_project(slug, user, permission)
    report = Report.objects.select_related("project").filter(project=project, number=number).first()
    if report is None:
        raise Http404
    return report


def reports_visible_to(user: User) -> QuerySet[Report]:
    """Every report the user may read: all for admins, their teams' projects' for team members."""
    reports = Report.objects.select_related("project")
    if user.is_admin:
        return reports
    return reports.filter(project__memberships__user=user)
