"""Which releases a project supports, read from its policy and the releases it recorded.

Versions are compared with ``univers`` under the package's own scheme (PEP 440 for ``pkg:pypi``,
semver for ``pkg:npm``...), so "the three most recent minor releases" means the same thing here
as in the ranges of an advisory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packageurl import PackageURL
from univers.version_range import RANGE_CLASS_BY_SCHEMES
from univers.versions import InvalidVersion, Version

from vulndesk.projects.models import Project, Release

_RELEASE_LINE = re.compile(r"^v?(\d+)\.(\d+)")


class PackageError(ValueError):
    """A package URL or version that cannot be read; the message says why."""


def parse_package(purl: str) -> PackageURL:
    """A package URL naming a package, not one version of it."""
    try:
        package = PackageURL.from_string(purl.strip())
    except ValueError as exc:
        raise PackageError(f"not a package URL ({exc}); write it like pkg:pypi/llmesh") from exc
    if package.version:
        raise PackageError("a package URL here names the package only: drop the @version")
    return package


def version_class(purl: str) -> type[Version]:
    """The version scheme of a package URL's ecosystem (``generic`` when univers has none)."""
    scheme = parse_package(purl).type
    range_class = RANGE_CLASS_BY_SCHEMES.get(scheme) or RANGE_CLASS_BY_SCHEMES["generic"]
    found: type[Version] | None = range_class.version_class
    if found is None:
        raise PackageError(f"vulndesk cannot compare versions of {scheme} packages")
    return found


def parse_version(purl: str, version: str) -> Version:
    try:
        return version_class(purl)(version.strip())
    except (InvalidVersion, ValueError, TypeError) as exc:
        raise PackageError(f"{version!r} is not a version of a {parse_package(purl).type} package") from exc


def release_line(version: str) -> str:
    """``1.4`` for 1.4.2: the minor release a version belongs to ("" when it has no major.minor)."""
    match = _RELEASE_LINE.match(version)
    return f"{match.group(1)}.{match.group(2)}" if match else ""


@dataclass(frozen=True)
class SupportedRelease:
    """One supported release line of one package: its newest release stands for its branch."""

    package: str
    line: str
    latest: Release

    @property
    def branch(self) -> str:
        return self.latest.branch or f"{self.line}.x"


@dataclass(frozen=True)
class ReleaseLine:
    """One release line of one package as the policy treats it: supported (it gets fixes) or not."""

    package: str
    line: str
    latest: Release
    supported: bool

    @property
    def branch(self) -> str:
        return self.latest.branch or f"{self.line}.x"

    @property
    def label(self) -> str:
        """``1.4.x``: the line as the seeds' "Supported Versions" tables write it."""
        return f"{self.line}.x"


def release_lines(project: Project) -> list[ReleaseLine]:
    """Every recorded release line, newest first per package, each with the policy's word on it.

    The unsupported lines are listed too: a user on 1.4 needs to read that 1.4 gets no fixes, not
    to guess it from its absence.
    """
    rule = project.policy.supported_versions
    wanted = {release_line(v) or v for v in rule.versions}
    lines: list[ReleaseLine] = []
    for package in project.releases.values_list("package", flat=True).distinct().order_by("package"):
        for rank, newest in enumerate(_newest_per_line(project, package)):
            match rule.mode:
                case "recent_minor":
                    supported = rank < (rule.count or 0)
                case "explicit":
                    supported = newest.line in wanted
                case _:
                    supported = False
            lines.append(ReleaseLine(package, newest.line, newest.latest, supported))
    return lines


@dataclass(frozen=True)
class VersionTable:
    """The "Supported Versions" table of the seeds, every recorded line included."""

    lines: list[ReleaseLine]

    @property
    def several_packages(self) -> bool:
        return len({line.package for line in self.lines}) > 1


def version_table(project: Project) -> VersionTable:
    return VersionTable(release_lines(project))


def supported_releases(project: Project) -> list[SupportedRelease]:
    """The release lines the policy supports, newest first, per package."""
    return [
        SupportedRelease(line.package, line.line, line.latest)
        for line in release_lines(project)
        if line.supported
    ]


def _newest_per_line(project: Project, package: str) -> list[SupportedRelease]:
    newest: dict[str, tuple[Version, Release]] = {}
    for release in project.releases.filter(package=package):
        try:
            version = parse_version(package, release.version)
        except PackageError:
            continue  # an unreadable version cannot be ordered; it shows in the release list only
        line = release_line(release.version)
        if line and (line not in newest or version > newest[line][0]):
            newest[line] = (version, release)
    ordered = sorted(newest.items(), key=lambda item: item[1][0], reverse=True)
    return [SupportedRelease(package, line, release) for line, (_, release) in ordered]
