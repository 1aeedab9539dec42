"""An acknowledged report survives the server being killed: right after it said "received", and at
random moments while clients send reports over the web form, the API and SMTP at once."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import smtplib
import subprocess
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from .live import VULNDESK, Browser, LiveServer, _wait_until_up, live_server, post_json, stop

pytestmark = pytest.mark.server


def _kill_and_restart(server: LiveServer, clients_stop: threading.Event | None = None) -> None:
    """A power cut: every process of the server at once, then a start as after the reboot."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    if clients_stop is not None:
        clients_stop.set()  # what the clients send now would reach the next server, not this one
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(
            [VULNDESK, "serve", "--port", server.url.rsplit(":", 1)[1], "--smtp-port", str(server.smtp_port)],
            env=server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _wait_until_up(server)


def _report_titles(server: LiveServer) -> str:
    team = Browser(server)
    team.sign_in(server.admin_email, server.admin_password)
    return team.get("/desk/reports/")[1]


def test_reports_acknowledged_on_every_channel_survive_a_kill(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex[:12]
    with live_server(tmp_path) as server:
        status, body = post_json(
            server, "/api/v1/projects/llm-d/reports", {"title": f"api-{marker}", "description": "d"}
        )
        assert status == 201
        _kill_and_restart(server)

        status, _ = Browser(server).post_form(
            "/p/llm-d/report/", {"title": f"web-{marker}", "description": "d", "credit": "anonymous"}
        )
        assert status == 200
        _kill_and_restart(server)

        mail = EmailMessage()
        mail["From"] = "r@researcher.test"
        mail["To"] = "llm-d-security-reporting@googlegroups.com"
        mail["Subject"] = f"mail-{marker}"
        mail["Message-ID"] = f"<{marker}@researcher.test>"
        mail.set_content("d")
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
            client.send_message(mail)
        _kill_and_restart(server)

        # The sender's server retries after a lost connection: the same Message-ID stays one report.
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
            client.send_message(mail)

        queue = _report_titles(server)
        for channel in ("api", "web", "mail"):
            assert queue.count(f"{channel}-{marker}") == 1, channel
        _, detail = Browser(server).get(str(body["tracking_url"]).removeprefix(server.url))
        assert f"api-{marker}" in detail
        assert stop(server) == 0


# Concurrent clients on every channel, the server killed at random moments ------------------------

ROUNDS = 3
PER_CLIENT = 8  # reports a client sends in a round, at most: the queue's API page holds them all


@dataclass
class _Sent:
    """What the clients were told was received, and how to send it again."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: dict[str, str] = field(default_factory=dict)  # title -> description
    api_retries: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    mail_retries: list[EmailMessage] = field(default_factory=list)

    def record(self, title: str, description: str) -> None:
        with self.lock:
            assert title not in self.acknowledged
            self.acknowledged[title] = description


def _api_client(server: LiveServer, sent: _Sent, name: str, stopping: threading.Event) -> None:
    for n in range(PER_CLIENT):
        if stopping.is_set():
            return
        title = f"{name}-{n}"
        payload: dict[str, object] = {"title": title, "description": f"api body {title} " * 20}
        with sent.lock:
            sent.api_retries.append((title, payload))  # answered or not, a client may send it again
        try:
            status, _ = post_json(
                server, "/api/v1/projects/llm-d/reports", payload, {"Idempotency-Key": title}
            )
        except (OSError, http.client.HTTPException):
            return  # the server is gone (mid-answer, too): the client sends it again later
        if status == 201:
            sent.record(title, str(payload["description"]))


def _web_client(server: LiveServer, sent: _Sent, name: str, stopping: threading.Event) -> None:
    for n in range(PER_CLIENT):
        if stopping.is_set():
            return
        title = f"{name}-{n}"
        description = f"web body {title} " * 20
        fields = {"title": title, "description": description, "credit": "anonymous"}
        try:
            status, page = Browser(server).post_form("/p/llm-d/report/", fields)
        except (OSError, http.client.HTTPException, AssertionError):
            return  # cut mid-page or mid-answer: not acknowledged
        if status == 200 and "/t/" in page:  # the page with the private tracking link: received
            sent.record(title, description)


def _mail_client(server: LiveServer, sent: _Sent, name: str, stopping: threading.Event) -> None:
    for n in range(PER_CLIENT):
        if stopping.is_set():
            return
        title = f"{name}-{n}"
        mail = EmailMessage()
        mail["From"] = f"{name}@researcher.test"
        mail["To"] = "llm-d-security-reporting@googlegroups.com"
        mail["Subject"] = title
        mail["Message-ID"] = f"<{title}@researcher.test>"
        mail.set_content(f"mail body {title} " * 20)
        with sent.lock:
            sent.mail_retries.append(mail)  # a sending server retries until it hears 250
        try:
            with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
                client.send_message(mail)  # raises unless the server answered 250: received
        except (OSError, smtplib.SMTPException):
            return
        sent.record(title, f"mail body {title} " * 20)


def _round(server: LiveServer, sent: _Sent, number: int, rng: random.Random, marker: str) -> None:
    stopping = threading.Event()
    clients = [
        *(
            threading.Thread(target=_api_client, args=(server, sent, f"api-{marker}-{number}-{i}", stopping))
            for i in range(3)
        ),
        *(
            threading.Thread(target=_web_client, args=(server, sent, f"web-{marker}-{number}-{i}", stopping))
            for i in range(2)
        ),
        *(
            threading.Thread(
                target=_mail_client, args=(server, sent, f"mail-{marker}-{number}-{i}", stopping)
            )
            for i in range(2)
        ),
    ]
    before = len(sent.acknowledged)
    for client in clients:
        client.start()
    # The cut comes at a random moment once reports are flowing (the first one is through).
    deadline = time.monotonic() + 30
    while len(sent.acknowledged) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 1.5))
    _kill_and_restart(server, stopping)
    for client in clients:
        client.join(timeout=120)


def test_concurrent_reports_on_every_channel_survive_kills_at_random_moments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every client is on loopback: the hourly limits per address and sender would stop them first.
    monkeypatch.setenv("VULNDESK_INTAKE_PER_ADDRESS_PER_HOUR", "100000")
    monkeypatch.setenv("VULNDESK_INTAKE_PER_SENDER_PER_HOUR", "100000")
    seed = int.from_bytes(os.urandom(4), "big")
    rng, marker, sent = random.Random(seed), uuid.uuid4().hex[:8], _Sent()  # noqa: S311 - a moment, not a key
    with live_server(tmp_path) as server:
        for number in range(ROUNDS):
            _round(server, sent, number, rng, marker)
        # Every client sends again what it sent, answered or not (an answer can be lost in a cut):
        # the same key or Message-ID finds the first report, so nothing exists twice.
        for title, payload in sent.api_retries:
            status, _ = post_json(
                server, "/api/v1/projects/llm-d/reports", payload, {"Idempotency-Key": title}
            )
            assert status in (200, 201), (seed, title, status)
        for mail in sent.mail_retries:
            with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
                client.send_message(mail)
        stored = _stored_reports(server)
        assert stop(server) == 0
    assert len(sent.acknowledged) >= ROUNDS, f"seed {seed}: too little was sent before the kills"
    titles = [title for title, _ in stored]
    assert len(titles) == len(set(titles)), f"seed {seed}: a report exists twice"
    bodies = dict(stored)
    for title, description in sent.acknowledged.items():
        assert title in bodies, f"seed {seed}: acknowledged {title} was lost"
        assert bodies[title].strip() == description.strip(), f"seed {seed}: {title} is not whole"


def _stored_reports(server: LiveServer) -> list[tuple[str, str]]:
    """Every report's title and description, read back through the API with an admin's token."""
    token = server.cli("token", "create", server.admin_email).stdout.strip().splitlines()[-1]
    rows = _api_get(server, "/api/v1/reports?project=llm-d&limit=200", token)
    assert isinstance(rows, list)
    stored = []
    for row in rows:
        report = _api_get(server, f"/api/v1/projects/llm-d/reports/{row['number']}", token)
        assert isinstance(report, dict)
        stored.append((str(report["title"]), str(report["fields"]["description"])))
    return stored


def _api_get(server: LiveServer, path: str, token: str) -> Any:
    request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
