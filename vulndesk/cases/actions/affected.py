"""What a case affects: package URLs with ``vers`` ranges, evaluated by univers.

A range is stored as the team wrote it, once univers has read it under the package's scheme, so
"is 1.3.1 affected?" gets the same answer here, in the backport matrix and in every export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from univers.version_constraint import VersionConstraint
from univers.version_range import RANGE_CLASS_BY_SCHEMES, VersionRange
from univers.versions import InvalidVersion

from vulndesk.audit.actions import record_event
from vulndesk.cases.models import AffectedPackage
from vulndesk.projects.releases import PackageError, parse_package, parse_version

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report


def parse_range(package: str, affected: str) -> VersionRange:
    """Read a vers range for ``package``; its scheme must be the package's own ecosystem."""
    scheme = parse_package(package).type
    text = affected.strip()
    if not text.startswith("vers:"):
        text = f"vers:{scheme}/{text}"  # the team may write just ">=1.2.0|<1.2.5"
    try:
        version_range: VersionRange = VersionRange.from_string(text)  # type: ignore[no-untyped-call]
    except (InvalidVersion, ValueError, TypeError, KeyError) as exc:
        raise PackageError(f"not a vers range ({exc}); write it like vers:{scheme}/>=1.2.0|<1.2.5") from exc
    if version_range.scheme not in (scheme, "generic") and scheme in RANGE_CLASS_BY_SCHEMES:
        raise PackageError(f"the range is for {version_range.scheme}, the package is {scheme}")
    return version_range


def is_affected(entry: AffectedPackage, version: str) -> bool:
    """Whether ``version`` of the entry's package falls in its affected range."""
    return parse_version(entry.package, version) in parse_range(entry.package, entry.affected)


def fixed_versions(entry: AffectedPackage) -> list[str]:
    """The versions that end each affected span: the ``<`` bounds of the range."""
    constraints: tuple[VersionConstraint, ...] = parse_range(entry.package, entry.affected).constraints
    return [str(c.version) for c in constraints if c.comparator == "<"]


def do_set_affected_package(
    report: Report, *, package: str, affected: str, acting_user: User | None
) -> AffectedPackage:
    """Record, or replace, the affected range of one package on a case."""
    package = parse_package(package).to_string()
    version_range = str(parse_range(package, affected))
    with transaction.atomic():
        entry, created = AffectedPackage.objects.update_or_create(
            report=report, package=package, defaults={"affected": version_range}
        )
        record_event(
            "case.affected_package_set",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"package": package, "affected": version_range, "new": created},
        )
    return entry


def do_remove_affected_package(entry: AffectedPackage, *, acting_user: User | None) -> None:
    with transaction.atomic():
        record_event(
            "case.affected_package_removed",
            acting_user=acting_user,
            project=entry.report.project,
            target=entry.report,
            details={"package": entry.package},
        )
        entry.delete()
