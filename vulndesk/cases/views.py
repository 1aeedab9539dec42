"""The team's forms for the fix: affected ranges, the backport matrix and the fix plan."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.actions.affected import do_remove_affected_package, do_set_affected_package
from vulndesk.cases.actions.fixes import do_set_backport, do_set_fix_plan
from vulndesk.cases.decisions import case_form
from vulndesk.cases.models import BackportStatus
from vulndesk.intake.models import Report
from vulndesk.projects.releases import PackageError
from vulndesk.web.forms import flash_outcome, optional_datetime_local


@case_form(Permission.PROJECT_CASE_COORDINATE, anchor="fix")
def set_affected(request: HttpRequest, report: Report, user: User) -> None:
    package = request.POST.get("package", "")
    if request.POST.get("action") == "remove":
        entry = report.affected_packages.filter(package=package).first()
        if entry is not None:
            do_remove_affected_package(entry, acting_user=user)
            messages.success(request, f"{package} is no longer listed as affected.")
        return
    flash_outcome(
        request,
        lambda: do_set_affected_package(
            report, package=package, affected=request.POST.get("affected", ""), acting_user=user
        ),
        refused=PackageError,
        not_done="Affected versions not saved",
        done="Affected versions saved.",
    )


@case_form(Permission.PROJECT_CASE_COORDINATE, anchor="fix")
def set_backport(request: HttpRequest, report: Report, user: User) -> None:
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


@case_form(Permission.PROJECT_CASE_COORDINATE, anchor="fix")
def set_fix_plan(request: HttpRequest, report: Report, user: User) -> None:
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


def _utc_datetime(text: str) -> dt.datetime | None:
    """A datetime-local field's value, which the form labels as UTC."""
    return optional_datetime_local(
        text, dt.UTC, lambda t: PackageError(f"{t!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)")
    )
