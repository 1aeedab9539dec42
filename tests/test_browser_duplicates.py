"""In Chromium: a report that repeats an earlier one shows it as a likely duplicate once the real
worker ranked it, and one press marks it so. Screenshots go to test-artifacts/ at 1280 and 375 px."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from .browser import PHONE, WIDE, both_widths, case_url, send_report, shot
from .live import LiveServer
from .test_duplicate_suggestions import ORIGINAL, SAME_FLAW, UNRELATED

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "llm-d"


def _send(server: LiveServer, report: dict[str, str]) -> int:
    return int(send_report(server, PROJECT, **report, reporter_email="rita@researcher.test")["number"])


def _open_when_ranked(page: Page, url: str, server: LiveServer) -> None:
    """The worker ranks the report after intake committed it: reload until its suggestions show."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page.goto(url)
        if page.locator("details#duplicates").count():
            return
        time.sleep(0.5)
    raise AssertionError(f"the worker stored no suggestions:\n{server.logs()[-3000:]}")


def test_the_team_marks_a_suggested_duplicate_with_one_press(server: LiveServer, desk_page: Page) -> None:
    original = _send(server, ORIGINAL)
    duplicate = _send(server, SAME_FLAW)
    unrelated = _send(server, UNRELATED)
    page = desk_page
    duplicate_case = case_url(server, PROJECT, duplicate)
    _open_when_ranked(page, duplicate_case, server)

    suggestions = page.locator("details#duplicates")
    expect(suggestions).to_have_attribute("open", "")  # a likely duplicate opens the section
    best = suggestions.locator("li.duplicate-suggestion").first
    expect(best).to_contain_text(f"#{original} {ORIGINAL['title']}")
    expect(best).to_contain_text("likely")
    expect(best).to_contain_text("same function: export_bundle")
    suggestions.scroll_into_view_if_needed()
    both_widths(page, "duplicates-case-page")
    page.set_viewport_size(PHONE)  # the section alone, legible at a phone's width
    shot(suggestions, "duplicates-section-375")
    page.set_viewport_size(WIDE)

    _open_when_ranked(page, case_url(server, PROJECT, unrelated), server)
    page.goto(f"{server.url}/desk/reports/?project={PROJECT}")
    row = page.locator("tr", has=page.get_by_role("link", name=re.compile(rf"^#{duplicate} ")))
    expect(row).to_contain_text(f"possible duplicate of #{original}")
    unrelated_row = page.locator("tr", has=page.get_by_role("link", name=re.compile(rf"^#{unrelated} ")))
    expect(unrelated_row).not_to_contain_text("possible duplicate")
    both_widths(page, "duplicates-queue")

    page.goto(duplicate_case)
    button = page.get_by_role("button", name=f"Mark #{duplicate} a duplicate of #{original}")
    button.focus()
    page.keyboard.press("Enter")  # keyboard-accessible: no mouse needed
    expect(page.get_by_text("Decision recorded")).to_be_visible()
    expect(page.locator("#triage")).to_contain_text("duplicate")
    assert not page.get_by_role("button", name=re.compile("^Mark #")).count(), "nothing left to mark"
