"""A report's contents stay where they belong: with the reporter and the team.

One marker string is sent through each intake channel of a real `vulndesk serve`; the team finds
it in the app, and it is absent from the database's storage, the server's logs, and every mail.
No secret of the run (keys, the password, tokens, the authenticator's secret) reaches the logs.
"""

from __future__ import annotations

import re
import smtplib
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from . import totp
from .live import Browser, LiveServer, live_server, post_json, stop

pytestmark = pytest.mark.server


def _send_all_channels(server: LiveServer, marker: str) -> str:
    """The marker through the API, the web form and SMTP; the API report's tracking token."""
    status, receipt = post_json(
        server,
        "/api/v1/projects/llm-d/reports",
        {
            "title": f"API {marker}",
            "description": f"api body {marker}",
            "reporter_email": "api@researcher.test",
        },
    )
    assert status == 201
    status, page = Browser(server).post_form(
        "/p/llm-d/report/",
        {
            "title": f"Web {marker}",
            "description": f"web body {marker}",
            "credit": "anonymous",
            "reporter_email": "web@researcher.test",
        },
    )
    assert status == 200, page
    mail = EmailMessage()
    mail["From"] = "Mail Reporter <mail@researcher.test>"
    mail["To"] = "llm-d-security-reporting@googlegroups.com"
    mail["Subject"] = f"Mail {marker}"
    mail.set_content(f"mail body {marker}")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
        client.send_message(mail)
    return str(receipt["tracking_url"]).rstrip("/").rsplit("/", 1)[-1]


def _database_bytes(server: LiveServer) -> bytes:
    if server.env.get("DATABASE_URL"):
        import psycopg  # noqa: PLC0415

        with psycopg.connect(server.env["DATABASE_URL"]) as conn:
            tables = [
                row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ]
            dump = [str(row) for table in tables for row in conn.execute(f'SELECT t::text FROM "{table}" t')]  # noqa: S608
        return "\n".join(dump).encode()
    data_dir = Path(server.env["VULNDESK_DATA_DIR"])
    return b"".join(_bytes_if_present(path) for path in data_dir.glob("vulndesk.sqlite3*"))


def _bytes_if_present(path: Path) -> bytes:
    """SQLite removes its -wal and -shm files when the last connection closes: one may go between
    the listing and the read, and then it holds nothing to check."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _wait_for_mail(mail_dir: Path, count: int, logs: Callable[[], str]) -> list[Path]:
    import time  # noqa: PLC0415

    # Generous: on a loaded two-core machine the worker can lag well behind the web process.
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        files = sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []
        if len(files) >= count:
            return files
        time.sleep(0.3)
    raise AssertionError(f"the worker delivered {len(files)} mails, expected {count}:\n{logs()[-4000:]}")


def api_token_works(server: LiveServer, token: str) -> bool:
    import urllib.request  # noqa: PLC0415

    request = urllib.request.Request(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bool(response.status == 200)


def test_a_marker_is_found_by_the_team_and_nowhere_else(tmp_path: Path) -> None:
    marker = f"MARKER-{uuid.uuid4().hex}"
    with live_server(tmp_path) as server:
        tracking_token = _send_all_channels(server, marker)
        team = Browser(server)
        team.sign_in(server.admin_email, server.admin_password)
        api_token = server.cli("token", "create", server.admin_email, "--name", "ci").stdout.split()[-1]
        assert api_token_works(server, api_token)
        _, queue = team.get("/desk/reports/")
        assert queue.count(marker) == 3
        # The example cases come first; find the reports this test sent among the queue's links.
        pages = [team.get(path)[1] for path in set(re.findall(r'href="(/desk/p/llm-d/reports/\d+/)"', queue))]
        assert any(f"body {marker}" in page for page in pages)
        mails = _wait_for_mail(Path(server.env["VULNDESK_DATA_DIR"]) / "mail", 3, server.logs)
        stored = _database_bytes(server)
        assert stop(server) == 0
    assert marker.encode() not in stored
    assert marker not in server.logs()
    # No secret of the run reached the logs either: not the keys, not a password, not a token.
    data_dir = Path(server.env["VULNDESK_DATA_DIR"])
    secrets = {
        "admin password": server.admin_password,
        "API token": api_token,
        "tracking token": tracking_token,
        "authenticator secret": totp.secret_of(server.admin_email),
        "secret key": (data_dir / "secret_key").read_text().strip(),
        "encryption key": (data_dir / "encryption_key").read_text().strip(),
        "audit checkpoint key": (data_dir / "audit_checkpoint_key").read_text().strip(),
    }
    logs = server.logs()
    for name, value in secrets.items():
        assert len(value) >= 16, name
        assert value not in logs, f"the {name} is in the logs"
    for mail in mails:
        assert marker not in mail.read_text(errors="replace"), mail.name
