from __future__ import annotations

import datetime as dt
import json
import threading
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django_tasks_db.models import DBTaskResult

from vulndesk.accounts.models import User
from vulndesk.cases.actions import do_post_reporter_reply, do_post_team_message
from vulndesk.cases.actions.triage import do_request_info
from vulndesk.cases.clocks import CaseTimes, ClockState, clocks
from vulndesk.cases.models import SlaNotice, Via
from vulndesk.cases.sla import report_clocks
from vulndesk.cases.tasks import ensure_sweep_scheduled, sla_sweep, sweep
from vulndesk.intake.models import Report
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project

NEW_YORK = ZoneInfo("America/New_York")
FRIDAY_5PM = dt.datetime(2026, 11, 13, 17, 0, tzinfo=NEW_YORK)


def _times(**overrides: object) -> CaseTimes:
    fields: dict[str, object] = {
        "received_at": FRIDAY_5PM,
        "first_team_reply_at": None,
        "triaged_at": None,
        "last_team_update_at": None,
        "rating": "",
        "open_case": False,
        **overrides,
    }
    return CaseTimes(**fields)  # type: ignore[arg-type]


def test_llm_d_acknowledges_a_friday_5pm_report_by_wednesday_5pm(project_a: Project) -> None:
    acknowledge = clocks(project_a.policy, _times(), FRIDAY_5PM)[0]
    assert acknowledge.due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 18, 17, 0, tzinfo=NEW_YORK)
    assert acknowledge.state == ClockState.RUNNING


def test_waiting_on_the_reporter_moves_the_deadline_by_the_length_of_the_pause(project_a: Project) -> None:
    pause = (FRIDAY_5PM + dt.timedelta(days=3), FRIDAY_5PM + dt.timedelta(days=3, hours=30))
    now = FRIDAY_5PM + dt.timedelta(days=5)
    acknowledge = clocks(project_a.policy, _times(pauses=(pause,)), now)[0]
    assert acknowledge.due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 19, 23, 0, tzinfo=NEW_YORK)


def test_a_clock_is_paused_while_a_question_is_open(project_a: Project) -> None:
    open_pause = ((FRIDAY_5PM + dt.timedelta(days=1), None),)
    assert clocks(project_a.policy, _times(pauses=open_pause), FRIDAY_5PM + dt.timedelta(days=2))[
        0
    ].state == (ClockState.PAUSED)


def test_clocks_turn_amber_then_red(project_a: Project) -> None:
    due = clocks(project_a.policy, _times(), FRIDAY_5PM)[0].due
    assert clocks(project_a.policy, _times(), due - dt.timedelta(hours=5))[0].state == ClockState.DUE_SOON
    assert clocks(project_a.policy, _times(), due + dt.timedelta(minutes=1))[0].state == ClockState.OVERDUE


def test_critical_cases_are_owed_an_update_every_two_days(project_a: Project) -> None:
    times = _times(triaged_at=FRIDAY_5PM, open_case=True, rating="Critical")
    update = clocks(project_a.policy, times, FRIDAY_5PM)[-1]
    assert update.name == "update"
    assert update.due == FRIDAY_5PM + dt.timedelta(days=2)


def _report(client: Client) -> Report:
    payload = json.dumps({"title": "t", "description": "d", "reporter_email": "rita@researcher.test"})
    number = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()[
        "number"
    ]
    return Report.objects.get(number=number)


def test_a_team_reply_meets_the_acknowledge_and_first_reply_clocks(client: Client, alice: User) -> None:
    report = _report(client)
    do_post_team_message(report, "Thanks, looking.", internal=False, acting_user=alice)
    states = {c.name: c.state for c in report_clocks(report)}
    assert states["acknowledge"] == ClockState.MET
    assert states["first_reply"] == ClockState.MET
    assert states["triage"] == ClockState.RUNNING


def test_the_sweep_reminds_before_and_escalates_after_each_only_once(
    client: Client, alice: User, admin: User
) -> None:
    report = _report(client)
    due = report_clocks(report)[0].due
    sweep(due - dt.timedelta(hours=2))
    sweep(due - dt.timedelta(hours=1))
    sweep(due + dt.timedelta(hours=1))
    sweep(due + dt.timedelta(hours=2))
    acknowledge = SlaNotice.objects.filter(report=report, clock="acknowledge")
    assert sorted(acknowledge.values_list("kind", flat=True)) == ["escalation", "reminder"]
    escalation = OutboundEmail.objects.filter(kind="sla-escalation").first()
    assert escalation is not None
    assert {"alice@llm-d.test", "admin@vulndesk.test"} <= set(escalation.message["to"])  # type: ignore[call-overload]


def test_an_unanswered_question_warns_the_reporter_then_closes_the_report(
    client: Client, alice: User
) -> None:
    report = _report(client)
    request = do_request_info(report, "Which version did you test?", acting_user=alice)
    sweep(request.closes_at - dt.timedelta(days=1))
    assert OutboundEmail.objects.filter(kind="closing-soon").count() == 1
    sweep(request.closes_at + dt.timedelta(minutes=1))
    report.refresh_from_db()
    assert report.rm_state == "closed"


def test_an_answer_resumes_the_clocks(client: Client, alice: User) -> None:
    report = _report(client)
    do_request_info(report, "Which version did you test?", acting_user=alice)
    assert report_clocks(report)[2].state == ClockState.PAUSED
    do_post_reporter_reply(report, "0.3.1", via=Via.WEB, acting_user=None)
    assert report_clocks(report)[2].state != ClockState.PAUSED


def _waiting_sweeps() -> int:
    return DBTaskResult.objects.filter(task_path=sla_sweep.module_path, status="READY").count()


def test_workers_starting_one_after_another_share_one_chain_of_sweeps(db: None) -> None:
    ensure_sweep_scheduled()
    ensure_sweep_scheduled()
    assert _waiting_sweeps() == 1


def test_a_sweep_that_finds_another_waiting_ends_its_chain(db: None) -> None:
    """A worker that started while a sweep ran queued a second one: the running one stops there."""
    ensure_sweep_scheduled()
    sla_sweep.call()
    assert _waiting_sweeps() == 1
    DBTaskResult.objects.all().delete()
    sla_sweep.call()  # the last of its chain: it queues the next
    assert _waiting_sweeps() == 1


@pytest.mark.skipif(
    str(django_settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3"),
    reason="SQLite runs one writer at a time by itself; its in-memory test database takes no threads",
)
@pytest.mark.django_db(transaction=True)
def test_workers_starting_together_share_one_chain_of_sweeps() -> None:
    start = threading.Barrier(6)

    def worker_starts() -> None:
        start.wait()
        try:
            ensure_sweep_scheduled()
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker_starts) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert _waiting_sweeps() == 1
