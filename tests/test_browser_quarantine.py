"""In Chromium: a report the spam check held is released from its case page with the keyboard,
after the quarantine view of the queue listed it. Screenshots go to test-artifacts/ at 1280 and
375 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .browser import both_widths, case_url, send_report
from .live import LiveServer
from .test_quarantine_release import SPAM

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "llm-d"


def test_the_team_releases_a_held_report_from_its_page(server: LiveServer, desk_page: Page) -> None:
    held = send_report(server, PROJECT, "Casino bonus", description=SPAM, reporter_email="sam@spam.test")
    page = desk_page
    page.goto(f"{server.url}/desk/reports/?project={PROJECT}&state=quarantine")
    row = page.locator("tr", has=page.get_by_role("link", name=re.compile(rf"^#{held['number']} ")))
    expect(row).to_contain_text("quarantined")
    both_widths(page, "quarantine-queue")

    page.goto(case_url(server, PROJECT, held["number"]))
    step = page.get_by_role("button", name="Release from quarantine").first
    expect(step).to_be_visible()
    expect(page.get_by_text("Acknowledge the report")).to_have_count(0)
    both_widths(page, "quarantine-case-page")
    step.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Released from quarantine: the report is in the queue")).to_be_visible()
    expect(page.locator("#triage")).not_to_contain_text("quarantined")
    both_widths(page, "quarantine-released")
