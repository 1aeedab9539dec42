"""Shared test set-up and the cast of personas every test speaks about.

- ``admin``: the instance administrator;
- ``alice``: on the security team of project A (llm-d);
- ``bob``: on the security team of project B (LLM Agentic Tool Mesh);
- ``outsider``: signed in, on no team;
- anonymous visitors use the plain ``client``.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings

from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.accounts.views import SECOND_FACTOR_AT
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.submission import Submission
from vulndesk.projects.actions import do_import_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import Policy, parse_policy_toml

from . import totp

# The browser fixtures (Chromium, the module's live server, a signed-in desk page) for every test file.
pytest_plugins = ["tests.browser"]

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "policies"
PASSWORD = "correct horse battery staple"


def example_policy(slug: str) -> Policy:
    return parse_policy_toml((EXAMPLES / f"{slug}.toml").read_text(encoding="utf-8"))


_head_triggers = importlib.import_module("vulndesk.audit.migrations.0004_h16a_head_triggers")


@pytest.fixture(autouse=True)
def _audit_log_reset_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A transactional test ends with a flush of every table; the audit log's triggers allow that
    only once its chain head is gone (vulndesk/audit/migrations/0002_append_only_triggers.py), and
    the head's own triggers (0004) refuse that to anyone who does not drop them first, as here.
    PostgreSQL flushes with TRUNCATE, which fires no row trigger."""
    if "transactional_db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so its flush runs after this teardown
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in [*_head_triggers.SQLITE_DROP, "DELETE FROM audit_auditchainhead"]:
                cursor.execute(statement)
            for statement in _head_triggers.SQLITE_CREATE:
                cursor.execute(statement)


@pytest.fixture
def project_a(db: None) -> Project:
    return do_import_policy(example_policy("llm-d"), acting_user=None)


@pytest.fixture
def project_b(db: None) -> Project:
    return do_import_policy(example_policy("agentic-tool-mesh"), acting_user=None)


@pytest.fixture
def admin(db: None) -> User:
    return do_create_user("admin@vulndesk.test", role=Role.ADMIN, password=PASSWORD, acting_user=None)


@pytest.fixture
def alice(project_a: Project) -> User:
    return do_create_user(
        "alice@llm-d.test", role=Role.TEAM, project=project_a, password=PASSWORD, acting_user=None
    )


@pytest.fixture
def bob(project_b: Project) -> User:
    return do_create_user(
        "bob@atm.test", role=Role.TEAM, project=project_b, password=PASSWORD, acting_user=None
    )


@pytest.fixture
def outsider(db: None) -> User:
    return User.objects.create_user("outsider@elsewhere.test", PASSWORD)


def a_report(project: Project, title: str = "A report", description: str = "Details.") -> Report:
    """A report received over the API, as a reporter without an account sends it."""
    required = {f.name.value: "Details." for f in project.policy.reporter_guidance.fields if f.required}
    required.pop("description", None)
    submission = Submission(
        title=title, description=description, reporter_email="rita@researcher.test", fields=required
    )
    return do_receive_report(project, submission, channel=Channel.API, acting_user=None).report


def signed_in(user: User) -> Client:
    """A client signed in as ``user`` with a second factor just now (as after the real sign-in)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[SECOND_FACTOR_AT] = int(time.time())
    session.save()
    return client


def sign_in_for_real(client: Client, email: str, password: str) -> None:
    """The whole sign-in: password, then the authenticator (set up on a first sign-in)."""
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    if response["Location"].endswith("/setup/"):
        totp.remember_from_page(email, client.get(response["Location"]).content.decode())
    response = client.post(response["Location"], {"code": totp.code_for(email)})
    assert response.status_code in (200, 302), response.content.decode()[:2000]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


class _SessionsController(Controller):
    """aiosmtpd's controller, keeping each connection's protocol so that a stop can close them."""

    def __init__(self, handler: object, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.sessions: list[SMTP] = []

    def factory(self) -> SMTP:
        session: SMTP = super().factory()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it untyped
        self.sessions.append(session)
        return session

    def drop_connections(self) -> None:
        """Close every open connection in the relay's own loop, as a relay going down does. The
        controller's stop cancels the sessions' tasks but leaves their sockets to the garbage
        collector, whose ResourceWarning then fails whichever test is running."""
        closed = threading.Event()

        def close_all() -> None:
            for session in self.sessions:
                if session.transport is not None:
                    session.transport.close()
            closed.set()

        self.loop.call_soon_threadsafe(close_all)
        closed.wait(5)


class Relay:
    """A real SMTP relay on loopback that records what it accepts; it can be stopped and started."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.controller: _SessionsController | None = None

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        with self.lock:
            self.received.append(
                envelope.content.decode(errors="replace") if isinstance(envelope.content, bytes) else ""
            )
        return "250 OK"

    def start(self) -> None:
        self.controller = _SessionsController(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.drop_connections()
            self.controller.stop()
            self.controller = None

    def message_ids(self) -> list[str]:
        with self.lock:
            return [
                line.split(":", 1)[1].strip()
                for text in self.received
                for line in text.splitlines()
                if line.lower().startswith("message-id:")
            ]


@pytest.fixture
def relay(settings: Settings) -> Iterator[Relay]:
    from .live import free_port  # noqa: PLC0415  # live.py imports this module

    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_TIMEOUT = 5
    running = Relay(port)
    yield running
    running.stop()
