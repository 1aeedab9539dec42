"""Supported versions in full: the releases page, the backport matrix and SECURITY.md list every
recorded release line, the unsupported ones included, as the seeds' "Supported Versions" tables do.

The Agentic Tool Mesh supports its three most recent minor releases: with 1.4 to 1.7 shipped,
1.4 gets no fixes, and every page says so.
"""

from __future__ import annotations

import re

from django.template.loader import render_to_string
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.cases.actions.affected import do_set_affected_package
from vulndesk.cases.actions.fixes import backport_matrix, unsupported_lines
from vulndesk.distributors.briefing import briefing
from vulndesk.distributors.models import CaseShare, Organisation, OrganisationState
from vulndesk.projects.actions import do_import_policy, do_update_policy
from vulndesk.projects.models import Project
from vulndesk.projects.releases import release_lines, supported_releases

from .conftest import a_report, example_policy, signed_in
from .test_releases import PACKAGE, ship


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_line_is_listed_and_only_the_three_newest_are_supported(project_b: Project) -> None:
    ship(project_b, "1.4.0", "1.4.3", "1.5.0", "1.6.0", "1.6.1", "1.7.0")
    assert [(line.label, line.latest.version, line.supported) for line in release_lines(project_b)] == [
        ("1.7.x", "1.7.0", True),
        ("1.6.x", "1.6.1", True),
        ("1.5.x", "1.5.0", True),
        ("1.4.x", "1.4.3", False),
    ]
    assert [s.line for s in supported_releases(project_b)] == ["1.7", "1.6", "1.5"]


def test_an_explicit_list_supports_the_lines_it_names(project_b: Project) -> None:
    policy = example_policy("agentic-tool-mesh").model_copy(deep=True)
    versions = policy.supported_versions.model_copy(
        update={"mode": "explicit", "count": None, "versions": ["1.5.x"]}
    )
    do_update_policy(project_b, policy.model_copy(update={"supported_versions": versions}), acting_user=None)
    project_b.refresh_from_db()
    ship(project_b, "1.4.0", "1.5.0", "1.6.0")
    assert [(line.line, line.supported) for line in release_lines(project_b)] == [
        ("1.6", False),
        ("1.5", True),
        ("1.4", False),
    ]


def test_a_pre_release_project_lists_its_lines_as_not_supported(db: None) -> None:
    fast_llm = do_import_policy(example_policy("fast-llm"), acting_user=None)
    ship(fast_llm, "0.1.0", package="pkg:pypi/fast-llm")
    assert [(line.label, line.supported) for line in release_lines(fast_llm)] == [("0.1.x", False)]


def test_the_releases_page_shows_1_4_as_not_supported(bob: User) -> None:
    project = Project.objects.get(slug="agentic-tool-mesh")
    ship(project, "1.4.0", "1.5.0", "1.6.0", "1.7.0")
    page = signed_in(bob).get("/desk/p/agentic-tool-mesh/releases/").content.decode()
    text = _text(page[page.index('id="versions"') : page.index("Record a release")])
    assert "1.7.x Supported 1.7.0 release-1.7" in text
    assert "1.5.x Supported 1.5.0 release-1.5" in text
    assert "1.4.x Not supported no security fixes 1.4.0 release-1.4" in text
    assert text.index("1.7.x") < text.index("1.6.x") < text.index("1.5.x") < text.index("1.4.x")


def test_security_md_has_the_seeds_version_table_with_the_unsupported_line(
    client: Client, project_b: Project
) -> None:
    ship(project_b, "1.4.0", "1.5.0", "1.6.0", "1.7.0")
    text = client.get("/p/agentic-tool-mesh/SECURITY.md").content.decode()
    section = text[text.index("## Supported Versions") : text.index("## Reporting a Vulnerability")]
    assert (
        "| Version | Supported |\n"
        "| ------- | --------- |\n"
        "| 1.7.x | :white_check_mark: supported |\n"
        "| 1.6.x | :white_check_mark: supported |\n"
        "| 1.5.x | :white_check_mark: supported |\n"
        "| 1.4.x | :x: not supported |\n"
    ) in section
    assert "the 3 most recent minor releases" in section


def test_security_md_names_the_package_when_a_project_ships_several(
    client: Client, project_b: Project
) -> None:
    ship(project_b, "1.7.0")
    ship(project_b, "2.0.0", package="pkg:pypi/llmesh-tools")
    text = client.get("/p/agentic-tool-mesh/SECURITY.md").content.decode()
    assert "| `pkg:pypi/llmesh` 1.7.x | :white_check_mark: supported |" in text
    assert "| `pkg:pypi/llmesh-tools` 2.0.x | :white_check_mark: supported |" in text


def test_without_releases_security_md_keeps_the_sentence_and_has_no_table(client: Client, db: None) -> None:
    do_import_policy(example_policy("fast-llm"), acting_user=None)
    text = client.get("/p/fast-llm/SECURITY.md").content.decode()
    assert "| Version |" not in text
    assert "pre-release state" in text


def test_the_public_policy_page_shows_the_version_table(client: Client, project_b: Project) -> None:
    ship(project_b, "1.4.0", "1.5.0", "1.6.0", "1.7.0")
    text = _text(client.get("/p/agentic-tool-mesh/").content.decode())
    assert "1.4.x Not supported no security fixes 1.4.0" in text
    assert "1.7.x Supported 1.7.0" in text


def test_the_backport_matrix_shows_the_unsupported_line_without_a_form(bob: User) -> None:
    project = Project.objects.get(slug="agentic-tool-mesh")
    ship(project, "1.4.0", "1.5.0", "1.6.0", "1.7.0")
    report = a_report(project)
    do_set_affected_package(report, package=PACKAGE, affected="<1.7.1", acting_user=bob)
    assert [row.line for row in backport_matrix(report)] == ["1.7", "1.6", "1.5"]
    assert [line.line for line in unsupported_lines(report)] == ["1.4"]
    team = signed_in(bob)
    case = f"/desk/p/agentic-tool-mesh/reports/{report.number}/"
    for page in (team.get(case).content.decode(), team.get(f"{case}edit/fix/").content.decode()):
        row = page[page.index('<tr class="unsupported">') :]
        row = row[: row.index("</tr>")]
        assert "Not supported" in row
        assert "1.4.x gets no fix under the policy" in row
        assert "<form" not in row
    # On the fix section's own page: one form per supported line, none for 1.4.
    matrix = page[page.index('<table class="table backports"') :]
    matrix = matrix[: matrix.index("</table>")]
    assert matrix.count("<form") == 3


def test_a_package_the_case_does_not_affect_adds_no_unsupported_rows(bob: User) -> None:
    project = Project.objects.get(slug="agentic-tool-mesh")
    ship(project, "1.4.0", "1.5.0", "1.6.0", "1.7.0")
    report = a_report(project)
    assert unsupported_lines(report) == []


def test_a_distributors_briefing_names_the_lines_that_get_no_fix(bob: User) -> None:
    project = Project.objects.get(slug="agentic-tool-mesh")
    ship(project, "1.4.0", "1.5.0", "1.6.0", "1.7.0")
    report = a_report(project)
    do_set_affected_package(report, package=PACKAGE, affected="<1.7.1", acting_user=bob)
    organisation = Organisation.objects.create(
        project=project, name="Distro A", website="https://a.test", state=OrganisationState.APPROVED
    )
    share = CaseShare(report=report, organisation=organisation)
    share.summary = "embargoed summary"
    share.save()
    told = briefing(share)
    assert [row["line"] for row in told.backports] == ["1.7", "1.6", "1.5"]
    assert told.not_supported == ["pkg:pypi/llmesh 1.4.x"]
    text = render_to_string("emails/distributor-notice/body.txt", {"b": told, "number": report.number})
    assert "- pkg:pypi/llmesh 1.4.x: not supported, no fix" in text
