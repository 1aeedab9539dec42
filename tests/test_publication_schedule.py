"""Scheduled publication by the real worker: on time while it runs, once across a crash.

Two advisories of the Agentic Tool Mesh are written, reviewed and scheduled through the web, as a
team would. The first is published by the running worker at its moment; for the second, the whole
server is killed (SIGKILL, as a power cut) before the moment and started again after it: the
advisory is published then, once: one announcement to the reporter, one public entry. Then four
advisories fall due at once and the server is killed while the worker publishes them: each is
published once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .live import VULNDESK, Browser, LiveServer, _wait_until_up, live_server, post_json, signed_in_member

pytestmark = pytest.mark.server

PROJECT = "agentic-tool-mesh"
REVIEWER, REVIEWER_PASSWORD = "reviewer@atm.test", "a reviewer's long password"


def _reviewer(server: LiveServer) -> Browser:
    return signed_in_member(server, REVIEWER, PROJECT, REVIEWER_PASSWORD)


def _scheduled_advisory(server: LiveServer, author: Browser, reviewer: Browser, at: dt.datetime) -> str:
    status, body = post_json(
        server,
        f"/api/v1/projects/{PROJECT}/reports",
        {"title": f"Scheduled {at:%H%M%S}", "description": "d", "reporter_email": "rita@researcher.test"},
    )
    assert status == 201
    case = f"/desk/p/{PROJECT}/reports/{body['number']}/"
    assert author.post_to(f"{case}advisory/", case, {})[0] == 302
    _, desk = author.get(f"/desk/p/{PROJECT}/advisories/")
    identifier = str(re.findall(r"/desk/p/agentic-tool-mesh/advisories/(x_ATM-\d{4}-\d{4})/", desk)[0])
    editor = f"/desk/p/{PROJECT}/advisories/{identifier}/"
    status, _ = author.post_form(
        editor,
        {
            "title": f"Scheduled {identifier}",
            "summary": "S.",
            "affected-0-package": "pkg:pypi/llmesh",
            "affected-0-affected": "vers:pypi/<1.0.0",
        },
    )
    assert status == 302
    assert reviewer.post_to(f"{editor}approve/", editor, {})[0] == 302
    assert (
        author.post_to(f"{editor}schedule/", editor, {"publish_at": at.strftime("%Y-%m-%dT%H:%M:%S")})[0]
        == 302
    )
    return identifier


def _published(server: LiveServer, identifier: str) -> dict[str, str] | None:
    status, _, body = server.get(f"/p/{PROJECT}/advisories.json")
    assert status == 200
    entries = [a for a in json.loads(body)["advisories"] if a["identifier"] == identifier]
    assert len(entries) <= 1
    return entries[0] if entries else None


def _wait_published(server: LiveServer, identifier: str, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = _published(server, identifier)
        if entry:
            return entry
        time.sleep(0.5)
    raise AssertionError(f"{identifier} was not published:\n{server.logs()[-3000:]}")


def _reporter_mails(server: LiveServer, identifier: str) -> int:
    folder = Path(server.env["VULNDESK_DATA_DIR"]) / "mail"
    return sum(identifier in path.read_text(errors="replace") for path in folder.glob("*.log"))


def test_the_worker_publishes_on_time_and_once_across_a_crash(tmp_path: Path) -> None:
    with live_server(tmp_path, "--no-smtp") as server:
        author = Browser(server)
        author.sign_in(server.admin_email, server.admin_password)
        reviewer = _reviewer(server)

        on_time = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=8)
        first = _scheduled_advisory(server, author, reviewer, on_time)
        assert _published(server, first) is None
        entry = _wait_published(server, first, timeout=60)
        published = dt.datetime.fromisoformat(entry["published"])
        # Never early; late only by the worker's one-second poll and the load of a busy test machine.
        assert on_time <= published < on_time + dt.timedelta(seconds=45), (on_time, published)

        after_crash = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=10)
        second = _scheduled_advisory(server, author, reviewer, after_crash)
        # The power goes before the moment, and comes back after it.
        _kill_and_restart_after(server, after_crash)
        entry = _wait_published(server, second, timeout=60)
        assert dt.datetime.fromisoformat(entry["published"]) >= after_crash
        time.sleep(3)  # any second publication would have happened by now
        assert _published(server, second) is not None
        deadline = time.monotonic() + 30
        while _reporter_mails(server, second) < 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _reporter_mails(server, second) == 1


def _kill_and_restart_after(server: LiveServer, moment: dt.datetime) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)  # web, worker and all: a power cut
    server.process.wait()
    while dt.datetime.now(dt.UTC) < moment + dt.timedelta(seconds=2):
        time.sleep(0.2)
    port = server.url.rsplit(":", 1)[1]
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(
            [VULNDESK, "serve", "--port", port, "--smtp-port", str(server.smtp_port), "--no-smtp"],
            env=server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _wait_until_up(server)


def test_a_worker_killed_in_the_middle_of_publishing_publishes_each_advisory_once(tmp_path: Path) -> None:
    """Several advisories fall due together; the server dies a moment after, while the worker is
    publishing them (SIGKILL at a random instant within the batch), and starts again."""
    with live_server(tmp_path, "--no-smtp") as server:
        author = Browser(server)
        author.sign_in(server.admin_email, server.admin_password)
        reviewer = _reviewer(server)
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=45)
        batch = [_scheduled_advisory(server, author, reviewer, moment) for _ in range(4)]
        assert dt.datetime.now(dt.UTC) < moment, "the set-up took longer than planned"
        while dt.datetime.now(dt.UTC) < moment:
            time.sleep(0.05)
        time.sleep(random.uniform(0.5, 2.5))  # noqa: S311 - a kill instant, not a secret
        _kill_and_restart_after(server, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2))
        for identifier in batch:
            _wait_published(server, identifier, timeout=90)
        time.sleep(3)  # a second publication of any of them would have happened by now
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and any(_reporter_mails(server, i) < 1 for i in batch):
            time.sleep(0.5)
        assert [_reporter_mails(server, identifier) for identifier in batch] == [1] * len(batch)
        for identifier in batch:
            assert _published(server, identifier) is not None  # listed once (checked inside)
