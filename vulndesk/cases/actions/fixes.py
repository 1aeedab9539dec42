"""The fix: the backport matrix over the supported release lines, and the fix plan.

The matrix has one row per supported release line (vulndesk/projects/releases.py) of each package
the case affects. A row the team has not set yet shows what the affected range says of the line's
newest release, so the matrix is useful from the moment the range is known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.cases.actions.affected import is_affected, parse_range
from vulndesk.cases.actions.case_events import do_record_case_event
from vulndesk.cases.actions.triage import triage_of
from vulndesk.cases.models import AffectedPackage, BackportEntry, BackportStatus, FixPlan
from vulndesk.cases.vultron import CaseEvent, CaseState
from vulndesk.projects.releases import (
    PackageError,
    ReleaseLine,
    SupportedRelease,
    parse_version,
    release_lines,
    supported_releases,
)

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report

MAX_PLAN_TEXT = 20_000
# A fix date outside these years is a typing mistake (and far dates upset timezone arithmetic).
EARLIEST_FIX, LATEST_FIX = 1990, 2200


@dataclass(frozen=True)
class MatrixRow:
    package: str
    line: str
    branch: str
    latest_version: str
    status: BackportStatus
    entry: BackportEntry | None  # None: the status is what the affected range says

    @property
    def decided(self) -> bool:
        return self.entry is not None


def backport_matrix(report: Report) -> list[MatrixRow]:
    ranges = {entry.package: entry for entry in report.affected_packages.all()}
    entries = {(e.package, e.line): e for e in report.backports.all()}
    rows = []
    for supported in supported_releases(report.project):
        if supported.package not in ranges:
            continue
        entry = entries.get((supported.package, supported.line))
        status = (
            BackportStatus(entry.status)
            if entry
            else _status_from_range(ranges[supported.package], supported)
        )
        rows.append(
            MatrixRow(
                supported.package, supported.line, supported.branch, supported.latest.version, status, entry
            )
        )
    return rows


def unsupported_lines(report: Report) -> list[ReleaseLine]:
    """The release lines of the affected packages that the policy does not support: they get no
    fix, and the matrix says so rather than leaving them out."""
    affected = set(report.affected_packages.values_list("package", flat=True))
    return [line for line in release_lines(report.project) if line.package in affected and not line.supported]


def _status_from_range(affected: AffectedPackage, supported: SupportedRelease) -> BackportStatus:
    try:
        hit = is_affected(affected, supported.latest.version)
    except PackageError:
        return BackportStatus.AFFECTED  # an unreadable version is assumed affected until the team says
    return BackportStatus.AFFECTED if hit else BackportStatus.NOT_AFFECTED


def do_set_backport(
    report: Report,
    *,
    package: str,
    line: str,
    status: BackportStatus,
    fixed_version: str = "",
    fix_reference: str = "",
    reason: str = "",
    acting_user: User | None,
) -> BackportEntry:
    """Record the team's word on one release line; a fixed line names a version outside the range."""
    row = _row_of(report, package, line)
    _check_backport(report, row, status, fixed_version.strip(), reason.strip())
    with transaction.atomic():
        entry, _ = BackportEntry.objects.update_or_create(
            report=report,
            package=package,
            line=line,
            defaults={
                "branch": row.branch,
                "status": status,
                "fixed_version": fixed_version.strip() if status == BackportStatus.FIXED else "",
                "fix_reference": fix_reference.strip(),
                "reason": reason.strip(),
                "updated_at": timezone.now(),
                "updated_by": acting_user,
            },
        )
        record_event(
            "case.backport_set",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={
                "package": package,
                "line": line,
                "status": str(status),
                "fixed_version": entry.fixed_version,
            },
        )
        if status == BackportStatus.FIXED and acting_user is not None:
            _record_fix_ready(report, acting_user)
    return entry


def _record_fix_ready(report: Report, acting_user: User) -> None:
    """The first fixed line is Vultron's F (fix ready): the case records it and the reporter is told."""
    if CaseEvent.FIX_READY not in CaseState.parse(triage_of(report).case_state).happened:
        do_record_case_event(report, CaseEvent.FIX_READY, acting_user=acting_user)


def _row_of(report: Report, package: str, line: str) -> MatrixRow:
    for row in backport_matrix(report):
        if (row.package, row.line) == (package, line):
            return row
    raise PackageError(f"{package} {line} is not a supported release line this case affects")


def _check_backport(report: Report, row: MatrixRow, status: BackportStatus, fixed: str, reason: str) -> None:
    if status == BackportStatus.WONT_FIX and not reason:
        raise PackageError("a line that will not be fixed needs a reason")
    if status != BackportStatus.FIXED:
        return
    if not fixed:
        raise PackageError("a fixed line needs the version that fixes it")
    parse_version(row.package, fixed)
    affected = report.affected_packages.get(package=row.package)
    if is_affected(affected, fixed):
        raise PackageError(f"{fixed} is inside the affected range {affected.affected}: it cannot be the fix")
    parse_range(row.package, affected.affected)


def fix_plan_of(report: Report) -> FixPlan:
    """The report's fix plan, to read. Reading never writes: a report without one reads as a
    fresh, unsaved plan; do_set_fix_plan creates it."""
    return FixPlan.objects.filter(report=report).first() or FixPlan(report=report)


def _in_utc(moment: dt.datetime) -> dt.datetime:
    """Stored in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows."""
    if moment.utcoffset() is None:
        raise PackageError("the time a fix became available needs a timezone (times are stored in UTC)")
    try:
        utc = moment.astimezone(dt.UTC)
    except OverflowError:
        raise PackageError("the time a fix became available is out of range") from None
    if not EARLIEST_FIX <= utc.year <= LATEST_FIX:
        raise PackageError(
            f"the time a fix became available must fall between {EARLIEST_FIX} and {LATEST_FIX}"
        )
    return utc


def do_set_fix_plan(
    report: Report,
    *,
    timeline: str,
    mitigations: str,
    fix_available_at: dt.datetime | None,
    acting_user: User | None,
) -> FixPlan:
    """The fix's timeline and the mitigations users can apply until they upgrade."""
    if fix_available_at is not None:
        fix_available_at = _in_utc(fix_available_at)
    for name, text in (("timeline", timeline), ("mitigations", mitigations)):
        if len(text) > MAX_PLAN_TEXT:
            raise PackageError(f"the {name} is longer than {MAX_PLAN_TEXT} characters")
    with transaction.atomic():
        plan, _ = FixPlan.objects.select_for_update().get_or_create(report=report)
        plan.timeline = timeline.strip()
        plan.mitigations = mitigations.strip()
        plan.fix_available_at = fix_available_at
        plan.updated_at = timezone.now()
        plan.save()
        record_event(
            "case.fix_plan_set",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"fix_available": fix_available_at.isoformat() if fix_available_at else ""},
        )
    return plan
