"""A report's contents stay where they belong: with the reporter and the team.

One marker string is sent through each intake channel of a real `vulndesk serve`; the team finds
it in the app, and it is absent from the database's storage, the server's logs, and every mail.
No secret of the run (keys, passwords, tokens, the authenticator's secret, a webhook's signing
secret, a distributor's password, an OpenPGP key's passphrase) reaches the logs, and none of the
passwords and secrets is stored in clear.
"""

from __future__ import annotations

import re
import smtplib
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path

import gnupg
import pytest

from vulndesk.openpgp.keys import GPGCONF_BINARY

from . import totp
from .live import Browser, LiveServer, live_server, post_json, stop
from .test_distributors import ATM, _read
from .test_openpgp import Correspondent, _new_key

pytestmark = pytest.mark.server


def _send_all_channels(server: LiveServer, marker: str) -> str:
    """The marker through the API, the web form and SMTP; the API report's tracking token."""
    status, receipt = post_json(
        server,
        "/api/v1/projects/llm-d/reports",
        {
            "title": f"API {marker}",
            "description": f"api body {marker} in {_function_of(marker)}()",
            "reporter_email": "api@researcher.test",
        },
    )
    assert status == 201
    status, page = Browser(server).post_form(
        "/p/llm-d/report/",
        {
            "title": f"Web {marker}",
            "description": f"web body {marker} in {_function_of(marker)}()",
            "credit": "anonymous",
            "reporter_email": "web@researcher.test",
        },
    )
    assert status == 200, page
    mail = EmailMessage()
    mail["From"] = "Mail Reporter <mail@researcher.test>"
    mail["To"] = "llm-d-security-reporting@googlegroups.com"
    mail["Subject"] = f"Mail {marker}"
    mail.set_content(f"mail body {marker} in {_function_of(marker)}()")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
        client.send_message(mail)
    return str(receipt["tracking_url"]).rstrip("/").rsplit("/", 1)[-1]


def _function_of(marker: str) -> str:
    """A function name made of the marker: duplicate ranking keeps it as a technical mark."""
    return "parse_" + marker.rsplit("-", 1)[-1]


def _wait_for_duplicate_suggestions(team: Browser, paths: list[str], logs: Callable[[], str]) -> None:
    """The worker ranks each new report; the three marker reports resemble each other."""
    import time  # noqa: PLC0415

    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        if any("Possible duplicates" in team.get(path)[1] for path in paths):
            return
        time.sleep(0.5)
    raise AssertionError(f"no duplicate suggestions were stored:\n{logs()[-4000:]}")


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


MEMBER = "dana@distro-d.test"


def _distributor_password(server: LiveServer, team: Browser, password: str) -> None:
    """Distro D applies, the team approves, its member opens the encrypted invitation, sets the
    password and signs in with it."""
    with tempfile.TemporaryDirectory(prefix="distributor-gnupg-") as home:
        gpg = gnupg.GPG(gnupghome=home, options=["--pinentry-mode", "loopback"])
        member_key = Correspondent(gpg, _new_key(gpg, "Dana Distro", MEMBER))
        applicant = Browser(server)
        _, form = applicant.get(f"/p/{ATM}/distributors/apply/")
        criteria = dict.fromkeys(
            re.findall(r'name="(criterion-\d+)"', form), "We meet it: see our advisories"
        )
        status, _ = applicant.post_form(
            f"/p/{ATM}/distributors/apply/",
            {
                "organisation": "Distro D",
                "website": "https://distro-d.test",
                "name": "Distro D security",
                "email": MEMBER,
                "public_key": member_key.public_key(),
                "accept": "yes",
                **criteria,
            },
        )
        assert status == 201, "the application was not taken"
        _, desk = team.get(f"/desk/p/{ATM}/distributors/")
        found = re.search(rf"/desk/p/{ATM}/distributors/(\d+)/", desk)
        assert found, "the application is on the desk"
        status, _ = team.post_to(found.group(0), f"/desk/p/{ATM}/distributors/", {"action": "approve"})
        assert status == 302
        invitation = _wait_for_mail_to(Path(server.env["VULNDESK_DATA_DIR"]) / "mail", MEMBER, server.logs)
        link = re.search(r"/distributor/welcome/[^\s]+/", _read(invitation, member_key))
        assert link, "the invitation carries a link"
        member = Browser(server)
        status, _ = member.post_form(link.group(0), {"new_password1": password, "new_password2": password})
        assert status == 302, "the password was not set"
        member.sign_in(MEMBER, password)
        subprocess.run([GPGCONF_BINARY, "--homedir", home, "--kill", "all"], check=False)


def _wait_for_mail_to(mail_dir: Path, address: str, logs: Callable[[], str]) -> EmailMessage:
    import time  # noqa: PLC0415

    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        for path in mail_dir.glob("*.log"):
            message = message_from_string(path.read_text(errors="replace"), policy=policy.default)
            if isinstance(message, EmailMessage) and message["To"] == address:
                return message
        time.sleep(0.3)
    raise AssertionError(f"no mail to {address}:\n{logs()[-4000:]}")


def _webhook_secret(team: Browser) -> str:
    """An administrator adds a webhook; its signing secret is shown once."""
    status, page = team.post_form(
        "/desk/p/llm-d/webhooks/",
        {"action": "add", "url": "http://127.0.0.1:9/hook", "events": "advisory.published"},
    )
    assert status == 200, page[-2000:]
    secret = re.search(r"shown once:</strong> <code>([^<]+)</code>", page)
    assert secret, "the secret is shown once"
    return secret.group(1)


def _refused_key_passphrase(server: LiveServer, tmp_path: Path, passphrase: str) -> str:
    """The operator imports the team's secret key still protected by its passphrase: refused, with
    the way to remove it. The key's armored secret, to check it is nowhere in clear either."""
    with tempfile.TemporaryDirectory(prefix="team-gnupg-") as home:
        gpg = gnupg.GPG(gnupghome=home, options=["--pinentry-mode", "loopback"])
        batch = (
            "Key-Type: EDDSA\nKey-Curve: ed25519\nSubkey-Type: ECDH\nSubkey-Curve: cv25519\n"
            "Name-Real: llm-d security\nName-Email: security@llm-d.test\nExpire-Date: 0\n"
            f"Passphrase: {passphrase}\n%commit\n"
        )
        fingerprint = str(gpg.gen_key(batch).fingerprint)
        armored = str(gpg.export_keys(fingerprint, secret=True, passphrase=passphrase))
        subprocess.run([GPGCONF_BINARY, "--homedir", home, "--kill", "all"], check=False)
    assert "PRIVATE KEY BLOCK" in armored
    key_file = tmp_path / "team-key.asc"
    key_file.write_text(armored)
    refused = server.cli("key", "import", "llm-d", str(key_file))
    assert refused.returncode != 0
    assert "does not decrypt without a passphrase" in refused.stderr
    assert passphrase not in refused.stdout + refused.stderr
    # The middle of the armored secret: a line of key material, not the shared armor header.
    return armored.splitlines()[len(armored.splitlines()) // 2]


def test_a_marker_is_found_by_the_team_and_nowhere_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = f"MARKER-{uuid.uuid4().hex}"
    distributor_password = f"distributor-{uuid.uuid4().hex}"
    key_passphrase = f"passphrase-{uuid.uuid4().hex}"
    # The webhook's receiver is on loopback, which only an operator's setting allows.
    monkeypatch.setenv("VULNDESK_WEBHOOKS_ALLOW_LOOPBACK_HTTP", "1")
    monkeypatch.setenv("VULNDESK_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    with live_server(tmp_path) as server:
        tracking_token = _send_all_channels(server, marker)
        team = Browser(server)
        team.sign_in(server.admin_email, server.admin_password)
        api_token = server.cli("token", "create", server.admin_email, "--name", "ci").stdout.split()[-1]
        assert api_token_works(server, api_token)
        webhook_secret = _webhook_secret(team)
        _distributor_password(server, team, distributor_password)
        team_key_line = _refused_key_passphrase(server, tmp_path, key_passphrase)
        _, queue = team.get("/desk/reports/")
        assert queue.count(marker) == 3
        # The example cases come first; find the reports this test sent among the queue's links.
        paths = sorted(set(re.findall(r'href="(/desk/p/llm-d/reports/\d+/)"', queue)))
        pages = [team.get(path)[1] for path in paths]
        assert any(f"body {marker}" in page for page in pages)
        marker_paths = [path for path, page in zip(paths, pages, strict=True) if f"body {marker}" in page]
        _wait_for_duplicate_suggestions(team, marker_paths, server.logs)
        mails = _wait_for_mail(Path(server.env["VULNDESK_DATA_DIR"]) / "mail", 3, server.logs)
        stored = _database_bytes(server)
        assert stop(server) == 0
    assert marker.encode() not in stored
    assert marker not in server.logs()
    # Nor any word of it: the search index hashes words, duplicate ranking seals its terms, marks
    # and reasons. A plaintext term or function name of a report would show up here.
    for token in (marker.rsplit("-", 1)[-1], _function_of(marker)):
        assert token.encode() not in stored, f"{token} is in the database in clear"
        assert token not in server.logs()
    # Passwords and webhook secrets are stored hashed or sealed, never as they were typed or made.
    for name, value in {
        "admin password": server.admin_password,
        "distributor password": distributor_password,
        "webhook secret": webhook_secret,
        "OpenPGP passphrase": key_passphrase,
        "team's secret key": team_key_line,
    }.items():
        assert value.encode() not in stored, f"the {name} is in the database in clear"
    # No secret of the run reached the logs either: not the keys, not a password, not a token.
    data_dir = Path(server.env["VULNDESK_DATA_DIR"])
    secrets = {
        "admin password": server.admin_password,
        "API token": api_token,
        "tracking token": tracking_token,
        "authenticator secret": totp.secret_of(server.admin_email),
        "secret key": (data_dir / "secret_key").read_text().strip(),
        "encryption key": (data_dir / "encryption_key").read_text().strip(),
        "distributor password": distributor_password,
        "webhook secret": webhook_secret,
        "OpenPGP passphrase": key_passphrase,
        "team's secret key": team_key_line,
        "audit checkpoint key": (data_dir / "audit_checkpoint_key").read_text().strip(),
    }
    logs = server.logs()
    for name, value in secrets.items():
        assert len(value) >= 16, name
        assert value not in logs, f"the {name} is in the logs"
    for mail in mails:
        assert marker not in mail.read_text(errors="replace"), mail.name
