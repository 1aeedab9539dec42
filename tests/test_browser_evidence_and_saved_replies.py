"""In Chromium: the team writes a saved reply, inserts it into a reply from the desk and sends it;
the reporter reads it. The evidence panel, the needs-evidence page and the saved-reply pages are
photographed at 1280 and 375 px (test-artifacts/), and none scrolls sideways on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .browser import both_widths, send_report
from .live import Browser as FormClient
from .live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "llm-d"
STRONG = (
    "The router passes tool output to eval().\n\nSteps to reproduce:\n1. Start the router.\n"
    "2. Send the prompt below.\n\n```python\nrouter.handle({'tool': 'python', 'code': 'id'})\n```\n"
)


def _report(server: LiveServer, description: str) -> tuple[int, str]:
    body = send_report(
        server,
        PROJECT,
        "Router runs tool output",
        description=description,
        reporter_email="rita@researcher.test",
        reporter_name="Rita Reporter",
        credit="name",
    )
    return int(str(body["number"])), str(body["tracking_url"]).removeprefix(server.url)


def test_a_saved_reply_is_written_inserted_into_a_reply_and_read_by_the_reporter(
    server: LiveServer, desk_page: Page
) -> None:
    number, tracking = _report(server, "I think the router is insecure, please check.")
    page = desk_page
    page.goto(f"{server.url}/desk/p/{PROJECT}/saved-replies/")
    page.get_by_label("Name").fill("Ask for steps")
    page.get_by_label("Text").fill("Hello {reporter}, thanks.")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("unknown placeholder {reporter}")).to_be_visible()
    expect(page.get_by_label("Text")).to_have_value("Hello {reporter}, thanks.")  # nothing typed is lost
    both_widths(page, "saved-replies-refused")
    page.get_by_label("Text").fill(
        "Hello {reporter_name},\n\nThank you for report #{report_number}. Please send:\n"
        "{missing_evidence}\n\nOur policy: {policy_url}"
    )
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Saved reply 'Ask for steps' created.")).to_be_visible()
    both_widths(page, "saved-replies")
    page.get_by_role("link", name="Ask for steps").click()
    expect(page.get_by_role("heading", name=re.compile("Edit saved reply"))).to_be_visible()
    both_widths(page, "saved-reply-edit")

    page.goto(f"{server.url}/desk/p/{PROJECT}/reports/{number}/edit/message/")
    page.get_by_label("Saved reply").select_option(label="Ask for steps")
    page.get_by_role("button", name="Insert").click()
    box = page.get_by_label("Write")
    expect(box).to_have_value(
        re.compile(rf"^Hello Rita Reporter,\n\nThank you for report #{number}\. Please send:\n- the steps")
    )
    both_widths(page, "saved-reply-inserted")
    box.fill(box.input_value() + "\n\nThe security team")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_text("Message sent to the reporter.")).to_be_visible()

    status, tracking_page = FormClient(server).get(tracking)
    assert status == 200
    assert f"Thank you for report #{number}. Please send:" in tracking_page
    assert "The security team" in tracking_page
    page.close()


def test_the_evidence_panel_and_the_needs_evidence_page_fit_a_phone(
    server: LiveServer, desk_page: Page
) -> None:
    strong, _ = _report(server, STRONG)
    weak, _ = _report(server, "Something is wrong with the router.")
    page = desk_page
    page.goto(f"{server.url}/desk/p/{PROJECT}/reports/{strong}/")
    panel = page.locator("dl.evidence")
    expect(panel).to_contain_text("Yes code block")
    both_widths(page, "evidence-panel-strong")
    page.goto(f"{server.url}/desk/p/{PROJECT}/reports/{weak}/")
    expect(page.locator("dl.evidence")).to_contain_text("None found")
    page.get_by_role("link", name="Reports that need evidence").click()
    row = page.locator("tr", has=page.get_by_role("link", name=re.compile(rf"#{weak} ")))
    expect(row).to_contain_text("The steps to reproduce the issue")
    both_widths(page, "needs-evidence")
    row.get_by_role("button", name=re.compile("Ask for the missing items")).click()
    expect(page.get_by_text(f"Report #{weak}: the reporter was asked for the missing items.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(rf"#{weak} "))).to_have_count(0)
    page.goto(f"{server.url}/desk/reports/?sort=evidence")
    first = page.locator("main table tbody tr").first
    expect(first).to_contain_text(f"#{strong} ")
    both_widths(page, "queue-by-evidence")
    page.close()
