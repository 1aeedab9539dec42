"""CVSS 4.0 as FIRST defines it: ``baseScore`` is CVSS-B (the base metrics alone), whatever threat,
environmental or supplemental metrics a vector adds, and every exported object is valid under
FIRST's current cvss-v4.0 JSON schema (the copy the pinned ``csaf`` package ships)."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from typing import Any

from cvss import CVSS4
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from vulndesk.advisories.exports.cvss_json import cvss40_cve_json, cvss40_json
from vulndesk.cases.cvss40 import base_vector, nomenclature, scores

_BASE = {
    "AV": "NALP",
    "AC": "LH",
    "AT": "NP",
    "PR": "NLH",
    "UI": "NPA",
    "VC": "HLN",
    "VI": "HLN",
    "VA": "HLN",
    "SC": "HLN",
    "SI": "HLN",
    "SA": "HLN",
}
_THREAT = {"E": "XAPU"}
_ENVIRONMENTAL = {
    "CR": "XHML",
    "IR": "XHML",
    "AR": "XHML",
    "MAV": "XNALP",
    "MAC": "XLH",
    "MAT": "XNP",
    "MPR": "XNLH",
    "MUI": "XNPA",
    "MVC": "XHLN",
    "MVI": "XHLN",
    "MVA": "XHLN",
    "MSC": "XHLN",
    "MSI": "XSHLN",
    "MSA": "XSHLN",
}
_SUPPLEMENTAL = {"S": "XNP", "AU": "XNY", "R": "XAUI", "V": "XDC", "RE": "XLMH"}


def _schema() -> Draft202012Validator:
    path = resources.files("csaf") / "csaf" / "v21" / "schema" / "referenced" / "cvss-v4.0.json"
    # Numbers as decimals, the way a JSON consumer reads "9.2": binary floats would fail the
    # schema's multipleOf 0.1 on scores that are exact in the text.
    schema = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert "cvss-v4.0.json" in schema["$id"]
    return Draft202012Validator(schema)


SCHEMA = _schema()


@st.composite
def vectors(draw: st.DrawFn) -> str:
    parts = [f"{name}:{draw(st.sampled_from(values))}" for name, values in _BASE.items()]
    for group in (_THREAT, _ENVIRONMENTAL, _SUPPLEMENTAL):
        for name, values in group.items():
            if draw(st.booleans()):
                parts.append(f"{name}:{draw(st.sampled_from(values))}")
    return "CVSS:4.0/" + "/".join(parts)


def _errors(document: dict[str, Any]) -> list[str]:
    as_read = json.loads(json.dumps(document), parse_float=Decimal)
    return [error.message for error in SCHEMA.iter_errors(as_read)]


@settings(max_examples=300, deadline=None)
@given(vectors())
def test_the_base_score_is_cvss_b_and_the_object_is_valid_under_firsts_schema(vector: str) -> None:
    exported = cvss40_json(vector)
    assert _errors(exported) == []
    base_only = CVSS4(base_vector(vector))
    assert exported["baseScore"] == float(base_only.base_score)
    assert exported["baseSeverity"] == str(base_only.severity).upper()
    found = scores(vector)
    assert found.score == float(CVSS4(vector).base_score)  # what the package computes, labelled
    stated = {p.split(":")[0] for p in vector.split("/")[1:] if not p.endswith(":X")}
    label = "CVSS-B" + ("T" if "E" in stated else "") + ("E" if stated & set(_ENVIRONMENTAL) else "")
    assert found.nomenclature == nomenclature(vector) == label


def test_threat_and_environmental_scores_have_their_own_fields_in_cve_json() -> None:
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/MSC:N/CR:L"
    cve = cvss40_cve_json(vector)
    assert cve["baseScore"] == 9.3  # CVSS-B
    assert cve["modifiedSubConfidentialityImpact"] == "NEGLIGIBLE"
    assert cve["threatScore"] < cve["baseScore"]  # an unreported exploit lowers CVSS-BT
    assert "environmentalScore" in cve
    assert scores(vector).nomenclature == "CVSS-BTE"
    assert _errors(cvss40_json(vector)) == []
