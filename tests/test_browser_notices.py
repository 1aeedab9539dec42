"""Notices, in Chromium against the real server: a member asks another for a review of an advisory
draft and the reviewer reads the request in the raw mail; each person's choice on the account page
(at once, digest, nothing) decides whether the next request is mailed; the owner of a case cannot
turn "overdue" off. Pages are photographed at 1280 and 375 px and checked by axe.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from . import totp
from .live import LiveServer, live_server, post_json
from .test_axe import Audit, axe_source  # noqa: F401 - axe_source is a fixture used by name
from .test_browser import CHROMIUM, CHROMIUM_ARGS
from .test_browser_team import DESKTOP, mails, shoot, sign_in_admin, text_of, wait_for_link

pytestmark = [pytest.mark.browser, pytest.mark.server]

DAVE, DAVE_PASSWORD = "dave@llm-d-team.test", "dave's long team password"


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
    with live_server(tmp_path_factory.mktemp("notices"), "--no-smtp") as running:
        yield running


@pytest.fixture
def audit(axe_source: str) -> Iterator[Audit]:  # noqa: F811 - the fixture imported above
    found = Audit(axe_source)
    yield found
    found.assert_clean()


def _member(browser: Browser, server: LiveServer) -> Page:
    created = server.cli(
        "user", "create", DAVE, "--role", "team", "--project", "llm-d", "--password-stdin",
        stdin=DAVE_PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Email").fill(DAVE)
    page.get_by_label("Password").fill(DAVE_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/login/setup/")
    totp.remember_from_page(DAVE, page.content())
    page.get_by_label("The code your app shows").fill(totp.code_for(DAVE))
    page.get_by_role("button", name="Confirm and sign in").click()
    page.get_by_role("link", name="I saved them: continue").click()
    page.wait_for_url("**/desk/")
    return page


def _draft_for_a_new_report(page: Page, server: LiveServer) -> str:
    status, body = post_json(
        server, "/api/v1/projects/llm-d/reports", {"title": "Cache poisoning", "description": "Details."}
    )
    assert status == 201
    page.goto(f"{server.url}/desk/p/llm-d/reports/{body['number']}/")
    page.locator("details#advisory").evaluate("details => { details.open = true; }")
    page.get_by_role("button", name="Draft an advisory").click()
    page.wait_for_url(re.compile(r".*/advisories/[^/]+/$"))
    return page.url


def _request_review(page: Page, editor: str, reviewer: str) -> None:
    page.goto(editor)
    page.get_by_label("Reviewer").select_option(label=reviewer)
    page.get_by_role("button", name="Request review").click()
    expect(page.get_by_role("status")).to_contain_text("was asked to review the draft")


def _requests_to(server: LiveServer, to: str) -> int:
    return len([m for m in mails(server) if to in str(m["To"]) and "asks you to review" in str(m["Subject"])])


def test_a_member_asks_for_a_review_and_the_reviewers_choice_decides_how_they_hear(
    browser: Browser, server: LiveServer, audit: Audit
) -> None:
    admin = browser.new_context(viewport=DESKTOP).new_page()
    sign_in_admin(admin, server)
    dave = _member(browser, server)
    editor = _draft_for_a_new_report(dave, server)
    _request_review(dave, editor, server.admin_email)
    shoot(dave, "review-requested", audit)

    # The reviewer reads the request in the raw mail: a link to the editor, none of the draft's text.
    link = wait_for_link(server, server.admin_email, "/desk/p/llm-d/advisories/")
    (request,) = [m for m in mails(server) if "asks you to review" in str(m["Subject"])]
    assert DAVE in text_of(request)
    assert "Cache poisoning" not in request.as_string()
    admin.goto(link)
    expect(admin.locator(".facts, dl").first).to_contain_text(f"review asked of {server.admin_email}")
    # And on the desk home, first among the drafts waiting for their review, marked as asked of them.
    admin.goto(server.url + "/desk/")
    waiting = admin.get_by_role("list", name="Waiting for my review")
    expect(waiting.get_by_role("listitem").first).to_contain_text("review requested from you")
    shoot(admin, "desk-review-requested", audit)
    admin.set_viewport_size(DESKTOP)

    # The reviewer turns review requests off on the account page: the next one is not mailed.
    admin.goto(server.url + "/accounts/#notices")
    admin.locator("fieldset", has_text="My review of an advisory draft is asked").get_by_label(
        "Not at all"
    ).check()
    admin.get_by_role("button", name="Save notice choices").click()
    expect(admin.get_by_role("status")).to_contain_text("Your notice choices are saved")
    shoot(admin, "account-notices", audit)
    before = _requests_to(server, server.admin_email)
    _request_review(dave, editor, server.admin_email)
    # A digest choice goes the same way the next morning; at once comes back with a choice again.
    admin.goto(server.url + "/accounts/#notices")
    admin.locator("fieldset", has_text="My review of an advisory draft is asked").get_by_label(
        "Mail at once"
    ).check()
    admin.get_by_role("button", name="Save notice choices").click()
    _request_review(dave, editor, server.admin_email)
    wait_for_link(server, server.admin_email, "/desk/p/llm-d/advisories/", seen=before)
    assert _requests_to(server, server.admin_email) == before + 1


def test_the_owner_of_a_case_cannot_turn_overdue_off(
    browser: Browser, server: LiveServer, audit: Audit
) -> None:
    admin = browser.new_context(viewport=DESKTOP).new_page()
    sign_in_admin(admin, server)
    status, body = post_json(
        server, "/api/v1/projects/llm-d/reports", {"title": "Owner test", "description": "Details."}
    )
    assert status == 201
    admin.goto(f"{server.url}/desk/p/llm-d/reports/{body['number']}/edit/people/")
    admin.get_by_label("Owner").select_option(label=server.admin_email)
    admin.locator("main form").get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_role("status")).to_contain_text("Owner and assignees saved.")
    admin.goto(server.url + "/accounts/#notices")
    overdue = admin.locator("fieldset", has_text="A deadline passed")
    expect(overdue.get_by_label("Not at all")).to_be_disabled()
    expect(overdue).to_contain_text("You own open cases")
    shoot(admin, "account-notices-owner", audit)
