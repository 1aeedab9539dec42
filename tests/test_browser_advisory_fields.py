"""In Chromium: the fields GHSA and OSV users expect, typed in the editor (a credit row added in
place carries its contact field) and read on the public page, at 1280 and 375 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser import ATM_IDENTIFIER, both_widths, case_url, draft_advisory, send_report
from .live import LiveServer
from .test_browser_severity_and_advisory_editor import _reviewer

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "agentic-tool-mesh"
GHSA = "GHSA-2c8m-4x9q-wp7v"


def _draft(page: Page, server: LiveServer) -> str:
    sent = send_report(server, PROJECT, "Planner follows symlinks", reporter_email="rita@researcher.test")
    page.goto(case_url(server, PROJECT, sent["number"]))
    return draft_advisory(page, ATM_IDENTIFIER)


def _fill(page: Page) -> None:
    page.get_by_label("Summary (one paragraph").fill("A crafted plan reads files outside the workspace.")
    page.get_by_label("Package URL of package 1").fill("pkg:pypi/llmesh")
    page.get_by_label("Affected range of package 1").fill("vers:pypi/>=0.1.0|<0.4.2")
    page.get_by_label("Affected functions, if known of package 1").fill("llmesh.planner.open_path")
    page.get_by_label("Name of credit 1").fill("Rita Researcher")
    page.get_by_label("Contact, public (email or https) of credit 1").fill("rita@researcher.test")
    page.get_by_role("button", name="Add another credit").click()
    page.get_by_label("Name of credit 3").fill("Alex Analyst")
    page.get_by_label("Contact, public (email or https) of credit 3").fill("https://alex.example.org")
    page.get_by_label("Severity, when there is no CVSS vector").select_option("high")
    page.get_by_label("Other ids of this vulnerability (aliases)").fill(f"{GHSA} PYSEC-2026-17")
    page.get_by_label("Related vulnerabilities").fill("CVE-2025-40001")


def test_the_new_fields_go_from_the_editor_to_the_public_page(server: LiveServer, desk_page: Page) -> None:
    reviewer = _reviewer(server)
    page = desk_page
    editor = _draft(page, server)
    _fill(page)
    page.get_by_role("button", name="Save the draft", exact=True).last.click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_label("Contact, public (email or https) of credit 2")).to_have_value(
        "https://alex.example.org"
    )
    path = editor.removeprefix(server.url)
    assert reviewer.post_to(f"{path}approve/", path, {})[0] == 302
    page.goto(editor)
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published: the advisory is public")).to_be_visible()
    page.goto(editor.replace("/desk/p/", "/p/"))
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(f"Also known as{GHSA}, PYSEC-2026-17")
    expect(facts).to_contain_text("SeverityHigh")
    expect(page.get_by_role("link", name="CVE-2025-40001")).to_have_attribute(
        "href", "https://www.cve.org/CVERecord?id=CVE-2025-40001"
    )
    expect(page.get_by_role("cell", name="llmesh.planner.open_path")).to_be_visible()
    expect(page.get_by_role("link", name="rita@researcher.test")).to_have_attribute(
        "href", "mailto:rita@researcher.test"
    )
    both_widths(page, "advisory-fields-page")
    page.close()
