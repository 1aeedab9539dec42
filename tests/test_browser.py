from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from . import totp
from .live import LiveServer, live_server, post_json

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = os.environ.get("VULNDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts"

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `apt-get install chromium` (.ci/run does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("browser"), "--no-smtp") as running:
        yield running


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, server: LiveServer, *, shoot: bool = False) -> None:
    """Password, then the authenticator: set up on the first sign-in (with recovery codes)."""
    page.get_by_label("Email").fill(server.admin_email)
    page.get_by_label("Password").fill(server.admin_password)
    if shoot:
        shot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/accounts/login/(setup|code)/$"))
    if page.url.endswith("/setup/"):
        totp.remember_from_page(server.admin_email, page.content())
        if shoot:
            shot(page, "mfa-setup")
        page.get_by_label("The code your app shows").fill(totp.code_for(server.admin_email))
        page.get_by_role("button", name="Confirm and sign in").click()
        expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
        assert len(page.locator(".recovery-codes li").all()) == 10
        if shoot:
            shot(page, "recovery-codes")
        page.get_by_role("link", name="I saved them: continue").click()
    else:
        page.get_by_label("Code").fill(totp.code_for(server.admin_email))
        page.get_by_role("button", name="Sign in").click()


def test_an_admin_signs_in_and_opens_a_projects_policy_page(browser: Browser, server: LiveServer) -> None:
    page = browser.new_page()
    page.goto(server.url + "/")
    shot(page, "home")
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, server, shoot=True)
    page.wait_for_url("**/desk/")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    shot(page, "desk")
    page.get_by_role("link", name="LLM Agentic Tool Mesh").click()
    page.wait_for_url("**/p/agentic-tool-mesh/")
    expect(page.get_by_role("heading", name="Early disclosure to distributors")).to_be_visible()
    shot(page, "policy")
    page.close()


def test_a_wrong_password_is_refused_with_a_message(browser: Browser, server: LiveServer) -> None:
    page = browser.new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Email").fill(server.admin_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.close()


def test_pages_fit_a_phone_screen_and_load_nothing_from_elsewhere(
    browser: Browser, server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url + "/p/llm-d/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    shot(page, "policy-phone")
    assert all(url.startswith(server.url) for url in requested), requested
    context.close()


def test_a_reporter_without_javascript_reports_and_the_team_reads_it(
    browser: Browser, server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/p/agentic-tool-mesh/")
    page.get_by_role("link", name="Report a vulnerability privately").click()
    shot(page, "report-form")
    page.get_by_label("Summary").fill("Tool router runs shell commands from model output")
    page.get_by_label("Description").fill("A prompt makes the router call the shell tool with any argument.")
    page.get_by_label("Detailed steps to reproduce the vulnerability").fill(
        "1. Start the mesh\n2. Send the prompt"
    )
    page.get_by_label("Your name").fill("Rita Reporter")
    page.get_by_label("Your email address").fill("rita@researcher.test")
    page.get_by_role("button", name="Send the report privately").click()
    expect(page.get_by_role("heading", name=re.compile(r"Report #\d+ received"))).to_be_visible()
    shot(page, "report-received")
    tracking_url = page.locator("a.tracking-link").get_attribute("href")
    assert tracking_url
    page.locator("a.tracking-link").click()
    expect(
        page.get_by_role(
            "heading", name=re.compile(r"Report #\d+: Tool router runs shell commands from model output")
        )
    ).to_be_visible()
    page.get_by_label("Write to the LLM Agentic Tool Mesh Security Team").fill("I can also share a video.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Your message was sent to the team.")).to_be_visible()
    shot(page, "tracking")
    context.close()

    team = browser.new_page()
    team.goto(server.url + "/accounts/login/")
    sign_in(team, server)
    team.goto(server.url + "/desk/reports/")
    shot(team, "queue")
    team.get_by_role(
        "link", name=re.compile(r"#\d+ Tool router runs shell commands from model output")
    ).click()
    expect(team.get_by_text("I can also share a video.")).to_be_visible()
    # Free-text forms have a page of their own, so nothing typed elsewhere on the case is lost.
    team.get_by_role("link", name="Write to the reporter or add an internal note").click()
    team.get_by_label("Write").fill("Thanks, we reproduced it on 0.3.")
    team.get_by_role("button", name="Post").click()
    expect(team.get_by_text("Message sent to the reporter.")).to_be_visible()
    team.get_by_role("link", name=re.compile(r"^Other decisions")).click()
    team.get_by_label("a vulnerability (valid)").check()
    team.get_by_role("button", name="Record the decision").click()
    expect(team.get_by_text("Decision recorded; the reporter has been told.")).to_be_visible()
    shot(team, "report-page")
    team.close()

    reporter = browser.new_page()
    reporter.goto(tracking_url)
    expect(reporter.get_by_text("Confirmed as a vulnerability")).to_be_visible()
    expect(reporter.get_by_text("Thanks, we reproduced it on 0.3.")).to_be_visible()
    shot(reporter, "tracking-after-triage")
    reporter.close()
    mail_dir = Path(server.env["VULNDESK_DATA_DIR"]) / "mail"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        "confirmed as a vulnerability" in f.read_text(errors="replace") for f in mail_dir.glob("*.log")
    ):
        time.sleep(0.3)
    assert any(
        "confirmed as a vulnerability" in f.read_text(errors="replace") for f in mail_dir.glob("*.log")
    )


# Stored markup attempts, each of which would set window.__xss (or call alert) if it ran.
HOSTILE_PARTS = (
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss = 'img'\">",
    '<svg onload="window.__xss = \'svg\'"><circle r="5"/></svg>',
    "[click me](javascript:window.__xss='link')",
    "<a href=\"javascript:window.__xss='anchor'\">anchor</a>",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<div style="background:url(javascript:window.__xss=1)">styled</div>',
    "<style>body { display: none }</style>",
    '<form action="javascript:window.__xss=1"><button>go</button></form>',
)
HOSTILE = "\n\n".join(HOSTILE_PARTS)


def test_stored_markup_stays_inert_in_a_real_browser(browser: Browser, server: LiveServer) -> None:
    status, body = post_json(
        server,
        "/api/v1/projects/llm-d/reports",
        {"title": "<script>window.__xss='title'</script>", "description": HOSTILE},
    )
    assert status == 201
    number = body["number"]
    # The reporter's reply goes through markdown on the team's page: the same attempts again.
    reporter = browser.new_page()
    reporter.goto(str(body["tracking_url"]))
    reporter.get_by_label("Write to the").fill(HOSTILE)
    reporter.get_by_role("button", name="Send", exact=True).click()
    expect(reporter.get_by_text("Your message was sent to the team.")).to_be_visible()
    assert reporter.evaluate("window.__xss") is None
    reporter.close()
    page = browser.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(server.url + "/accounts/login/")
    sign_in(page, server)
    page.goto(f"{server.url}/desk/p/llm-d/reports/{number}/")
    expect(page.locator("main h1")).to_contain_text("<script>window.__xss='title'</script>")
    expect(page.locator("body")).to_be_visible()  # the <style> did not hide the page
    for link in page.locator("main a").all():
        href = link.get_attribute("href") or ""
        assert not href.strip().lower().startswith("javascript:"), href
        if link.inner_text() in {"click me", "anchor"}:
            link.click()  # a link the sanitiser kept, without its javascript: target
    expect(page.get_by_text("No messages yet.")).to_have_count(0)  # the reply is shown
    assert (
        page.locator(
            "main script, main iframe, main svg[onload], main img[onerror], main form[action^='javascript']"
        ).count()
        == 0
    )
    shot(page, "hostile-markup")
    assert page.evaluate("window.__xss") is None
    assert not dialogs
    page.close()
