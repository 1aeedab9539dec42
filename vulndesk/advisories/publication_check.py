"""What a draft would meet on its way out, shown on the editor and at approval: the checks approval
makes, and every problem an export would raise.

Each exporter in ``exports/`` runs on the draft as if it were published now; what it produces is
thrown away (exports are served only from a published revision, ``exports/published.py``), only
its ``ExportError`` is kept. An exporter stops at its first problem, so a failing one runs again
on each package alone and on the advisory without packages, to name every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from vulndesk.advisories.content import AdvisoryContent, check_content
from vulndesk.advisories.document import AdvisoryDocument
from vulndesk.advisories.documents import draft_document
from vulndesk.advisories.exports.context import ExportContext, ExportError
from vulndesk.advisories.exports.published import project_context
from vulndesk.advisories.exports.render import FORMATS, Exporter

if TYPE_CHECKING:
    import datetime as dt

    from vulndesk.advisories.models import Advisory, AdvisoryRevision

FORMAT_LABELS = {
    "osv": "OSV",
    "cve": "CVE JSON 5.1",
    "csaf": "CSAF 2.0",
    "csaf-vex": "CSAF 2.0 VEX",
    "openvex": "OpenVEX",
}


@dataclass(frozen=True)
class ExportWarning:
    formats: tuple[str, ...]  # the formats' names as people know them: "OSV", "CVE JSON 5.1"
    problem: str

    def __str__(self) -> str:
        return f"{', '.join(self.formats)}: {self.problem}"


@dataclass(frozen=True)
class PublicationCheck:
    approval_problems: tuple[str, ...]  # what approval refuses until fixed
    export_warnings: tuple[ExportWarning, ...]  # what the public exports would refuse

    @property
    def clear(self) -> bool:
        return not self.approval_problems and not self.export_warnings


def check_publication(
    content: AdvisoryContent, document: AdvisoryDocument, context: ExportContext
) -> PublicationCheck:
    return PublicationCheck(
        tuple(check_content(content, for_publication=True)), tuple(export_warnings(document, context))
    )


def export_problems(advisory: Advisory, revision: AdvisoryRevision, now: dt.datetime) -> list[str]:
    """What publication refuses: ``export: <formats>: <reason>`` for each problem an export of
    ``revision`` would raise, so that a public export link never answers "cannot be exported"."""
    document = draft_document(revision, at=now)
    return [f"export: {w}" for w in export_warnings(document, project_context(advisory.project))]


def export_warnings(document: AdvisoryDocument, context: ExportContext) -> list[ExportWarning]:
    """Every export problem, once, with the formats that have it."""
    formats_of: dict[str, list[str]] = {}
    for name, exporter in FORMATS.items():
        for problem in _problems(exporter, document, context):
            formats_of.setdefault(problem, []).append(FORMAT_LABELS[name])
    return [ExportWarning(tuple(formats), problem) for problem, formats in formats_of.items()]


def _problems(exporter: Exporter, document: AdvisoryDocument, context: ExportContext) -> list[str]:
    first = _problem(exporter, document, context)
    if first is None:
        return []
    found = []
    for part in _parts(document):
        problem = _problem(exporter, part, context)
        if problem is not None and problem not in found:
            found.append(problem)
    return found or [first]


def _problem(exporter: Exporter, document: AdvisoryDocument, context: ExportContext) -> str | None:
    try:
        exporter(document, context)
    except ExportError as exc:
        return str(exc)
    return None


def _parts(document: AdvisoryDocument) -> list[AdvisoryDocument]:
    alone = [replace(document, affected=(entry,)) for entry in document.affected]
    return [*alone, replace(document, affected=())]
