"""Releasing a report from quarantine from the desk: from the case page, where the guided step
offers it first, and in bulk from the queue's quarantine view.

Reports arrive through the real API; the spam check holds them. A release queues the held
acknowledgement, tells the team, and ranks the released report and the later ones again (the
ranking skipped it while it was held).
"""

from __future__ import annotations

import json

from django.test import Client
from django_tasks_db.models import DBTaskResult

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions.triage import do_mark_invalid
from vulndesk.duplicates.tasks import suggest_duplicates
from vulndesk.intake.models import Report
from vulndesk.notify.models import OutboundEmail, OutboundStatus

from .conftest import signed_in

SPAM = "Best casino bonus " + " ".join(f"https://spam.example/{n}" for n in range(8))


def _send(client: Client, description: str, email: str = "rita@researcher.test") -> Report:
    payload = {"title": "Report", "description": description, "reporter_email": email}
    response = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return Report.objects.get(project__slug="llm-d", number=response.json()["number"])


def _queued_rankings() -> list[int]:
    jobs = DBTaskResult.objects.ready().filter(task_path=suggest_duplicates.module_path)
    return [job.args_kwargs["args"][0] for job in jobs]


def test_a_quarantined_report_is_released_from_its_page(client: Client, alice: User) -> None:
    held = _send(client, SPAM)
    later = _send(client, "The export endpoint reads any file named in ?name=.", email="bo@researcher.test")
    assert held.quarantined
    assert not later.quarantined
    DBTaskResult.objects.all().delete()  # what intake queued; only the release's jobs are looked at
    told = OutboundEmail.objects.filter(kind="new-report-team").count()
    team = signed_in(alice)

    page = team.get(f"/desk/p/llm-d/reports/{held.number}/").content.decode()
    # The guided step: release (or close), never "acknowledge", which would mail the address.
    assert "Release from quarantine" in page
    assert "Acknowledge the report" not in page
    assert "spam vocabulary" in page

    response = team.post(f"/desk/p/llm-d/reports/{held.number}/release/", follow=True)
    assert response.redirect_chain[-1][0].endswith(f"/reports/{held.number}/#triage")
    assert "Released from quarantine" in response.content.decode()
    assert not Report.objects.get(pk=held.pk).quarantined
    acknowledgement = OutboundEmail.objects.get(report=held, kind="report-received")
    assert acknowledgement.status == OutboundStatus.QUEUED, "the held acknowledgement goes out now"
    assert OutboundEmail.objects.filter(kind="new-report-team").count() == told + 1, "the team hears now"
    assert AuditEvent.objects.filter(action="report.released_from_quarantine", actor=alice).count() == 1
    assert sorted(_queued_rankings()) == sorted([held.pk, later.pk])

    again = team.post(f"/desk/p/llm-d/reports/{held.number}/release/", follow=True)
    assert "This report is not in quarantine." in again.content.decode()
    assert AuditEvent.objects.filter(action="report.released_from_quarantine").count() == 1


def test_the_queue_releases_selected_reports_and_names_those_not_held(client: Client, alice: User) -> None:
    first, second = _send(client, SPAM), _send(client, SPAM, email="sam@researcher.test")
    genuine = _send(client, "A real report.", email="bo@researcher.test")
    team = signed_in(alice)
    quarantine = team.get("/desk/reports/?state=quarantine").content.decode()
    assert f"#{first.number} " in quarantine
    assert f"#{genuine.number} " not in quarantine
    assert '<option value="release"' in quarantine

    DBTaskResult.objects.all().delete()  # what intake queued: only the release's own jobs are counted
    selected = [f"llm-d/{r.number}" for r in (first, second, genuine)]
    response = team.post("/desk/reports/bulk/", {"action": "release", "report": selected}, follow=True)
    text = response.content.decode()
    assert "2 released from quarantine; 1 skipped:" in text
    assert f"llm-d #{genuine.number} is not in quarantine" in text
    assert not Report.objects.filter(quarantined=True).exists()
    rankings = _queued_rankings()
    assert sorted(set(rankings)) == sorted([first.pk, second.pk, genuine.pk]), "each report ranked again"
    assert len(rankings) == len(set(rankings)), "and once, however many were released at a time"
    assert OutboundEmail.objects.filter(kind="report-received", status=OutboundStatus.HELD).count() == 0


def test_a_held_report_judged_invalid_stays_held_and_its_mail_unsent(client: Client, alice: User) -> None:
    held = _send(client, SPAM, email="stranger@victim.test")
    do_mark_invalid(held, "Advertising for a casino, not a report about llm-d.", acting_user=alice)
    team = signed_in(alice)
    page = team.get(f"/desk/p/llm-d/reports/{held.number}/").content.decode()
    assert "Release from quarantine" not in page
    assert "it stays in quarantine, and nothing was or will be mailed" in page

    refused = team.post(f"/desk/p/llm-d/reports/{held.number}/release/", follow=True).content.decode()
    assert "Not released: it was judged invalid while held" in refused
    bulk = team.post(
        "/desk/reports/bulk/", {"action": "release", "report": [f"llm-d/{held.number}"]}, follow=True
    )
    assert f"llm-d #{held.number} was judged invalid while held" in bulk.content.decode()
    assert Report.objects.get(pk=held.pk).quarantined
    mail = OutboundEmail.objects.filter(report=held)
    assert mail.exists()
    assert set(mail.values_list("status", flat=True)) == {OutboundStatus.HELD}, "the receipt and the decision"
