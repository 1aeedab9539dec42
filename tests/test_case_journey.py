"""A report's whole journey, as a team works it in Chromium: from the public form (Fast-LLM: from
mail, over the real SMTP intake) to a published advisory and a closed case, through the case page.

The team member's presses are counted from the queue on (signing in is not part of the journey):
every button or link pressed is a click, filling a field is not. A second team member approves
the draft, as the advisory needs another person's review. No embargo is agreed, so the team
publishes when ready; publication before an agreed end is another feature's test.
Each stage is photographed at 1280 and 375 px wide, and no page of the journey scrolls sideways
on a phone.
"""

from __future__ import annotations

import re
import smtplib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, expect

from .browser import PHONE, SCREENSHOTS, WIDE, first_sign_in, phone_page, phone_width, shot
from .live import LiveServer, add_team_member, live_server

pytestmark = [pytest.mark.browser, pytest.mark.server]

MAX_CLICKS = 15
TEAM_PASSWORD = "a team member's long password"
PROJECTS = {
    "fast-llm": ("Fast-LLM", "pkg:pypi/fast-llm", "disclosure@servicenow.com"),
    "llm-d": ("llm-d", "pkg:pypi/llm-d", ""),
    "agentic-tool-mesh": ("LLM Agentic Tool Mesh", "pkg:pypi/llmesh", ""),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """With its SMTP listener: Fast-LLM's reporter writes to the intake address."""
    with live_server(tmp_path_factory.mktemp("journey")) as running:
        yield running


@dataclass
class Person:
    """One team member's browser, counting what they press and which pages they load."""

    page: Page
    name: str
    clicks: int = 0
    loads: list[str] = field(default_factory=list)
    wide_pages: list[str] = field(default_factory=list)

    def press(self, target: Locator) -> None:
        self.clicks += 1
        target.click()
        self.page.wait_for_load_state()

    def shoot(self, name: str) -> None:
        """The page at 1280 px and at 375 px; on the phone it must not scroll sideways."""
        width = phone_width(self.page, f"journey-{name}")
        if width > PHONE["width"]:
            self.wide_pages.append(f"{name}: {width} px")


def _person(chromium: Browser, server: LiveServer, email: str, project: str) -> tuple[BrowserContext, Person]:
    add_team_member(server, email, project, TEAM_PASSWORD)
    context = chromium.new_context(viewport=WIDE)
    page = context.new_page()
    person = Person(page, email)
    page.on(
        "framenavigated", lambda frame: person.loads.append(frame.url) if frame == page.main_frame else None
    )
    first_sign_in(page, server, email, TEAM_PASSWORD)
    return context, person


def _report_on_the_form(chromium: Browser, server: LiveServer, slug: str, title: str) -> str:
    """A reporter without an account sends the report on the public form; their tracking link."""
    page = phone_page(chromium)
    page.goto(f"{server.url}/p/{slug}/report/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        "the form scrolls sideways"
    )
    shot(page, f"journey-{slug}-form-375")
    page.get_by_label("Summary").fill(title)
    page.get_by_label("Description").fill(
        "A crafted request makes the service run a command of the sender's choice."
    )
    for required in page.locator("textarea[required], input[type=text][required]").all():
        if not required.input_value():
            required.fill("Details of the step.")
    page.get_by_label("Your name").fill("Rita Reporter")
    page.get_by_label("Your email address").fill("rita@researcher.test")
    guidelines = page.locator("input[name=accepted_guidelines]")
    if guidelines.count():
        guidelines.check()
    page.get_by_role("button", name="Send the report privately").click()
    expect(page.get_by_role("heading", name=re.compile(r"Report #\d+ received"))).to_be_visible()
    link = page.locator("a.tracking-link").get_attribute("href")
    page.context.close()
    assert link
    return link


def _report_by_mail(server: LiveServer, address: str, title: str) -> str:
    """The reporter writes to the project's intake address; their tracking link comes by mail."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "Rita Reporter <rita@researcher.test>",
        address,
        title,
    )
    message["Message-ID"] = f"<journey-{time.time_ns()}@researcher.test>"
    message.set_content("A crafted request makes the service run a command of the sender's choice.\n")
    before = _tracking_links_mailed(server)
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
        client.send_message(message)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = _tracking_links_mailed(server) - before
        if new:
            return new.pop()
        time.sleep(0.3)
    raise AssertionError("no acknowledgement mail with a tracking link arrived")


def _tracking_links_mailed(server: LiveServer) -> set[str]:
    mail_dir = Path(server.env["VULNDESK_DATA_DIR"]) / "mail"
    pattern = re.compile(r"http://127\.0\.0\.1:\d+/t/[A-Za-z0-9_-]+/")
    return {
        link for log in mail_dir.glob("*.log") for link in pattern.findall(log.read_text(errors="replace"))
    }


def _stage(person: Person, label: str) -> None:
    expect(person.page.locator(".stage-now")).to_contain_text(f"Stage: {label}.")


def _fix(author: Person) -> None:
    """A fixed release line when the project records release lines, else the case event itself."""
    mark = author.page.get_by_role("button", name=re.compile(r"^Mark .* fixed$"))
    if mark.count():
        author.page.get_by_label(re.compile(r"is fixed in version$")).fill("9.9.9")
        author.press(mark)
    else:
        author.press(author.page.get_by_role("button", name="Record: a fix is ready"))


@pytest.mark.parametrize("slug", list(PROJECTS))
def test_a_team_takes_a_report_to_a_published_advisory_and_a_closed_case(
    slug: str, chromium: Browser, server: LiveServer
) -> None:
    name, package, intake = PROJECTS[slug]
    title = f"Command injection in the {name} gateway"
    tracking = (
        _report_by_mail(server, intake, title)
        if intake
        else _report_on_the_form(chromium, server, slug, title)
    )
    author_context, author = _person(chromium, server, f"author@{slug}.test", slug)
    reviewer_context, reviewer = _person(chromium, server, f"reviewer@{slug}.test", slug)
    author.loads.clear()
    author.page.goto(f"{server.url}/desk/reports/?project={slug}")
    author.press(author.page.get_by_role("link", name=re.compile(re.escape(title))))
    _triage_and_fix(author, slug, package)
    _draft_and_review(author, reviewer, slug)
    _publish_and_close(author, slug)

    team_clicks = author.clicks + reviewer.clicks
    (SCREENSHOTS / f"journey-{slug}-counts.txt").write_text(
        f"{team_clicks} clicks ({author.clicks} by the author, {reviewer.clicks} by the reviewer), "
        f"{len(author.loads)} page loads by the author\n"
    )
    assert team_clicks <= MAX_CLICKS, (author.clicks, reviewer.clicks)
    assert not author.wide_pages, author.wide_pages
    author.page.goto(f"{server.url}/desk/reports/?project={slug}")
    expect(author.page.get_by_role("link", name=re.compile(re.escape(title)))).to_have_count(0)  # not open
    author.shoot(f"{slug}-10-queue")
    assert not author.wide_pages, author.wide_pages
    _reporter_reads_published(chromium, tracking, slug)
    author_context.close()
    reviewer_context.close()


def _triage_and_fix(author: Person, slug: str, package: str) -> None:
    page = author.page
    _stage(author, "Received")
    author.shoot(f"{slug}-1-received")
    author.press(page.get_by_role("button", name="Acknowledge"))
    _stage(author, "Acknowledged")
    author.shoot(f"{slug}-2-acknowledged")
    author.press(page.get_by_role("button", name="A vulnerability: accept and plan a fix"))
    _stage(author, "Triaged")
    author.shoot(f"{slug}-3-triaged")
    page.get_by_label("Package URL").fill(package)
    page.get_by_label(re.compile(r"^Affected versions")).fill("<9.9.9")
    author.press(page.get_by_role("button", name="Save affected versions"))
    _stage(author, "Fix planned")
    author.shoot(f"{slug}-4-fix-planned")
    _fix(author)
    _stage(author, "Fix ready")
    author.shoot(f"{slug}-5-fix-ready")


def _draft_and_review(author: Person, reviewer: Person, slug: str) -> None:
    page = author.page
    author.press(page.get_by_role("button", name="Draft the advisory"))
    page.get_by_label(re.compile(r"^Summary")).fill("A crafted request runs a command on the gateway host.")
    author.press(page.get_by_role("button", name="Save the draft"))
    author.shoot(f"{slug}-6-draft")
    reviewer.page.goto(page.url)
    reviewer.press(reviewer.page.get_by_role("button", name="Approve (another team member)"))
    expect(reviewer.page.get_by_text(re.compile(r"approved by"))).to_be_visible()


def _publish_and_close(author: Person, slug: str) -> None:
    page = author.page
    author.press(page.locator(".facts").get_by_role("link", name=re.compile(r"^#\d+$")))
    _stage(author, "Advisory approved")
    author.shoot(f"{slug}-7-approved")
    author.press(page.get_by_role("button", name=re.compile(r"^Publish .* now$")))
    expect(page.get_by_text("Published: the advisory is public")).to_be_visible()
    author.press(page.locator(".facts").get_by_role("link", name=re.compile(r"^#\d+$")))
    _stage(author, "Published")
    expect(page.get_by_text("Record the fix as deployed: the case then closes")).to_be_visible()
    author.shoot(f"{slug}-8-published")
    author.press(page.get_by_role("button", name="Record: the fix is deployed"))
    _stage(author, "Closed")
    expect(page.locator(".clocks")).not_to_contain_text("Running")
    author.shoot(f"{slug}-9-closed")


def _reporter_reads_published(chromium: Browser, tracking: str, slug: str) -> None:
    reporter = phone_page(chromium)
    reporter.goto(tracking)
    expect(reporter.locator(".facts")).to_contain_text("Published")
    expect(reporter.locator("main")).to_contain_text("Credit: Rita Reporter")
    assert reporter.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(reporter, f"journey-{slug}-tracking-375")
    reporter.context.close()


def _wait_for_warnings(page: Page, warnings: list[str], count: int) -> None:
    """The dialog's event reaches the test a moment after the press; on a busy machine, later."""
    for _ in range(100):
        if len(warnings) >= count:
            return
        page.wait_for_timeout(100)


def test_leaving_a_page_with_unsaved_input_asks_first(chromium: Browser, server: LiveServer) -> None:
    """With JavaScript: typed in one form, pressing another (or a link) warns before anything is lost."""
    title = "Unsaved input is not lost"
    _report_on_the_form(chromium, server, "llm-d", title)
    context, person = _person(chromium, server, "careful@llm-d.test", "llm-d")
    page = person.page
    warnings: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        warnings.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    page.goto(f"{server.url}/desk/reports/?project=llm-d")
    page.get_by_role("link", name=re.compile(re.escape(title))).click()
    # The page's script watches the inputs once loaded: typing before that would warn of nothing.
    page.wait_for_url(re.compile(r"/desk/p/llm-d/reports/\d+/$"))
    page.wait_for_load_state("load")
    case = page.url
    page.get_by_label("Message to the reporter").fill("Thanks: we are looking at it.")
    page.get_by_role("button", name="A vulnerability: accept and plan a fix").click()
    _wait_for_warnings(page, warnings, 1)
    assert warnings == ["beforeunload"]
    assert page.url == case  # still here, with the text
    expect(page.get_by_label("Message to the reporter")).to_have_value("Thanks: we are looking at it.")
    # Its own form's button saves it without a warning.
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Acknowledged: the reporter has been told.")).to_be_visible()
    assert warnings == ["beforeunload"]
    # A section's own page warns too when its input was not saved.
    page.get_by_role("link", name="Score the severity").click()
    page.wait_for_url("**/edit/severity/")
    page.wait_for_load_state("load")
    page.get_by_label("CWE ids").fill("CWE-78")
    page.get_by_role("link", name="Back to the case").click()
    _wait_for_warnings(page, warnings, 2)
    assert warnings == ["beforeunload", "beforeunload"]
    assert page.url.endswith("/edit/severity/")
    context.close()
