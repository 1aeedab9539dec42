"""Outgoing mail survives a relay outage: retried with backoff, delivered exactly once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.notify.models import OutboundEmail, OutboundStatus
from vulndesk.notify.tasks import MAX_ATTEMPTS, deliver
from vulndesk.projects.models import Project

from .conftest import Relay


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
