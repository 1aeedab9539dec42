"""Every export of an advisory is valid against its standard's own schema and rules.

OSV and OpenVEX are checked against the official JSON schemas copied into the repository
(``tests/schemas/``), CVE JSON 5.1 with cvelib's bundled CVE schemas, and CSAF 2.0 with the
``csaf`` validator, mandatory tests included.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess  # nosec B404 - runs the csaf validator this repository pins
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
from cvelib.cve_api import CveRecord
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from vulndesk.advisories.document import (
    AdvisoryDocument,
    AffectedRange,
    Credit,
    CreditType,
    Reference,
    ReferenceType,
)
from vulndesk.advisories.exports import FORMAT_NAMES
from vulndesk.advisories.exports.api import ExportFormat
from vulndesk.advisories.exports.context import ExportContext, ExportError, ReleasedVersion
from vulndesk.advisories.exports.cve import PLACEHOLDER_ORG_ID
from vulndesk.advisories.exports.render import FORMATS, render

from .conftest import REPO, example_policy

SCHEMAS = REPO / "tests" / "schemas"
EXAMPLE_SLUGS = ("llm-d", "agentic-tool-mesh", "fast-llm")
PUBLISHED = dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC)
CONTEXT = ExportContext(
    base_url="https://vulndesk.example.org",
    releases=tuple(
        ReleasedVersion(f"pkg:pypi/{slug}", version)
        for slug in ("llm-d", "agentic-tool-mesh", "fast-llm")
        for version in ("1.1.0", "1.2.0", "1.2.4", "1.2.5", "1.3.0")
    ),
)


def advisory_document(slug: str, **changes: Any) -> AdvisoryDocument:
    """An advisory as a published advisory of this example project would read."""
    policy = example_policy(slug)
    project = policy.project
    package = f"pkg:pypi/{slug}"
    fields: dict[str, Any] = {
        "identifier": f"x_{project.advisory_prefix}-2026-0001",
        "project_slug": project.slug,
        "project_name": project.name,
        "vendor": project.security_team,
        "title": f"Path traversal in the {project.name} model loader",
        "summary": "A crafted model name lets a client read files outside the model directory.",
        "details": "The loader joins the **model name** to its directory without normalising it.\n\n"
        "Upgrade to a fixed release.",
        "published_at": PUBLISHED,
        "modified_at": PUBLISHED + dt.timedelta(days=2),
        "revision": 2,
        "affected": (AffectedRange(package, "vers:pypi/>=1.2.0|<1.2.5|>=1.3.0|<1.3.1"),),
        "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        "cvss31_score": 7.5,
        "cvss40_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
        "cvss40_score": 8.7,
        "cwes": ("CWE-22", "CWE-73"),
        "credits": (
            Credit("Jane Finder", CreditType.FINDER, ("mailto:jane@example.org",)),
            Credit("Rui Fixer", CreditType.REMEDIATION_DEVELOPER),
        ),
        "mitigations": "Run the loader with a model directory that holds nothing else.",
        "references": (
            Reference(f"{project.repository}/commit/0123456789abcdef", ReferenceType.FIX),
            Reference(f"{project.repository}/issues/42", ReferenceType.REPORT),
        ),
        "revision_history": (
            (1, PUBLISHED, "Initial public release."),
            (2, PUBLISHED + dt.timedelta(days=2), "Added the 1.3 line."),
        ),
    }
    fields.update(changes)
    return AdvisoryDocument(**fields)


def exported(
    format_name: str, document: AdvisoryDocument, context: ExportContext = CONTEXT
) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(render(format_name, document, context))
    return found


def assert_valid_json_schema(schema_name: str, instance: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert errors == []


def assert_valid_cve(container: dict[str, Any], cve_id: str) -> None:
    CveRecord.validate(container)  # the CNA published container, as CVE Services takes it
    record = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": cve_id, "assignerOrgId": PLACEHOLDER_ORG_ID, "state": "PUBLISHED"},
        "containers": {"cna": container},
    }
    CveRecord.validate(record, CveRecord.Schemas.V5_SCHEMA)


def assert_valid_csaf(document: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "advisory.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    validator = Path(sys.executable).parent / "csaf"
    result = subprocess.run(  # nosec B603 - fixed arguments, a file this test wrote
        [validator, "validate", "--spec-version", "v20", "--no-network", "--preset", "basic", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6.1.1" in result.stdout  # the mandatory tests ran, not the schema alone


@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_every_example_projects_advisory_exports_valid_osv(slug: str) -> None:
    record = exported("osv", advisory_document(slug))
    assert_valid_json_schema("osv-1.7.5.schema.json", record)
    prefix = example_policy(slug).project.advisory_prefix
    assert record["id"] == f"x_{prefix}-2026-0001"
    assert record["affected"][0]["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "1.2.0"}, {"fixed": "1.2.5"}]},
        {"type": "ECOSYSTEM", "events": [{"introduced": "1.3.0"}, {"fixed": "1.3.1"}]},
    ]
    assert record["affected"][0]["package"] == {"ecosystem": "PyPI", "name": slug, "purl": f"pkg:pypi/{slug}"}
    assert {s["type"] for s in record["severity"]} == {"CVSS_V3", "CVSS_V4"}
    assert record["credits"][1] == {"name": "Rui Fixer", "type": "REMEDIATION_DEVELOPER"}


@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_every_example_projects_advisory_exports_a_valid_cve_cna_container(slug: str) -> None:
    container = exported("cve", advisory_document(slug))
    assert_valid_cve(container, "CVE-2026-10001")
    assert container["affected"][0]["versions"] == [
        {"version": "1.2.0", "lessThan": "1.2.5", "status": "affected", "versionType": "python"},
        {"version": "1.3.0", "lessThan": "1.3.1", "status": "affected", "versionType": "python"},
    ]
    metrics = {key for metric in container["metrics"] for key in metric if key.startswith("cvss")}
    assert metrics == {"cvssV3_1", "cvssV4_0"}
    assert container["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-22"


@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
@pytest.mark.parametrize("format_name", ["csaf", "csaf-vex"])
def test_every_example_projects_advisory_exports_valid_csaf(
    slug: str, format_name: str, tmp_path: Path
) -> None:
    document = exported(format_name, advisory_document(slug))
    assert_valid_csaf(document, tmp_path)
    status = document["vulnerabilities"][0]["product_status"]
    assert status["known_affected"][1:] == [
        f"pkg:pypi/{slug}@1.2.0",
        f"pkg:pypi/{slug}@1.2.4",
        f"pkg:pypi/{slug}@1.3.0",
    ]
    assert status["fixed"] == [f"pkg:pypi/{slug}@1.2.5", f"pkg:pypi/{slug}@1.3.1"]


@pytest.mark.parametrize("slug", EXAMPLE_SLUGS)
def test_every_example_projects_advisory_exports_valid_openvex(slug: str) -> None:
    document = exported("openvex", advisory_document(slug))
    assert_valid_json_schema("openvex-0.2.0.schema.json", document)
    by_status = {s["status"]: [p["@id"] for p in s["products"]] for s in document["statements"]}
    assert by_status["fixed"] == [f"pkg:pypi/{slug}@1.2.5", f"pkg:pypi/{slug}@1.3.1"]
    assert by_status["not_affected"] == [f"pkg:pypi/{slug}@1.1.0"]


def test_an_export_of_the_same_revision_is_byte_identical() -> None:
    document = advisory_document("llm-d")
    for format_name in ("osv", "cve", "csaf", "csaf-vex", "openvex"):
        assert render(format_name, document, CONTEXT) == render(format_name, document, CONTEXT)


def test_the_advisorys_own_id_names_every_export_and_a_cve_id_is_an_alias(tmp_path: Path) -> None:
    document = advisory_document("llm-d", cve_id="CVE-2026-10001")
    record = exported("osv", document)
    assert_valid_json_schema("osv-1.7.5.schema.json", record)
    assert (record["id"], record["aliases"]) == ("x_LLMD-2026-0001", ["CVE-2026-10001"])
    vex = exported("openvex", document)
    vulnerability = vex["statements"][0]["vulnerability"]
    assert (vulnerability["name"], vulnerability["aliases"]) == ("x_LLMD-2026-0001", ["CVE-2026-10001"])
    csaf = exported("csaf", document)
    assert_valid_csaf(csaf, tmp_path)
    assert csaf["document"]["tracking"]["id"] == "x_LLMD-2026-0001"
    assert csaf["vulnerabilities"][0]["cve"] == "CVE-2026-10001"
    assert exported("csaf-vex", document)["document"]["tracking"]["id"] == "x_LLMD-2026-0001-VEX"


def test_a_range_without_a_fix_is_still_affected_everywhere_and_the_csaf_is_interim(tmp_path: Path) -> None:
    document = advisory_document(
        "fast-llm", affected=(AffectedRange("pkg:pypi/fast-llm", "vers:pypi/>=1.2.0"),), cvss40_vector=""
    )
    osv_record = exported("osv", document)
    assert osv_record["affected"][0]["ranges"] == [{"type": "ECOSYSTEM", "events": [{"introduced": "1.2.0"}]}]
    cve_container = exported("cve", document)
    assert_valid_cve(cve_container, "CVE-2026-10002")
    assert cve_container["affected"][0]["versions"][0]["lessThan"] == "*"
    csaf = exported("csaf", document)
    assert_valid_csaf(csaf, tmp_path)
    assert csaf["document"]["tracking"]["status"] == "interim"
    assert csaf["vulnerabilities"][0]["remediations"][0]["category"] == "none_available"
    assert_valid_json_schema("openvex-0.2.0.schema.json", exported("openvex", document))


def test_last_affected_and_single_versions_translate_to_every_format(tmp_path: Path) -> None:
    document = advisory_document(
        "llm-d",
        affected=(
            AffectedRange("pkg:npm/%40llm-d/router", "vers:npm/<=1.0.3|2.0.0"),
            AffectedRange("pkg:maven/ai.llmd/llmd-client", "vers:maven/>=3.0|<3.2"),
        ),
    )
    record = exported("osv", document)
    assert_valid_json_schema("osv-1.7.5.schema.json", record)
    packages = {a["package"]["name"]: a for a in record["affected"]}
    assert packages["@llm-d/router"]["package"]["ecosystem"] == "npm"
    assert packages["@llm-d/router"]["ranges"][0]["events"] == [
        {"introduced": "0"},
        {"last_affected": "1.0.3"},
    ]
    assert packages["@llm-d/router"]["ranges"][1]["events"] == [
        {"introduced": "2.0.0"},
        {"last_affected": "2.0.0"},
    ]
    assert packages["ai.llmd:llmd-client"]["package"]["ecosystem"] == "Maven"
    container = exported("cve", document)
    assert_valid_cve(container, "CVE-2026-10003")
    router = next(a for a in container["affected"] if a["product"] == "@llm-d/router")
    assert router["versions"][0] == {
        "version": "0",
        "lessThanOrEqual": "1.0.3",
        "status": "affected",
        "versionType": "semver",
    }
    for format_name in ("csaf", "csaf-vex"):
        assert_valid_csaf(exported(format_name, document), tmp_path)
    assert_valid_json_schema("openvex-0.2.0.schema.json", exported("openvex", document))


def test_a_withdrawn_advisory_says_so_and_its_cve_container_is_a_rejection() -> None:
    withdrawn = PUBLISHED + dt.timedelta(days=5)
    document = advisory_document("llm-d", withdrawn_at=withdrawn, withdrawn_reason="Not a vulnerability.")
    record = exported("osv", document)
    assert_valid_json_schema("osv-1.7.5.schema.json", record)
    assert record["withdrawn"] == "2026-11-08T15:00:00Z"
    container = exported("cve", document)
    CveRecord.validate(container, CveRecord.Schemas.CNA_REJECTED)
    assert container["rejectedReasons"] == [{"lang": "en", "value": "Not a vulnerability."}]


def test_a_package_osv_has_no_ecosystem_for_is_refused_with_a_reason() -> None:
    document = advisory_document("llm-d", affected=(AffectedRange("pkg:generic/llm-d", "vers:generic/<2.0"),))
    with pytest.raises(ExportError, match="OSV has no ecosystem for generic packages"):
        render("osv", document, CONTEXT)


def test_a_range_with_an_exclusive_lower_bound_is_refused_with_a_reason() -> None:
    document = advisory_document("llm-d", affected=(AffectedRange("pkg:pypi/llm-d", "vers:pypi/>1.0|<2.0"),))
    with pytest.raises(ExportError, match=re.escape("write >1.0 with >=, <, <= or = instead")):
        render("cve", document, CONTEXT)


def test_an_unknown_cwe_and_an_unknown_format_are_refused_with_a_reason() -> None:
    with pytest.raises(ExportError, match="is not a CWE the catalog knows"):
        render("csaf", advisory_document("llm-d", cwes=("CWE-99999999",)), CONTEXT)
    with pytest.raises(ExportError, match="unknown export format 'spdx'"):
        render("spdx", advisory_document("llm-d"), CONTEXT)


def test_every_format_name_has_an_exporter_and_an_api_choice() -> None:
    assert tuple(FORMATS) == FORMAT_NAMES == get_args(ExportFormat)


GITHUB = "pkg:github/llm-d/llm-d"
COMMITS = {"0.3.0": "3" * 40, "0.4.1": "41" * 20, "0.4.2": "42" * 20}


def test_a_package_without_a_registry_exports_a_git_range_on_its_repository() -> None:
    context = ExportContext(
        base_url=CONTEXT.base_url,
        releases=tuple(ReleasedVersion(GITHUB, v, commit) for v, commit in COMMITS.items()),
    )
    document = advisory_document("llm-d", affected=(AffectedRange(GITHUB, "vers:github/<0.4.2"),))
    record = json.loads(render("osv", document, context))
    assert_valid_json_schema("osv-1.7.5.schema.json", record)
    [affected] = record["affected"]
    assert "package" not in affected  # OSV has no ecosystem for a bare repository
    assert affected["ranges"] == [
        {
            "type": "GIT",
            "repo": "https://github.com/llm-d/llm-d",
            "events": [{"introduced": "0"}, {"fixed": COMMITS["0.4.2"]}],
        }
    ]
    assert affected["versions"] == ["0.3.0", "0.4.1"]
    assert affected["database_specific"]["purl"] == GITHUB


def test_a_repository_release_without_its_commit_is_named_as_the_reason() -> None:
    context = ExportContext(base_url=CONTEXT.base_url, releases=(ReleasedVersion(GITHUB, "0.4.2"),))
    document = advisory_document("llm-d", affected=(AffectedRange(GITHUB, "vers:github/<0.4.2"),))
    with pytest.raises(ExportError, match=r"record the commit release 0\.4\.2 was tagged at"):
        render("osv", document, context)
