"""An advisory's ``vers`` ranges as spans and as the status of each concrete version.

Every format says "affected" differently: OSV with introduced/fixed events, CVE with
``version``/``lessThan``, CSAF and OpenVEX per released version. All of them start here, from the
range univers has read (``vulndesk.cases.actions.affected.parse_range``), so a version has one answer in
every export and on the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from packageurl import PackageURL
from univers.version_constraint import VersionConstraint
from univers.version_range import VersionRange
from univers.versions import Version

from vulndesk.advisories.document import AffectedRange
from vulndesk.advisories.exports.context import ExportContext, ExportError
from vulndesk.cases.actions.affected import parse_range
from vulndesk.projects.releases import PackageError, parse_package, parse_version

INTRODUCED_FROM_THE_START = "0"  # OSV's and CVE's spelling of "every version before the bound"


@dataclass(frozen=True)
class Span:
    """One contiguous run of affected versions: from ``introduced`` up to ``fixed`` (excluded) or
    ``last_affected`` (included); neither means "still affected"."""

    introduced: str
    fixed: str = ""
    last_affected: str = ""


class VersionStatus(StrEnum):
    AFFECTED = "affected"
    FIXED = "fixed"  # after the end of a span: carries the fix
    NOT_AFFECTED = "not_affected"  # before every span: the vulnerable code is not there yet


@dataclass(frozen=True)
class PackageVersion:
    version: str
    status: VersionStatus
    released: bool = False  # recorded as a release of the project, not only named by the range


@dataclass(frozen=True)
class AffectedPackage:
    """One package of an advisory, read and evaluated once for every format."""

    purl: PackageURL
    version_range: VersionRange
    spans: tuple[Span, ...]
    versions: tuple[PackageVersion, ...]  # released or named by the range, oldest first
    functions: tuple[str, ...] = ()  # the affected functions the advisory names

    @property
    def package(self) -> str:
        return self.purl.to_string()

    @property
    def name(self) -> str:
        """The package's name as its ecosystem writes it (``@scope/name``, ``group:artifact``...)."""
        return package_name(self.purl)

    @property
    def fixed_versions(self) -> tuple[str, ...]:
        return tuple(span.fixed for span in self.spans if span.fixed)

    def with_status(self, status: VersionStatus) -> tuple[str, ...]:
        return tuple(v.version for v in self.versions if v.status is status)

    def released_with_status(self, status: VersionStatus) -> tuple[str, ...]:
        """The recorded releases with ``status``, oldest first (OSV ``affected[].versions``)."""
        return tuple(v.version for v in self.versions if v.status is status and v.released)


def package_name(purl: PackageURL) -> str:
    if not purl.namespace:
        return str(purl.name)
    separator = ":" if purl.type == "maven" else "/"
    return f"{purl.namespace}{separator}{purl.name}"


def affected_packages(
    affected: tuple[AffectedRange, ...], context: ExportContext
) -> tuple[AffectedPackage, ...]:
    """Every package of the advisory, sorted by package URL so the exports are stable."""
    packages = [_affected_package(entry, context) for entry in affected]
    return tuple(sorted(packages, key=lambda p: p.package))


def _affected_package(entry: AffectedRange, context: ExportContext) -> AffectedPackage:
    try:
        purl = parse_package(entry.package)
        version_range = parse_range(entry.package, entry.affected)
    except PackageError as exc:
        raise ExportError(f"{entry.package}: {exc}") from exc
    spans = spans_of(version_range)
    named = [v for span in spans for v in (span.introduced, span.fixed, span.last_affected)]
    released = [r.version for r in context.releases if _same_package(r.package, purl)]
    released_versions = {version for _, version in _sorted_versions(purl.to_string(), released)}
    versions = _sorted_versions(purl.to_string(), [*released, *named])
    statuses = tuple(
        PackageVersion(text, _status(version, version_range, spans), version in released_versions)
        for text, version in versions
    )
    return AffectedPackage(purl, version_range, spans, statuses, entry.functions)


def spans_of(version_range: VersionRange) -> tuple[Span, ...]:
    """The vers constraints, in univers' order, as spans (vers spec: a ``<`` or ``<=`` closes the
    span a ``>=`` opened, and a ``<`` with nothing open starts at the first version)."""
    spans: list[Span] = []
    opened = ""
    constraints: tuple[VersionConstraint, ...] = version_range.constraints
    for constraint in constraints:
        comparator, version = constraint.comparator, str(constraint.version)
        if comparator == "*":
            spans.append(Span(INTRODUCED_FROM_THE_START))
        elif comparator == ">=":
            opened = version
        elif comparator == "<":
            spans.append(Span(opened or INTRODUCED_FROM_THE_START, fixed=version))
            opened = ""
        elif comparator == "<=":
            spans.append(Span(opened or INTRODUCED_FROM_THE_START, last_affected=version))
            opened = ""
        elif comparator == "=":
            spans.append(Span(version, last_affected=version))
        else:
            # ">" and "!=" have no counterpart in OSV events or CVE version ranges.
            raise ExportError(f"{version_range}: write {comparator}{version} with >=, <, <= or = instead")
    if opened:
        spans.append(Span(opened))
    return tuple(spans)


def _status(version: Version, version_range: VersionRange, spans: tuple[Span, ...]) -> VersionStatus:
    if version in version_range:
        return VersionStatus.AFFECTED
    ends = [span.fixed or span.last_affected for span in spans if span.fixed or span.last_affected]
    if any(version >= type(version)(end) for end in ends):
        return VersionStatus.FIXED
    return VersionStatus.NOT_AFFECTED


def _sorted_versions(package: str, texts: list[str]) -> list[tuple[str, Version]]:
    by_version: dict[Version, str] = {}
    for text in texts:
        if not text or text == INTRODUCED_FROM_THE_START:
            continue
        try:
            version = parse_version(package, text)
        except PackageError:
            continue  # a release whose version cannot be ordered cannot be placed in or out of the range
        by_version.setdefault(version, str(version))
    return [(text, version) for version, text in sorted(by_version.items())]


def _same_package(package: str, purl: PackageURL) -> bool:
    try:
        return parse_package(package).to_string() == purl.to_string()
    except PackageError:
        return False
