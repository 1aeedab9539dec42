"""The fields GHSA and OSV users expect: a severity without a CVSS vector, aliases, related and
upstream ids, affected functions, credits with their contact and the affected releases
enumerated; each in the editor, on the public page, and in every export with a place for it,
checked by the same official validators as every other export."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    draft_revision,
)
from vulndesk.advisories.content import AdvisoryContent, AdvisoryError, check_content
from vulndesk.advisories.document import (
    AdvisoryDocument,
    AffectedRange,
    Credit,
    CreditType,
    SeverityRating,
)
from vulndesk.advisories.documents import severity_of
from vulndesk.advisories.exports.context import ExportContext, ReleasedVersion
from vulndesk.advisories.revision_diff import diff_contents
from vulndesk.projects.models import Project

from .conftest import signed_in
from .test_advisory_editor import chosen_option, editor_path, field_value
from .test_advisory_exports import (
    CONTEXT,
    advisory_document,
    assert_valid_csaf,
    assert_valid_cve,
    assert_valid_json_schema,
    exported,
)

GHSA = "GHSA-2c8m-4x9q-wp7v"
OSV_SCHEMA = "osv-1.7.5.schema.json"
OPENVEX_SCHEMA = "openvex-0.2.0.schema.json"
LOADER = ("llmd.loader.load_model", "llmd.loader.resolve_path")


def _with_every_field(**changes: object) -> AdvisoryDocument:
    """The llm-d example advisory with every field of this file filled in."""
    fields: dict[str, object] = {
        "cve_id": "CVE-2026-10001",
        "aliases": (GHSA, "PYSEC-2026-17"),
        "related": ("CVE-2025-40001",),
        "upstream": ("GHSA-6w3r-pq8v-m4xj",),
        "affected": (AffectedRange("pkg:pypi/llm-d", "vers:pypi/>=1.2.0|<1.2.5|>=1.3.0|<1.3.1", LOADER),),
        **changes,
    }
    return advisory_document("llm-d", **fields)


def _unscored(**changes: object) -> AdvisoryDocument:
    """Rated by the team's word alone: no CVSS vector at all."""
    unscored: dict[str, object] = {"cvss31_vector": "", "cvss31_score": None, "cvss40_vector": ""}
    return _with_every_field(**unscored, cvss40_score=None, severity=SeverityRating.HIGH, **changes)


# --- OSV ---------------------------------------------------------------------------------------


def test_osv_carries_aliases_related_upstream_functions_contacts_and_released_versions() -> None:
    record = exported("osv", _with_every_field(severity=SeverityRating.HIGH))
    assert_valid_json_schema(OSV_SCHEMA, record)
    assert record["aliases"] == ["CVE-2026-10001", GHSA, "PYSEC-2026-17"]
    assert record["related"] == ["CVE-2025-40001"]
    assert record["upstream"] == ["GHSA-6w3r-pq8v-m4xj"]
    [affected] = record["affected"]
    assert affected["ecosystem_specific"] == {"affected_functions": list(LOADER)}
    assert affected["versions"] == ["1.2.0", "1.2.4", "1.3.0"]  # the recorded releases inside the range
    assert record["credits"][0] == {
        "name": "Jane Finder",
        "type": "FINDER",
        "contact": ["mailto:jane@example.org"],
    }
    assert record["database_specific"]["severity"] == "HIGH"


def test_osv_names_the_severity_of_an_advisory_without_a_vector() -> None:
    record = exported("osv", _unscored())
    assert_valid_json_schema(OSV_SCHEMA, record)
    assert "severity" not in record  # no CVSS vector to give
    assert record["database_specific"]["severity"] == "HIGH"


def test_osv_enumerates_recorded_releases_only_not_the_versions_a_range_merely_names() -> None:
    context = ExportContext(
        base_url=CONTEXT.base_url,
        releases=tuple(ReleasedVersion("pkg:pypi/llm-d", v) for v in ("1.2.0", "1.2.4", "1.2.5")),
    )
    document = advisory_document(
        "llm-d", affected=(AffectedRange("pkg:pypi/llm-d", "vers:pypi/>=1.2.1|<1.2.5"),)
    )
    record = exported("osv", document, context)
    assert_valid_json_schema(OSV_SCHEMA, record)
    assert record["affected"][0]["versions"] == ["1.2.4"]  # 1.2.1 is a bound, never released
    nothing_released = exported("osv", document, ExportContext(base_url=CONTEXT.base_url))
    assert "versions" not in nothing_released["affected"][0]
    assert "ecosystem_specific" not in nothing_released["affected"][0]


# --- CVE JSON 5.1 ------------------------------------------------------------------------------


def test_cve_json_has_the_functions_as_program_routines_and_the_ghsa_as_a_reference() -> None:
    container = exported("cve", _with_every_field())
    assert_valid_cve(container, "CVE-2026-10001")
    assert container["affected"][0]["programRoutines"] == [{"name": name} for name in LOADER]
    by_name = {r.get("name"): r for r in container["references"]}
    assert by_name[GHSA] == {
        "url": f"https://github.com/advisories/{GHSA}",
        "name": GHSA,
        "tags": ["third-party-advisory"],
    }
    assert by_name["PYSEC-2026-17"]["url"] == "https://osv.dev/vulnerability/PYSEC-2026-17"
    assert "CVE-2026-10001" not in by_name  # the record itself
    assert all("other" not in metric for metric in container["metrics"])  # the vectors say it


def test_cve_json_states_the_severity_of_an_advisory_without_a_vector_as_other() -> None:
    container = exported("cve", _unscored())
    assert_valid_cve(container, "CVE-2026-10001")
    assert container["metrics"] == [
        {
            "scenarios": [{"lang": "en", "value": "GENERAL"}],
            "other": {"type": "Textual description of severity", "content": {"text": "high"}},
        }
    ]


# --- CSAF 2.0 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("format_name", ["csaf", "csaf-vex"])
def test_csaf_lists_every_alias_in_ids_the_first_cve_in_cve_and_contacts_as_urls(
    format_name: str, tmp_path: Path
) -> None:
    document = exported(format_name, _with_every_field(severity=SeverityRating.HIGH))
    assert_valid_csaf(document, tmp_path)
    [vulnerability] = document["vulnerabilities"]
    assert vulnerability["cve"] == "CVE-2026-10001"
    assert vulnerability["ids"][1:] == [
        {"system_name": "GitHub Security Advisories", "text": GHSA},
        {"system_name": "PYSEC", "text": "PYSEC-2026-17"},
    ]
    assert vulnerability["acknowledgments"][0]["urls"] == ["mailto:jane@example.org"]
    assert "urls" not in vulnerability["acknowledgments"][1]
    assert document["document"]["aggregate_severity"] == {"text": "High"}
    assert "threats" not in vulnerability  # the CVSS score carries it


def test_csaf_takes_the_cve_from_the_aliases_and_the_severity_as_impact_without_a_vector(
    tmp_path: Path,
) -> None:
    document = exported("csaf", _unscored(cve_id="", aliases=(GHSA, "CVE-2026-20002")))
    assert_valid_csaf(document, tmp_path)
    [vulnerability] = document["vulnerabilities"]
    assert vulnerability["cve"] == "CVE-2026-20002"
    assert [i["text"] for i in vulnerability["ids"][1:]] == [GHSA]
    [threat] = vulnerability["threats"]
    assert threat["category"] == "impact"
    assert threat["details"].startswith("High severity")
    assert threat["product_ids"] == vulnerability["product_status"]["known_affected"]


# --- OpenVEX -----------------------------------------------------------------------------------


def test_openvex_names_every_alias() -> None:
    document = exported("openvex", _with_every_field())
    assert_valid_json_schema(OPENVEX_SCHEMA, document)
    vulnerability = document["statements"][0]["vulnerability"]
    assert vulnerability["name"] == "x_LLMD-2026-0001"
    assert vulnerability["aliases"] == ["CVE-2026-10001", GHSA, "PYSEC-2026-17"]


# --- the content's checks ----------------------------------------------------------------------


def test_each_wrong_new_field_is_named() -> None:
    content = AdvisoryContent(
        cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        severity="high",
        aliases=["GHSA-0000-0000-0000", "not an id", GHSA],
        related=[GHSA],
        upstream=["CVE-26-1"],
        affected=[{"package": "pkg:pypi/llm-d", "affected": "vers:pypi/<1.0", "functions": ["load model"]}],
        credits=[{"name": "Jane", "type": "finder", "contact": ["http://jane.example.org", "jane"]}],
    )
    problems = check_content(content, for_publication=False)
    assert (
        "severity: leave it empty when a CVSS vector is given: the vector's score names the severity"
        in problems
    )
    assert "aliases: 'GHSA-0000-0000-0000' is not a GitHub advisory id (GHSA-xxxx-xxxx-xxxx)" in problems
    assert any(p.startswith("aliases: 'not an id' is not an advisory id") for p in problems)
    assert (
        f"related: {GHSA} is also an alias: an alias is this same vulnerability under another id" in problems
    )
    assert "upstream: 'CVE-26-1' is not a CVE id (CVE-YYYY-NNNN)" in problems
    assert any(p.startswith("affected 1: the function name 'load model' must be one word") for p in problems)
    contact = "must be an https:// address or an email address"
    assert f"credits 1: the contact 'http://jane.example.org' {contact}" in problems
    assert f"credits 1: the contact 'jane' {contact}" in problems
    assert check_content(AdvisoryContent(severity="medium"), for_publication=False) == [
        "severity: must be one of critical, high, moderate, low"
    ]


def test_the_severity_is_the_vectors_rating_when_a_vector_is_given_else_the_teams_word() -> None:
    assert severity_of(AdvisoryContent(severity="low")) is SeverityRating.LOW
    medium = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"  # 4.8 Medium
    assert severity_of(AdvisoryContent(cvss31_vector=medium)) is SeverityRating.MODERATE
    assert severity_of(AdvisoryContent()) is None


def test_the_advisorys_own_id_and_cve_id_are_neither_further_aliases_nor_related(
    alice: User, project_a: Project
) -> None:
    advisory = do_create_advisory(project_a, acting_user=alice)
    content = AdvisoryContent(
        aliases=["CVE-2026-10001"], related=["CVE-2026-10001"], upstream=[advisory.identifier]
    )
    with pytest.raises(AdvisoryError) as refused:
        do_edit_draft(advisory, content, cve_id="CVE-2026-10001", acting_user=alice)
    assert f"upstream: {advisory.identifier} is this advisory's own id" in refused.value.problems
    assert "aliases: CVE-2026-10001 is already the advisory's CVE id" in refused.value.problems
    assert "related: CVE-2026-10001 is the advisory's CVE id, so it is not related" in refused.value.problems


# --- the editor --------------------------------------------------------------------------------


TYPED = {
    "title": "Path traversal in the model loader",
    "summary": "A crafted model name reads files outside the model directory.",
    "severity": "moderate",
    "aliases": f"{GHSA}, PYSEC-2026-17",
    "related": "CVE-2025-40001",
    "upstream": "GHSA-6w3r-pq8v-m4xj",
    "affected-0-package": "pkg:pypi/llm-d",
    "affected-0-affected": "vers:pypi/>=0.1.0|<0.4.2",
    "affected-0-functions": " ".join(LOADER),
    "credits-0-name": "Jane Finder",
    "credits-0-type": "finder",
    "credits-0-contact": "jane@example.org https://jane.example.org",
}


def test_the_editor_saves_the_new_fields_and_shows_them_again(alice: User, project_a: Project) -> None:
    advisory = do_create_advisory(project_a, acting_user=alice)
    assert signed_in(alice).post(editor_path(advisory), TYPED).status_code == 302
    saved = AdvisoryContent.from_json(draft_revision(advisory).content)  # type: ignore[union-attr]
    assert (saved.severity, saved.aliases) == ("moderate", [GHSA, "PYSEC-2026-17"])
    assert (saved.related, saved.upstream) == (["CVE-2025-40001"], ["GHSA-6w3r-pq8v-m4xj"])
    assert saved.affected[0]["functions"] == list(LOADER)
    assert saved.credits == [
        {
            "name": "Jane Finder",
            "type": "finder",
            "contact": ["mailto:jane@example.org", "https://jane.example.org"],
        }
    ]
    page = signed_in(alice).get(editor_path(advisory)).content.decode()
    assert chosen_option(page, "severity") == "moderate"
    assert field_value(page, "aliases") == f"{GHSA} PYSEC-2026-17"
    assert field_value(page, "related") == "CVE-2025-40001"
    assert field_value(page, "upstream") == "GHSA-6w3r-pq8v-m4xj"
    assert field_value(page, "affected-0-functions") == " ".join(LOADER)
    assert field_value(page, "credits-0-contact") == "jane@example.org https://jane.example.org"
    assert field_value(page, "credits-1-contact") == ""  # an empty row to add a credit


def test_adding_a_row_keeps_the_functions_and_contacts_typed(alice: User, project_a: Project) -> None:
    advisory = do_create_advisory(project_a, acting_user=alice)
    response = signed_in(alice).post(editor_path(advisory), {**TYPED, "add_row": "credits"})
    assert response.status_code == 200
    page = response.content.decode()
    assert field_value(page, "affected-0-functions") == " ".join(LOADER)
    assert field_value(page, "credits-0-contact") == "jane@example.org https://jane.example.org"
    assert field_value(page, "credits-1-contact") == ""  # the row asked for
    assert chosen_option(page, "severity") == "moderate"
    assert AdvisoryContent.from_json(draft_revision(advisory).content).aliases == []  # type: ignore[union-attr]


def test_a_wrong_new_field_is_named_and_the_form_comes_back_as_typed(alice: User, project_a: Project) -> None:
    advisory = do_create_advisory(project_a, acting_user=alice)
    typed = {
        **TYPED,
        "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        "aliases": "GHSA-nope",
        "credits-0-contact": "http://jane.example.org",
    }
    response = signed_in(alice).post(editor_path(advisory), typed)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "severity: leave it empty when a CVSS vector is given" in page
    assert "aliases: 'GHSA-nope' is not a GitHub advisory id" in page
    assert "credits 1: the contact 'http://jane.example.org' must be an https:// address" in page
    assert field_value(page, "aliases") == "GHSA-nope"
    assert field_value(page, "credits-0-contact") == "http://jane.example.org"
    assert field_value(page, "affected-0-functions") == " ".join(LOADER)


# --- the public page ---------------------------------------------------------------------------


def test_the_public_page_shows_aliases_severity_related_upstream_functions_and_contacts(
    client: Client, alice: User, admin: User, project_a: Project
) -> None:
    advisory = do_create_advisory(project_a, acting_user=alice)
    assert signed_in(alice).post(editor_path(advisory), TYPED).status_code == 302
    do_approve_draft(advisory, acting_user=admin)
    do_publish_advisory(advisory, acting_user=admin)
    page = client.get(f"/p/llm-d/advisories/{advisory.identifier}/").content.decode()
    assert (
        f'<dt>Also known as</dt><dd><a href="https://github.com/advisories/{GHSA}" '
        f'rel="noopener noreferrer nofollow"><code>{GHSA}</code></a>, '
        '<a href="https://osv.dev/vulnerability/PYSEC-2026-17" rel="noopener noreferrer nofollow">'
        "<code>PYSEC-2026-17</code></a></dd>"
    ) in page
    assert "<dt>Severity</dt><dd>Moderate" in page
    assert '<dt>Related</dt><dd><a href="https://www.cve.org/CVERecord?id=CVE-2025-40001"' in page
    assert "<dt>Upstream</dt>" in page
    assert '<th scope="col">Affected functions</th>' in page
    assert "<code>llmd.loader.load_model</code>, <code>llmd.loader.resolve_path</code>" in page
    assert (
        'Jane Finder (Finder) · <a href="mailto:jane@example.org" rel="noopener noreferrer nofollow">'
        "jane@example.org</a>"
    ) in page


def test_the_public_page_of_a_scored_advisory_names_no_separate_severity(
    client: Client, alice: User, admin: User, project_a: Project
) -> None:
    advisory = do_create_advisory(project_a, acting_user=alice)
    scored = {**TYPED, "severity": "", "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}
    scored.pop("affected-0-functions")
    assert signed_in(alice).post(editor_path(advisory), scored).status_code == 302
    do_approve_draft(advisory, acting_user=admin)
    do_publish_advisory(advisory, acting_user=admin)
    page = client.get(f"/p/llm-d/advisories/{advisory.identifier}/").content.decode()
    assert "<dt>Severity</dt>" not in page
    assert "Affected functions" not in page
    osv = client.get(f"/p/llm-d/advisories/{advisory.identifier}/osv.json").json()
    assert osv["database_specific"]["severity"] == "HIGH"  # the 7.5 score's rating


def test_content_saved_before_these_fields_reads_them_as_empty() -> None:
    assert Credit("Jane", CreditType.FINDER).contact == ()
    content = AdvisoryContent.from_json(
        {"title": "t", "affected": [{"package": "pkg:pypi/llm-d", "affected": "vers:pypi/<1.0"}]}
    )
    assert check_content(content, for_publication=False) == []
    assert (content.aliases, content.related, content.upstream, content.severity) == ([], [], [], "")


def test_the_diff_between_revisions_names_the_new_fields() -> None:
    old = AdvisoryContent(credits=[{"name": "Jane", "type": "finder"}])
    new = AdvisoryContent(
        severity="low",
        aliases=[GHSA],
        related=["CVE-2025-40001"],
        upstream=["GHSA-6w3r-pq8v-m4xj"],
        affected=[{"package": "pkg:pypi/llm-d", "affected": "vers:pypi/<1.0", "functions": list(LOADER)}],
        credits=[{"name": "Jane", "type": "finder", "contact": ["mailto:jane@example.org"]}],
    )
    changed = {d.label: d for d in diff_contents(old, new) if d.changed}
    assert set(changed) == {"Severity", "Aliases", "Related", "Upstream", "Affected packages", "Credits"}
    [line] = changed["Affected packages"].lines
    assert line.segments[0].text == f"pkg:pypi/llm-d vers:pypi/<1.0 in {' '.join(LOADER)}"
