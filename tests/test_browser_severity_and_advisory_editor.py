"""In Chromium: the CVSS calculator's score follows each choice, and the advisory editor, its
preview and its diff work and fit a phone. Screenshots go to test-artifacts/ at 1280 and 375 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .browser import (
    ATM_IDENTIFIER,
    PHONE,
    WIDE,
    both_widths,
    case_url,
    draft_advisory,
    open_section,
    send_report,
    shot,
    sign_in,
)
from .live import Browser as FormClient
from .live import LiveServer, signed_in_member

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "agentic-tool-mesh"
REVIEWER, REVIEWER_PASSWORD = "reviewer@atm.test", "a reviewer's long password"
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N"


def _case(server: LiveServer, title: str) -> str:
    return case_url(
        server, PROJECT, send_report(server, PROJECT, title, reporter_email="rita@researcher.test")["number"]
    )


def test_the_score_follows_each_cvss_choice_and_a_pasted_vector_selects_its_radios(
    server: LiveServer, desk_page: Page
) -> None:
    page = desk_page
    page.goto(_case(server, "Router runs shell commands") + "edit/severity/")  # the section's own page
    calculator = page.locator("fieldset.cvss-calculator", has=page.locator("legend", has_text="CVSS 3.1"))
    for metric, value in (
        ("Attack Vector", "Network"),
        ("Attack Complexity", "Low"),
        ("Privileges Required", "None"),
        ("User Interaction", "None"),
        ("Scope", "Unchanged"),
        ("Confidentiality", "High"),
        ("Integrity", "None"),
    ):
        calculator.locator("fieldset.cvss-metric", has=page.locator("legend", has_text=metric)).get_by_label(
            value, exact=True
        ).check()
    output = calculator.locator("output")
    expect(output).to_contain_text("choose every base metric (A missing)")
    calculator.locator("fieldset[data-metric='A']").get_by_label("None", exact=True).check()
    expect(output).to_have_text("7.5 High")
    expect(calculator.get_by_label("CVSS 3.1 vector")).to_have_value(
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    )
    calculator.locator("fieldset[data-metric='I']").get_by_label("High", exact=True).check()
    expect(output).to_have_text("9.1 Critical")

    v40 = page.locator("fieldset.cvss-calculator", has=page.locator("legend", has_text="CVSS 4.0"))
    v40.get_by_label("CVSS 4.0 vector").fill(
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N"
    )
    expect(v40.locator("output")).to_contain_text("9.3 Critical")
    expect(v40.locator("fieldset[data-metric='VI']").get_by_label("High", exact=True)).to_be_checked()
    expect(v40.locator("fieldset[data-metric='VA']").get_by_label("None", exact=True)).to_be_checked()
    shot(page, "severity-calculator-1280")
    page.get_by_role("button", name="Save severity").click()
    expect(page.get_by_text("Severity saved.")).to_be_visible()
    summary = page.locator("details#severity dl")  # the case page summarizes what was saved
    expect(summary).to_contain_text("CVSS-B 9.3 Critical")
    expect(summary).to_contain_text("9.1 Critical")
    page.set_viewport_size(PHONE)
    page.goto(page.url.split("#")[0] + "edit/severity/")
    shot(page, "severity-calculator-375")
    severity_form = page.locator("form", has=page.locator("#cvss31"))
    shot(severity_form, "severity-calculator-375-section")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.close()


def _reviewer(server: LiveServer) -> FormClient:
    return signed_in_member(server, REVIEWER, PROJECT, REVIEWER_PASSWORD)


def _fill_the_draft(page: Page) -> None:
    page.get_by_label("Summary (one paragraph").fill("A crafted tool answer runs code in the agent process.")
    page.get_by_label("Package URL of package 1").fill("pkg:pypi/llmesh")
    page.get_by_label("Affected range of package 1").fill("vers:pypi/>=0.1.0|<0.4.2")
    page.get_by_label("Package URL of package 2").fill("pkg:generic/llmesh-chart")
    page.get_by_label("Affected range of package 2").fill("vers:generic/<2.0.0")
    page.get_by_label("Name of credit 1").fill("Rita Researcher")
    rows = page.locator("fieldset[data-rows='credits'] [data-row]")
    before = rows.count()
    url = page.url
    page.get_by_role("button", name="Add another credit").click()
    expect(rows).to_have_count(before + 1)  # added in place by the script, no page load
    assert page.url == url
    expect(page.get_by_label("Name of credit 3")).to_be_focused()
    page.get_by_label("Name of credit 3").fill("Alex Analyst")
    page.get_by_label("Role of credit 3").select_option("analyst")
    page.get_by_label("Address (https) of reference 1").fill("https://example.org/fix/1")
    page.get_by_label("Kind of reference 1").select_option("FIX")


def test_the_team_writes_previews_and_compares_an_advisory(server: LiveServer, desk_page: Page) -> None:
    reviewer = _reviewer(server)
    page = desk_page
    page.goto(_case(server, "Tool output reaches eval()"))
    editor = draft_advisory(page, ATM_IDENTIFIER)
    _fill_the_draft(page)
    page.get_by_role("button", name="Save the draft", exact=True).last.click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_label("Name of credit 2")).to_have_value("Alex Analyst")
    expect(page.locator(".publication-check")).to_contain_text("OSV has no ecosystem for generic packages")
    both_widths(page, "advisory-editor")

    page.get_by_role("link", name="Preview the public page").click()
    expect(page.get_by_text("Preview — not published.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"Tool output reaches eval\(\)"))).to_be_visible()
    expect(page.get_by_text("Alex Analyst (Analyst)")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Not yet")
    both_widths(page, "advisory-preview")

    page.goto(editor)
    # A row is removed by emptying it.
    page.get_by_label("Package URL of package 2").fill("")
    page.get_by_label("Affected range of package 2").fill("")
    page.get_by_role("button", name="Save the draft", exact=True).last.click()
    expect(page.locator(".message").first).to_contain_text("Draft saved.")
    path = editor.removeprefix(server.url)
    assert reviewer.post_to(f"{path}approve/", path, {})[0] == 302
    page.goto(editor)
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published: the advisory is public")).to_be_visible()
    page.get_by_role("button", name="Start a revision").click()
    page.get_by_label("Summary (one paragraph").fill(
        "A crafted tool answer runs code in the agent process. Fixed in 0.4.2; upgrade now."
    )
    page.get_by_label("Name of credit 2").fill("")
    page.get_by_label("What changed in this revision").fill("Name the fixed version.")
    page.get_by_role("button", name="Save the draft", exact=True).last.click()
    page.get_by_role("link", name="What changed since revision 1").click()
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    expect(page.locator("ins").first).to_contain_text("Fixed in 0.4.2; upgrade now.")
    expect(page.locator("del")).to_contain_text(["Alex Analyst (analyst)"])
    both_widths(page, "advisory-diff")
    page.close()


def test_without_javascript_another_row_comes_from_the_server_with_the_typing_kept(
    chromium: Browser, server: LiveServer
) -> None:
    context = chromium.new_context(java_script_enabled=False, viewport=WIDE)
    page = context.new_page()
    sign_in(page, server)
    page.goto(_case(server, "Planner loops forever"))
    open_section(page, "advisory")
    page.get_by_role("button", name="Draft an advisory").click()
    page.get_by_label("Summary (one paragraph").fill("Typed before adding a row.")
    page.get_by_label("Name of credit 1").fill("Rita Researcher")
    page.get_by_role("button", name="Add another credit").click()
    expect(page.get_by_label("Name of credit 3")).to_have_value("")
    expect(page.get_by_label("Name of credit 1")).to_have_value("Rita Researcher")
    expect(page.get_by_label("Summary (one paragraph")).to_have_value("Typed before adding a row.")
    context.close()
