"""The releases page in a real Chromium: the Agentic Tool Mesh's version table with 1.4 to 1.7
shipped says that 1.4 gets no fixes, on a desktop and on a phone, where it does not scroll sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .browser import PHONE, phone_page, shot
from .live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_the_releases_page_says_1_4_gets_no_fixes_at_1280_and_375_px(
    chromium: Browser, server: LiveServer, desk_page: Page
) -> None:
    page = desk_page
    page.goto(server.url + "/desk/p/agentic-tool-mesh/releases/")
    for version in ("1.4.0", "1.5.0", "1.6.0", "1.7.0"):
        page.get_by_label("Package URL").fill("pkg:pypi/llmesh")
        page.get_by_label("Version").fill(version)
        page.get_by_label("Release branch").fill(f"release-{version.rsplit('.', 1)[0]}")
        page.get_by_role("button", name="Record").click()
        expect(page.get_by_text(f"Release {version} recorded.")).to_be_visible()
    table = page.locator("table.versions")
    expect(table.locator("tr", has_text="1.4.x")).to_contain_text("Not supported")
    for supported in ("1.7.x", "1.6.x", "1.5.x"):
        expect(table.locator("tr", has_text=supported)).to_contain_text("Supported")
        expect(table.locator("tr", has_text=supported)).not_to_contain_text("Not supported")
    shot(page, "releases-1280")
    page = phone_page(chromium, cookies=page.context.cookies())  # the same signed-in session
    page.goto(server.url + "/desk/p/agentic-tool-mesh/releases/")
    row = page.locator("table.versions tr", has_text="1.4.x")
    expect(row).to_contain_text(re.compile(r"Not supported"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        "the page scrolls sideways"
    )
    shot(page, "releases-375")
    page.context.close()
