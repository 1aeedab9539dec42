"""What an export needs besides the advisory itself: where the instance lives, what was released.

An ``AdvisoryDocument`` says what the advisory says; the exports also name the instance's public
URLs and, for CSAF and OpenVEX, the versions the project actually released. Keeping those here lets
every exporter stay a plain function of two values, so the same revision exports byte for byte the
same twice.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from dataclasses import dataclass
from urllib.parse import quote

from vulndesk.advisories.document import AdvisoryDocument


class ExportError(ValueError):
    """An advisory that a format cannot express; the message says what and why."""


@dataclass(frozen=True)
class ReleasedVersion:
    """One version a project recorded as released (``vulndesk.projects.models.Release``)."""

    package: str  # package URL without a version
    version: str
    commit: str = ""  # the full hash it was tagged at, when recorded


@dataclass(frozen=True)
class ExportContext:
    base_url: str  # the instance's public address, without a trailing slash
    releases: tuple[ReleasedVersion, ...] = ()

    def advisory_url(self, document: AdvisoryDocument) -> str:
        return f"{self.base_url}/p/{quote(document.project_slug)}/advisories/{quote(document.identifier)}/"

    def export_url(self, document: AdvisoryDocument, format_name: str) -> str:
        return f"{self.advisory_url(document)}{format_name}.json"


def generator_version() -> str:
    """vulndesk's version, named as the generator in every export."""
    try:
        return importlib.metadata.version("vulndesk")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, whole seconds: the form OSV, CVE, CSAF and OpenVEX all accept."""
    if moment.tzinfo is None:
        raise ExportError("advisory times must be timezone-aware (UTC)")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
