"""The advisory editor: structured rows, a preview of the public page, the changes between
revisions, and the problems publication and the exports would meet, all for the team only."""

from __future__ import annotations

import html
import re

from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    do_revise_advisory,
    draft_revision,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.advisories.models import Advisory
from vulndesk.projects.models import Project

from .conftest import signed_in

SECRET_SUMMARY = "The planner passes tool output to eval() unescaped."


def _draft(project: Project, author: User, **content: object) -> Advisory:
    advisory = do_create_advisory(project, acting_user=author)
    fields = {
        "title": "Tool output reaches eval()",
        "summary": SECRET_SUMMARY,
        "affected": [{"package": "pkg:pypi/llm-d", "affected": "vers:pypi/>=0.1.0|<0.4.2"}],
        "credits": [{"name": "Rita Researcher", "type": "finder"}],
        "references": [{"url": "https://example.org/fix/1", "type": "FIX"}],
        **content,
    }
    do_edit_draft(advisory, AdvisoryContent(**fields), acting_user=author)  # type: ignore[arg-type]
    return advisory


def editor_path(advisory: Advisory) -> str:
    return f"/desk/p/{advisory.project.slug}/advisories/{advisory.identifier}/"


def field_value(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, f"no field {name}"
    return html.unescape(found.group(1))


def chosen_option(page: str, name: str) -> str:
    select = re.search(rf'<select [^>]*name="{re.escape(name)}".*?</select>', page, re.DOTALL)
    assert select, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def test_the_editor_shows_each_credit_reference_and_package_as_a_row_with_empty_rows_to_add(
    alice: User, project_a: Project
) -> None:
    advisory = _draft(project_a, alice, cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")
    page = signed_in(alice).get(editor_path(advisory)).content.decode()
    assert "Score: 7.5 High" in page
    assert field_value(page, "credits-0-name") == "Rita Researcher"
    assert chosen_option(page, "credits-0-type") == "finder"
    assert field_value(page, "references-0-url") == "https://example.org/fix/1"
    assert chosen_option(page, "references-0-type") == "FIX"
    assert field_value(page, "affected-0-package") == "pkg:pypi/llm-d"
    assert field_value(page, "affected-0-affected") == "vers:pypi/>=0.1.0|<0.4.2"
    assert field_value(page, "credits-2-name") == ""  # two empty rows under the filled one
    assert 'name="credits-3-name"' not in page
    assert "name | role" not in page


def test_adding_a_row_without_javascript_keeps_what_was_typed_and_saves_nothing(
    alice: User, project_a: Project
) -> None:
    advisory = _draft(project_a, alice)
    typed = {
        "title": "A new title, not saved yet",
        "summary": SECRET_SUMMARY,
        "credits-0-name": "Rita Researcher",
        "credits-0-type": "finder",
        "credits-1-name": "Alex Analyst",
        "credits-1-type": "analyst",
        "credits-2-name": "",
        "credits-2-type": "finder",
        "add_row": "credits",
    }
    response = signed_in(alice).post(editor_path(advisory), typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert field_value(page, "title") == "A new title, not saved yet"
    assert field_value(page, "credits-1-name") == "Alex Analyst"
    assert chosen_option(page, "credits-1-type") == "analyst"
    assert field_value(page, "credits-3-name") == ""  # the row asked for
    assert 'name="credits-4-name"' not in page
    saved = AdvisoryContent.from_json(draft_revision(advisory).content)  # type: ignore[union-attr]
    assert saved.title == "Tool output reaches eval()"


def test_saving_rows_stores_structured_entries_and_ignores_the_empty_ones(
    alice: User, project_a: Project
) -> None:
    advisory = _draft(project_a, alice)
    form = {
        "title": "Tool output reaches eval()",
        "summary": SECRET_SUMMARY,
        "affected-0-package": "pkg:pypi/llm-d",
        "affected-0-affected": "vers:pypi/>=0.1.0|<0.4.2",
        "affected-1-package": "",
        "affected-1-affected": "",
        "credits-0-name": "Rita Researcher",
        "credits-0-type": "finder",
        "credits-1-name": "",
        "credits-1-type": "finder",
        "credits-7-name": "Alex Analyst",  # a row the script added
        "credits-7-type": "remediation_developer",
        "references-0-url": "https://example.org/fix/1",
        "references-0-type": "FIX",
        "references-1-url": "",
        "references-1-type": "WEB",
    }
    assert signed_in(alice).post(editor_path(advisory), form).status_code == 302
    saved = AdvisoryContent.from_json(draft_revision(advisory).content)  # type: ignore[union-attr]
    assert saved.credits == [
        {"name": "Rita Researcher", "type": "finder"},
        {"name": "Alex Analyst", "type": "remediation_developer"},
    ]
    assert saved.references == [{"url": "https://example.org/fix/1", "type": "FIX"}]
    assert saved.affected == [{"package": "pkg:pypi/llm-d", "affected": "vers:pypi/>=0.1.0|<0.4.2"}]


def test_a_wrong_row_is_named_and_the_form_comes_back_as_typed(alice: User, project_a: Project) -> None:
    advisory = _draft(project_a, alice)
    form = {
        "title": "Tool output reaches eval()",
        "references-0-url": "http://example.org/plain",
        "references-0-type": "FIX",
        "credits-0-name": "Rita Researcher",
        "credits-0-type": "not a role",
    }
    response = signed_in(alice).post(editor_path(advisory), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "references 1: must be an https:// address" in page
    assert "credits 1: the role must be one of" in page
    assert field_value(page, "references-0-url") == "http://example.org/plain"


def test_the_team_previews_the_public_page_of_a_draft_that_nobody_else_can_see(
    client: Client, alice: User, bob: User, project_a: Project
) -> None:
    advisory = _draft(project_a, alice)
    preview = f"{editor_path(advisory)}preview/"
    response = signed_in(alice).get(preview)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview — not published" in page
    assert "it is not approved yet" in page
    assert "<dt>Published</dt><dd>Not yet</dd>" in page
    assert SECRET_SUMMARY in html.unescape(page)
    assert "Rita Researcher (Finder)" in page  # drawn by the public template
    assert "/osv.json" not in page  # no export links: a draft exports to nobody
    assert response["Cache-Control"].startswith("max-age=0")
    assert signed_in(bob).get(preview).status_code == 404
    assert client.get(preview).status_code == 302  # to the sign-in
    assert client.get(f"/p/llm-d/advisories/{advisory.identifier}/").status_code == 404


def _published_then_revised(project: Project, author: User, reviewer: User) -> Advisory:
    advisory = _draft(project, author)
    do_approve_draft(advisory, acting_user=reviewer)
    do_publish_advisory(advisory, acting_user=reviewer)
    do_revise_advisory(advisory, acting_user=author)
    revised = AdvisoryContent(
        title="Tool output reaches eval()",
        summary="The planner passes tool output to eval() unescaped. Fixed in 0.4.2.",
        affected=[{"package": "pkg:pypi/llm-d", "affected": "vers:pypi/>=0.1.0|<0.4.2"}],
        credits=[
            {"name": "Rita Researcher", "type": "finder"},
            {"name": "Alex Analyst", "type": "analyst"},
        ],
    )
    do_edit_draft(advisory, revised, change_summary="Name the fixed version.", acting_user=author)
    return advisory


def test_the_diff_shows_field_by_field_what_a_revision_changed(
    alice: User, admin: User, bob: User, project_a: Project
) -> None:
    advisory = _published_then_revised(project_a, alice, admin)
    editor = signed_in(alice).get(editor_path(advisory)).content.decode()
    assert "What changed since revision 1" in editor
    response = signed_in(alice).get(f"{editor_path(advisory)}diff/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Summary</h2>" in page
    assert "<ins> Fixed in 0.4.2.</ins>" in page  # the words added to an otherwise unchanged line
    assert '<span class="visually-hidden">Added: </span><ins>Alex Analyst (analyst)</ins>' in page
    assert '<span class="visually-hidden">Removed: </span><del>https://example.org/fix/1 (FIX)</del>' in page
    assert "Unchanged: Title, Details, Affected packages" in page
    assert "(draft): “Name the fixed version.”</p>" in page
    same = signed_in(alice).get(f"{editor_path(advisory)}diff/?from=2&to=2").content.decode()
    assert "Choose two different revisions." in same
    assert signed_in(alice).get(f"{editor_path(advisory)}diff/?from=1&to=3").status_code == 404
    assert signed_in(bob).get(f"{editor_path(advisory)}diff/").status_code == 404


def test_the_editor_lists_every_problem_the_exports_would_raise_before_approval(
    alice: User, admin: User, project_a: Project
) -> None:
    affected = [
        {"package": "pkg:generic/llm-d-chart", "affected": "vers:generic/<2.0.0"},
        {"package": "pkg:pypi/llm-d", "affected": "vers:pypi/>0.1.0|<0.4.2"},
    ]
    advisory = _draft(project_a, alice, affected=affected, summary="")
    page = html.unescape(signed_in(alice).get(editor_path(advisory)).content.decode())
    assert "Before publication" in page
    assert "summary: is required to publish" in page
    assert "OSV</strong>: OSV has no ecosystem for generic packages (pkg:generic/llm-d-chart)" in page
    assert re.search(r"OSV, CVE JSON 5\.1, CSAF 2\.0, CSAF 2\.0 VEX, OpenVEX</strong>: [^<]*>0\.1\.0", page)
    preview = html.unescape(signed_in(alice).get(f"{editor_path(advisory)}preview/").content.decode())
    assert "OSV has no ecosystem for generic packages" in preview

    fixable = _draft(project_a, alice, affected=affected[:1])
    approved = signed_in(admin).post(f"{editor_path(fixable)}approve/", follow=True).content.decode()
    assert "Approved" in approved
    assert "Once published, some exports will be refused: OSV: OSV has no ecosystem for generic" in (
        html.unescape(approved)
    )


def test_a_draft_every_export_can_express_says_so(alice: User, project_a: Project) -> None:
    advisory = _draft(project_a, alice)
    page = signed_in(alice).get(editor_path(advisory)).content.decode()
    assert "every export (OSV, CVE JSON 5.1, CSAF 2.0, CSAF VEX, OpenVEX) can express this draft" in page


def test_the_preview_of_a_published_advisory_without_a_draft_shows_when_it_was_published(
    alice: User, admin: User, project_a: Project
) -> None:
    advisory = _draft(project_a, alice)
    do_approve_draft(advisory, acting_user=admin)
    do_publish_advisory(advisory, acting_user=admin)
    advisory.refresh_from_db()
    page = signed_in(alice).get(f"{editor_path(advisory)}preview/").content.decode()
    assert "Preview of revision 1, already published." in page
    assert "not published" not in page
    assert "Not yet" not in page
    assert f"{advisory.published_at:%Y-%m-%d %H:%M} UTC" in page
