"""Notices, in Chromium against the real server: a member asks another for a review of an advisory
draft and the reviewer reads the request in the raw mail; each person's choice on the account page
(at once, digest, nothing) decides whether the next request is mailed; the owner of a case cannot
turn "overdue" off. Pages are photographed at 1280 and 375 px and checked by axe.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .browser import WIDE, Audit, case_url, draft_advisory, first_sign_in, send_report
from .live import LiveServer, add_team_member, mails, text_of, wait_for_link
from .test_browser_team import shoot

pytestmark = [pytest.mark.browser, pytest.mark.server]

DAVE, DAVE_PASSWORD = "dave@llm-d-team.test", "dave's long team password"


def _member(chromium: Browser, server: LiveServer) -> Page:
    add_team_member(server, DAVE, "llm-d", DAVE_PASSWORD)
    page = chromium.new_page(viewport=WIDE)
    first_sign_in(page, server, DAVE, DAVE_PASSWORD)
    return page


def _draft_for_a_new_report(page: Page, server: LiveServer) -> str:
    sent = send_report(server, "llm-d", "Cache poisoning", description="Details.")
    page.goto(case_url(server, "llm-d", sent["number"]))
    return draft_advisory(page)


def _request_review(page: Page, editor: str, reviewer: str) -> None:
    page.goto(editor)
    page.get_by_label("Reviewer").select_option(label=reviewer)
    page.get_by_role("button", name="Request review").click()
    expect(page.get_by_role("status")).to_contain_text("was asked to review the draft")


def _requests_to(server: LiveServer, to: str) -> int:
    return len([m for m in mails(server) if to in str(m["To"]) and "asks you to review" in str(m["Subject"])])


def test_a_member_asks_for_a_review_and_the_reviewers_choice_decides_how_they_hear(
    chromium: Browser, server: LiveServer, audit: Audit, desk_page: Page
) -> None:
    admin = desk_page
    dave = _member(chromium, server)
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
    admin.set_viewport_size(WIDE)

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
    server: LiveServer, audit: Audit, desk_page: Page
) -> None:
    admin = desk_page
    sent = send_report(server, "llm-d", "Owner test", description="Details.")
    admin.goto(case_url(server, "llm-d", sent["number"]) + "edit/people/")
    admin.get_by_label("Owner").select_option(label=server.admin_email)
    admin.locator("main form").get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_role("status")).to_contain_text("Owner and assignees saved.")
    admin.goto(server.url + "/accounts/#notices")
    overdue = admin.locator("fieldset", has_text="A deadline passed")
    expect(overdue.get_by_label("Not at all")).to_be_disabled()
    expect(overdue).to_contain_text("You own open cases")
    shoot(admin, "account-notices-owner", audit)
