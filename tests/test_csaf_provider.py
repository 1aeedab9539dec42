"""CSAF as a provider publishes it (CSAF 2.0 §7.1), read as its consumers read it.

BSI's secvisogram validator (``@secvisogram/csaf-validator-lib`` from npm, installed by ``make
test`` from the lock in ``tests/csaf-validator/``) runs over the CSAF documents of every example
advisory; the provider metadata and the ROLIE feeds are checked against CSAF 2.0's own schemas.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.resources
import io
import json
import os
import shutil
import subprocess  # nosec B404 - runs node on the validator this repository locks
from pathlib import Path
from typing import Any

import feedparser
import pytest
from csaf._rolie import check_rolie_feed  # the package checks ROLIE here; its CLI fetches URLs
from django.test import Client
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pytest_django.fixtures import Settings
from referencing import Registry, Resource

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_edit_draft,
    do_publish_advisory,
    do_revise_advisory,
)
from vulndesk.advisories.document import AffectedRange
from vulndesk.advisories.exports.csaf import canonical_file_name
from vulndesk.advisories.exports.published import export_advisory, published_advisories
from vulndesk.advisories.exports.render import render
from vulndesk.advisories.models import Advisory
from vulndesk.bootstrap import load_example_projects
from vulndesk.demo import load_demo_cases
from vulndesk.openpgp.actions import do_generate_project_key
from vulndesk.openpgp.keys import GnuPGHome
from vulndesk.openpgp.models import SignatureStatus
from vulndesk.projects.models import Project

from .conftest import EXAMPLES, REPO
from .test_advisory_export_routes import CONTENT, published  # noqa: F401 - `published` is a fixture
from .test_advisory_exports import CONTEXT, EXAMPLE_SLUGS, PUBLISHED, SCHEMAS, advisory_document

NODE = shutil.which("node")
VALIDATOR_SCRIPT = REPO / "tests" / "csaf-validator" / "validate.mjs"
VALIDATOR_MODULES = REPO / ".cache" / "npm" / "csaf-validator" / "node_modules"
# The CSAF 2.0 schema as the `csaf` package ships it (tests/schemas/README.md).
CSAF_SCHEMA = Path(str(importlib.resources.files("csaf"))) / "csaf" / "v20" / "schema"
BASE = "https://vulndesk.example.org"


def secvisogram(documents: dict[str, bytes], tmp_path: Path) -> dict[str, dict[str, list[Any]]]:
    """secvisogram's findings per document name: strict schema and mandatory tests, optional tests."""
    if NODE is None:
        pytest.skip("node is not installed: BSI's secvisogram CSAF validator runs on node")
    assert VALIDATOR_MODULES.is_dir(), "run `make csaf-validator` (part of `make test`) to install it"
    paths = []
    for name, body in documents.items():
        path = tmp_path / name
        path.write_bytes(body)
        paths.append(str(path))
    result = subprocess.run(
        [NODE, str(VALIDATOR_SCRIPT), *paths],
        env={**os.environ, "CSAF_VALIDATOR_MODULES": str(VALIDATOR_MODULES)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, dict[str, list[Any]]] = json.loads(result.stdout)
    return {Path(path).name: findings for path, findings in found.items()}


def assert_clean(findings: dict[str, dict[str, list[Any]]], expected: int) -> None:
    assert len(findings) == expected
    for name, found in findings.items():
        assert found == {"errors": [], "warnings": [], "optional_errors": []}, name


def schema_validator(file_name: str) -> Draft202012Validator:
    """CSAF 2.0's schema from the repository; its references to the CSAF schema resolve to the copy
    in the ``csaf`` package."""
    csaf = json.loads((CSAF_SCHEMA / "csaf.json").read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource(csaf["$id"], Resource.from_contents(csaf))
    schema = json.loads((SCHEMAS / file_name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(file_name: str, instance: dict[str, Any]) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in schema_validator(file_name).iter_errors(instance)
    ]
    assert errors == []


@pytest.fixture
def examples(db: None, settings: Settings) -> list[Project]:
    """The example projects with their published example advisory, as `vulndesk setup` makes them,
    on an instance with an https address (CSAF 2.0 requirement 3)."""
    settings.BASE_URL = BASE
    projects = load_example_projects(EXAMPLES)
    load_demo_cases(projects)
    return projects


# --- secvisogram ------------------------------------------------------------------------------


def test_secvisogram_finds_no_error_and_no_warning_in_any_example_advisory(tmp_path: Path) -> None:
    documents = {
        f"{slug}.{format_name}.json": render(format_name, advisory_document(slug), CONTEXT)
        for slug in EXAMPLE_SLUGS
        for format_name in ("csaf", "csaf-vex")
    }
    assert_clean(secvisogram(documents, tmp_path), expected=2 * len(EXAMPLE_SLUGS))


def test_secvisogram_finds_nothing_in_an_advisory_awaiting_a_fix_nor_in_a_withdrawn_one(
    tmp_path: Path,
) -> None:
    awaiting = advisory_document(
        "fast-llm", affected=(AffectedRange("pkg:pypi/fast-llm", "vers:pypi/>=1.2.0"),), cvss40_vector=""
    )
    withdrawn = advisory_document(
        "llm-d", withdrawn_at=PUBLISHED + dt.timedelta(days=5), withdrawn_reason="Not a vulnerability."
    )
    with_cve = advisory_document("agentic-tool-mesh", cve_id="CVE-2026-10001")
    documents = {
        f"{name}.{format_name}.json": render(format_name, document, CONTEXT)
        for name, document in (("awaiting", awaiting), ("withdrawn", withdrawn), ("cve", with_cve))
        for format_name in ("csaf", "csaf-vex")
    }
    assert_clean(secvisogram(documents, tmp_path), expected=6)


def test_secvisogram_finds_nothing_in_the_advisories_setup_publishes(
    examples: list[Project], tmp_path: Path
) -> None:
    documents = {
        f"{advisory.identifier}.{format_name}.json": export_advisory(advisory, format_name)
        for advisory in published_advisories(None)
        for format_name in ("csaf", "csaf-vex")
    }
    assert_clean(secvisogram(documents, tmp_path), expected=2 * len(examples))


def test_secvisogram_warns_when_the_self_reference_is_not_the_canonical_url(tmp_path: Path) -> None:
    # The validator does read what we send it: a document without its canonical URL is flagged.
    document = json.loads(render("csaf", advisory_document("llm-d"), CONTEXT))
    for reference in document["document"]["references"]:
        if reference["category"] == "self":
            reference["url"] = f"{BASE}/p/llm-d/advisories/x_LLMD-2026-0001/csaf.json"
    findings = secvisogram({"moved.json": json.dumps(document).encode()}, tmp_path)
    assert [w["test"] for w in findings["moved.json"]["warnings"]] == ["optionalTest_6_2_11"]


# --- file names (CSAF 2.0 §5.1) ---------------------------------------------------------------


def test_a_file_name_is_the_lower_cased_tracking_id_with_other_characters_as_one_underscore() -> None:
    assert canonical_file_name("x_LLMD-2026-0001") == "x_llmd-2026-0001.json"
    assert canonical_file_name("x_LLMD-2026-0001-VEX") == "x_llmd-2026-0001-vex.json"
    # The standard's own example (§5.1).
    assert canonical_file_name("Example Company - 2019-YH3234") == "example_company_-_2019-yh3234.json"
    assert canonical_file_name("RHBA-2019:0024") == "rhba-2019_0024.json"


def test_the_self_reference_is_the_documents_place_in_the_distribution_folder() -> None:
    for format_name, file_name in (
        ("csaf", "x_llmd-2026-0001.json"),
        ("csaf-vex", "x_llmd-2026-0001-vex.json"),
    ):
        document = json.loads(render(format_name, advisory_document("llm-d"), CONTEXT))
        (self_url,) = [r["url"] for r in document["document"]["references"] if r["category"] == "self"]
        assert self_url == f"{BASE}/p/llm-d/csaf/2026/{file_name}"


# --- the provider's files ---------------------------------------------------------------------


def test_the_provider_metadata_is_valid_and_lists_each_projects_folder_and_feed(
    examples: list[Project], client: Client, settings: Settings
) -> None:
    settings.CSAF_PUBLISHER_NAME = "Example Foundation security"
    response = client.get("/.well-known/csaf/provider-metadata.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    metadata = response.json()
    assert_valid("csaf-2.0-provider.schema.json", metadata)
    assert metadata["canonical_url"] == f"{BASE}/.well-known/csaf/provider-metadata.json"
    assert metadata["role"] == "csaf_provider"
    assert metadata["publisher"] == {
        "category": "vendor",
        "name": "Example Foundation security",
        "namespace": BASE,
    }
    directories = [d["directory_url"] for d in metadata["distributions"]]
    assert directories == [f"{BASE}/p/{slug}/csaf" for slug in sorted(p.slug for p in examples)]
    for distribution in metadata["distributions"]:
        (feed,) = distribution["rolie"]["feeds"]
        assert feed["tlp_label"] == "WHITE"
        assert feed["url"] == f"{distribution['directory_url']}/feed-tlp-white.json"


def test_index_and_changes_list_both_profiles_which_answer_with_the_export_bytes(
    examples: list[Project], client: Client
) -> None:
    (advisory,) = published_advisories(Project.objects.get(slug="llm-d"))
    year = advisory.published_at.year  # type: ignore[union-attr]
    stem = advisory.identifier.lower()
    paths = [f"{year}/{stem}.json", f"{year}/{stem}-vex.json"]

    index = client.get("/p/llm-d/csaf/index.txt")
    assert index["Content-Type"] == "text/plain; charset=utf-8"
    assert sorted(index.content.decode().splitlines()) == sorted(paths)

    changes = client.get("/p/llm-d/csaf/changes.csv")
    assert changes["Content-Type"] == "text/csv; charset=utf-8"
    assert changes.content.decode().startswith('"')  # every field quoted, as the standard shows
    rows = list(csv.reader(io.StringIO(changes.content.decode())))
    assert sorted(path for path, _ in rows) == sorted(paths)
    assert {changed for _, changed in rows} == {advisory.modified_at.strftime("%Y-%m-%dT%H:%M:%SZ")}  # type: ignore[union-attr]

    for path, format_name in zip(paths, ("csaf", "csaf-vex"), strict=True):
        served = client.get(f"/p/llm-d/csaf/{path}")
        assert served.status_code == 200  # requirement 6: no redirect
        assert served.content == export_advisory(advisory, format_name)
        assert served["Content-Disposition"] == f'inline; filename="{path.split("/")[1]}"'
    # A name the folder does not hold, and a folder of another year, answer 404.
    assert client.get(f"/p/llm-d/csaf/{year}/x_llmd-{year}-0099.json").status_code == 404
    assert client.get(f"/p/llm-d/csaf/{year - 1}/{stem}.json").status_code == 404


def test_the_rolie_feed_is_valid_and_its_entries_are_the_documents(
    examples: list[Project], client: Client
) -> None:
    response = client.get("/p/agentic-tool-mesh/csaf/feed-tlp-white.json")
    assert response.status_code == 200
    feed = response.json()
    assert_valid("csaf-2.0-rolie-feed.schema.json", feed)
    assert feed["feed"]["category"] == [
        {"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}
    ]
    assert feed["feed"]["link"] == [
        {"rel": "self", "href": f"{BASE}/p/agentic-tool-mesh/csaf/feed-tlp-white.json"}
    ]
    entries = feed["feed"]["entry"]
    assert len(entries) == 2
    for entry in entries:
        url = entry["content"]["src"]
        assert url.startswith(f"{BASE}/p/agentic-tool-mesh/csaf/")
        document = client.get(url.removeprefix(BASE)).json()
        assert document["document"]["tracking"]["id"] == entry["id"]
        assert document["document"]["title"] == entry["title"]


def test_a_project_without_advisories_lists_nothing_and_an_unknown_one_answers_404(
    client: Client, project_a: Project
) -> None:
    # project_a has no published advisory: its listings are empty, not missing.
    assert client.get("/p/llm-d/csaf/index.txt").content == b""
    assert client.get("/p/llm-d/csaf/changes.csv").content == b""
    assert client.get("/p/llm-d/csaf/feed-tlp-white.json").json()["feed"]["entry"] == []
    for path in ("index.txt", "changes.csv", "feed-tlp-white.json", "2026/x_llmd-2026-0001.json"):
        assert client.get(f"/p/nope/csaf/{path}").status_code == 404


def test_the_csaf_export_url_names_its_file_as_the_standard_does(
    examples: list[Project], client: Client
) -> None:
    (advisory,) = published_advisories(Project.objects.get(slug="fast-llm"))
    response = client.get(f"/p/fast-llm/advisories/{advisory.identifier}/csaf-vex.json")
    stem = advisory.identifier.lower()
    assert response["Content-Disposition"] == f'inline; filename="{stem}-vex.json"'
    osv = client.get(f"/p/fast-llm/advisories/{advisory.identifier}/osv.json")
    assert osv["Content-Disposition"] == f'inline; filename="{advisory.identifier}.osv.json"'


def test_asked_by_its_cve_id_a_csaf_export_keeps_the_file_name_of_its_tracking_id(
    published: Advisory,  # noqa: F811 - the fixture imported above
    client: Client,
    alice: User,
    admin: User,
) -> None:
    do_revise_advisory(published, acting_user=alice)
    do_edit_draft(published, CONTENT, cve_id="CVE-2026-10012", acting_user=alice)
    do_approve_draft(published, acting_user=admin)
    do_publish_advisory(published, acting_user=admin)
    stem = published.identifier.lower()
    for path in (
        "/p/llm-d/advisories/CVE-2026-10012/csaf.json",
        "/api/v1/projects/llm-d/advisories/CVE-2026-10012/export/csaf",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'inline; filename="{stem}.json"'


def test_the_rolie_feed_also_reads_as_atom_with_the_rolie_namespace(
    examples: list[Project], client: Client
) -> None:
    response = client.get("/p/llm-d/csaf/feed-tlp-white.atom")
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    checked = check_rolie_feed(response.content, "feed-tlp-white.atom")  # the `csaf` package's check
    assert checked.violations == []
    assert checked.entry_count == 2
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert parsed.namespaces["rolie"] == "urn:ietf:params:xml:ns:rolie-1.0"
    json_feed = client.get("/p/llm-d/csaf/feed-tlp-white.json").json()["feed"]
    assert [e.link for e in parsed.entries] == [e["content"]["src"] for e in json_feed["entry"]]
    assert parsed.feed.author  # RFC 4287 §4.1.1: a feed names its author


def test_each_document_has_hash_files_that_sha256sum_and_sha512sum_accept(
    examples: list[Project], client: Client, tmp_path: Path
) -> None:
    feed = client.get("/p/llm-d/csaf/feed-tlp-white.json").json()["feed"]
    for entry in feed["entry"]:
        url = entry["content"]["src"]
        hashes = [link["href"] for link in entry["link"] if link["rel"] == "hash"]
        assert hashes == [f"{url}.sha256", f"{url}.sha512"]
        name = url.rsplit("/", 1)[1]
        (tmp_path / name).write_bytes(client.get(url.removeprefix(BASE)).content)
        for href, tool in zip(hashes, ("sha256sum", "sha512sum"), strict=True):
            response = client.get(href.removeprefix(BASE))
            assert response["Content-Type"] == "text/plain; charset=utf-8"
            checksum = tmp_path / f"{name}.{tool}"
            checksum.write_bytes(response.content)
            program = shutil.which(tool)
            assert program is not None
            subprocess.run([program, "--check", "--strict", checksum.name], cwd=tmp_path, check=True)
    # A hash of nothing the folder holds answers 404, and so does an algorithm nobody asked for.
    stem = feed["entry"][0]["content"]["src"].removeprefix(BASE)
    assert client.get(stem.replace(".json", "-x.json") + ".sha512").status_code == 404
    assert client.get(f"{stem}.md5").status_code == 404


def test_with_a_key_for_every_project_each_document_is_signed_and_the_provider_is_trusted(
    examples: list[Project], client: Client
) -> None:
    unsigned = client.get("/p/llm-d/csaf/feed-tlp-white.json").json()["feed"]["entry"][0]
    assert "signature" not in [link["rel"] for link in unsigned["link"]]
    assert client.get(unsigned["content"]["src"].removeprefix(BASE) + ".asc").status_code == 404
    assert client.get("/.well-known/csaf/provider-metadata.json").json()["role"] == "csaf_provider"

    keys = {project.slug: do_generate_project_key(project, acting_user=None) for project in examples}
    metadata = client.get("/.well-known/csaf/provider-metadata.json").json()
    assert_valid("csaf-2.0-provider.schema.json", metadata)
    assert metadata["role"] == "csaf_trusted_provider"  # requirements 18-20 hold for every document
    assert metadata["pgp_keys"] == [
        {"fingerprint": keys[slug].fingerprint, "url": f"{BASE}/p/{slug}/openpgp.asc"}
        for slug in sorted(keys)
    ]
    feed = client.get("/p/llm-d/csaf/feed-tlp-white.json").json()
    assert_valid("csaf-2.0-rolie-feed.schema.json", feed)
    for entry in feed["feed"]["entry"]:
        (signature_url,) = [link["href"] for link in entry["link"] if link["rel"] == "signature"]
        assert signature_url == entry["content"]["src"] + ".asc"
        body = client.get(entry["content"]["src"].removeprefix(BASE)).content
        signature = client.get(signature_url.removeprefix(BASE))
        assert signature["Content-Type"] == "application/pgp-signature; charset=utf-8"
        with GnuPGHome() as home:
            home.import_keys(keys["llm-d"].public_key)
            verdict = home.verify_detached(body, signature.content)
            assert (verdict.status, verdict.fingerprint) == (SignatureStatus.VALID, keys["llm-d"].fingerprint)
            assert home.verify_detached(body + b" ", signature.content).status == SignatureStatus.INVALID
    atom = client.get("/p/llm-d/csaf/feed-tlp-white.atom").content
    assert check_rolie_feed(atom, "feed-tlp-white.atom").violations == []
    assert atom.count(b'rel="signature"') == len(feed["feed"]["entry"])
