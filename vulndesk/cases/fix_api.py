"""The fix in the API: releases, affected ranges, the backport matrix and the fix plan.

Every answer holds only what the token's scopes may read: a change answers with the fix as it now
stands only to a token that may read reports (``project:report:read``).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.token_auth import TokenAuth, request_token, token_caller
from vulndesk.cases.actions.affected import do_set_affected_package
from vulndesk.cases.actions.fixes import backport_matrix, do_set_backport, do_set_fix_plan, fix_plan_of
from vulndesk.cases.models import BackportStatus
from vulndesk.intake.access import access_report_for_team
from vulndesk.intake.models import Report
from vulndesk.projects.access import access_project
from vulndesk.projects.actions import do_record_release
from vulndesk.projects.releases import PackageError
from vulndesk.web.problems import Problems

router = Router(tags=["fixes"], auth=TokenAuth())


class ReleaseIn(Schema):
    package: str
    version: str
    branch: str = ""
    commit: str = Field("", description="The full commit hash the release was tagged at.")
    released_on: dt.date | None = None


class ReleaseOut(ReleaseIn):
    pass


class AffectedIn(Schema):
    package: str
    affected: str


class BackportIn(Schema):
    package: str
    line: str
    status: BackportStatus
    fixed_version: str = ""
    fix_reference: str = ""
    reason: str = ""


class BackportOut(Schema):
    package: str
    line: str
    branch: str
    latest_version: str
    status: BackportStatus
    decided: bool
    fixed_version: str
    fix_reference: str
    reason: str


class FixPlanIn(Schema):
    timeline: str = ""
    mitigations: str = ""
    fix_available_at: dt.datetime | None = None


class FixOut(Schema):
    affected: list[AffectedIn]
    backports: list[BackportOut]
    fix_plan: FixPlanIn


def _caller(request: HttpRequest, permission: Permission) -> User:
    return token_caller(request, permission)


def _written(request: HttpRequest, report: Report) -> Status[FixOut | None]:
    """The fix as it now stands, to a token that may read it; to one that may only write (scoped
    to coordinating, not to reading reports), 204 and nothing: writing grants no reading."""
    if not request_token(request).allows(Permission.PROJECT_REPORT_READ):
        return Status(204, None)
    return Status(200, _fix_of(report))


def _refused(exc: PackageError) -> HttpError:
    return HttpError(422, str(exc))


def _fix_of(report: Report) -> FixOut:
    plan = fix_plan_of(report)
    rows = backport_matrix(report)
    return FixOut(
        affected=[AffectedIn(package=a.package, affected=a.affected) for a in report.affected_packages.all()],
        backports=[
            BackportOut(
                package=r.package,
                line=r.line,
                branch=r.branch,
                latest_version=r.latest_version,
                status=r.status,
                decided=r.decided,
                fixed_version=r.entry.fixed_version if r.entry else "",
                fix_reference=r.entry.fix_reference if r.entry else "",
                reason=r.entry.reason if r.entry else "",
            )
            for r in rows
        ],
        fix_plan=FixPlanIn(
            timeline=plan.timeline, mitigations=plan.mitigations, fix_available_at=plan.fix_available_at
        ),
    )


@router.get("/projects/{slug}/releases", response=list[ReleaseOut], summary="The releases a project recorded")
def list_releases(request: HttpRequest, slug: str) -> list[ReleaseOut]:
    project = access_project(
        slug, _caller(request, Permission.PROJECT_REPORT_READ), Permission.PROJECT_REPORT_READ
    )
    return [ReleaseOut.from_orm(r) for r in project.releases.all()]


@router.post(
    "/projects/{slug}/releases", response={201: ReleaseOut, 422: Problems}, summary="Record a release"
)
def record_release(request: HttpRequest, slug: str, payload: ReleaseIn) -> Status[ReleaseOut]:
    user = _caller(request, Permission.PROJECT_CASE_COORDINATE)
    project = access_project(slug, user, Permission.PROJECT_CASE_COORDINATE)
    try:
        release = do_record_release(project, **payload.dict(), acting_user=user)
    except PackageError as exc:
        raise _refused(exc) from None
    return Status(201, ReleaseOut.from_orm(release))


@router.get(
    "/projects/{slug}/reports/{number}/fix", response=FixOut, summary="A case's fix: ranges, backports, plan"
)
def get_fix(request: HttpRequest, slug: str, number: int) -> FixOut:
    user = _caller(request, Permission.PROJECT_REPORT_READ)
    return _fix_of(access_report_for_team(slug, number, user))


@router.put(
    "/projects/{slug}/reports/{number}/affected",
    response={200: FixOut, 204: None, 422: Problems},
    summary="Set a package's affected range",
)
def set_affected(request: HttpRequest, slug: str, number: int, payload: AffectedIn) -> Status[FixOut | None]:
    user = _caller(request, Permission.PROJECT_CASE_COORDINATE)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    try:
        do_set_affected_package(report, package=payload.package, affected=payload.affected, acting_user=user)
    except PackageError as exc:
        raise _refused(exc) from None
    return _written(request, report)


@router.put(
    "/projects/{slug}/reports/{number}/backports",
    response={200: FixOut, 204: None, 422: Problems},
    summary="Set a release line's status",
)
def set_backport(request: HttpRequest, slug: str, number: int, payload: BackportIn) -> Status[FixOut | None]:
    user = _caller(request, Permission.PROJECT_CASE_COORDINATE)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    try:
        do_set_backport(report, **payload.dict(), acting_user=user)
    except PackageError as exc:
        raise _refused(exc) from None
    return _written(request, report)


@router.put(
    "/projects/{slug}/reports/{number}/fix-plan",
    response={200: FixOut, 204: None, 422: Problems},
    summary="Set the fix plan",
)
def set_fix_plan(request: HttpRequest, slug: str, number: int, payload: FixPlanIn) -> Status[FixOut | None]:
    user = _caller(request, Permission.PROJECT_CASE_COORDINATE)
    report = access_report_for_team(slug, number, user, Permission.PROJECT_CASE_COORDINATE)
    try:
        do_set_fix_plan(report, **payload.dict(), acting_user=user)
    except PackageError as exc:
        raise _refused(exc) from None
    return _written(request, report)
