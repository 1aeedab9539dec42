"""CVSS vectors as the JSON objects of FIRST's cvss-v3.1 and cvss-v4.0 JSON schemas.

CVE JSON 5.1 embeds both schemas (``cvssV3_1``, ``cvssV4_0``) and CSAF 2.0 embeds the 3.x one
(``cvss_v3``). The ``cvss`` package computes the scores and writes a schema-true 3.1 object; its
4.0 output does not follow FIRST's schema (it has "attackRequirement", "Critical"...), so the 4.0
object is written here from the metrics the vector states.
"""

from __future__ import annotations

from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from vulndesk.advisories.exports.context import ExportError
from vulndesk.cases.cvss40 import THREAT_METRICS, base_vector
from vulndesk.cases.cvss40 import scores as cvss40_scores

_NOT_DEFINED = "NOT_DEFINED"
_CIA = {"N": "NONE", "L": "LOW", "H": "HIGH"}
_MODIFIED_CIA = {**_CIA, "X": _NOT_DEFINED}
# The modified subsequent-system impacts name N "NEGLIGIBLE" in FIRST's schema (not "NONE").
_MODIFIED_SUB_CIA = {"N": "NEGLIGIBLE", "L": "LOW", "H": "HIGH", "X": _NOT_DEFINED}
_REQUIREMENT = {"L": "LOW", "M": "MEDIUM", "H": "HIGH", "X": _NOT_DEFINED}

# FIRST cvss-v4.0 JSON schema: vector abbreviation -> (property, {value letter: property value}).
_V4_METRICS: dict[str, tuple[str, dict[str, str]]] = {
    "AV": ("attackVector", {"N": "NETWORK", "A": "ADJACENT", "L": "LOCAL", "P": "PHYSICAL"}),
    "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
    "AT": ("attackRequirements", {"N": "NONE", "P": "PRESENT"}),
    "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    "UI": ("userInteraction", {"N": "NONE", "P": "PASSIVE", "A": "ACTIVE"}),
    "VC": ("vulnConfidentialityImpact", _CIA),
    "VI": ("vulnIntegrityImpact", _CIA),
    "VA": ("vulnAvailabilityImpact", _CIA),
    "SC": ("subConfidentialityImpact", _CIA),
    "SI": ("subIntegrityImpact", _CIA),
    "SA": ("subAvailabilityImpact", _CIA),
    "E": (
        "exploitMaturity",
        {"A": "ATTACKED", "P": "PROOF_OF_CONCEPT", "U": "UNREPORTED", "X": _NOT_DEFINED},
    ),
    "CR": ("confidentialityRequirement", _REQUIREMENT),
    "IR": ("integrityRequirement", _REQUIREMENT),
    "AR": ("availabilityRequirement", _REQUIREMENT),
    "MAV": (
        "modifiedAttackVector",
        {"N": "NETWORK", "A": "ADJACENT", "L": "LOCAL", "P": "PHYSICAL", "X": _NOT_DEFINED},
    ),
    "MAC": ("modifiedAttackComplexity", {"L": "LOW", "H": "HIGH", "X": _NOT_DEFINED}),
    "MAT": ("modifiedAttackRequirements", {"N": "NONE", "P": "PRESENT", "X": _NOT_DEFINED}),
    "MPR": ("modifiedPrivilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH", "X": _NOT_DEFINED}),
    "MUI": ("modifiedUserInteraction", {"N": "NONE", "P": "PASSIVE", "A": "ACTIVE", "X": _NOT_DEFINED}),
    "MVC": ("modifiedVulnConfidentialityImpact", _MODIFIED_CIA),
    "MVI": ("modifiedVulnIntegrityImpact", _MODIFIED_CIA),
    "MVA": ("modifiedVulnAvailabilityImpact", _MODIFIED_CIA),
    "MSC": ("modifiedSubConfidentialityImpact", _MODIFIED_SUB_CIA),
    "MSI": ("modifiedSubIntegrityImpact", {**_MODIFIED_SUB_CIA, "S": "SAFETY"}),
    "MSA": ("modifiedSubAvailabilityImpact", {**_MODIFIED_SUB_CIA, "S": "SAFETY"}),
    "S": ("Safety", {"N": "NEGLIGIBLE", "P": "PRESENT", "X": _NOT_DEFINED}),
    "AU": ("Automatable", {"N": "NO", "Y": "YES", "X": _NOT_DEFINED}),
    "R": ("Recovery", {"A": "AUTOMATIC", "U": "USER", "I": "IRRECOVERABLE", "X": _NOT_DEFINED}),
    "V": ("valueDensity", {"D": "DIFFUSE", "C": "CONCENTRATED", "X": _NOT_DEFINED}),
    "RE": ("vulnerabilityResponseEffort", {"L": "LOW", "M": "MODERATE", "H": "HIGH", "X": _NOT_DEFINED}),
    "U": (
        "providerUrgency",
        {"Clear": "CLEAR", "Green": "GREEN", "Amber": "AMBER", "Red": "RED", "X": _NOT_DEFINED},
    ),
}


def cvss31_json(vector: str) -> dict[str, Any]:
    """The cvss-v3.1 JSON object of a vector (base metrics and any the vector states)."""
    try:
        score = CVSS3(vector)
    except CVSSError as exc:
        raise ExportError(f"not a CVSS 3.1 vector: {exc}") from exc
    if not vector.startswith("CVSS:3.1/"):
        raise ExportError("the CVSS 3 vector must be version 3.1 (CVSS:3.1/...)")
    found: dict[str, Any] = score.as_json(minimal=True)
    return found


def cvss40_json(vector: str) -> dict[str, Any]:
    """The cvss-v4.0 JSON object of a vector, valid under FIRST's current schema: the metrics it
    states, and ``baseScore`` as FIRST defines it, CVSS-B (the base metrics alone)."""
    try:
        clean: str = CVSS4(vector).clean_vector()
    except CVSSError as exc:
        raise ExportError(f"not a CVSS 4.0 vector: {exc}") from exc
    scores = cvss40_scores(clean)
    found: dict[str, Any] = {
        "version": "4.0",
        "vectorString": clean,
        "baseScore": scores.base,
        "baseSeverity": scores.base_rating.upper(),
    }
    for part in clean.split("/")[1:]:
        abbreviation, value = part.split(":", 1)
        name, values = _V4_METRICS[abbreviation]
        found[name] = values[value]
    return found


def cvss40_cve_json(vector: str) -> dict[str, Any]:
    """For CVE JSON 5.1, whose cvssV4_0 schema (FIRST's first revision) has fields for the other
    scores: ``threatScore`` is CVSS-BT, ``environmentalScore`` the score with the environmental
    metrics (CVSS-BE or CVSS-BTE)."""
    found = cvss40_json(vector)
    scores = cvss40_scores(found["vectorString"])
    if "T" in scores.nomenclature:
        threat = _with_metrics(found["vectorString"], THREAT_METRICS)
        found["threatScore"], found["threatSeverity"] = float(threat.base_score), str(threat.severity).upper()
    if scores.nomenclature.endswith("E"):
        found["environmentalScore"], found["environmentalSeverity"] = scores.score, scores.rating.upper()
    return found


def _with_metrics(vector: str, names: tuple[str, ...]) -> CVSS4:
    """The base vector plus the named metrics ``vector`` states."""
    stated = dict(part.split(":", 1) for part in vector.split("/")[1:])
    extra = "".join(f"/{name}:{stated[name]}" for name in names if stated.get(name, "X") != "X")
    return CVSS4(base_vector(vector) + extra)
