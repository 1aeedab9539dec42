"""One published revision of an advisory, as plain data: what every export and feed is built from.

The exporters (OSV, CVE, CSAF, OpenVEX), the public pages and the feeds read this, never the
models, so a format can be tested with a document built by hand and a stored advisory is exported
exactly as it was published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class CreditType(StrEnum):
    """Credit roles, named as OSV and CVE JSON 5 name them."""

    FINDER = "finder"
    REPORTER = "reporter"
    ANALYST = "analyst"
    COORDINATOR = "coordinator"
    REMEDIATION_DEVELOPER = "remediation_developer"
    REMEDIATION_REVIEWER = "remediation_reviewer"
    REMEDIATION_VERIFIER = "remediation_verifier"
    TOOL = "tool"
    SPONSOR = "sponsor"
    OTHER = "other"


class SeverityRating(StrEnum):
    """A severity without a CVSS vector, in GitHub Security Advisories' four words."""

    CRITICAL = "critical"
    HIGH = "high"
    MODERATE = "moderate"  # CVSS's "Medium"
    LOW = "low"


# CVSS qualitative ratings (CVSS v3.1 and v4.0 specifications, "Qualitative Severity Rating
# Scale") in GitHub's words; a score of 0.0 ("None") has no severity.
RATING_OF_CVSS = {
    "Critical": SeverityRating.CRITICAL,
    "High": SeverityRating.HIGH,
    "Medium": SeverityRating.MODERATE,
    "Low": SeverityRating.LOW,
}


class ReferenceType(StrEnum):
    """Reference kinds, as OSV names them."""

    ADVISORY = "ADVISORY"
    ARTICLE = "ARTICLE"
    DETECTION = "DETECTION"
    DISCUSSION = "DISCUSSION"
    REPORT = "REPORT"
    FIX = "FIX"
    INTRODUCED = "INTRODUCED"
    PACKAGE = "PACKAGE"
    EVIDENCE = "EVIDENCE"
    WEB = "WEB"


@dataclass(frozen=True)
class Credit:
    name: str
    type: CreditType
    contact: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    url: str
    type: ReferenceType = ReferenceType.WEB


@dataclass(frozen=True)
class AffectedRange:
    """One package's affected versions as a ``vers`` range (see vulndesk/cases/actions/affected.py).

    ``package`` is a package URL without a version; ``affected`` reads like
    ``vers:pypi/>=1.2.0|<1.2.5``: each ``<`` bound is the version that fixes its span.
    """

    package: str
    affected: str
    functions: tuple[str, ...] = ()  # the affected functions, as the ecosystem names them


@dataclass(frozen=True)
class AdvisoryDocument:
    """What an advisory says at one revision. Times are UTC."""

    identifier: str  # the project's own id, x_<PREFIX>-YYYY-NNNN, in every export for ever
    project_slug: str
    project_name: str
    vendor: str  # who publishes: the project's security team
    title: str
    summary: str  # one paragraph, plain text
    details: str  # markdown, sanitized when rendered
    published_at: dt.datetime
    modified_at: dt.datetime
    revision: int
    affected: tuple[AffectedRange, ...]
    cve_id: str = ""
    aliases: tuple[str, ...] = ()  # further ids of the same vulnerability (GHSA, more CVEs, PYSEC...)
    related: tuple[str, ...] = ()  # ids of other vulnerabilities closely linked to this one
    upstream: tuple[str, ...] = ()  # ids of the vulnerability in a dependency this one comes from
    # The team's word when no CVSS vector is given, else the rating of the vector's score.
    severity: SeverityRating | None = None
    cvss31_vector: str = ""
    cvss31_score: float | None = None
    cvss40_vector: str = ""
    cvss40_score: float | None = None  # CVSS-B, the base metrics alone
    # With threat or environmental metrics in the vector: their score and its name (CVSS-BTE...).
    cvss40_full_score: float | None = None
    cvss40_nomenclature: str = ""
    cwes: tuple[str, ...] = ()  # "CWE-79"
    credits: tuple[Credit, ...] = ()
    mitigations: str = ""  # markdown: workarounds and mitigations until users can upgrade
    references: tuple[Reference, ...] = ()
    withdrawn_at: dt.datetime | None = None
    withdrawn_reason: str = ""
    revision_history: tuple[tuple[int, dt.datetime, str], ...] = field(default=())  # (number, date, summary)

    @property
    def all_aliases(self) -> tuple[str, ...]:
        """The CVE id first, then the further aliases; never the advisory's own id."""
        found = dict.fromkeys(a for a in (self.cve_id, *self.aliases) if a and a != self.identifier)
        return tuple(found)

    @property
    def has_cvss_vector(self) -> bool:
        return bool(self.cvss31_vector or self.cvss40_vector)
