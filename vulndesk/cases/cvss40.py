"""CVSS 4.0 scores as FIRST names them (CVSS v4.0 specification §1.3, "Nomenclature").

The ``cvss`` package scores a vector with every metric it states: threat (E) and environmental
(CR, IR, AR, M*) metrics change the number. FIRST calls that number CVSS-BT, CVSS-BE or CVSS-BTE;
only a score of the base metrics alone is CVSS-B, the ``baseScore`` of FIRST's JSON schema.
Supplemental metrics (S, AU, R, V, RE, U) never change a score.
"""

from __future__ import annotations

from dataclasses import dataclass

from cvss import CVSS4

BASE_METRICS = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")
THREAT_METRICS = ("E",)
ENVIRONMENTAL_METRICS = (
    "CR",
    "IR",
    "AR",
    "MAV",
    "MAC",
    "MAT",
    "MPR",
    "MUI",
    "MVC",
    "MVI",
    "MVA",
    "MSC",
    "MSI",
    "MSA",
)
_NOT_DEFINED = "X"


@dataclass(frozen=True)
class Cvss40Scores:
    base: float  # CVSS-B
    base_rating: str  # None, Low, Medium, High, Critical
    nomenclature: str  # CVSS-B, CVSS-BT, CVSS-BE or CVSS-BTE: what ``score`` is
    score: float  # with the threat and environmental metrics the vector states
    rating: str

    @property
    def has_more_than_base(self) -> bool:
        return self.nomenclature != "CVSS-B"


def _stated(vector: str) -> dict[str, str]:
    parts = (part.split(":", 1) for part in vector.split("/")[1:] if ":" in part)
    return {name: value for name, value in parts if value != _NOT_DEFINED}


def base_vector(vector: str) -> str:
    """The vector with its base metrics only, in the specification's order."""
    stated = _stated(vector)
    return "CVSS:4.0/" + "/".join(f"{name}:{stated[name]}" for name in BASE_METRICS)


def nomenclature(vector: str) -> str:
    stated = _stated(vector)
    threat = "T" if any(name in stated for name in THREAT_METRICS) else ""
    environmental = "E" if any(name in stated for name in ENVIRONMENTAL_METRICS) else ""
    return f"CVSS-B{threat}{environmental}"


def scores(vector: str) -> Cvss40Scores:
    """Both numbers of a valid CVSS 4.0 vector (the caller has validated it)."""
    full = CVSS4(vector)
    base = CVSS4(base_vector(vector))
    return Cvss40Scores(
        base=float(base.base_score),
        base_rating=str(base.severity),
        nomenclature=nomenclature(vector),
        score=float(full.base_score),
        rating=str(full.severity),
    )
