"""The releases page in a real Chromium: the Agentic Tool Mesh's version table with 1.4 to 1.7
shipped says that 1.4 gets no fixes, on a desktop and on a phone, where it does not scroll sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from .live import LiveServer, live_server
from .test_browser import CHROMIUM, CHROMIUM_ARGS, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("versions"), "--no-smtp") as server:
        yield server


def test_the_releases_page_says_1_4_gets_no_fixes_at_1280_and_375_px(
    chromium: Browser, running: LiveServer
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(running.url + "/accounts/login/")
    sign_in(page, running)
    page.goto(running.url + "/desk/p/agentic-tool-mesh/releases/")
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
    cookies = context.cookies()
    context.close()

    phone = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone.add_cookies(cookies)  # type: ignore[arg-type]  # the same signed-in session
    page = phone.new_page()
    page.goto(running.url + "/desk/p/agentic-tool-mesh/releases/")
    row = page.locator("table.versions tr", has_text="1.4.x")
    expect(row).to_contain_text(re.compile(r"Not supported"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"
    shot(page, "releases-375")
    phone.close()
