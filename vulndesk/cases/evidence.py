"""Evidence first: what a report carries, so the team reads the best-supported reports first.

A report is read once when it arrives (and again when its reporter writes more): does it hold a
proof of concept (a code block, a shell session or an attachment), reproduction steps, and a
version that names one of the project's releases? The answer is stored in ``ReportEvidence``: a
plain score the queue sorts by, and sealed details, so sorting never opens a report.

Nothing here rejects a report. A report without steps or a proof of concept is listed on the
"needs evidence" page, where the team can ask for the missing items (``needs_evidence.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy

from vulndesk.cases.models import Author, ReportEvidence, Resolution, Triage
from vulndesk.intake.models import Report
from vulndesk.projects.releases import release_lines

# A fenced block (CommonMark), an indented block of two lines or more, or a shell session.
_CODE_BLOCK = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)\S.*\n(?: {4}|\t)\S", re.MULTILINE)
_SHELL_LINE = re.compile(r"^\s*[$#>] \S+", re.MULTILINE)
# "1. …" / "2) …" / "Step 3: …": two numbered lines or more make a list of steps.
_NUMBERED_STEP = re.compile(r"^\s*(?:step\s*)?\d{1,2}\s*[.):]\s+\S", re.MULTILINE | re.IGNORECASE)
MIN_STEPS = 2
_STEPS_HEADING = re.compile(r"\b(?:steps to reproduce|to reproduce|reproduction steps)\b", re.IGNORECASE)
_VERSION = re.compile(
    r"(?<![\w.])v?(\d+\.\d+(?:\.\d+)?(?:[-.]?(?:rc|a|b|alpha|beta|dev|post)\.?\d*)?)(?!\w|\.\d)"
)
MAX_VERSIONS = 20  # a report naming more versions than this is a changelog, not a claim

# (A version may end a sentence: only a following digit or letter makes it part of a longer word.)
# Weights of the score: a proof of concept and steps matter most; a real version helps.
POC_POINTS, STEPS_POINTS, VERSION_POINTS = 2, 2, 1


@dataclass(frozen=True)
class Evidence:
    proof_of_concept: str  # "code block", "attachment", "proof-of-concept field" or ""
    reproduction_steps: bool
    versions: tuple[str, ...]  # the versions the report names that are releases of the project

    @property
    def score(self) -> int:
        return (
            (POC_POINTS if self.proof_of_concept else 0)
            + (STEPS_POINTS if self.reproduction_steps else 0)
            + (VERSION_POINTS if self.versions else 0)
        )

    @property
    def missing(self) -> list[str]:
        """What to ask the reporter for, in the words of the request."""
        wanted = [] if self.reproduction_steps else ["the steps to reproduce the issue"]
        return wanted + ([] if self.proof_of_concept else ["a proof of concept (code, a command or a file)"])


def read_evidence(fields: dict[str, str], attachment_count: int, releases: Iterable[str]) -> Evidence:
    """What the report's text and attachments carry; ``releases`` are the project's versions."""
    text = "\n\n".join(fields.values())
    return Evidence(
        proof_of_concept=_proof_of_concept(fields, text, attachment_count),
        reproduction_steps=bool(fields.get("reproduction_steps", "").strip()) or _has_steps(text),
        versions=_known_versions(text, releases),
    )


def _proof_of_concept(fields: dict[str, str], text: str, attachment_count: int) -> str:
    if fields.get("proof_of_concept", "").strip():
        return "proof-of-concept field"
    if _CODE_BLOCK.search(text) or _INDENTED_CODE.search(text) or _SHELL_LINE.search(text):
        return "code block"
    return "attachment" if attachment_count else ""


def _has_steps(text: str) -> bool:
    return len(_NUMBERED_STEP.findall(text)) >= MIN_STEPS or bool(_STEPS_HEADING.search(text))


def _known_versions(text: str, releases: Iterable[str]) -> tuple[str, ...]:
    known = {release.removeprefix("v"): release for release in releases}
    named: list[str] = []
    for match in _VERSION.finditer(text):
        version = known.get(match.group(1))
        if version and version not in named:
            named.append(version)
        if len(named) >= MAX_VERSIONS:
            break
    return tuple(named)


def report_text(report: Report) -> tuple[dict[str, str], int]:
    """The report's fields and what its reporter wrote since, and how many files it holds."""
    fields = report.fields
    replies = report.messages.filter(author_kind=Author.REPORTER)
    for n, message in enumerate(replies, start=1):
        fields[f"reply {n}"] = message.body
    return fields, report.attachments.count()


def record_evidence(report: Report, arrived: tuple[dict[str, str], int] | None = None) -> ReportEvidence:
    """Read the report and store what it carries; called in the transaction that changed it.

    Intake passes what just ``arrived`` (its fields and how many files): nothing to open or count.
    """
    fields, attachments = arrived or report_text(report)
    releases = report.project.releases.values_list("version", flat=True)
    evidence = read_evidence(fields, attachments, releases)
    stored = (None if arrived else ReportEvidence.objects.filter(report=report).first()) or ReportEvidence(
        report=report
    )
    stored.score = evidence.score
    stored.needs_evidence = bool(evidence.missing)
    stored.details = {
        "proof_of_concept": evidence.proof_of_concept,
        "reproduction_steps": evidence.reproduction_steps,
        "versions": list(evidence.versions),
    }
    stored.save()
    return stored


def on_report_received(report: Report, fields: dict[str, str], attachments: int) -> None:
    """Registered in ``intake.hooks.on_report_received``: intake hands over what just arrived."""
    record_evidence(report, (fields, attachments))


def carries_evidence(report: Report) -> bool:
    """Registered in ``intake.hooks.carries_evidence``: a proof of concept or steps to reproduce
    (a version number alone is too easy to claim), read from what ``on_report_received`` stored."""
    return ReportEvidence.objects.filter(report=report, score__gte=min(POC_POINTS, STEPS_POINTS)).exists()


def evidence_of(report: Report) -> Evidence:
    """The stored reading, made now for a report that arrived before evidence was read."""
    stored = ReportEvidence.objects.filter(report=report).first() or record_evidence(report)
    details = stored.details
    return Evidence(
        proof_of_concept=str(details.get("proof_of_concept", "")),
        reproduction_steps=bool(details.get("reproduction_steps")),
        versions=tuple(str(v) for v in details.get("versions", []) or []),  # type: ignore[attr-defined]
    )


# The queue's "by evidence" order: strongest first, reports never read last (PostgreSQL would
# put a missing score first in a descending sort).
BY_EVIDENCE: OrderBy = F("evidence__score").desc(nulls_last=True)


def by_evidence(reports: QuerySet[Report]) -> QuerySet[Report]:
    return reports.order_by(BY_EVIDENCE, "-received_at")


@dataclass(frozen=True)
class VersionClaim:
    version: str
    line: str
    supported: bool | None  # None: the line is not among the recorded release lines


def version_claims(report: Report, evidence: Evidence) -> list[VersionClaim]:
    """Each named release with the policy's word on its line, as the project's releases stand now."""
    lines = {line.line: line.supported for line in release_lines(report.project)}
    claims = []
    for version in evidence.versions:
        line = ".".join(version.removeprefix("v").split(".")[:2])
        claims.append(VersionClaim(version, line, lines.get(line)))
    return claims


@dataclass(frozen=True)
class SenderHistory:
    reports: int  # other reports from the same sender on this instance
    valid: int
    invalid: int
    duplicate: int

    @property
    def undecided(self) -> int:
        return self.reports - self.valid - self.invalid - self.duplicate


def sender_history(report: Report) -> SenderHistory:
    """The same sender's other reports: same address (by its blind index) or same OpenPGP key.

    Only counts, for the team: the address itself is never compared in clear.
    """
    same = _same_sender(report)
    if same is None:
        return SenderHistory(0, 0, 0, 0)
    others = Report.objects.filter(same).exclude(pk=report.pk)
    decided = Triage.objects.filter(report__in=others)
    return SenderHistory(
        reports=others.count(),
        valid=decided.filter(resolution=Resolution.NONE, decided_at__isnull=False).count(),
        invalid=decided.filter(resolution__in=[Resolution.INVALID, Resolution.NOT_SECURITY]).count(),
        duplicate=decided.filter(resolution=Resolution.DUPLICATE).count(),
    )


def _same_sender(report: Report) -> Q | None:
    keys = {report.signer_fingerprint} - {""}
    key = getattr(report, "reporter_key", None)
    if key is not None:
        keys.add(key.fingerprint)
    match = Q(reporter_index=report.reporter_index) if report.reporter_index else None
    for fingerprint in keys:
        by_key = Q(signer_fingerprint=fingerprint) | Q(reporter_key__fingerprint=fingerprint)
        match = by_key if match is None else match | by_key
    return match
