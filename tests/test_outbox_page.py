"""The outbox page: administrators see every mail, sent or not, by kind and recipient role, never
an address or a word of a report; a mail that failed for good can be retried, and that is audited."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.intake.models import Report
from vulndesk.notify.delivery import MAX_ATTEMPTS
from vulndesk.notify.models import OutboundEmail, OutboundStatus
from vulndesk.notify.outbox import recipient_role
from vulndesk.notify.tasks import deliver
from vulndesk.projects.models import Project

from .conftest import Relay, a_report, signed_in

TITLE = "Prompt router leaks the system prompt"


def _deliver_all_due() -> None:
    OutboundEmail.objects.filter(status=OutboundStatus.QUEUED).update(
        next_attempt_at=timezone.now() - dt.timedelta(hours=2)
    )
    for uid in OutboundEmail.objects.filter(status=OutboundStatus.QUEUED).values_list("uid", flat=True):
        deliver(str(uid))


def _fail_for_good() -> None:
    """The relay is down through every attempt."""
    for _ in range(MAX_ATTEMPTS):
        _deliver_all_due()


def _sent_and_failed(project: Project, relay: Relay) -> tuple[Report, Report]:
    sent = a_report(project, title=TITLE)
    relay.start()
    _deliver_all_due()
    relay.stop()
    failed = a_report(project, title=TITLE + " again")
    _fail_for_good()
    return sent, failed


def test_the_outbox_lists_sent_mail_by_role_without_addresses_or_text(
    project_a: Project, alice: User, admin: User, relay: Relay
) -> None:
    _sent_and_failed(project_a, relay)
    assert OutboundEmail.objects.filter(status=OutboundStatus.SENT).count() >= 2
    page = signed_in(admin).get("/desk/outbox/").content.decode()
    assert "report-received" in page
    assert "new-report-team" in page
    assert ">reporter<" in page
    assert ">team<" in page
    assert "Sent" in page
    assert "Failed for good" in page
    for secret in ("rita@researcher.test", "alice@llm-d.test", "researcher.test", TITLE):
        assert secret not in page


def test_the_outbox_filters_by_status_kind_and_project(
    project_a: Project, project_b: Project, alice: User, admin: User, relay: Relay
) -> None:
    _sent_and_failed(project_a, relay)
    client = signed_in(admin)
    failed = client.get("/desk/outbox/?status=failed").content.decode()
    assert failed.count("<code>&lt;") == OutboundEmail.objects.filter(status=OutboundStatus.FAILED).count()
    assert "sent " not in failed
    received = client.get("/desk/outbox/?kind=report-received").content.decode()
    assert "new-report-team</td>" not in received
    assert received.count('<td data-label="Kind">report-received</td>') == 2
    other_project = client.get("/desk/outbox/?project=agentic-tool-mesh").content.decode()
    assert "No mail matches these filters." in other_project


def test_an_administrator_retries_a_failed_mail_and_it_is_delivered(
    project_a: Project, alice: User, admin: User, relay: Relay
) -> None:
    _sent_and_failed(project_a, relay)
    mail = OutboundEmail.objects.filter(status=OutboundStatus.FAILED, kind="report-received").get()
    response = signed_in(admin).post(f"/desk/outbox/mail/{mail.uid}/retry/", {"status": "failed"})
    assert response.status_code == 302
    assert response["Location"] == "/desk/outbox/?status=failed"
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (OutboundStatus.QUEUED, 0)
    event = AuditEvent.objects.get(action="outbound.retried")
    assert event.actor == admin
    assert event.details["kind"] == "report-received"
    relay.start()
    assert deliver(str(mail.uid)) == "sent"
    assert mail.message_id in relay.message_ids()


def test_a_mail_that_has_not_failed_is_not_retried(
    project_a: Project, alice: User, admin: User, relay: Relay
) -> None:
    sent, _failed = _sent_and_failed(project_a, relay)
    mail = OutboundEmail.objects.get(report=sent, kind="report-received")
    client = signed_in(admin)
    response = client.post(f"/desk/outbox/mail/{mail.uid}/retry/", follow=True)
    assert "Not retried" in response.content.decode()
    mail.refresh_from_db()
    assert mail.status == OutboundStatus.SENT
    assert not AuditEvent.objects.filter(action="outbound.retried").exists()


def test_only_administrators_retry_and_others_get_the_same_404(
    project_a: Project, alice: User, admin: User, relay: Relay
) -> None:
    _sent_and_failed(project_a, relay)
    mail = OutboundEmail.objects.filter(status=OutboundStatus.FAILED).first()
    assert mail is not None
    assert signed_in(alice).post(f"/desk/outbox/mail/{mail.uid}/retry/").status_code == 404
    assert signed_in(alice).get("/desk/outbox/").status_code == 404
    mail.refresh_from_db()
    assert mail.status == OutboundStatus.FAILED
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(admin)
    assert csrf_checked.post(f"/desk/outbox/mail/{mail.uid}/retry/").status_code == 403


def test_the_recipient_role_comes_from_the_kind() -> None:
    assert recipient_role("report-received", to_reporter=True) == "reporter"
    assert recipient_role("new-report-team", to_reporter=False) == "team"
    assert recipient_role("sla-escalation", to_reporter=False) == "team"
    assert recipient_role("distributor-notice", to_reporter=False) == "distributor"
    assert recipient_role("distributor-application", to_reporter=False) == "team"
    assert recipient_role("audit-checkpoint", to_reporter=False) == "administrator"
    assert recipient_role("advisory-announcement", to_reporter=False) == "subscriber"
