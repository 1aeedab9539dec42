"""The outbox sends a report with evidence first during a flood, and keeps nobody waiting for ever.

Real reports through the API, the real outbox and the real worker (``db_worker``), a real relay:
the order the relay receives the acknowledgements in is the order the worker sent them.
"""

from __future__ import annotations

import datetime as dt
import json
from email import message_from_string

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from vulndesk.notify.models import OutboundEmail, OutboundStatus, OutboxPriority
from vulndesk.notify.tasks import requeue_stranded
from vulndesk.projects.models import Project

from .conftest import Relay

WITH_EVIDENCE = (
    "The router passes tool output to eval().\n\nSteps to reproduce:\n1. Start the router.\n"
    "2. Send the prompt below.\n3. The command runs on the host.\n\n```python\n"
    "router.handle({'tool': 'python', 'code': \"__import__('os').system('id')\"})\n```\n"
)
WITHOUT_EVIDENCE = "I found a CRITICAL vulnerability in your AI system. Please fix it urgently."


@pytest.fixture(autouse=True)
def _committed_and_one_address(settings: Settings, transactional_db: None) -> None:
    """The worker runs in this process and commits as it goes, as the real one does; every report
    comes from the test client's one address, so only the per-sender limit counts."""
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 1000


def _report(client: Client, sender: str, description: str) -> None:
    payload = {"title": "Security issue", "description": description, "reporter_email": sender}
    answer = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    assert answer.status_code == 201


def _run_the_worker() -> None:
    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, verbosity=0)


def _acknowledged_in_order(relay: Relay) -> list[str]:
    with relay.lock:
        texts = list(relay.received)
    messages = [message_from_string(text) for text in texts]
    return [str(m["To"]) for m in messages if "We received your security report" in str(m["Subject"])]


def test_a_report_with_evidence_is_acknowledged_before_a_floods_backlog(
    client: Client, project_a: Project, relay: Relay
) -> None:
    for _ in range(6):
        _report(client, "slop@slop.test", WITHOUT_EVIDENCE)
    _report(client, "other@researcher.test", WITHOUT_EVIDENCE)
    _report(client, "rita@researcher.test", WITH_EVIDENCE)
    relay.start()

    _run_the_worker()

    # Rita's proof of concept first; then everyone's first reports of the hour in the order they
    # came, the other sender's among them; the flooder's later ones last. Every one of them sent.
    assert _acknowledged_in_order(relay) == [
        "rita@researcher.test",
        *["slop@slop.test"] * 3,
        "other@researcher.test",
        *["slop@slop.test"] * 3,
    ]
    ids = relay.message_ids()
    assert len(ids) == len(set(ids))


def test_the_priority_is_chosen_when_the_report_is_stored(client: Client, project_a: Project) -> None:
    for _ in range(4):
        _report(client, "slop@slop.test", WITH_EVIDENCE)
    _report(client, "other@researcher.test", WITHOUT_EVIDENCE)
    priorities = list(
        OutboundEmail.objects.filter(kind="report-received").order_by("pk").values_list("priority", flat=True)
    )
    # A flooder's fourth report waits behind other mail even with a code block in it.
    assert priorities == [*[OutboxPriority.EVIDENCE] * 3, OutboxPriority.BULK, OutboxPriority.NORMAL]
    tasks = DBTaskResult.objects.filter(task_path__endswith="deliver_outbound").order_by("enqueued_at")
    queued = {str(t.args_kwargs["args"][0]): t.priority for t in tasks}
    assert {str(m.uid): m.priority for m in OutboundEmail.objects.filter(kind="report-received")} == queued


def test_a_retry_keeps_the_mails_place_in_the_queue(client: Client, project_a: Project, relay: Relay) -> None:
    _report(client, "rita@researcher.test", WITH_EVIDENCE)
    mail = OutboundEmail.objects.get(kind="report-received")
    _run_the_worker()  # the relay is down: the attempt fails and a retry is queued for later
    assert OutboundEmail.objects.get(pk=mail.pk).attempts == 1
    retry = DBTaskResult.objects.filter(args_kwargs__args=[str(mail.uid)], status="READY")
    assert [t.priority for t in retry] == [OutboxPriority.EVIDENCE]


def test_mail_kept_waiting_goes_to_the_top_and_is_sent_once(
    client: Client, project_a: Project, relay: Relay
) -> None:
    for _ in range(4):
        _report(client, "slop@slop.test", WITHOUT_EVIDENCE)
    waiting = OutboundEmail.objects.get(kind="report-received", priority=OutboxPriority.BULK)
    # The clock moved on: the flooder's fourth acknowledgement has been due for eleven minutes.
    OutboundEmail.objects.filter(pk=waiting.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(minutes=11)
    )

    assert requeue_stranded() == 1  # what the sweep does every five minutes
    _report(client, "rita@researcher.test", WITH_EVIDENCE)
    relay.start()
    _run_the_worker()

    # At the top now, and there before Rita's: the oldest of the top priority goes first.
    assert _acknowledged_in_order(relay) == [
        "slop@slop.test",
        "rita@researcher.test",
        *["slop@slop.test"] * 3,
    ]
    assert OutboundEmail.objects.get(pk=waiting.pk).status == OutboundStatus.SENT
    # Its first task, still queued below, found it sent and sent nothing.
    outcomes = DBTaskResult.objects.filter(args_kwargs__args=[str(waiting.uid)]).values_list(
        "return_value", flat=True
    )
    assert sorted(str(outcome) for outcome in outcomes) == ["not due", "sent"]
    ids = relay.message_ids()
    assert len(ids) == len(set(ids))
