"""Several servers, one PostgreSQL: two web nodes and a worker, under concurrent intake, one node
killed mid-run. Every acknowledged report is there once, each scheduled publication happens once,
each mail and each webhook is delivered once (to a real SMTP relay and HTTP receiver on loopback).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import smtplib
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_string
from email.message import EmailMessage
from http.client import HTTPException
from pathlib import Path
from typing import cast

import pytest

from .conftest import EXAMPLES, Relay
from .live import VULNDESK, free_port, server_database
from .test_webhooks import Receiver

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="several servers share one PostgreSQL; SQLite is the one-machine default",
    ),
]

REPORTS_PER_SENDER = 6
SENDERS_PER_CHANNEL = 2
INTAKE = "llm-d-security-reporting@googlegroups.com"

# What the operator would do on the desk, run against the shared database: a second team member,
# a webhook, and two approved advisories scheduled a few seconds ahead.
PREPARE = """
import datetime as dt, json, sys
import django
django.setup()
from django.utils import timezone
from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.advisories.actions import (
    do_approve_draft, do_create_advisory, do_edit_draft, do_schedule_publication,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.notify.actions import do_add_webhook
from vulndesk.projects.models import Project

project = Project.objects.get(slug="llm-d")
admin = User.objects.get(email=sys.argv[1])
author = do_create_user("author@llm-d.test", role=Role.TEAM, project=project, acting_user=None)
do_add_webhook(project, sys.argv[2], ["advisory.published"], acting_user=admin)
at = timezone.now() + dt.timedelta(seconds=float(sys.argv[3]))
ids = []
for n in range(2):
    advisory = do_create_advisory(project, acting_user=author)
    content = AdvisoryContent(
        title=f"Scheduled {n}", summary="S", affected=[{"package": "pkg:pypi/llm-d", "affected": "<1.0"}]
    )
    do_edit_draft(advisory, content, acting_user=author)
    do_approve_draft(advisory, acting_user=admin)
    do_schedule_publication(advisory, at, acting_user=admin)
    ids.append(advisory.identifier)
print(json.dumps(ids))
"""

# What is in the database afterwards: the test's reports by title, and each advisory's publications.
INSPECT = """
import json, sys
import django
django.setup()
from vulndesk.advisories.models import Advisory
from vulndesk.audit.models import AuditEvent
from vulndesk.intake.models import Report

titles = [r.title for r in Report.objects.filter(project__slug="llm-d")]
advisories = {
    a.identifier: {
        "state": a.state,
        "published": AuditEvent.objects.filter(
            action="advisory.published", target_type="advisories.advisory", target_id=str(a.pk)
        ).count(),
    }
    for a in Advisory.objects.filter(identifier__in=sys.argv[1:])
}
print(json.dumps({"titles": [t for t in titles if t.startswith("multi-node")], "advisories": advisories}))
"""


@dataclass
class Node:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Cluster:
    env: dict[str, str]
    tmp_path: Path
    nodes: dict[str, Node] = field(default_factory=dict)

    def start(self, name: str, *args: str, url: str = "") -> Node:
        log_path = self.tmp_path / f"{name}.log"
        env = {**self.env, "VULNDESK_DATA_DIR": str(self.tmp_path / f"{name}-data")}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [VULNDESK, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        node = Node(name, process, log_path, url)
        self.nodes[name] = node
        return node

    def run(self, script: str, *args: str) -> dict[str, object] | list[str]:
        env = {**self.env, "VULNDESK_DATA_DIR": str(self.tmp_path / "operator-data")}
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result: dict[str, object] | list[str] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def logs(self) -> str:
        return "\n".join(f"--- {n.name}\n{n.logs()[-2500:]}" for n in self.nodes.values())

    def stop_all(self) -> None:
        for node in self.nodes.values():
            if node.process.poll() is None:
                node.process.send_signal(signal.SIGINT)
        for node in self.nodes.values():
            try:
                node.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait()


def _shared_environment(database_url: str, relay: Relay, base_url: str) -> dict[str, str]:
    """What every node shares: the database, the secrets, the public address, the outgoing relay."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "vulndesk.settings",
        "VULNDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "VULNDESK_ENCRYPTION_KEYS": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "VULNDESK_BASE_URL": base_url,
        "VULNDESK_SSL_REDIRECT": "0",
        "VULNDESK_SMTP_HOST": "127.0.0.1",
        "VULNDESK_SMTP_PORT": str(relay.port),
        "VULNDESK_SMTP_STARTTLS": "0",
        # Every client here is 127.0.0.1: the per-address limit would count them all as one.
        "VULNDESK_INTAKE_PER_ADDRESS_PER_HOUR": "1000",
        # The receiver is on loopback, which webhooks refuse unless the operator allows it.
        "VULNDESK_WEBHOOKS_ALLOW_LOOPBACK_HTTP": "1",
        "VULNDESK_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("VULNDESK_TEST_DATABASE_URL", None)
    return env


@contextlib.contextmanager
def _cluster(tmp_path: Path, relay: Relay) -> Iterator[tuple[Cluster, str, str, int]]:
    """Node A (web and SMTP intake), node B (web only), one worker; all on one new database."""
    port_a, port_b, smtp_port = free_port(), free_port(), free_port()
    with server_database() as database_url:
        assert database_url
        env = _shared_environment(database_url, relay, f"http://127.0.0.1:{port_a}")
        cluster = Cluster(env, tmp_path)
        setup = subprocess.run(
            [VULNDESK, "setup", "--examples", str(EXAMPLES)],
            env={**env, "VULNDESK_DATA_DIR": str(tmp_path / "operator-data")},
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        admin = setup.stdout.split("Created administrator ")[1].split()[0]
        web = ("serve", "--no-worker", "--web-workers", "1")
        a = cluster.start("node-a", *web, "--port", str(port_a), "--smtp-port", str(smtp_port))
        b = cluster.start("node-b", *web, "--no-smtp", "--port", str(port_b))
        a.url, b.url = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        cluster.start("worker", "worker", "--interval", "0.2")
        try:
            _wait_until_up(cluster, [a.url, b.url], smtp_port)
            yield cluster, admin, a.url, smtp_port
        finally:
            cluster.stop_all()


def _wait_until_up(cluster: Cluster, urls: list[str], smtp_port: int) -> None:
    deadline = time.monotonic() + 90
    pending = [*urls, "smtp"]
    while pending:
        assert time.monotonic() < deadline, f"the nodes did not come up:\n{cluster.logs()}"
        for node in cluster.nodes.values():
            assert node.process.poll() is None, f"{node.name} exited early:\n{cluster.logs()}"
        with contextlib.suppress(OSError, HTTPException):
            target = pending[0]
            if target == "smtp":
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=2):
                    pending.pop(0)
            else:
                with urllib.request.urlopen(target + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        pending.pop(0)
            continue
        time.sleep(0.2)


def _post_report(url: str, title: str, reporter: str) -> int:
    """One report to a web node's API; its HTTP status, or raises when no answer came."""
    payload = {"title": title, "description": "d", "reporter_email": reporter}
    request = urllib.request.Request(
        url + "/api/v1/projects/llm-d/reports",
        data=json.dumps(payload).encode(),
        # The key makes a retry on the other node find the report a dead node may have stored.
        headers={"Content-Type": "application/json", "Idempotency-Key": title},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def _mail_report(smtp_port: int, title: str, reporter: str) -> int:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = reporter, INTAKE, title
    message["Message-ID"] = f"<{title}@researcher.test>"
    message.set_content("d\n")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
        client.ehlo()
        client.mail(reporter)
        client.rcpt(INTAKE)
        code, _ = client.data(message.as_bytes())
    return int(code)


@dataclass
class Intake:
    """Reports sent and acknowledged, by title; the moment node B is killed."""

    acknowledged: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    b_acknowledged: int = 0
    sent_again: int = 0

    def record(self, title: str, reporter: str, *, on_b: bool = False, again: bool = False) -> None:
        with self.lock:
            self.acknowledged[title] = reporter
            self.b_acknowledged += on_b
            self.sent_again += again


def _web_sender(intake: Intake, url: str, fallback: str, channel: str, n: int) -> Callable[[], None]:
    def send() -> None:
        for k in range(REPORTS_PER_SENDER):
            title, reporter = f"multi-node {channel} {n}-{k}", f"{channel}-{n}-{k}@researcher.test"
            try:
                status = _post_report(url, title, reporter)
                intake.record(title, reporter, on_b=channel == "b")
            except (OSError, HTTPException):
                # The node died with the request in flight: the client sends again, to the other one.
                status = _post_report(fallback, title, reporter)
                intake.record(title, reporter, again=True)
            assert status in {200, 201}, (title, status)

    return send


def _smtp_sender(intake: Intake, smtp_port: int, n: int) -> Callable[[], None]:
    def send() -> None:
        for k in range(REPORTS_PER_SENDER):
            title, reporter = f"multi-node mail {n}-{k}", f"mail-{n}-{k}@researcher.test"
            assert _mail_report(smtp_port, title, reporter) == 250, title
            intake.record(title, reporter)

    return send


def _kill_when_half_done(cluster: Cluster, intake: Intake) -> None:
    deadline = time.monotonic() + 60
    while intake.b_acknowledged < REPORTS_PER_SENDER * SENDERS_PER_CHANNEL // 2:
        assert time.monotonic() < deadline, f"node B never got halfway:\n{cluster.logs()}"
        time.sleep(0.02)
    os.killpg(cluster.nodes["node-b"].process.pid, signal.SIGKILL)


def _acknowledgements(relay: Relay) -> Counter[str]:
    with relay.lock:
        texts = list(relay.received)
    messages = [message_from_string(text) for text in texts]
    return Counter(str(m["To"]) for m in messages if "We received your security report" in str(m["Subject"]))


def _wait_for(condition: Callable[[], bool], what: str, cluster: Cluster, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{cluster.logs()}"
        time.sleep(0.25)


def test_two_web_nodes_and_a_worker_on_one_database_lose_and_double_nothing(tmp_path: Path) -> None:
    relay, receiver = Relay(free_port()), Receiver()
    relay.start()
    receiver.start()
    try:
        with _cluster(tmp_path, relay) as (cluster, admin, url_a, smtp_port):
            url_b = cluster.nodes["node-b"].url
            advisories = [str(identifier) for identifier in cluster.run(PREPARE, admin, receiver.url, "6")]
            intake = Intake()
            senders = [
                *(_web_sender(intake, url_a, url_a, "a", n) for n in range(SENDERS_PER_CHANNEL)),
                *(_web_sender(intake, url_b, url_a, "b", n) for n in range(SENDERS_PER_CHANNEL)),
                *(_smtp_sender(intake, smtp_port, n) for n in range(SENDERS_PER_CHANNEL)),
            ]
            with ThreadPoolExecutor(max_workers=len(senders) + 1) as pool:
                futures = [pool.submit(send) for send in senders]
                futures.append(pool.submit(_kill_when_half_done, cluster, intake))
                for future in futures:
                    future.result()
            assert cluster.nodes["node-b"].process.wait(timeout=10) == -signal.SIGKILL

            sent = len(senders) * REPORTS_PER_SENDER
            assert len(intake.acknowledged) == sent
            assert intake.sent_again > 0, "node B was killed only after its clients were done"
            _wait_for(lambda: sum(_acknowledgements(relay).values()) >= sent, "the acknowledgements", cluster)
            _wait_for(lambda: len(receiver.received) >= len(advisories), "the webhooks", cluster)
            time.sleep(2)  # room for a copy sent twice to show up
            stored = cluster.run(INSPECT, *advisories)
    finally:
        relay.stop()
        receiver.stop()

    assert isinstance(stored, dict)
    titles = cast("list[str]", stored["titles"])
    assert Counter(titles) == Counter(list(intake.acknowledged)), "a report is missing or doubled"
    # One acknowledgement per report, to its reporter: none lost with node B, none sent twice.
    assert _acknowledgements(relay) == Counter(intake.acknowledged.values())
    message_ids = relay.message_ids()
    assert len(message_ids) == len(set(message_ids)), "a mail was delivered twice"
    assert stored["advisories"] == {
        identifier: {"state": "published", "published": 1} for identifier in advisories
    }
    deliveries = [str(hit["delivery"]) for hit in receiver.received]
    assert len(deliveries) == len(set(deliveries)) == len(advisories), "a webhook delivered twice"
    announced = sorted(json.loads(cast("bytes", hit["body"]))["advisory"]["id"] for hit in receiver.received)
    assert announced == sorted(advisories)
