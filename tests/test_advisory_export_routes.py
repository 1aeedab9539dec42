"""A published advisory exports the same bytes from the CLI, its public URL and the API.

Drafts and unknown ids export nowhere: 404 on the web and the API, a clear refusal on the CLI.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from django.test import Client

from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    do_withdraw_advisory,
)
from vulndesk.advisories.content import AdvisoryContent, AdvisoryError
from vulndesk.advisories.models import Advisory
from vulndesk.cli import main
from vulndesk.projects.actions import do_import_policy, do_record_release
from vulndesk.projects.models import Project, Release

from .conftest import PASSWORD, example_policy, signed_in
from .test_advisory_exports import assert_valid_csaf, assert_valid_cve, assert_valid_json_schema

pytestmark = pytest.mark.django_db

CONTENT = AdvisoryContent(
    title="Path traversal in the model loader",
    summary="A crafted model name lets a client read files outside the model directory.",
    details="The loader joins the model name to its directory without normalising it.",
    affected=[{"package": "pkg:pypi/llm-d", "affected": "vers:pypi/>=0.1.0|<0.4.2"}],
    cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
    cvss40_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
    cwes=["CWE-22"],
    credits=[{"name": "Rita Researcher", "type": "finder"}],
    mitigations="Serve models from a directory that holds nothing else.",
    references=[{"url": "https://github.com/llm-d/llm-d/commit/0123abcd", "type": "FIX"}],
)


def publish(project: Project, author: User, reviewer: User, content: AdvisoryContent = CONTENT) -> Advisory:
    advisory = do_create_advisory(project, acting_user=author)
    do_edit_draft(advisory, content, acting_user=author)
    do_approve_draft(advisory, acting_user=reviewer)
    return do_publish_advisory(advisory, acting_user=reviewer)


@pytest.fixture
def published(project_a: Project, alice: User, admin: User) -> Advisory:
    for version in ("0.1.0", "0.3.0", "0.4.1", "0.4.2", "0.5.0"):
        do_record_release(project_a, package="pkg:pypi/llm-d", version=version, acting_user=alice)
    return publish(project_a, alice, admin)


def cli_export(identifier: str, format_name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["advisory", "export", identifier, "--format", format_name])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_published_advisory_exports_the_same_valid_documents_everywhere(
    published: Advisory, client: Client, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    identifier = published.identifier
    page_html = client.get(f"/p/llm-d/advisories/{identifier}/").content.decode()
    for format_name in ("osv", "cve", "csaf", "csaf-vex", "openvex"):
        assert f'href="/p/llm-d/advisories/{identifier}/{format_name}.json"' in page_html
    exports = {}
    for format_name in ("osv", "cve", "csaf", "csaf-vex", "openvex"):
        page = client.get(f"/p/llm-d/advisories/{identifier}/{format_name}.json")
        api = client.get(f"/api/v1/projects/llm-d/advisories/{identifier}/export/{format_name}")
        status, out, _ = cli_export(identifier, format_name, capsys)
        assert (page.status_code, api.status_code, status) == (200, 200, 0)
        assert page["Content-Type"] == "application/json; charset=utf-8"
        assert page.content == api.content == out.encode(), f"{format_name} differs between the doors"
        exports[format_name] = json.loads(page.content)
    assert_valid_json_schema("osv-1.7.5.schema.json", exports["osv"])
    assert_valid_json_schema("openvex-0.2.0.schema.json", exports["openvex"])
    assert_valid_cve(exports["cve"], "CVE-2026-10009")
    assert_valid_csaf(exports["csaf"], tmp_path)
    assert_valid_csaf(exports["csaf-vex"], tmp_path)
    assert exports["osv"]["id"] == identifier
    statuses = exports["csaf"]["vulnerabilities"][0]["product_status"]
    assert statuses["known_affected"][1:] == [
        "pkg:pypi/llm-d@0.1.0",
        "pkg:pypi/llm-d@0.3.0",
        "pkg:pypi/llm-d@0.4.1",
    ]
    assert statuses["fixed"] == ["pkg:pypi/llm-d@0.4.2", "pkg:pypi/llm-d@0.5.0"]


def test_advisory_list_names_published_advisories_only(
    published: Advisory, project_a: Project, alice: User, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = do_create_advisory(project_a, acting_user=alice)
    assert main(["advisory", "list", "--project", "llm-d"]) == 0
    out = capsys.readouterr().out
    assert published.identifier in out
    assert "Path traversal in the model loader" in out
    assert draft.identifier not in out
    assert main(["advisory", "list", "--project", "agentic-tool-mesh"]) == 2
    assert "no project 'agentic-tool-mesh'" in capsys.readouterr().err


def test_a_draft_or_an_unknown_id_exports_nowhere(
    published: Advisory, project_a: Project, alice: User, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = do_create_advisory(project_a, acting_user=alice)
    do_edit_draft(draft, CONTENT, acting_user=alice)
    for identifier in (draft.identifier, "x_LLMD-1999-0001"):
        assert client.get(f"/p/llm-d/advisories/{identifier}/osv.json").status_code == 404
        assert client.get(f"/api/v1/projects/llm-d/advisories/{identifier}/export/osv").status_code == 404
        status, out, err = cli_export(identifier, "osv", capsys)
        assert (status, out) == (2, "")
        assert f"no published advisory '{identifier}'" in err
    # Another project's path does not reach llm-d's advisory either.
    assert client.get(f"/p/agentic-tool-mesh/advisories/{published.identifier}/osv.json").status_code == 404


def test_a_withdrawn_advisory_exports_as_withdrawn(
    published: Advisory, alice: User, client: Client, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    do_withdraw_advisory(
        published, "Not a vulnerability: the loader never runs as a service.", acting_user=alice
    )
    osv = client.get(f"/p/llm-d/advisories/{published.identifier}/osv.json").json()
    assert_valid_json_schema("osv-1.7.5.schema.json", osv)
    assert "withdrawn" in osv
    assert_valid_csaf(client.get(f"/p/llm-d/advisories/{published.identifier}/csaf.json").json(), tmp_path)
    vex = client.get(f"/p/llm-d/advisories/{published.identifier}/openvex.json").json()
    assert_valid_json_schema("openvex-0.2.0.schema.json", vex)
    status, out, _ = cli_export(published.identifier, "cve", capsys)
    assert status == 0
    assert json.loads(out)["rejectedReasons"][0]["value"].startswith("Not a vulnerability")
    assert main(["advisory", "list"]) == 0
    assert f"{published.identifier}" in (listing := capsys.readouterr().out)
    assert "(withdrawn)" in listing


def test_an_advisory_a_format_cannot_express_is_refused_before_publication(
    project_a: Project, alice: User, admin: User, client: Client
) -> None:
    content = AdvisoryContent(
        title="A flaw in the helm chart",
        summary="The chart mounts the host's docker socket.",
        affected=[{"package": "pkg:generic/llm-d-chart", "affected": "vers:generic/<2.0.0"}],
    )
    with pytest.raises(AdvisoryError, match=r"export: OSV: OSV has no ecosystem for generic packages"):
        publish(project_a, alice, admin, content)
    advisory = Advisory.objects.get(project=project_a)
    assert advisory.state == "draft"  # nothing public, so no public link can fail
    assert client.get(f"/p/llm-d/advisories/{advisory.identifier}/osv.json").status_code == 404


def test_a_repository_package_publishes_once_its_releases_name_their_commits(
    project_a: Project, alice: User, admin: User, client: Client
) -> None:
    github = "pkg:github/llm-d/llm-d"
    for version in ("0.3.0", "0.4.2"):
        do_record_release(project_a, package=github, version=version, acting_user=alice)
    content = AdvisoryContent(
        title="Router header injection",
        summary="A crafted header reaches the router's upstream request.",
        affected=[{"package": github, "affected": "vers:github/<0.4.2"}],
    )
    with pytest.raises(AdvisoryError, match=r"record the commit release 0\.4\.2 was tagged at"):
        publish(project_a, alice, admin, content)
    advisory = Advisory.objects.get(project=project_a)
    signed_in(alice).post(
        "/desk/p/llm-d/releases/", {"package": github, "version": "0.4.3", "commit": "43" * 20}
    )
    Release.objects.filter(version="0.4.2").update(commit="42" * 20)  # as recorded at its release
    do_publish_advisory(advisory, acting_user=admin)
    osv = client.get(f"/p/llm-d/advisories/{advisory.identifier}/osv.json")
    assert osv.status_code == 200
    assert_valid_json_schema("osv-1.7.5.schema.json", osv.json())
    assert osv.json()["affected"][0]["ranges"][0]["events"][1] == {"fixed": "42" * 20}
    assert Release.objects.get(version="0.4.3").commit == "43" * 20


@pytest.mark.parametrize("slug", ["llm-d", "agentic-tool-mesh", "fast-llm"])
def test_each_example_projects_published_advisory_exports_valid_documents(
    slug: str, admin: User, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = do_import_policy(example_policy(slug), acting_user=None)
    author = do_create_user(
        f"author@{slug}.test", role=Role.TEAM, project=project, password=PASSWORD, acting_user=None
    )
    package = f"pkg:pypi/{slug}"
    content = replace(
        CONTENT,
        affected=[{"package": package, "affected": "vers:pypi/>=0.1.0|<0.4.2|>=0.5.0|<0.5.1"}],
        references=[{"url": f"{example_policy(slug).project.repository}/commit/0123abcd", "type": "FIX"}],
    )
    for version in ("0.0.9", "0.3.0", "0.4.2", "0.5.0"):
        do_record_release(project, package=package, version=version, acting_user=author)
    identifier = publish(project, author, admin, content).identifier
    prefix = example_policy(slug).project.advisory_prefix
    assert identifier.startswith(f"x_{prefix}-")
    exports = {}
    for format_name in ("osv", "cve", "csaf", "csaf-vex", "openvex"):
        status, out, err = cli_export(identifier, format_name, capsys)
        assert status == 0, err
        exports[format_name] = json.loads(out)
    assert exports["osv"]["id"] == identifier
    assert_valid_json_schema("osv-1.7.5.schema.json", exports["osv"])
    assert_valid_json_schema("openvex-0.2.0.schema.json", exports["openvex"])
    assert_valid_cve(exports["cve"], "CVE-2026-10010")
    assert_valid_csaf(exports["csaf"], tmp_path)
    assert_valid_csaf(exports["csaf-vex"], tmp_path)
    vex = {s["status"]: [p["@id"] for p in s["products"]] for s in exports["openvex"]["statements"]}
    assert vex["not_affected"] == [f"{package}@0.0.9"]
    assert vex["fixed"] == [f"{package}@0.4.2", f"{package}@0.5.1"]


def test_a_cve_id_set_after_publication_changes_no_identity_and_both_urls_answer(
    published: Advisory, client: Client, alice: User, admin: User
) -> None:
    from vulndesk.advisories.actions import do_revise_advisory  # noqa: PLC0415

    first = client.get(f"/p/llm-d/advisories/{published.identifier}/osv.json").json()
    do_revise_advisory(published, acting_user=alice)
    do_edit_draft(published, CONTENT, cve_id="CVE-2026-10011", acting_user=alice)
    do_approve_draft(published, acting_user=admin)
    do_publish_advisory(published, acting_user=admin)
    for name in (published.identifier, "CVE-2026-10011"):  # links made before the CVE still answer
        assert client.get(f"/p/llm-d/advisories/{name}/").status_code == 200
        osv = client.get(f"/p/llm-d/advisories/{name}/osv.json").json()
        assert osv["id"] == first["id"] == published.identifier
        assert osv["aliases"] == ["CVE-2026-10011"]
