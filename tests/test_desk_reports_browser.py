"""The metrics pages and the outbox in Chromium: no console error, axe-core clean at 1280 and
375 px, readable without scripts (the charts are SVG from the server). Screenshots go to
test-artifacts/ (axe-metrics-at-1280-px.png and so on)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from .browser import WIDE, Audit, both_widths, send_report, sign_in
from .live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "agentic-tool-mesh"


def _signed_in_page(chromium: Browser, server: LiveServer, errors: list[str]) -> Page:
    page = chromium.new_page(viewport=WIDE)
    page.on("console", lambda message: _keep_error(message, errors))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, server)
    return page


def _screens(page: Page, name: str) -> None:
    """What a person sees first, folded tables closed, at both widths."""
    both_widths(page, name, full_page=False)


def _keep_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


def test_the_metrics_pages_render_with_no_console_error(
    chromium: Browser, server: LiveServer, audit: Audit
) -> None:
    errors: list[str] = []
    page = _signed_in_page(chromium, server, errors)
    page.goto(server.url + "/desk/metrics/")
    expect(page.get_by_role("heading", name="Metrics for every project")).to_be_visible()
    for name in ("Time to acknowledge", "Time to triage decision", "SLA deadlines met", "Reports by outcome"):
        expect(page.get_by_role("img", name=re.compile(name))).to_be_visible()
    _screens(page, "metrics")
    audit.check(page, "metrics")
    page.get_by_role("link", name=re.compile("Agentic Tool Mesh")).first.click()
    expect(page.get_by_role("heading", name=re.compile("metrics$"))).to_be_visible()
    page.get_by_label("Months", exact=True).select_option("24")
    page.get_by_role("button", name="Show").click()
    assert "months=24" in page.url
    assert page.locator("table").first.locator("tbody tr").count() == 24
    _screens(page, "project-metrics")
    audit.check(page, "project metrics")
    assert errors == []
    send_report(
        server,
        PROJECT,
        "Mesh router trusts any tool",
        description="Details.",
        reporter_email="r@researcher.test",
    )
    page.goto(server.url + "/desk/outbox/")
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    expect(page.get_by_role("cell", name="report-received")).to_be_visible()
    assert "researcher.test" not in page.content()
    assert "Mesh router trusts any tool" not in page.content()
    _screens(page, "outbox")
    audit.check(page, "outbox")
    assert errors == []
    _policy_editor(page, server, audit)
    # The one the browser logs is the editor's deliberate 400 for the section sent with an error.
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.close()  # the audit fixture asserts it found no violation


def _policy_editor(page: Page, server: LiveServer, audit: Audit) -> None:
    """A section's form with a problem shown by its field, its preview, then the diff."""
    page.goto(server.url + f"/desk/p/{PROJECT}/policy/?section=sla")
    page.get_by_label("Acknowledge working days").fill("400")
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator(".field-message")).to_contain_text("less than or equal to 365")
    _screens(page, "policy-section-error")
    audit.check(page, "policy section with an error")
    page.get_by_label("Acknowledge working days").fill("2")
    page.get_by_role("button", name="Preview SECURITY.md").click()
    expect(page.get_by_role("heading", name=re.compile("SECURITY.md with these changes"))).to_be_visible()
    audit.check(page, "policy preview")
    page.get_by_role("button", name="Check and save").click()
    expect(page.get_by_text(re.compile("Policy saved as version"))).to_be_visible()
    page.get_by_role("link", name=re.compile("What changed in version")).first.click()
    expect(page.locator(".diff-changed").first).to_be_visible()
    _screens(page, "policy-diff")
    audit.check(page, "policy diff")


def test_the_metrics_page_reads_without_javascript(chromium: Browser, server: LiveServer) -> None:
    context = chromium.new_context(java_script_enabled=False, viewport=WIDE)
    page = context.new_page()
    sign_in(page, server)
    page.goto(server.url + f"/desk/p/{PROJECT}/metrics/")
    expect(page.get_by_role("img", name=re.compile("Reports by outcome"))).to_be_visible()
    page.get_by_text("Reports by outcome: the figures as a table").click()  # <details>: no script
    expect(page.get_by_role("table", name=re.compile("Reports by outcome"))).to_be_visible()
    context.close()
