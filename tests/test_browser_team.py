"""The team on the web, in Chromium against the real server: an administrator invites a person by
mail, the invitee chooses a password and sets up an authenticator and is on the team; the same
person forgets the password, resets it from the mailed link, and still needs the second factor.

Mail is read as it was written by the server (its mail folder, one raw RFC 5322 message a file).
Each page is photographed at 1280 and 375 px wide, and none scrolls sideways on a phone.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from . import totp
from .live import LiveServer, live_server
from .test_axe import Audit, axe_source  # noqa: F401 - axe_source is a fixture used by name
from .test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.server]

PHONE: ViewportSize = {"width": 375, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
CAROL = "carol@atm-team.test"
FIRST_PASSWORD = "carol's first long password"
NEW_PASSWORD = "carol's second long password"
PROJECT = "agentic-tool-mesh"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("team"), "--no-smtp") as running:
        yield running


@pytest.fixture
def audit(axe_source: str) -> Iterator[Audit]:  # noqa: F811 - the fixture imported above
    """axe-core on every page photographed; a test fails on any violation it found."""
    found = Audit(axe_source)
    yield found
    found.assert_clean()


def shoot(page: Page, name: str, audit: Audit) -> None:
    """Both widths, checked by axe; on the phone the page must not scroll sideways."""
    audit.check(page, f"team {name}")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / f"team-{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    page.screenshot(path=str(SCREENSHOTS / f"team-{name}-375.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def mails(server: LiveServer) -> list[EmailMessage]:
    folder = Path(server.env["VULNDESK_DATA_DIR"]) / "mail"
    found = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime):
        raw = path.read_bytes().split(b"\n" + b"-" * 79)[0]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def wait_for_link(server: LiveServer, to: str, path: str, *, seen: int = 0) -> str:
    """The link to ``path`` in the newest mail to ``to``, once more than ``seen`` such mails arrived."""
    pattern = re.compile(re.escape(server.url) + re.escape(path) + r"[A-Za-z0-9_-]+/")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        links = [
            link
            for message in mails(server)
            if to in str(message["To"])
            for link in pattern.findall(text_of(message))
        ]
        if len(links) > seen:
            return str(links[-1])
        time.sleep(0.3)
    raise AssertionError(f"no mail to {to} with a link to {path}")


def sign_in_admin(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Email").fill(server.admin_email)
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/accounts/login/(setup|code)/$"))
    if page.url.endswith("/setup/"):
        totp.remember_from_page(server.admin_email, page.content())
        page.get_by_label("The code your app shows").fill(totp.code_for(server.admin_email))
        page.get_by_role("button", name="Confirm and sign in").click()
        page.get_by_role("link", name="I saved them: continue").click()
    else:
        page.get_by_label("Code").fill(totp.code_for(server.admin_email))
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/desk/")


def test_an_invited_member_signs_up_and_is_on_the_team(
    browser: Browser, server: LiveServer, audit: Audit
) -> None:
    admin = browser.new_context(viewport=DESKTOP).new_page()
    sign_in_admin(admin, server)
    admin.goto(server.url + "/desk/teams/")
    expect(admin.get_by_role("heading", name="Teams", exact=True)).to_be_visible()
    # `vulndesk setup` put the first administrator on every example project's team.
    expect(admin.locator(".card", has_text="LLM Agentic Tool Mesh")).to_contain_text(server.admin_email)
    shoot(admin, "teams", audit)
    admin.get_by_role("link", name="Manage the team of LLM Agentic Tool Mesh").click()
    admin.get_by_label("Email").fill(CAROL)
    admin.get_by_label("Role", exact=True).select_option("team")
    admin.get_by_role("button", name="Invite").click()
    expect(admin.get_by_role("status")).to_contain_text(f"{CAROL} was sent an invitation")
    expect(admin.get_by_role("heading", name="Invitations not yet taken up")).to_be_visible()
    shoot(admin, "project-team", audit)

    invitation = wait_for_link(server, CAROL, "/accounts/invitation/")
    carol = browser.new_context(viewport=DESKTOP).new_page()
    carol.goto(invitation)
    expect(
        carol.get_by_role("heading", name="Join the security team of LLM Agentic Tool Mesh")
    ).to_be_visible()
    shoot(carol, "invitation", audit)
    carol.get_by_label("New password").fill(FIRST_PASSWORD)
    carol.get_by_label("The same again").fill(FIRST_PASSWORD)
    carol.get_by_role("button", name="Set password and continue").click()
    # Straight on to the authenticator: nobody is on a team without a second factor.
    carol.wait_for_url("**/accounts/login/setup/")
    totp.remember_from_page(CAROL, carol.content())
    carol.get_by_label("The code your app shows").fill(totp.code_for(CAROL))
    carol.get_by_role("button", name="Confirm and sign in").click()
    carol.get_by_role("link", name="I saved them: continue").click()
    carol.wait_for_url(f"**/desk/p/{PROJECT}/team/")
    expect(carol.locator("table")).to_contain_text(CAROL)
    shoot(carol, "project-team-as-member", audit)
    # A plain member reads the team but cannot change it.
    expect(carol.get_by_role("button", name="Invite")).to_have_count(0)

    # The link worked once: opened again, it opens nothing.
    again = browser.new_context().new_page()
    again.goto(invitation)
    expect(again.get_by_role("heading", name="This invitation does not work")).to_be_visible()
    admin.reload()
    expect(admin.locator("table")).to_contain_text(CAROL)
    expect(admin.get_by_role("heading", name="Invitations not yet taken up")).to_have_count(0)


def test_a_forgotten_password_is_reset_by_mail_and_the_second_factor_is_still_asked(
    browser: Browser, server: LiveServer, audit: Audit
) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    shoot(page, "forgot-password", audit)
    # An address without an account gets the very same answer.
    page.get_by_label("Email").fill("nobody@nowhere.test")
    page.get_by_role("button", name="Mail me a link").click()
    unknown_answer = page.get_by_role("status").inner_text()
    page.goto(server.url + "/accounts/password-reset/")
    page.get_by_label("Email").fill(CAROL)
    page.get_by_role("button", name="Mail me a link").click()
    assert page.get_by_role("status").inner_text() == unknown_answer
    shoot(page, "forgot-password-sent", audit)

    link = wait_for_link(server, CAROL, "/accounts/password-reset/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    shoot(page, "reset-password", audit)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/accounts/login/")
    expect(page.get_by_role("status")).to_contain_text("Password changed")

    page.get_by_label("Email").fill(CAROL)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The reset changed the password only: the authenticator's code is still asked.
    page.wait_for_url("**/accounts/login/code/")
    page.get_by_label("Code").fill(totp.code_for(CAROL))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/desk/")

    page.goto(link)
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    assert server.get("/accounts/password-reset/forged/")[0] == 404


def test_the_operator_mails_a_reset_link_from_the_command_line(server: LiveServer) -> None:
    before = len([m for m in mails(server) if CAROL in str(m["To"]) and "reset" in str(m["Subject"])])
    done = server.cli("user", "reset-password", CAROL)
    assert done.returncode == 0, done.stderr
    assert "mailed" in done.stdout
    assert wait_for_link(server, CAROL, "/accounts/password-reset/", seen=before)
    unknown = server.cli("user", "reset-password", "nobody@nowhere.test")
    assert unknown.returncode != 0
    assert "no active account" in unknown.stderr
