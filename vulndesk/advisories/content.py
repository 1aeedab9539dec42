"""What a team writes in an advisory, checked field by field before a draft is saved.

Problems are reported as ``field: problem`` so the editor can show each next to its field.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vulndesk.advisories.aliases import CVE_ID, id_problem
from vulndesk.advisories.document import CreditType, ReferenceType, SeverityRating
from vulndesk.cases.actions.affected import parse_range
from vulndesk.cases.severity import SeverityError, cvss31, cvss40, cwe_name
from vulndesk.projects.releases import PackageError, parse_package

MAX_TITLE, MAX_SUMMARY, MAX_TEXT = 200, 2_000, 50_000
MAX_ITEMS = 50
MAX_FUNCTION = 200  # one function's name, module path included
EMAIL = re.compile(r"^[^@\s:/]+@[^@\s/]+\.[^@\s/]+$")
ID_LISTS = ("aliases", "related", "upstream")


class AdvisoryError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class AdvisoryContent:
    title: str = ""
    summary: str = ""
    details: str = ""  # markdown
    # {"package", "affected", "functions": [names]}; "functions" may be absent
    affected: list[dict[str, Any]] = field(default_factory=list)
    cvss31_vector: str = ""
    cvss40_vector: str = ""
    severity: str = ""  # a SeverityRating, only when no CVSS vector is given
    cwes: list[str] = field(default_factory=list)
    # {"name", "type", "contact": ["https://...", "mailto:..."]}; "contact" may be absent
    credits: list[dict[str, Any]] = field(default_factory=list)
    mitigations: str = ""  # markdown
    references: list[dict[str, str]] = field(default_factory=list)  # {"url", "type"}
    aliases: list[str] = field(default_factory=list)  # besides the Advisory's cve_id
    related: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)

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
    problems += _check_ids(content)
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
    lists = ("affected", "cwes", "credits", "references", *ID_LISTS)
    problems += [
        f"{name}: more than {MAX_ITEMS} entries" for name in lists if len(getattr(content, name)) > MAX_ITEMS
    ]
    return problems


def _check_affected(entries: list[dict[str, Any]]) -> list[str]:
    problems = []
    for n, entry in enumerate(entries, start=1):
        try:
            parse_range(parse_package(entry.get("package", "")).to_string(), entry.get("affected", ""))
        except PackageError as exc:
            problems.append(f"affected {n}: {exc}")
        problems += [f"affected {n}: {problem}" for problem in _function_problems(entry.get("functions", []))]
    return problems


def _function_problems(functions: list[str]) -> list[str]:
    if len(functions) > MAX_ITEMS:
        return [f"more than {MAX_ITEMS} affected functions"]
    return [
        f"the function name {name[:40]!r} must be one word of at most {MAX_FUNCTION} characters"
        for name in functions
        if not name or len(name) > MAX_FUNCTION or any(c.isspace() for c in name)
    ]


def _check_severity(content: AdvisoryContent) -> list[str]:
    problems = []
    for name, score in (("cvss31_vector", cvss31), ("cvss40_vector", cvss40)):
        vector = getattr(content, name)
        if vector:
            try:
                score(vector)
            except SeverityError as exc:
                problems.append(f"{name}: {exc}")
    problems += _severity_word_problems(content)
    for cwe in content.cwes:
        try:
            cwe_name(cwe)
        except SeverityError as exc:
            problems.append(f"cwes: {exc}")
    return problems


def _severity_word_problems(content: AdvisoryContent) -> list[str]:
    """The word is for an advisory without a CVSS vector: with one, its score names the severity."""
    if not content.severity:
        return []
    words = [s.value for s in SeverityRating]
    if content.severity not in words:
        return [f"severity: must be one of {', '.join(words)}"]
    if content.cvss31_vector or content.cvss40_vector:
        return ["severity: leave it empty when a CVSS vector is given: the vector's score names the severity"]
    return []


def _check_credits(entries: list[dict[str, Any]]) -> list[str]:
    types = {t.value for t in CreditType}
    problems = []
    for n, credit in enumerate(entries, start=1):
        if not credit.get("name", "").strip():
            problems.append(f"credits {n}: needs a name")
        if credit.get("type") not in types:
            problems.append(f"credits {n}: the role must be one of {', '.join(sorted(types))}")
        problems += [f"credits {n}: {problem}" for problem in _contact_problems(credit.get("contact", []))]
    return problems


def _contact_problems(contacts: list[str]) -> list[str]:
    """OSV ``credits[].contact``: each an https:// address or a mailto: address."""
    problems = []
    for contact in contacts:
        if contact.startswith("mailto:") and EMAIL.match(contact.removeprefix("mailto:")):
            continue
        url = urlsplit(contact)
        if url.scheme != "https" or not url.netloc:
            problems.append(f"the contact {contact[:60]!r} must be an https:// address or an email address")
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


def _check_ids(content: AdvisoryContent) -> list[str]:
    """Each id well formed; an alias is the same vulnerability, so it is neither related nor upstream."""
    problems = [
        f"{name}: {problem}"
        for name in ID_LISTS
        for value in getattr(content, name)
        if (problem := id_problem(value))
    ]
    aliases = set(content.aliases)
    for name in ("related", "upstream"):
        problems += [
            f"{name}: {value} is also an alias: an alias is this same vulnerability under another id"
            for value in getattr(content, name)
            if value in aliases
        ]
    return problems


def check_cve_id(value: str) -> list[str]:
    return [] if not value or CVE_ID.match(value) else [f"cve_id: {value!r} is not a CVE id (CVE-YYYY-NNNN)"]


def check_other_ids(content: AdvisoryContent, *, identifier: str, cve_id: str) -> list[str]:
    """The advisory's own id and its CVE id are said once, where they belong, never as another id."""
    problems = [
        f"{name}: {identifier} is this advisory's own id"
        for name in ID_LISTS
        if identifier in getattr(content, name)
    ]
    if not cve_id:
        return problems
    if cve_id in content.aliases:
        problems.append(f"aliases: {cve_id} is already the advisory's CVE id")
    return problems + [
        f"{name}: {cve_id} is the advisory's CVE id, so it is not {name}"
        for name in ("related", "upstream")
        if cve_id in getattr(content, name)
    ]
