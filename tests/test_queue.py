"""The team's queue and the desk home: sorts, visible filters, bulk actions, and counts that agree."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions import do_post_reporter_reply, do_post_team_message
from vulndesk.cases.actions.triage import do_assign, do_mark_not_security, do_mark_valid, do_set_severity
from vulndesk.cases.models import Label, QueueEntry, Triage, Via
from vulndesk.cases.queue_entries import refresh_queue_entries
from vulndesk.embargo.actions import do_set_embargo_end
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project

from .conftest import PASSWORD, a_report, signed_in

REASON = "This is the documented behaviour of the debug endpoint, which is off by default."
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
LOW = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"


@pytest.fixture(autouse=True)
def _many_reports_from_one_reporter(settings: Settings) -> None:
    settings.INTAKE_PER_SENDER_PER_HOUR = 500


@pytest.fixture
def carol(project_a: Project) -> User:
    return do_create_user(
        "carol@llm-d.test", role=Role.TEAM, project=project_a, password=PASSWORD, acting_user=None
    )


def _received_days_ago(report: Report, days: float) -> Report:
    Report.objects.filter(pk=report.pk).update(received_at=timezone.now() - dt.timedelta(days=days))
    refresh_queue_entries([report.pk])
    return Report.objects.get(pk=report.pk)


def _rows(page: str) -> list[str]:
    """The reports a queue page lists, in its order, as "slug/number"."""
    return re.findall(r'name="report" value="([^"]+)"', page)


def _queue(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/desk/reports/{query}")
    assert response.status_code == 200
    return _rows(response.content.decode())


def _key(report: Report) -> str:
    return f"{report.project.slug}/{report.number}"


def test_the_queue_shows_the_nearest_deadline_first_and_a_paused_one_last(
    project_a: Project, alice: User
) -> None:
    fresh = a_report(project_a, "Fresh")
    old = _received_days_ago(a_report(project_a, "Old"), 9)
    middling = _received_days_ago(a_report(project_a, "Middling"), 2)
    assert _queue(signed_in(alice)) == [_key(old), _key(middling), _key(fresh)]
    assert _queue(signed_in(alice), "?sort=newest") == [_key(fresh), _key(middling), _key(old)]
    assert _queue(signed_in(alice), "?sort=oldest") == [_key(old), _key(middling), _key(fresh)]


def test_the_queue_sorts_by_severity_highest_first(project_a: Project, alice: User) -> None:
    low, unscored, critical = (a_report(project_a, t) for t in ("Low one", "Unscored", "Critical one"))
    do_set_severity(low, cvss31_vector=LOW, acting_user=alice)
    do_set_severity(critical, cvss31_vector=CRITICAL, acting_user=alice)
    assert _queue(signed_in(alice), "?sort=severity") == [_key(critical), _key(low), _key(unscored)]
    assert _queue(signed_in(alice), "?severity=critical") == [_key(critical)]
    assert _queue(signed_in(alice), "?severity=unscored") == [_key(unscored)]


def test_each_filter_is_a_visible_control_and_narrows_the_queue(
    project_a: Project, project_b: Project, admin: User, alice: User, carol: User
) -> None:
    mine, carols, overdue = (a_report(project_a, t) for t in ("Mine", "Carols", "Overdue"))
    other_project = a_report(project_b, "Elsewhere")
    do_mark_valid(mine, acting_user=alice)
    do_mark_valid(carols, acting_user=carol)
    overdue = _received_days_ago(overdue, 30)
    team = signed_in(admin)
    page = team.get("/desk/reports/").content.decode()
    for control in (
        '<select id="project" name="project">',
        'name="state"',
        'name="owner"',
        'name="severity"',
        'name="due"',
        'name="waiting"',
        'name="sort"',
    ):
        assert control in page
    assert set(_queue(team, "?project=llm-d")) == {_key(mine), _key(carols), _key(overdue)}
    assert _queue(team, "?project=agentic-tool-mesh") == [_key(other_project)]
    assert set(_queue(team, "?state=valid")) == {_key(mine), _key(carols)}
    assert _queue(signed_in(alice), "?owner=me") == [_key(mine)]
    assert _queue(team, f"?owner={carol.pk}") == [_key(carols)]
    assert set(_queue(team, "?owner=nobody")) == {_key(overdue), _key(other_project)}
    assert _queue(team, "?due=overdue") == [_key(overdue)]


def test_search_words_still_never_travel_in_the_address(project_a: Project, alice: User) -> None:
    a_report(project_a, "Router injection here")
    a_report(project_a, "Something else")
    team = signed_in(alice)
    response = team.post("/desk/reports/", {"q": "injection", "project": "llm-d", "sort": "severity"})
    assert response.status_code == 302
    assert "injection" not in response["Location"]
    assert "search=1" in response["Location"]
    assert "sort=severity" in response["Location"]
    assert len(_queue(team, response["Location"].removeprefix("/desk/reports/"))) == 1


def test_a_reporters_reply_waits_for_an_answer_until_the_team_writes_back(
    project_a: Project, alice: User
) -> None:
    report = a_report(project_a, "Talkative")
    do_post_team_message(report, "Can you share the config?", internal=False, acting_user=alice)
    assert _queue(signed_in(alice), "?waiting=reply") == []
    do_post_reporter_reply(report, "Here it is.", via=Via.WEB, acting_user=None)
    assert _queue(signed_in(alice), "?waiting=reply") == [_key(report)]
    do_post_team_message(report, "Internal: looks real", internal=True, acting_user=alice)
    assert _queue(signed_in(alice), "?waiting=reply") == [_key(report)]  # a note answers nobody
    do_post_team_message(report, "Thanks, confirmed.", internal=False, acting_user=alice)
    assert _queue(signed_in(alice), "?waiting=reply") == []


def _desk_counts(client: Client) -> dict[str, tuple[int, str]]:
    page = client.get("/desk/").content.decode()
    found = re.findall(
        r'<a href="([^"]+)"><span class="my-work-count">(\d+)</span> '
        r'<span class="my-work-label">([^<]+)</span>',
        page,
    )
    return {label: (int(count), url.replace("&amp;", "&")) for url, count, label in found}


def _due_within_a_day(report: Report) -> None:
    """Move the report's arrival back until its first deadline is less than a day away.

    Deadlines count working days on the project's calendar, so how far back depends on today.
    """
    now = timezone.now()
    for hours in range(0, 24 * 14, 3):
        Report.objects.filter(pk=report.pk).update(received_at=now - dt.timedelta(hours=hours))
        refresh_queue_entries([report.pk])
        due = QueueEntry.objects.get(report=report).next_due_at
        if due is not None and now < due < now + dt.timedelta(hours=20):
            return
    pytest.fail("no arrival time puts the first deadline within a day")


def _busy_desk(project_a: Project, alice: User, carol: User) -> None:
    for n in range(3):
        a_report(project_a, f"Waiting {n}")
    overdue = _received_days_ago(a_report(project_a, "Overdue"), 30)
    do_assign(overdue, owner=alice, assignees=[], acting_user=alice)
    _due_within_a_day(a_report(project_a, "Soon"))
    replied = a_report(project_a, "Replied")
    do_post_reporter_reply(replied, "One more detail.", via=Via.WEB, acting_user=None)
    do_mark_valid(a_report(project_a, "Carol's"), acting_user=carol)
    embargoed = a_report(project_a, "Embargoed")
    do_mark_valid(embargoed, acting_user=alice)
    do_set_embargo_end(embargoed, timezone.now() + dt.timedelta(days=5), acting_user=alice)


def test_the_desk_home_counts_equal_what_the_queue_shows_behind_each_link(
    project_a: Project, alice: User, carol: User
) -> None:
    _busy_desk(project_a, alice, carol)
    team = signed_in(alice)
    counts = _desk_counts(team)
    assert set(counts) == {
        "Overdue",
        "Due within 24 hours",
        "Waiting for acknowledgement",
        "Assigned to me",
        "Reporter replies not yet answered",
        "Embargoes ending within 7 days",
    }
    assert counts["Assigned to me"][0] == 2  # the overdue one, and the one alice marked valid (she owns it)
    assert counts["Reporter replies not yet answered"][0] == 1
    assert counts["Overdue"][0] >= 1
    assert counts["Due within 24 hours"][0] >= 1
    assert counts["Embargoes ending within 7 days"][0] == 1
    assert counts["Waiting for acknowledgement"][0] >= 3
    for label, (count, url) in counts.items():
        assert len(_queue(team, url.removeprefix("/desk/reports/"))) == count, label


def test_the_desk_home_and_the_queue_take_the_same_number_of_queries_for_3_or_15_reports(
    project_a: Project, alice: User, carol: User
) -> None:
    def queries() -> tuple[int, int]:
        team = signed_in(alice)
        team.get("/desk/")  # the session and the policy cache, once
        with CaptureQueriesContext(connection) as desk:
            assert team.get("/desk/").status_code == 200
        with CaptureQueriesContext(connection) as queue:
            assert team.get("/desk/reports/").status_code == 200
        return len(desk), len(queue)

    _busy_desk(project_a, alice, carol)
    few = queries()
    for n in range(8):
        do_post_reporter_reply(a_report(project_a, f"More {n}"), "Hello?", via=Via.WEB, acting_user=None)
    assert Report.objects.count() >= 15
    assert queries() == few


def test_the_desk_home_lists_drafts_by_others_waiting_for_my_review(
    project_a: Project, alice: User, carol: User
) -> None:
    from vulndesk.advisories.actions import do_create_advisory  # noqa: PLC0415

    theirs = do_create_advisory(project_a, acting_user=carol)
    do_create_advisory(project_a, acting_user=alice)  # my own draft: someone else reviews it
    page = signed_in(alice).get("/desk/").content.decode()
    assert theirs.identifier in page
    assert re.search(r'Waiting for my review <span class="badge">1</span>', page)


def _bulk(client: Client, action: str, reports: list[Report], **fields: str) -> str:
    response = client.post(
        "/desk/reports/bulk/", {"action": action, "report": [_key(r) for r in reports], **fields}, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_bulk_closing_does_each_report_and_names_the_one_it_skipped(project_a: Project, alice: User) -> None:
    reports = [a_report(project_a, f"Noise {n}") for n in range(3)]
    do_mark_not_security(reports[1], REASON, acting_user=alice)
    page = _bulk(signed_in(alice), "not_security", reports, reason=REASON)
    assert f"2 closed as not a security issue; 1 skipped: llm-d #{reports[1].number} already invalid" in page
    assert all(Triage.objects.get(report=r).resolution == "not_security" for r in reports)
    events = AuditEvent.objects.filter(action="report.marked_not_security")
    assert sorted(int(e.target_id) for e in events) == sorted(
        r.pk for r in reports
    )  # one event each, no more


def test_a_bulk_close_without_a_real_reason_changes_nothing_and_keeps_what_was_written(
    project_a: Project, alice: User
) -> None:
    reports = [a_report(project_a, f"Noise {n}") for n in range(2)]
    response = signed_in(alice).post(
        "/desk/reports/bulk/", {"action": "invalid", "report": [_key(r) for r in reports], "reason": "nope"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was changed: write the reason each reporter will read" in page
    assert ">nope</textarea>" in page
    assert page.count(" checked>") == 2
    assert set(Report.objects.values_list("rm_state", flat=True)) == {"received"}


def test_a_bulk_action_skips_a_report_of_another_project_as_not_found(
    project_a: Project, project_b: Project, alice: User, bob: User
) -> None:
    alices = a_report(project_a, "Alice's")
    page = _bulk(signed_in(bob), "not_security", [alices], reason=REASON)
    assert f"0 closed as not a security issue; 1 skipped: llm-d #{alices.number} not found" in page
    assert Report.objects.get(pk=alices.pk).rm_state == "received"


def test_bulk_assign_duplicate_and_label(project_a: Project, alice: User, carol: User) -> None:
    original, *others = (a_report(project_a, f"Same bug {n}") for n in range(4))
    team = signed_in(alice)
    assert "3 assigned" in _bulk(team, "assign", others, owner=str(carol.pk))
    assert {t.owner for t in Triage.objects.filter(report__in=others)} == {carol}
    assert "2 labelled" in _bulk(team, "label", [original, others[0]], label="Parser")
    again = _bulk(team, "label", [others[0], others[1]], label=" parser ")
    assert f"1 labelled; 1 skipped: llm-d #{others[0].number} already had it" in again
    assert set(Label.objects.get(name="parser").reports.all()) == {original, others[0], others[1]}
    assert AuditEvent.objects.filter(action="report.labelled").count() == 3
    page = _bulk(team, "duplicate", [*others, original], duplicate_of=f"#{original.number}")
    assert f"3 marked duplicate; 1 skipped: llm-d #{original.number} cannot duplicate itself" in page
    assert {t.duplicate_of for t in Triage.objects.filter(report__in=others)} == {original}


def test_every_change_to_a_report_keeps_its_queue_entry_true(project_a: Project, alice: User) -> None:
    report = a_report(project_a, "Watched")
    assert QueueEntry.objects.get(report=report).awaiting_acknowledgement
    assert QueueEntry.objects.get(report=report).next_due_label == "Acknowledge"
    do_mark_valid(report, acting_user=alice)
    assert not QueueEntry.objects.get(report=report).awaiting_acknowledgement
    do_set_severity(report, cvss31_vector=CRITICAL, acting_user=alice)
    assert QueueEntry.objects.get(report=report).severity_rank == 4
