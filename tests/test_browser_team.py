"""The team on the web, in Chromium against the real server: an administrator invites a person by
mail, the invitee chooses a password and sets up an authenticator and is on the team; the same
person forgets the password, resets it from the mailed link, and still needs the second factor.

Mail is read as it was written by the server (its mail folder, one raw RFC 5322 message a file).
Each page is photographed at 1280 and 375 px wide, and none scrolls sideways on a phone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .browser import WIDE, Audit, both_widths, enter_code, set_up_authenticator, submit_password
from .live import LiveServer, mails, wait_for_link

pytestmark = [pytest.mark.browser, pytest.mark.server]

CAROL = "carol@atm-team.test"
FIRST_PASSWORD = "carol's first long password"
NEW_PASSWORD = "carol's second long password"
PROJECT = "agentic-tool-mesh"


def shoot(page: Page, name: str, audit: Audit) -> None:
    """Both widths, checked by axe; on the phone the page must not scroll sideways."""
    audit.check(page, f"team {name}")
    both_widths(page, f"team-{name}")


def test_an_invited_member_signs_up_and_is_on_the_team(
    chromium: Browser, server: LiveServer, audit: Audit, desk_page: Page
) -> None:
    admin = desk_page
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
    carol = chromium.new_page(viewport=WIDE)
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
    set_up_authenticator(carol, CAROL)
    carol.wait_for_url(f"**/desk/p/{PROJECT}/team/")
    expect(carol.locator("table")).to_contain_text(CAROL)
    shoot(carol, "project-team-as-member", audit)
    # A plain member reads the team but cannot change it.
    expect(carol.get_by_role("button", name="Invite")).to_have_count(0)

    # The link worked once: opened again, it opens nothing.
    again = chromium.new_page()
    again.goto(invitation)
    expect(again.get_by_role("heading", name="This invitation does not work")).to_be_visible()
    admin.reload()
    expect(admin.locator("table")).to_contain_text(CAROL)
    expect(admin.get_by_role("heading", name="Invitations not yet taken up")).to_have_count(0)


def test_a_forgotten_password_is_reset_by_mail_and_the_second_factor_is_still_asked(
    chromium: Browser, server: LiveServer, audit: Audit
) -> None:
    page = chromium.new_page(viewport=WIDE)
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

    submit_password(page, CAROL, NEW_PASSWORD)
    # The reset changed the password only: the authenticator's code is still asked.
    page.wait_for_url("**/accounts/login/code/")
    enter_code(page, CAROL)
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
