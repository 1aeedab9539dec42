"""Metrics on a small history built by hand: each expected figure is worked out in the comments,
and the page, the JSON and the CSV say the same. The number of queries does not grow with the
number of reports or of months."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from vulndesk.accounts.actions import do_create_api_token
from vulndesk.accounts.models import User
from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.cases.actions.triage import (
    do_mark_duplicate,
    do_mark_invalid,
    do_mark_not_security,
    do_mark_valid,
)
from vulndesk.cases.metrics import MAX_MONTHS, compute_metrics, month_keys, percentile90
from vulndesk.cases.metrics_snapshots import FRESH_FOR, current_metrics, refresh_metrics
from vulndesk.cases.models import FixPlan, MetricsSnapshot, Triage
from vulndesk.cases.tasks import metrics_refresh, sweep
from vulndesk.intake.models import IntakeAttempt, Report
from vulndesk.projects.models import Project

from .conftest import a_report, signed_in

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
REASON = "This is expected behaviour of the router, documented in the manual."


def _month_start(months_back: int) -> dt.datetime:
    key = month_keys(timezone.now(), months_back + 1)[0]
    return dt.datetime.fromisoformat(f"{key}-01T00:00:00+00:00")


def _times(report: Report, received: dt.datetime, **after: dt.timedelta) -> None:
    Report.objects.filter(pk=report.pk).update(received_at=received)
    Triage.objects.filter(report=report).update(**{k: received + v for k, v in after.items()})


def _history(project: Project, alice: User) -> dict[str, Report]:
    """Last month: five reports, one of each outcome. The month before: one undecided report."""
    t0 = _month_start(1) + 3 * DAY
    r = {
        name: a_report(project, title=f"report {name}")
        for name in ("valid", "invalid", "dup", "notsec", "spam")
    }
    do_mark_valid(r["valid"], acting_user=alice)
    do_mark_invalid(r["invalid"], REASON, acting_user=alice)
    do_mark_duplicate(r["dup"], r["valid"], acting_user=alice)
    do_mark_not_security(r["notsec"], REASON, acting_user=alice)
    # acknowledged 1 h after receipt, decided after 2 days, fixed after 10, disclosed after 20
    _times(r["valid"], t0, acknowledged_at=HOUR, decided_at=2 * DAY)
    FixPlan.objects.create(report=r["valid"], fix_available_at=t0 + 10 * DAY)
    Advisory.objects.create(
        project=project,
        report=r["valid"],
        identifier="x_LLMD-2026-0001",
        year=2026,
        sequence=1,
        state=AdvisoryState.PUBLISHED,
        published_at=t0 + 20 * DAY,
    )
    # acknowledged after 30 days (late), decided after 31 (late)
    _times(r["invalid"], t0 + DAY, acknowledged_at=30 * DAY, decided_at=31 * DAY)
    # decided after 1 h: that is its acknowledgement too
    _times(r["dup"], t0 + 2 * DAY, decided_at=HOUR)
    _times(r["notsec"], t0 + 3 * DAY, decided_at=3 * HOUR)
    Report.objects.filter(pk=r["spam"].pk).update(received_at=t0 + 4 * DAY, quarantined=True)
    r["older"] = a_report(project, title="report older")
    older = _month_start(2) + 5 * DAY
    Report.objects.filter(pk=r["older"].pk).update(received_at=older)
    Triage.objects.update_or_create(report=r["older"], defaults={"acknowledged_at": older + 2 * HOUR})
    return r


def _expected_last_month(figures: Any) -> None:
    # acknowledge, in days: 1/24, 30, 1/24, 3/24 -> sorted .0417 .0417 .125 30
    # median (.0417 + .125) / 2 = .0833; p90 nearest rank ceil(.9 * 4) = 4th = 30
    assert figures["times"]["acknowledge"] == {"count": 4, "median_days": 0.08, "p90_days": 30.0}
    # triage: 2, 31, 1/24, 3/24 -> sorted .0417 .125 2 31; median (.125 + 2) / 2 = 1.0625
    assert figures["times"]["triage"] == {"count": 4, "median_days": 1.06, "p90_days": 31.0}
    assert figures["times"]["fix"] == {"count": 1, "median_days": 10.0, "p90_days": 10.0}
    assert figures["times"]["disclosure"] == {"count": 1, "median_days": 20.0, "p90_days": 20.0}
    # 3 working days to acknowledge and to decide: only the invalid report was late for both;
    # nobody wrote to a reporter, and every first-reply deadline has passed. Spam owes nothing.
    assert figures["sla"]["acknowledge"] == {"due": 4, "met": 3, "share": 0.75}
    assert figures["sla"]["triage"] == {"due": 4, "met": 3, "share": 0.75}
    assert figures["sla"]["first_reply"] == {"due": 4, "met": 0, "share": 0.0}
    assert figures["outcomes"] == {
        "valid": 1,
        "invalid": 1,
        "duplicate": 1,
        "not_security": 1,
        "spam": 1,
        "undecided": 0,
    }


def _as_json(metrics: Any) -> Any:
    import dataclasses  # noqa: PLC0415

    return dataclasses.asdict(metrics)


def test_the_figures_of_a_small_history_are_the_ones_worked_out_by_hand(
    project_a: Project, alice: User
) -> None:
    _history(project_a, alice)
    metrics = _as_json(compute_metrics([project_a], scope="llm-d", months=3))
    older, last, current = metrics["months"]
    _expected_last_month(last)
    assert older["reports"] == 1
    assert older["outcomes"]["undecided"] == 1
    assert older["times"]["acknowledge"] == {"count": 1, "median_days": 0.08, "p90_days": 0.08}
    assert current["reports"] == 0
    assert current["times"]["acknowledge"] == {"count": 0, "median_days": None, "p90_days": None}
    assert metrics["total"]["reports"] == 6


def test_the_nearest_rank_percentile() -> None:
    assert percentile90([5.0]) == 5.0
    assert percentile90([float(n) for n in range(1, 11)]) == 9.0  # ceil(.9 * 10) = 9th
    assert percentile90([float(n) for n in range(1, 12)]) == 10.0  # ceil(.9 * 11) = 10th


def test_the_page_the_json_and_the_csv_say_the_same(project_a: Project, alice: User) -> None:
    _history(project_a, alice)
    page = signed_in(alice).get("/desk/p/llm-d/metrics/?months=3").content.decode()
    raw = do_create_api_token(alice, acting_user=None).raw
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    document = api.get("/api/v1/projects/llm-d/metrics?months=3").json()
    last = document["months"][1]
    _expected_last_month(last)
    rows = list(
        csv.DictReader(
            io.StringIO(signed_in(alice).get("/desk/p/llm-d/metrics.csv?months=3").content.decode())
        )
    )
    assert [row["month"] for row in rows] == [m["month"] for m in document["months"]] + ["all"]
    csv_last = rows[1]
    assert csv_last["acknowledge_median_days"] == "0.08"
    assert csv_last["acknowledge_p90_days"] == "30.0"
    assert csv_last["triage_median_days"] == "1.06"
    assert (csv_last["sla_acknowledge_due"], csv_last["sla_acknowledge_met"]) == ("4", "3")
    assert csv_last["outcome_spam"] == "1"
    # The page's table rows for last month: the same figures.
    page = re.sub(r' data-label="[^"]*"', "", page)
    month = last["month"]
    assert f'<th scope="row">{month}</th><td>4</td><td>0.08</td><td>30</td>' in page
    assert f'<th scope="row">{month}</th><td>4</td><td>1.06</td><td>31</td>' in page
    assert (
        f'<th scope="row">{month}</th><td>75 % (3 of 4)</td><td>0 % (0 of 4)</td><td>75 % (3 of 4)</td>'
        in page
    )
    assert (
        f'<th scope="row">{month}</th><td>5</td><td>1</td><td>1</td><td>1</td><td>1</td><td>1</td><td>0</td>'
        in page
    )
    assert "report valid" not in page  # no report text, only figures


def test_the_instance_metrics_are_for_administrators(
    project_a: Project, project_b: Project, alice: User, admin: User
) -> None:
    _history(project_a, alice)
    assert signed_in(alice).get("/desk/metrics/").status_code == 404
    page = signed_in(admin).get("/desk/metrics/?months=3")
    assert page.status_code == 200
    assert "/desk/p/agentic-tool-mesh/metrics/" in page.content.decode()
    raw = do_create_api_token(admin, acting_user=None).raw
    document = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/metrics?months=3").json()
    assert document["scope"] == "instance"
    assert document["total"]["reports"] == 6


def test_a_token_without_the_read_scope_gets_404(project_a: Project, alice: User) -> None:
    from vulndesk.accounts.permissions import Permission  # noqa: PLC0415

    raw = do_create_api_token(alice, acting_user=None, scopes=[Permission.PROJECT_POLICY_READ]).raw
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/projects/llm-d/metrics").status_code == 404


def _queries(project: Project, months: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        compute_metrics([project], scope=project.slug, months=months)
    return len(captured)


@pytest.mark.django_db
def test_the_number_of_queries_grows_with_neither_reports_nor_months(project_a: Project, alice: User) -> None:
    _history(project_a, alice)
    few = _queries(project_a, 3)
    for n in range(15):
        IntakeAttempt.objects.all().delete()  # the sender's hourly limit: this is history, not a flood
        report = a_report(project_a, title=f"more {n}")
        if n % 2:
            do_mark_valid(report, acting_user=alice)
        Report.objects.filter(pk=report.pk).update(received_at=_month_start(n % 10) + DAY)
    assert _queries(project_a, 3) == few
    assert _queries(project_a, 24) == few


# --- the worker's snapshot -------------------------------------------------------------------


def test_the_snapshot_says_what_computing_on_the_spot_says_for_every_range(
    project_a: Project, project_b: Project, alice: User
) -> None:
    _history(project_a, alice)
    a_report(project_b, title="report on the other project")
    now = timezone.now()
    assert refresh_metrics(now) == 1 + Project.objects.count()
    for months in range(1, MAX_MONTHS + 1):
        for project in (project_a, project_b, None):
            chosen = [project] if project else list(Project.objects.all())
            scope = project.slug if project else "instance"
            snapshot = current_metrics(chosen, scope=scope, project=project, months=months, now=now)
            assert _as_json(snapshot) == _as_json(
                compute_metrics(chosen, scope=scope, months=months, now=now)
            )
    default = current_metrics([project_a], scope="llm-d", project=project_a, now=now)
    assert default.generated_at == now  # from the snapshot, not computed again
    _expected_last_month(_as_json(default.months[-2]))


def test_the_page_reads_the_snapshot_and_says_how_fresh_it_is(project_a: Project, alice: User) -> None:
    _history(project_a, alice)
    taken = (timezone.now() - dt.timedelta(minutes=7)).replace(microsecond=0)
    refresh_metrics(taken)
    a_report(project_a, title="a report after the snapshot")
    client = signed_in(alice)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/desk/p/llm-d/metrics/?months=3").content.decode()
    snapshot_reads = [q for q in captured if "cases_metricssnapshot" in q["sql"]]
    assert len(snapshot_reads) == 1
    assert not [q for q in captured if 'FROM "intake_report"' in q["sql"]]  # no report row read
    assert f'Figures as of <time datetime="{taken:%Y-%m-%dT%H:%M:%S}' in page
    assert f"{taken:%Y-%m-%d %H:%M} UTC</time>" in page
    document = _api_for(alice).get("/api/v1/projects/llm-d/metrics?months=3").json()
    assert dt.datetime.fromisoformat(document["generated_at"]) == taken
    assert document["months"][-1]["reports"] == 0  # the report since is not counted yet
    refresh_metrics()
    document = _api_for(alice).get("/api/v1/projects/llm-d/metrics?months=3").json()
    assert document["months"][-1]["reports"] == 1


def test_a_snapshot_older_than_an_hour_is_not_used(project_a: Project, alice: User) -> None:
    _history(project_a, alice)
    refresh_metrics(timezone.now() - FRESH_FOR - dt.timedelta(minutes=1))
    a_report(project_a, title="a report after the snapshot")
    document = _api_for(alice).get("/api/v1/projects/llm-d/metrics?months=3").json()
    assert document["months"][-1]["reports"] == 1  # computed on the spot
    assert timezone.now() - dt.datetime.fromisoformat(document["generated_at"]) < FRESH_FOR


def test_the_sweep_asks_for_one_refresh_when_the_figures_are_old(project_a: Project) -> None:
    waiting = DBTaskResult.objects.filter(task_path=metrics_refresh.module_path, status="READY")
    sweep()
    sweep()
    assert waiting.count() == 1
    waiting.delete()
    refresh_metrics()
    sweep()
    assert waiting.count() == 0  # fresh: nothing to do
    assert MetricsSnapshot.objects.filter(scope=f"project:{project_a.pk}").exists()


def test_the_command_line_refreshes_the_figures(
    project_a: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    from vulndesk.cli import main  # noqa: PLC0415

    assert main(["metrics", "refresh"]) == 0
    assert "Metrics refreshed for" in capsys.readouterr().out
    assert MetricsSnapshot.objects.filter(scope="instance").exists()


def _api_for(user: User) -> Client:
    raw = do_create_api_token(user, acting_user=None).raw
    return Client(headers={"Authorization": f"Bearer {raw}"})
