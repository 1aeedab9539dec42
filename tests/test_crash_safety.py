"""An acknowledged report survives the server being killed right after it said "received"."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest

from .live import VULNDESK, Browser, LiveServer, _wait_until_up, live_server, post_json, stop

pytestmark = pytest.mark.server


def _kill_and_restart(server: LiveServer) -> None:
    stop(server, signal.SIGKILL)
    import os  # noqa: PLC0415

    os.killpg(server.process.pid, signal.SIGKILL)  # the children too, as a power cut would
    server.process.wait()
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
