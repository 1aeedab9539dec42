"""The reporter's door: a tracking token names exactly one report."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.intake.actions import digest
from vulndesk.intake.models import Report, ReportAttachment
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


TrackingView = Callable[[HttpRequest, str], HttpResponse]


def tracking_form(anchor: str = "") -> Callable[[TrackingView], TrackingView]:
    """A form of the reporter's tracking page: posted to its own address. Opened any other way (a
    reload after the redirect, a saved address), it is the page's section again, not an error; a
    wrong link is the same 404 as everywhere."""

    def wrap(view: TrackingView) -> TrackingView:
        @functools.wraps(view)
        def handle(request: HttpRequest, token: str) -> HttpResponse:
            if request.method == "POST":
                return view(request, token)
            access_report_by_tracking_token(token)
            return redirect(reverse("tracking", args=[token]) + (f"#{anchor}" if anchor else ""))

        return require_http_methods(["GET", "HEAD", "POST"])(handle)

    return wrap


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


def access_attachment_for_team(slug: str, number: int, uid: uuid.UUID, user: User) -> ReportAttachment:
    """An attachment of a report the user may read on the desk; 404 whether missing or forbidden."""
    report = access_report_for_team(slug, number, user)
    return _attachment_of(report, uid)


def access_attachment_by_tracking_token(token: str, uid: uuid.UUID) -> ReportAttachment:
    """An attachment of the report this link opens, and of no other report."""
    return _attachment_of(access_report_by_tracking_token(token), uid)


def _attachment_of(report: Report, uid: uuid.UUID) -> ReportAttachment:
    attachment = ReportAttachment.objects.filter(report=report, uid=uid).first()
    if attachment is None:
        raise Http404
    attachment.report = report  # the report already fetched, with its project
    return attachment
