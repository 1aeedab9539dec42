from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from .browser import phone_page, shot, sign_in
from .live import LiveServer, post_json

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_an_admin_signs_in_and_opens_a_projects_policy_page(chromium: Browser, server: LiveServer) -> None:
    page = chromium.new_page()
    page.goto(server.url + "/")
    shot(page, "home")
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/accounts/login/")
    sign_in(page, server, at_step=lambda step: shot(page, step))
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    shot(page, "desk")
    page.get_by_role("link", name="LLM Agentic Tool Mesh").click()
    page.wait_for_url("**/p/agentic-tool-mesh/")
    expect(page.get_by_role("heading", name="Early disclosure to distributors")).to_be_visible()
    shot(page, "policy")
    page.close()


def test_a_wrong_password_is_refused_with_a_message(chromium: Browser, server: LiveServer) -> None:
    page = chromium.new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Email").fill(server.admin_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.close()


def test_pages_fit_a_phone_screen_and_load_nothing_from_elsewhere(
    chromium: Browser, server: LiveServer
) -> None:
    page = phone_page(chromium)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url + "/p/llm-d/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    shot(page, "policy-phone")
    assert all(url.startswith(server.url) for url in requested), requested
    page.context.close()


def test_a_reporter_without_javascript_reports_and_the_team_reads_it(
    chromium: Browser, server: LiveServer, desk_page: Page, reporter_page: Page
) -> None:
    context = chromium.new_context(java_script_enabled=False)
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

    team = desk_page
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

    reporter = reporter_page
    reporter.goto(tracking_url)
    expect(reporter.get_by_text("Confirmed as a vulnerability")).to_be_visible()
    expect(reporter.get_by_text("Thanks, we reproduced it on 0.3.")).to_be_visible()
    shot(reporter, "tracking-after-triage")
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


def test_stored_markup_stays_inert_in_a_real_browser(
    chromium: Browser, server: LiveServer, reporter_page: Page
) -> None:
    status, body = post_json(
        server,
        "/api/v1/projects/llm-d/reports",
        {"title": "<script>window.__xss='title'</script>", "description": HOSTILE},
    )
    assert status == 201
    number = body["number"]
    # The reporter's reply goes through markdown on the team's page: the same attempts again.
    reporter = reporter_page
    reporter.goto(str(body["tracking_url"]))
    reporter.get_by_label("Write to the").fill(HOSTILE)
    reporter.get_by_role("button", name="Send", exact=True).click()
    expect(reporter.get_by_text("Your message was sent to the team.")).to_be_visible()
    assert reporter.evaluate("window.__xss") is None
    page = chromium.new_page()
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
