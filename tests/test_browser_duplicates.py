"""In Chromium: a report that repeats an earlier one shows it as a likely duplicate once the real
worker ranked it, and one press marks it so. Screenshots go to test-artifacts/ at 1280 and 375 px."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from .live import LiveServer, live_server, post_json
from .test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, shot, sign_in
from .test_duplicate_suggestions import ORIGINAL, SAME_FLAW, UNRELATED

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "llm-d"
WIDE = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=375, height=740)


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
    with live_server(tmp_path_factory.mktemp("duplicates"), "--no-smtp") as running:
        yield running


def _send(server: LiveServer, report: dict[str, str]) -> int:
    status, body = post_json(
        server, f"/api/v1/projects/{PROJECT}/reports", {**report, "reporter_email": "rita@researcher.test"}
    )
    assert status == 201
    return int(str(body["number"]))


def _both_widths(page: Page, name: str) -> None:
    """A screenshot at 1280 px and at 375 px; at 375 px nothing may scroll sideways."""
    page.set_viewport_size(WIDE)
    shot(page, f"{name}-1280")
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, f"{name}-375")
    page.set_viewport_size(WIDE)
    assert width <= PHONE["width"], f"{name} is {width} px wide on a phone"


def _open_when_ranked(page: Page, url: str, server: LiveServer) -> None:
    """The worker ranks the report after intake committed it: reload until its suggestions show."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page.goto(url)
        if page.locator("details#duplicates").count():
            return
        time.sleep(0.5)
    raise AssertionError(f"the worker stored no suggestions:\n{server.logs()[-3000:]}")


def test_the_team_marks_a_suggested_duplicate_with_one_press(chromium: Browser, server: LiveServer) -> None:
    original = _send(server, ORIGINAL)
    duplicate = _send(server, SAME_FLAW)
    unrelated = _send(server, UNRELATED)
    page = chromium.new_page(viewport=WIDE)
    page.goto(server.url + "/accounts/login/")
    sign_in(page, server)
    case_url = f"{server.url}/desk/p/{PROJECT}/reports/{duplicate}/"
    _open_when_ranked(page, case_url, server)

    suggestions = page.locator("details#duplicates")
    expect(suggestions).to_have_attribute("open", "")  # a likely duplicate opens the section
    best = suggestions.locator("li.duplicate-suggestion").first
    expect(best).to_contain_text(f"#{original} {ORIGINAL['title']}")
    expect(best).to_contain_text("likely")
    expect(best).to_contain_text("same function: export_bundle")
    suggestions.scroll_into_view_if_needed()
    _both_widths(page, "duplicates-case-page")
    page.set_viewport_size(PHONE)  # the section alone, legible at a phone's width
    suggestions.screenshot(path=str(SCREENSHOTS / "duplicates-section-375.png"))
    page.set_viewport_size(WIDE)

    _open_when_ranked(page, f"{server.url}/desk/p/{PROJECT}/reports/{unrelated}/", server)
    page.goto(f"{server.url}/desk/reports/?project={PROJECT}")
    row = page.locator("tr", has=page.get_by_role("link", name=re.compile(rf"^#{duplicate} ")))
    expect(row).to_contain_text(f"possible duplicate of #{original}")
    unrelated_row = page.locator("tr", has=page.get_by_role("link", name=re.compile(rf"^#{unrelated} ")))
    expect(unrelated_row).not_to_contain_text("possible duplicate")
    _both_widths(page, "duplicates-queue")

    page.goto(case_url)
    button = page.get_by_role("button", name=f"Mark #{duplicate} a duplicate of #{original}")
    button.focus()
    page.keyboard.press("Enter")  # keyboard-accessible: no mouse needed
    expect(page.get_by_text("Decision recorded")).to_be_visible()
    expect(page.locator("#triage")).to_contain_text("duplicate")
    assert not page.get_by_role("button", name=re.compile("^Mark #")).count(), "nothing left to mark"
