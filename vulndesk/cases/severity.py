"""Severity: CVSS 3.1 and 4.0 computed by the ``cvss`` package, CWE names from the catalog that
ships in the ``csaf`` package, OWASP's Top 10 for LLM applications, and the CIA impacts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from vulndesk.cases.cvss40 import scores as cvss40_scores


class SeverityError(ValueError):
    """A vector or identifier that is not valid; the message names it and why."""


class LlmRisk(StrEnum):
    """OWASP Top 10 for LLM Applications (2025)."""

    PROMPT_INJECTION = "LLM01"
    SENSITIVE_INFORMATION_DISCLOSURE = "LLM02"
    SUPPLY_CHAIN = "LLM03"
    DATA_AND_MODEL_POISONING = "LLM04"
    IMPROPER_OUTPUT_HANDLING = "LLM05"
    EXCESSIVE_AGENCY = "LLM06"
    SYSTEM_PROMPT_LEAKAGE = "LLM07"
    VECTOR_AND_EMBEDDING_WEAKNESSES = "LLM08"
    MISINFORMATION = "LLM09"
    UNBOUNDED_CONSUMPTION = "LLM10"

    @property
    def label(self) -> str:
        return f"{self.value}: {self.name.replace('_', ' ').capitalize()}"


@dataclass(frozen=True)
class Score:
    vector: str
    score: float
    rating: str  # None, Low, Medium, High, Critical
    impacts: frozenset[str] = field(default_factory=frozenset)


def cvss31(vector: str) -> Score:
    if not vector.startswith("CVSS:3.1/"):
        raise SeverityError(f"{vector!r} is not a CVSS 3.1 vector (it must start with CVSS:3.1/)")
    try:
        parsed = CVSS3(vector)
    except CVSSError as exc:
        raise SeverityError(f"CVSS 3.1 vector {vector!r}: {exc}") from None
    metrics = parsed.metrics
    impacts = _impacts(
        {"confidentiality": metrics["C"], "integrity": metrics["I"], "availability": metrics["A"]}
    )
    return Score(parsed.clean_vector(), float(parsed.base_score), parsed.severities()[0], impacts)


def cvss40(vector: str) -> Score:
    if not vector.startswith("CVSS:4.0/"):
        raise SeverityError(f"{vector!r} is not a CVSS 4.0 vector (it must start with CVSS:4.0/)")
    try:
        parsed = CVSS4(vector)
    except CVSSError as exc:
        raise SeverityError(f"CVSS 4.0 vector {vector!r}: {exc}") from None
    metrics = parsed.metrics
    impacts = _impacts(
        {"confidentiality": metrics["VC"], "integrity": metrics["VI"], "availability": metrics["VA"]}
    )
    # CVSS-B: the base metrics alone (a vector's threat and environmental metrics change the
    # package's number, which FIRST then calls CVSS-BT/BE/BTE; see cases/cvss40.py).
    base = cvss40_scores(parsed.clean_vector())
    return Score(parsed.clean_vector(), base.base, base.base_rating, impacts)


def _impacts(levels: dict[str, str]) -> frozenset[str]:
    return frozenset(name for name, level in levels.items() if level != "N")


@cache
def _cwe_catalog() -> dict[str, dict[str, object]]:
    text = resources.files("csaf").joinpath("csaf/v21/cwe/catalog.json").read_text(encoding="utf-8")
    weaknesses: dict[str, dict[str, object]] = json.loads(text)["weaknesses"]
    return weaknesses


def cwe_name(cwe_id: str) -> str:
    """The current name of a CWE ("CWE-79" or "79"); refuses ids the catalog does not know."""
    number = cwe_id.upper().removeprefix("CWE-").strip()
    entry = _cwe_catalog().get(number)
    if entry is None:
        raise SeverityError(f"{cwe_id!r} is not a CWE the catalog knows")
    history = entry["history"]
    assert isinstance(history, list)  # noqa: S101 - the catalog's documented shape
    return str(history[-1][1])


def normalise_cwe(cwe_id: str) -> str:
    cwe_name(cwe_id)
    return "CWE-" + cwe_id.upper().removeprefix("CWE-").strip()
