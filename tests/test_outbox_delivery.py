"""Outgoing mail survives a relay outage: retried with backoff, delivered exactly once."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email import message_from_string
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from vulndesk.notify.delivery import MAX_ATTEMPTS
from vulndesk.notify.models import OutboundEmail, OutboundStatus
from vulndesk.notify.tasks import deliver
from vulndesk.projects.models import Project
from vulndesk.worker import recover_abandoned_tasks

from .conftest import Relay
from .live import LiveServer, free_port, live_server, post_json, stop


def _burst(client: Client, count: int) -> list[OutboundEmail]:
    for n in range(count):
        payload = json.dumps(
            {"title": f"t{n}", "description": "d", "reporter_email": f"r{n}@researcher.test"}
        )
        assert (
            client.post(
                "/api/v1/projects/llm-d/reports", payload, content_type="application/json"
            ).status_code
            == 201
        )
    return list(OutboundEmail.objects.filter(kind="report-received"))


def _deliver_due(later: dt.timedelta) -> None:
    """What the worker does: try every queued mail whose time has come (the clock moved on)."""
    OutboundEmail.objects.filter(status=OutboundStatus.QUEUED).update(next_attempt_at=timezone.now() - later)
    for uid in OutboundEmail.objects.filter(status=OutboundStatus.QUEUED).values_list("uid", flat=True):
        deliver(str(uid))


def test_a_relay_outage_delays_mail_and_loses_or_doubles_none(
    client: Client, project_a: Project, relay: Relay
) -> None:
    outbox = _burst(client, 12)
    for mail in outbox:
        assert deliver(str(mail.uid)) == "deferred"  # the relay is down
    assert OutboundEmail.objects.filter(status=OutboundStatus.QUEUED, attempts=1).count() == 12
    assert all(m.last_error for m in OutboundEmail.objects.all() if m.kind == "report-received")

    relay.start()
    _deliver_due(dt.timedelta(minutes=1))
    _deliver_due(dt.timedelta(minutes=1))  # a second pass finds nothing left to send

    expected = sorted(m.message_id for m in outbox)
    assert sorted(relay.message_ids()) == expected
    assert OutboundEmail.objects.filter(kind="report-received", status=OutboundStatus.SENT).count() == 12


def test_a_mail_that_never_goes_through_is_marked_failed_for_admins(
    client: Client, project_a: Project, relay: Relay
) -> None:
    (mail,) = _burst(client, 1)
    for _ in range(MAX_ATTEMPTS):
        _deliver_due(dt.timedelta(hours=2))
    mail.refresh_from_db()
    assert mail.status == OutboundStatus.FAILED
    assert mail.attempts == MAX_ATTEMPTS
    assert "Connection refused" in mail.last_error or "Errno" in mail.last_error


def test_two_workers_never_send_the_same_mail(client: Client, project_a: Project, relay: Relay) -> None:
    (mail,) = _burst(client, 1)
    relay.start()
    assert deliver(str(mail.uid)) == "sent"
    assert deliver(str(mail.uid)) == "not due"
    assert len(relay.message_ids()) == 1


def test_admins_see_failed_mail_without_its_contents(
    client: Client, project_a: Project, relay: Relay
) -> None:
    from vulndesk.accounts.actions import do_create_user  # noqa: PLC0415
    from vulndesk.accounts.permissions import Role  # noqa: PLC0415

    from .conftest import signed_in  # noqa: PLC0415

    (mail,) = _burst(client, 1)
    for _ in range(MAX_ATTEMPTS):
        _deliver_due(dt.timedelta(hours=2))
    admin = do_create_user("root@x.test", role=Role.ADMIN, acting_user=None)
    page = signed_in(admin).get("/desk/outbox/").content.decode()
    assert mail.message_id.strip("<>") in page
    assert "/t/" not in page


def test_refused_recipients_never_reach_the_log_or_the_outbox(
    client: Client, project_a: Project, relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    import smtplib  # noqa: PLC0415

    from vulndesk.notify.tasks import failure_reason  # noqa: PLC0415

    refused = smtplib.SMTPRecipientsRefused({"rita.secret@researcher.test": (550, b"no such user")})
    assert failure_reason(refused) == "SMTPRecipientsRefused: 1 recipient(s) refused"
    (mail,) = _burst(client, 1)
    deliver(str(mail.uid))
    mail.refresh_from_db()
    assert "researcher.test" not in mail.last_error
    assert "researcher.test" not in caplog.text


def test_mail_stranded_by_a_dead_worker_is_requeued(client: Client, project_a: Project, relay: Relay) -> None:
    from vulndesk.notify.tasks import requeue_stranded  # noqa: PLC0415

    (mail,) = _burst(client, 1)
    OutboundEmail.objects.filter(pk=mail.pk).update(
        status=OutboundStatus.SENDING, next_attempt_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert requeue_stranded() == 1
    relay.start()
    assert deliver(str(mail.uid)) == "sent"
    assert len(relay.message_ids()) == 1


@pytest.mark.server
def test_the_worker_delivers_a_burst_exactly_once_across_a_relay_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real server and its worker; the relay stops in the middle of a burst, then comes back."""
    relay = Relay(free_port())
    monkeypatch.setenv("VULNDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VULNDESK_SMTP_PORT", str(relay.port))
    monkeypatch.setenv("VULNDESK_SMTP_STARTTLS", "0")
    relay.start()
    try:
        with live_server(tmp_path, "--no-smtp") as server:
            before, during = 4, 8
            for n in range(before):
                _report_to(server, n)
            _wait_for(lambda: len(_acknowledgements(relay)) == before, "the mail sent before the outage")
            relay.stop()
            for n in range(before, before + during):  # the relay is down: every attempt fails
                _report_to(server, n)
            time.sleep(3)  # the worker has tried them all by now, and scheduled retries
            relay.start()
            # The first retry comes 30 s after a failure (notify/delivery.backoff).
            _wait_for(lambda: len(_acknowledgements(relay)) >= before + during, "the mail held back", 120)
            time.sleep(3)  # room for a copy sent twice to show up
            assert stop(server) == 0
    finally:
        relay.stop()
    received = _acknowledgements(relay)
    assert sorted(received) == sorted(f"r{n}@researcher.test" for n in range(before + during))
    ids = relay.message_ids()
    assert len(ids) == len(set(ids)), "a message arrived twice"


def _report_to(server: LiveServer, n: int) -> None:
    status, _ = post_json(
        server,
        "/api/v1/projects/llm-d/reports",
        {"title": f"t{n}", "description": "d", "reporter_email": f"r{n}@researcher.test"},
    )
    assert status == 201


def _acknowledgements(relay: Relay) -> list[str]:
    """The reporters the relay delivered an acknowledgement to (one entry per message)."""
    with relay.lock:
        texts = list(relay.received)
    found = []
    for text in texts:
        message = message_from_string(text)
        if "We received your security report" in str(message["Subject"]):
            found.append(str(message["To"]))
    return found


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def test_a_task_left_running_by_a_dead_worker_runs_again_when_the_next_one_starts(
    client: Client, project_a: Project, relay: Relay
) -> None:
    """The worker was killed while it sent this mail: the task says "running" and the mail
    "sending" for ever. The next worker on the host sees that process is gone and sends it at once,
    without waiting for the sweep's safety net; a claim of a live worker is left alone."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    dead_worker = f"{socket.gethostname()[:50]}:{int(dead.stdout)}"
    live_worker = f"{socket.gethostname()[:50]}:{os.getppid()}"
    killed, busy = _burst(client, 2)
    for mail, worker in ((killed, dead_worker), (busy, live_worker)):
        OutboundEmail.objects.filter(pk=mail.pk).update(
            status=OutboundStatus.SENDING, next_attempt_at=timezone.now()
        )
        task = DBTaskResult.objects.get(args_kwargs__args=[str(mail.uid)])
        DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", worker_ids=[worker])

    assert recover_abandoned_tasks() == 1

    assert OutboundEmail.objects.get(pk=killed.pk).status == OutboundStatus.QUEUED
    assert OutboundEmail.objects.get(pk=busy.pk).status == OutboundStatus.SENDING
    assert DBTaskResult.objects.get(args_kwargs__args=[str(busy.uid)]).status == "RUNNING"
    again = DBTaskResult.objects.get(args_kwargs__args=[str(killed.uid)])
    assert again.status == "READY"
    relay.start()
    assert deliver(str(killed.uid)) == "sent"
    assert len(relay.message_ids()) == 1
