"""Debian's Chromium driven by Playwright against the real server: the one launch, the module's
server, a signed-in desk page, a reporter's page, screenshots at both widths and the axe-core audit.

conftest.py loads this module as a plugin, so every test file may ask for its fixtures by name.
Screenshots go to test-artifacts/ at the repository's root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from . import totp
from .live import LiveServer, live_server, post_json

CHROMIUM = os.environ.get("VULNDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDE = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=375, height=740)
# The identifier a draft advisory of the Agentic Tool Mesh gets (its policy's `ATM-` prefix).
ATM_IDENTIFIER = r"x_ATM-\d{4}-\d{4}"
AXE_FOLDER = Path(__file__).resolve().parent / "axe"
AXE_SCRIPT = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"

# No network beyond loopback: keep Chromium from reaching for Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# A sign-in calls back at each page it passes ("login", "mfa-setup", "recovery-codes"), for a
# screenshot or an audit of that page.
AtStep = Callable[[str], object]


def _no_step(_step: str) -> None:
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `apt-get install chromium` (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The test module's own `vulndesk serve`, without the SMTP listener; mail goes to its folder."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with live_server(tmp_path_factory.mktemp(name), "--no-smtp") as running:
        yield running


@pytest.fixture
def desk_page(chromium: Browser, server: LiveServer) -> Iterator[Page]:
    """The administrator `vulndesk setup` created, signed in with the second factor, on the desk
    at 1280 px."""
    page = chromium.new_page(viewport=WIDE)
    sign_in(page, server)
    yield page
    page.close()


@pytest.fixture
def reporter_page(chromium: Browser) -> Iterator[Page]:
    """A reporter's browser: no account, no session, only the private links they were given."""
    page = chromium.new_page(viewport=WIDE)
    yield page
    page.context.close()


def phone_page(chromium: Browser, *, cookies: list[Any] | None = None) -> Page:
    """A page on a phone 375 px wide, in a context of its own (closed with ``page.context.close()``)."""
    context = chromium.new_context(viewport=PHONE, is_mobile=True)
    if cookies:
        context.add_cookies(cookies)
    return context.new_page()


def submit_password(page: Page, email: str, password: str, *, at_step: AtStep = _no_step) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    at_step("login")
    page.get_by_role("button", name="Sign in").click()


def set_up_authenticator(page: Page, email: str, *, at_step: AtStep = _no_step) -> None:
    """On the setup page: the key goes into the test's authenticator, its code confirms it, and the
    ten recovery codes are shown once before the person continues."""
    totp.remember_from_page(email, page.content())
    at_step("mfa-setup")
    page.get_by_label("The code your app shows").fill(totp.code_for(email))
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert len(page.locator(".recovery-codes li").all()) == 10
    at_step("recovery-codes")
    page.get_by_role("link", name="I saved them: continue").click()


def enter_code(page: Page, email: str) -> None:
    page.get_by_label("Code").fill(totp.code_for(email))
    page.get_by_role("button", name="Sign in").click()


def sign_in(
    page: Page,
    server: LiveServer,
    email: str | None = None,
    password: str | None = None,
    *,
    at_step: AtStep = _no_step,
    landing: str | None = "**/desk/",
) -> None:
    """Password, then the authenticator: set up on a first sign-in (with recovery codes), a code
    afterwards. The administrator unless ``email`` says otherwise; ends on ``landing``."""
    email, password = email or server.admin_email, password or server.admin_password
    if not page.url.endswith("/accounts/login/"):
        page.goto(server.url + "/accounts/login/")
    submit_password(page, email, password, at_step=at_step)
    page.wait_for_url(re.compile(r".*/accounts/login/(setup|code)/$"))
    if page.url.endswith("/setup/"):
        set_up_authenticator(page, email, at_step=at_step)
    else:
        enter_code(page, email)
    if landing:
        page.wait_for_url(landing)


def first_sign_in(
    page: Page,
    server: LiveServer,
    email: str,
    password: str,
    *,
    at_step: AtStep = _no_step,
    landing: str | None = "**/desk/",
) -> None:
    """A person's first sign-in, which must ask them to set up an authenticator."""
    page.goto(server.url + "/accounts/login/")
    submit_password(page, email, password, at_step=at_step)
    page.wait_for_url(re.compile(r".*/accounts/login/setup/$"))
    set_up_authenticator(page, email, at_step=at_step)
    if landing:
        page.wait_for_url(landing)


def send_report(server: LiveServer, project: str, title: str, **fields: str) -> dict[str, Any]:
    """A report sent over the API, as a reporter's tool does; the answer's body."""
    status, body = post_json(
        server, f"/api/v1/projects/{project}/reports", {"title": title, "description": "d", **fields}
    )
    assert status == 201, body
    return body


def case_url(server: LiveServer, project: str, number: object) -> str:
    return f"{server.url}/desk/p/{project}/reports/{number}/"


def open_section(page: Page, section: str) -> None:
    """Unfold a section of the case page that its stage keeps folded, as a click on its summary would."""
    page.locator(f"details#{section}").evaluate("details => { details.open = true; }")


def draft_advisory(page: Page, identifier: str = r"[^/]+") -> str:
    """From a case page: its advisory section unfolded, a draft started; the editor's address."""
    open_section(page, "advisory")
    page.get_by_role("button", name="Draft an advisory").click()
    page.wait_for_url(re.compile(rf".*/advisories/{identifier}/$"))
    return page.url


def shot(target: Page | Locator, name: str, *, full_page: bool = True) -> None:
    """test-artifacts/<name>.png: the whole page, or only the part ``target`` locates."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = str(SCREENSHOTS / f"{name}.png")
    if isinstance(target, Locator):
        target.screenshot(path=path)
    else:
        target.screenshot(path=path, full_page=full_page)


def phone_width(page: Page, name: str, *, full_page: bool = True) -> int:
    """Screenshots <name>-1280 and <name>-375; how wide the page is on the phone. Back at 1280 px."""
    page.set_viewport_size(WIDE)
    shot(page, f"{name}-1280", full_page=full_page)
    page.set_viewport_size(PHONE)
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    shot(page, f"{name}-375", full_page=full_page)
    page.set_viewport_size(WIDE)
    return width


def both_widths(page: Page, name: str, *, full_page: bool = True) -> None:
    """A screenshot at 1280 px and at 375 px; at 375 px nothing may scroll sideways."""
    width = phone_width(page, name, full_page=full_page)
    assert width <= PHONE["width"], f"{name} is {width} px wide on a phone"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        if shutil.which("npm") is None or shutil.which("node") is None:
            pytest.skip("node and npm are not installed: axe-core (tests/axe/) cannot be installed")
        # `make test` installs it; a direct pytest run installs the same lock here.
        subprocess.run(
            ["npm", "ci", "--prefix", str(AXE_FOLDER), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE_SCRIPT.read_text()


class Audit:
    """Runs axe-core on pages and keeps every violation, so one run names them all."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.violations: dict[str, list[str]] = {}
        self.pages: list[str] = []

    def check(self, page: Page, name: str) -> None:
        page.wait_for_load_state()  # a page still arriving has no document to check yet
        for viewport in (WIDE, PHONE):
            page.set_viewport_size(viewport)
            label = f"{name} at {viewport['width']} px"
            self.pages.append(label)
            found = self._run(page)
            shot(page, f"axe-{_file_name(label)}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                found.append(f"the page is {width} px wide: it scrolls sideways")
            if found:
                self.violations[f"{label} ({page.url})"] = found
        page.set_viewport_size(WIDE)

    def _run(self, page: Page) -> list[str]:
        # A click that posts a form returns once the next page is on its way, not there: a check
        # started in between meets a document being replaced, so it waits and starts again.
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                results = self._axe(page)
                break
            except PlaywrightError:
                if attempt == attempts:  # by then it is no page on its way
                    raise
                page.wait_for_load_state()
        assert results["passes"], "axe-core checked nothing"
        found = [*results["violations"], *results["incomplete"]]
        return [
            f"{result['id']} ({result['impact']}): {result['help']} at {node['target']}: "
            f"{node['failureSummary'] or ''}"
            for result in found
            for node in result["nodes"]
            if not _decorative(result["id"], node)
        ]

    def _axe(self, page: Page) -> dict[str, Any]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.source)
        # Folded sections are checked too: axe skips what is hidden.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        results: dict[str, Any] = page.evaluate("axe.run(document)")
        return results

    def assert_clean(self) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        (SCREENSHOTS / "axe-violations.json").write_text(json.dumps(self.violations, indent=2))
        assert self.violations == {}, "\n".join(
            f"{where}:\n  " + "\n  ".join(found) for where, found in self.violations.items()
        )


def _file_name(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def _decorative(rule: str, node: dict[str, Any]) -> bool:
    """A glyph hidden from assistive technology (the brand's diamond) has no text whose contrast
    axe could judge; it leaves it "to review", and there is nothing to review."""
    messages = [check["message"] for check in node["any"]]
    return rule == "color-contrast" and any("only non-text characters" in message for message in messages)


@pytest.fixture
def audit(axe_source: str) -> Iterator[Audit]:
    """axe-core on the pages a test shows it; the test fails on any violation it found."""
    found = Audit(axe_source)
    yield found
    found.assert_clean()
