"""The real `vulndesk serve` process tree, started for a test on free loopback ports.

Each server gets its own data directory, and on PostgreSQL its own database, so it never shares
state with the test database or with another server.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import totp
from .conftest import EXAMPLES

VULNDESK = str(Path(sys.executable).parent / "vulndesk")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    smtp_port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    admin_email: str
    admin_password: str
    log_path: Path
    smtp_enabled: bool = True

    def get(self, path: str, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, dict(exc.headers), exc.read()

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VULNDESK, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def server_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database when the suite runs on PostgreSQL; None means SQLite."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield None
        return
    import psycopg  # noqa: PLC0415 - only on PostgreSQL runs

    name = f"vulndesk_live_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def live_server(tmp_path: Path, *extra_args: str, base_url: str | None = None) -> Iterator[LiveServer]:
    port, smtp_port = free_port(), free_port()
    with server_database() as database_url:
        env = {
            **os.environ,
            "VULNDESK_DATA_DIR": str(tmp_path / "server-data"),
            "VULNDESK_BASE_URL": base_url or f"http://127.0.0.1:{port}",
            # A test that names a public https base URL still talks plain HTTP on loopback.
            "VULNDESK_SSL_REDIRECT": "0",
            "PYTHONUNBUFFERED": "1",
        }
        # The server reads the real settings from its own environment, not the suite's.
        for name in (
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "VULNDESK_SECRET_KEY",
            "VULNDESK_ENCRYPTION_KEYS",
        ):
            env.pop(name, None)
        if database_url:
            env["DATABASE_URL"] = database_url
        setup = subprocess.run(
            [VULNDESK, "setup", "--examples", str(EXAMPLES)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        match = re.search(r"Created administrator (\S+) with password: (\S+)", setup.stdout)
        assert match, setup.stdout + setup.stderr
        log_path = tmp_path / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [VULNDESK, "serve", "--port", str(port), "--smtp-port", str(smtp_port), *extra_args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = LiveServer(
            url=f"http://127.0.0.1:{port}",
            smtp_port=smtp_port,
            env=env,
            process=process,
            admin_email=match.group(1),
            admin_password=match.group(2),
            log_path=log_path,
            smtp_enabled="--no-smtp" not in extra_args,
        )
        try:
            _wait_until_up(server)
            yield server
        finally:
            stop(server)


def _wait_until_up(server: LiveServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"vulndesk serve exited early:\n{server.logs()}")
        with contextlib.suppress(OSError):
            if server.get("/healthz", timeout=2)[0] == 200 and _smtp_ready(server):
                return
        time.sleep(0.2)
    raise AssertionError(f"vulndesk serve did not come up:\n{server.logs()}")


def _smtp_ready(server: LiveServer) -> bool:
    if not server.smtp_enabled:
        return True
    with socket.create_connection(("127.0.0.1", server.smtp_port), timeout=2):
        return True


def stop(server: LiveServer, sig: int = signal.SIGINT) -> int:
    if server.process.poll() is None:
        server.process.send_signal(sig)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    return server.process.returncode


class Browser:
    """A cookie-keeping HTTP client for the live server: enough to fill in forms like a person."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.server.url + path))

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        """POST ``fields`` to ``path`` with the CSRF token of the page at ``path``."""
        return self.post_to(path, path, fields)

    def post_to(self, action: str, page_path: str, fields: dict[str, str]) -> tuple[int, str]:
        """POST ``fields`` to ``action``, a form's target, with the CSRF token of the page showing it."""
        path = page_path
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, f"no CSRF token on {path}"
        data = {"csrfmiddlewaretoken": token.group(1), **fields}
        form_token = re.search(r'name="form_token" value="([^"]+)"', page)
        if form_token and "form_token" not in fields:
            data["form_token"] = form_token.group(1)
        request = urllib.request.Request(
            self.server.url + action,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.server.url + page_path},
        )
        return self._open(request)

    def sign_in(self, email: str, password: str) -> None:
        """Password, then the authenticator: set up on a first sign-in, a code afterwards."""
        status, _ = self.post_form("/accounts/login/", {"username": email, "password": password})
        assert status == 302, "sign-in failed"
        status, page = self.get("/accounts/login/setup/")
        step = "/accounts/login/code/"
        if status == 200:
            totp.remember_from_page(email, page)
            step = "/accounts/login/setup/"
        status, _ = self.post_form(step, {"code": totp.code_for(email)})
        assert status in (200, 302), "the second factor was refused"

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode(errors="replace")


def add_team_member(server: LiveServer, email: str, project: str, password: str) -> None:
    """A member of ``project``'s security team, created with the operator's command."""
    created = server.cli(
        "user", "create", email, "--role", "team", "--project", project, "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr


def signed_in_member(server: LiveServer, email: str, project: str, password: str) -> Browser:
    """A new member of ``project``'s team, signed in with the second factor in a form client."""
    add_team_member(server, email, project, password)
    member = Browser(server)
    member.sign_in(email, password)
    return member


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def mails(server: LiveServer) -> list[EmailMessage]:
    """The mail the server wrote to its folder (one raw RFC 5322 message a file), oldest first."""
    folder = Path(server.env["VULNDESK_DATA_DIR"]) / "mail"
    found = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime):
        raw = path.read_bytes().split(b"\n" + b"-" * 79)[0]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def wait_for_link(server: LiveServer, to: str, path: str, *, seen: int = 0) -> str:
    """The link to ``path`` in the newest mail to ``to``, once more than ``seen`` such mails arrived."""
    pattern = re.compile(re.escape(server.url) + re.escape(path) + r"[A-Za-z0-9_-]+/")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        links = [
            link
            for message in mails(server)
            if to in str(message["To"])
            for link in pattern.findall(text_of(message))
        ]
        if len(links) > seen:
            return str(links[-1])
        time.sleep(0.3)
    raise AssertionError(f"no mail to {to} with a link to {path}")


def post_json(
    server: LiveServer, path: str, payload: dict[str, object], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"{}")
