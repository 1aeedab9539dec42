from __future__ import annotations

import json

from django.test import Client
from pytest_django.fixtures import Settings

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions import do_post_team_message
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project

from .conftest import a_report, signed_in

MARKER = "MARKER-d3sk-41c3"


def _report(client: Client, slug: str) -> Report:
    payload = json.dumps({"title": f"Heap overflow {MARKER}", "description": f"details {MARKER}"})
    response = client.post(f"/api/v1/projects/{slug}/reports", payload, content_type="application/json")
    assert response.status_code == 201
    return Report.objects.get(number=response.json()["number"], project__slug=slug)


def test_a_new_report_appears_in_the_teams_queue(client: Client, alice: User) -> None:
    _report(client, "llm-d")
    page = signed_in(alice).get("/desk/reports/")
    assert page.status_code == 200
    assert MARKER in page.content.decode()


def test_the_team_reads_a_report_and_the_read_is_audited(client: Client, alice: User) -> None:
    report = _report(client, "llm-d")
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/")
    assert page.status_code == 200
    assert f"details {MARKER}" in page.content.decode()
    read = AuditEvent.objects.get(action="report.read")
    assert read.actor == alice
    assert read.target_id == str(report.pk)
    assert MARKER not in json.dumps(read.details)


def test_another_projects_team_sees_neither_the_queue_entry_nor_the_report(
    client: Client, alice: User, bob: User
) -> None:
    report = _report(client, "llm-d")
    bobs = signed_in(bob)
    assert MARKER not in bobs.get("/desk/reports/").content.decode()
    assert bobs.get(f"/desk/p/llm-d/reports/{report.number}/").status_code == 404
    assert bobs.get("/desk/p/llm-d/reports/9999/").status_code == 404


def test_an_outsider_and_an_anonymous_visitor_cannot_read_reports(
    client: Client, outsider: User, project_a: Project
) -> None:
    report = _report(client, "llm-d")
    assert signed_in(outsider).get(f"/desk/p/llm-d/reports/{report.number}/").status_code == 404
    assert MARKER not in signed_in(outsider).get("/desk/reports/").content.decode()
    assert client.get(f"/desk/p/llm-d/reports/{report.number}/").status_code == 302


def test_the_team_is_told_of_a_new_report_without_its_contents(client: Client, alice: User) -> None:
    from vulndesk.notify.models import OutboundEmail  # noqa: PLC0415

    _report(client, "llm-d")
    notice = OutboundEmail.objects.get(kind="new-report-team")
    assert notice.message["to"] == ["alice@llm-d.test"]
    assert MARKER not in json.dumps(notice.message)


def test_the_queue_shows_severity_owner_and_the_nearest_deadline_coloured(
    client: Client, alice: User
) -> None:
    from vulndesk.cases.actions.triage import do_mark_valid, do_set_severity  # noqa: PLC0415

    report = _report(client, "llm-d")
    do_mark_valid(report, acting_user=alice)
    do_set_severity(report, acting_user=alice, cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    page = signed_in(alice).get("/desk/reports/").content.decode()
    assert "badge-critical" in page
    assert "alice@llm-d.test" in page
    assert "clock-green" in page
    assert "Next update by" in page


def test_a_long_conversation_shows_its_latest_messages_and_links_to_the_rest(
    project_a: Project, alice: User
) -> None:
    report = a_report(project_a)
    for n in range(55):
        do_post_team_message(report, f"note number {n:03d}", internal=True, acting_user=alice)
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    assert "5 earlier messages not shown" in page
    assert "note number 054" in page
    assert "note number 004" not in page
    everything = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/?all=1").content.decode()
    assert "note number 004" in everything


def test_the_queue_pages_by_fifty_newest_first(project_a: Project, alice: User, settings: Settings) -> None:
    settings.INTAKE_PER_SENDER_PER_HOUR = 100  # one reporter sends them all
    for n in range(55):
        a_report(project_a, f"Paged report {n:02d}")
    team = signed_in(alice)
    first = team.get("/desk/reports/?project=llm-d&sort=newest").content.decode()
    assert "Paged report 54" in first
    assert "Paged report 04" not in first
    assert "page=2" in first
    second = team.get("/desk/reports/?project=llm-d&sort=newest&page=2").content.decode()
    assert "Paged report 04" in second
    assert ">Next<" not in second
    assert team.get("/desk/reports/?page=banana").status_code == 200
