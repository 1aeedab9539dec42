"""The team's forms for the fix: affected ranges, the backport matrix and the fix plan."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.actions.affected import do_remove_affected_package, do_set_affected_package
from vulndesk.cases.actions.fixes import do_set_backport, do_set_fix_plan
from vulndesk.cases.models import BackportStatus
from vulndesk.intake.access import access_report_for_team
from vulndesk.projects.releases import PackageError
from vulndesk.web.forms import flash_outcome, optional_datetime_local


def _back_to_fix(slug: str, number: int) -> HttpResponse:
    return redirect(reverse("report-page", args=[slug, number]) + "#fix")


@login_required
@require_POST
def set_affected(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    package = request.POST.get("package", "")
    if request.POST.get("action") == "remove":
        entry = report.affected_packages.filter(package=package).first()
        if entry is not None:
            do_remove_affected_package(entry, acting_user=user)
            messages.success(request, f"{package} is no longer listed as affected.")
        return _back_to_fix(slug, number)
    flash_outcome(
        request,
        lambda: do_set_affected_package(
            report, package=package, affected=request.POST.get("affected", ""), acting_user=user
        ),
        refused=PackageError,
        not_done="Affected versions not saved",
        done="Affected versions saved.",
    )
    return _back_to_fix(slug, number)


@login_required
@require_POST
def set_backport(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    flash_outcome(
        request,
        lambda: do_set_backport(
            report,
            package=request.POST.get("package", ""),
            line=request.POST.get("line", ""),
            status=BackportStatus(request.POST.get("status", "")),
            fixed_version=request.POST.get("fixed_version", ""),
            fix_reference=request.POST.get("fix_reference", ""),
            reason=request.POST.get("reason", ""),
            acting_user=user,
        ),
        refused=ValueError,  # PackageError, or a status that is not one of the choices
        not_done="Release line not saved",
        done="Release line saved.",
    )
    return _back_to_fix(slug, number)


@login_required
@require_POST
def set_fix_plan(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = signed_in_user(request)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    flash_outcome(
        request,
        lambda: do_set_fix_plan(
            report,
            timeline=request.POST.get("timeline", ""),
            mitigations=request.POST.get("mitigations", ""),
            fix_available_at=_utc_datetime(request.POST.get("fix_available_at", "")),
            acting_user=user,
        ),
        refused=ValueError,
        not_done="Fix plan not saved",
        done="Fix plan saved.",
    )
    return _back_to_fix(slug, number)


def _utc_datetime(text: str) -> dt.datetime | None:
    """A datetime-local field's value, which the form labels as UTC."""
    return optional_datetime_local(
        text, dt.UTC, lambda t: PackageError(f"{t!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)")
    )
