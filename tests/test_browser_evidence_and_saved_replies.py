"""In Chromium: the team writes a saved reply, inserts it into a reply from the desk and sends it;
the reporter reads it. The evidence panel, the needs-evidence page and the saved-reply pages are
photographed at 1280 and 375 px (test-artifacts/), and none scrolls sideways on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from .live import Browser as FormClient
from .live import LiveServer, live_server, post_json
from .test_browser import CHROMIUM, CHROMIUM_ARGS, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "llm-d"
WIDE = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=375, height=740)
STRONG = (
    "The router passes tool output to eval().\n\nSteps to reproduce:\n1. Start the router.\n"
    "2. Send the prompt below.\n\n```python\nrouter.handle({'tool': 'python', 'code': 'id'})\n```\n"
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("saved-replies"), "--no-smtp") as running:
        yield running


def _report(server: LiveServer, description: str) -> tuple[int, str]:
    status, body = post_json(
        server,
        f"/api/v1/projects/{PROJECT}/reports",
        {
            "title": "Router runs tool output",
            "description": description,
            "reporter_email": "rita@researcher.test",
            "reporter_name": "Rita Reporter",
            "credit": "name",
        },
    )
    assert status == 201
    return int(str(body["number"])), str(body["tracking_url"]).removeprefix(server.url)


def _both_widths(page: Page, name: str) -> None:
    page.set_viewport_size(WIDE)
    shot(page, f"{name}-1280")
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, f"{name}-375")
    page.set_viewport_size(WIDE)
    assert width <= PHONE["width"], f"{name} is {width} px wide on a phone"


def test_a_saved_reply_is_written_inserted_into_a_reply_and_read_by_the_reporter(
    chromium: Browser, server: LiveServer
) -> None:
    number, tracking = _report(server, "I think the router is insecure, please check.")
    page = chromium.new_page(viewport=WIDE)
    page.goto(server.url + "/accounts/login/")
    sign_in(page, server)
    page.goto(f"{server.url}/desk/p/{PROJECT}/saved-replies/")
    page.get_by_label("Name").fill("Ask for steps")
    page.get_by_label("Text").fill("Hello {reporter}, thanks.")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("unknown placeholder {reporter}")).to_be_visible()
    expect(page.get_by_label("Text")).to_have_value("Hello {reporter}, thanks.")  # nothing typed is lost
    _both_widths(page, "saved-replies-refused")
    page.get_by_label("Text").fill(
        "Hello {reporter_name},\n\nThank you for report #{report_number}. Please send:\n"
        "{missing_evidence}\n\nOur policy: {policy_url}"
    )
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Saved reply 'Ask for steps' created.")).to_be_visible()
    _both_widths(page, "saved-replies")
    page.get_by_role("link", name="Ask for steps").click()
    expect(page.get_by_role("heading", name=re.compile("Edit saved reply"))).to_be_visible()
    _both_widths(page, "saved-reply-edit")

    page.goto(f"{server.url}/desk/p/{PROJECT}/reports/{number}/edit/message/")
    page.get_by_label("Saved reply").select_option(label="Ask for steps")
    page.get_by_role("button", name="Insert").click()
    box = page.get_by_label("Write")
    expect(box).to_have_value(
        re.compile(rf"^Hello Rita Reporter,\n\nThank you for report #{number}\. Please send:\n- the steps")
    )
    _both_widths(page, "saved-reply-inserted")
    box.fill(box.input_value() + "\n\nThe security team")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_text("Message sent to the reporter.")).to_be_visible()

    status, tracking_page = FormClient(server).get(tracking)
    assert status == 200
    assert f"Thank you for report #{number}. Please send:" in tracking_page
    assert "The security team" in tracking_page
    page.close()


def test_the_evidence_panel_and_the_needs_evidence_page_fit_a_phone(
    chromium: Browser, server: LiveServer
) -> None:
    strong, _ = _report(server, STRONG)
    weak, _ = _report(server, "Something is wrong with the router.")
    page = chromium.new_page(viewport=WIDE)
    page.goto(server.url + "/accounts/login/")
    sign_in(page, server)
    page.goto(f"{server.url}/desk/p/{PROJECT}/reports/{strong}/")
    panel = page.locator("dl.evidence")
    expect(panel).to_contain_text("Yes code block")
    _both_widths(page, "evidence-panel-strong")
    page.goto(f"{server.url}/desk/p/{PROJECT}/reports/{weak}/")
    expect(page.locator("dl.evidence")).to_contain_text("None found")
    page.get_by_role("link", name="Reports that need evidence").click()
    row = page.locator("tr", has=page.get_by_role("link", name=re.compile(rf"#{weak} ")))
    expect(row).to_contain_text("The steps to reproduce the issue")
    _both_widths(page, "needs-evidence")
    row.get_by_role("button", name=re.compile("Ask for the missing items")).click()
    expect(page.get_by_text(f"Report #{weak}: the reporter was asked for the missing items.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(rf"#{weak} "))).to_have_count(0)
    page.goto(f"{server.url}/desk/reports/?sort=evidence")
    first = page.locator("main table tbody tr").first
    expect(first).to_contain_text(f"#{strong} ")
    _both_widths(page, "queue-by-evidence")
    page.close()
