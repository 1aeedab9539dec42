"""In Chromium, against the real server and a real SMTP relay: the desk home and the queue's bulk close.

Ten reporters each send a report; an administrator opens "My work", follows "Waiting for
acknowledgement" to the queue, selects the ten and closes them as not a security issue with one
reason. Each reporter's mail (read raw from the relay) says their report changed and carries their
private link, and the page that link opens shows the team's reason.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect

from .browser import both_widths, shot
from .conftest import Relay
from .live import LiveServer, free_port, live_server, post_json

pytestmark = [pytest.mark.browser, pytest.mark.server]

REPORTERS = [f"reporter{n}@researchers.test" for n in range(10)]
REASON = "This is how the debug endpoint is documented to behave; it is off unless you turn it on."


@pytest.fixture(scope="module")
def relay() -> Iterator[Relay]:
    running = Relay(free_port())
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, relay: Relay) -> Iterator[LiveServer]:
    mail = {
        "VULNDESK_SMTP_HOST": "127.0.0.1",
        "VULNDESK_SMTP_PORT": str(relay.port),
        "VULNDESK_SMTP_STARTTLS": "0",
        "VULNDESK_INTAKE_PER_ADDRESS_PER_HOUR": "100",
    }
    saved = {name: os.environ.get(name) for name in mail}
    os.environ.update(mail)  # live_server hands the server a copy of this environment
    try:
        with live_server(tmp_path_factory.mktemp("queue"), "--no-smtp") as running:
            yield running
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _mails_to(relay: Relay, address: str) -> list[EmailMessage]:
    with relay.lock:
        raw = list(relay.received)
    parsed = [email.message_from_string(text, policy=email.policy.default) for text in raw]
    return [m for m in parsed if isinstance(m, EmailMessage) and address in str(m.get("To", ""))]


def _text_of(message: EmailMessage) -> str:
    """Every text/plain part, decoded (a signed mail nests the text inside a multipart)."""
    return "\n".join(
        str(part.get_content()) for part in message.walk() if part.get_content_type() == "text/plain"
    )


def _wait_for(relay: Relay, address: str, words: str, timeout: float = 90) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in _mails_to(relay, address):
            if words in _text_of(message):
                return message
        time.sleep(0.5)
    raise AssertionError(f"no mail to {address} saying {words!r}")


def _send_reports(server: LiveServer) -> dict[str, int]:
    numbers = {}
    for n, reporter in enumerate(REPORTERS):
        status, answer = post_json(
            server,
            "/api/v1/projects/llm-d/reports",
            {
                "title": f"Debug endpoint answers {n}",
                "description": "It answers.",
                "reporter_email": reporter,
            },
        )
        assert status == 201, answer
        numbers[reporter] = int(str(answer["number"]))
    return numbers


def test_bulk_closing_ten_reports_tells_each_reporter_the_reason(
    server: LiveServer, relay: Relay, desk_page: Page, reporter_page: Page
) -> None:
    numbers = _send_reports(server)
    page = desk_page
    page.goto(server.url + "/desk/")  # signed in before the reports came: count them now
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    waiting = page.get_by_role("link", name=re.compile(r"Waiting for acknowledgement"))
    count = int(waiting.locator(".my-work-count").inner_text())
    assert count >= 10  # the example projects' own reports wait too
    both_widths(page, "my-work")
    waiting.click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    assert page.locator('input[name="report"]').count() == count  # the desk's count is the queue's
    page.get_by_label("Project").select_option("llm-d")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Waiting for")).to_have_value("acknowledgement")
    both_widths(page, "queue")
    for number in numbers.values():
        page.locator(f'input[name="report"][value="llm-d/{number}"]').check()
    page.get_by_label("Action").select_option("not_security")
    page.get_by_label("Reason each reporter reads (for closing)").fill(REASON)
    page.get_by_role("button", name="Apply to the selected reports").click()
    expect(page.get_by_text("10 closed as not a security issue")).to_be_visible()
    shot(page, "queue-after-bulk-close")

    reader = reporter_page
    for reporter, number in numbers.items():
        changed = _wait_for(relay, reporter, f"updated your security report #{number} for")
        assert "Their explanation is on your private tracking page" in _text_of(changed)
        received = _wait_for(relay, reporter, "private tracking page")
        link = re.search(r"(http://\S+/t/\S+/)", _text_of(received))
        assert link, _text_of(received)
        reader.goto(link.group(1))
        expect(reader.get_by_text(REASON)).to_be_visible()
    shot(reader, "tracking-after-bulk-close")
