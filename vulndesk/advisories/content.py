"""What a team writes in an advisory, checked field by field before a draft is saved.

Problems are reported as ``field: problem`` so the editor can show each next to its field.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vulndesk.advisories.document import CreditType, ReferenceType
from vulndesk.cases.affected import parse_range
from vulndesk.cases.severity import SeverityError, cvss31, cvss40, cwe_name
from vulndesk.projects.releases import PackageError, parse_package

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
MAX_TITLE, MAX_SUMMARY, MAX_TEXT = 200, 2_000, 50_000
MAX_ITEMS = 50


class AdvisoryError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class AdvisoryContent:
    title: str = ""
    summary: str = ""
    details: str = ""  # markdown
    affected: list[dict[str, str]] = field(default_factory=list)  # {"package", "affected"}
    cvss31_vector: str = ""
    cvss40_vector: str = ""
    cwes: list[str] = field(default_factory=list)
    credits: list[dict[str, str]] = field(default_factory=list)  # {"name", "type"}
    mitigations: str = ""  # markdown
    references: list[dict[str, str]] = field(default_factory=list)  # {"url", "type"}

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AdvisoryContent:
        known = {name: value[name] for name in cls.__dataclass_fields__ if name in value}
        return cls(**known)


def check_content(content: AdvisoryContent, *, for_publication: bool) -> list[str]:
    """Every problem with the content; a draft may be incomplete, a published revision may not."""
    problems = _check_lengths(content)
    problems += _check_affected(content.affected)
    problems += _check_severity(content)
    problems += _check_credits(content.credits)
    problems += _check_references(content.references)
    if for_publication:
        problems += [
            f"{name}: is required to publish" for name in ("title", "summary") if not getattr(content, name)
        ]
        if not content.affected:
            problems.append("affected: name at least one package and its affected versions to publish")
    return problems


def _check_lengths(content: AdvisoryContent) -> list[str]:
    limits = {"title": MAX_TITLE, "summary": MAX_SUMMARY, "details": MAX_TEXT, "mitigations": MAX_TEXT}
    problems = [
        f"{name}: longer than {limit} characters"
        for name, limit in limits.items()
        if len(getattr(content, name)) > limit
    ]
    lists = ("affected", "cwes", "credits", "references")
    problems += [
        f"{name}: more than {MAX_ITEMS} entries" for name in lists if len(getattr(content, name)) > MAX_ITEMS
    ]
    return problems


def _check_affected(entries: list[dict[str, str]]) -> list[str]:
    problems = []
    for n, entry in enumerate(entries, start=1):
        try:
            parse_range(parse_package(entry.get("package", "")).to_string(), entry.get("affected", ""))
        except PackageError as exc:
            problems.append(f"affected {n}: {exc}")
    return problems


def _check_severity(content: AdvisoryContent) -> list[str]:
    problems = []
    for name, score in (("cvss31_vector", cvss31), ("cvss40_vector", cvss40)):
        vector = getattr(content, name)
        if vector:
            try:
                score(vector)
            except SeverityError as exc:
                problems.append(f"{name}: {exc}")
    for cwe in content.cwes:
        try:
            cwe_name(cwe)
        except SeverityError as exc:
            problems.append(f"cwes: {exc}")
    return problems


def _check_credits(entries: list[dict[str, str]]) -> list[str]:
    types = {t.value for t in CreditType}
    problems = []
    for n, credit in enumerate(entries, start=1):
        if not credit.get("name", "").strip():
            problems.append(f"credits {n}: needs a name")
        if credit.get("type") not in types:
            problems.append(f"credits {n}: the role must be one of {', '.join(sorted(types))}")
    return problems


def _check_references(references: list[dict[str, str]]) -> list[str]:
    types = {t.value for t in ReferenceType}
    problems = []
    for n, reference in enumerate(references, start=1):
        url = urlsplit(reference.get("url", ""))
        if url.scheme != "https" or not url.netloc:
            problems.append(f"references {n}: must be an https:// address")
        if reference.get("type", "WEB") not in types:
            problems.append(f"references {n}: the kind must be one of {', '.join(sorted(types))}")
    return problems


def check_cve_id(value: str) -> list[str]:
    return [] if not value or CVE_ID.match(value) else [f"cve_id: {value!r} is not a CVE id (CVE-YYYY-NNNN)"]
