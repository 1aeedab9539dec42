"""Report numbers count up per project, and taking one never waits for another report to commit."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections

from vulndesk.intake import actions as intake_actions
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.models import Channel, Report, ReportCounter
from vulndesk.intake.spam import spam_reason
from vulndesk.intake.submission import Submission
from vulndesk.projects.models import Project

on_postgresql = pytest.mark.skipif(
    str(django_settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3"),
    reason="SQLite runs one writer at a time by itself; its in-memory test database takes no threads",
)


def _receive(project: Project, title: str) -> Report:
    return do_receive_report(
        project, Submission(title=title, description="d"), channel=Channel.API, acting_user=None
    ).report


def test_numbers_go_on_from_the_highest_given_before_the_counter(project_a: Project) -> None:
    first = _receive(project_a, "first")
    ReportCounter.objects.all().delete()  # as on an instance upgraded with reports already in it
    assert [first.number, _receive(project_a, "second").number] == [1, 2]
    assert ReportCounter.objects.get(project=project_a).last_number == 2


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_reports_sent_in_parallel_get_one_number_each(project_a: Project) -> None:
    start = threading.Barrier(8)

    def send(n: int) -> None:
        start.wait()
        try:
            _receive(project_a, f"t{n}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(Report.objects.values_list("number", flat=True)) == list(range(1, 9))


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_report_still_being_stored_does_not_hold_up_the_next_ones_number(
    project_a: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During a flood each report waited for the one before it to commit (its audit event, its
    mail): the numbering lock was held for the whole transaction. Now it is a transaction of its own."""
    storing, resume = threading.Event(), threading.Event()

    def pause_the_first(submission: Submission) -> str:
        if submission.title == "held":
            storing.set()
            resume.wait(10)
        return spam_reason(submission)

    # The spam check runs while the report is being stored, after its number was taken.
    monkeypatch.setattr(intake_actions, "spam_reason", pause_the_first)

    def receive_held() -> None:
        try:
            _receive(project_a, "held")
        finally:
            connections.close_all()

    held = threading.Thread(target=receive_held)
    held.start()
    try:
        assert storing.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # fail, not hang, if it still waited
        second = _receive(project_a, "second")
    finally:
        resume.set()
        held.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert second.number == 2
    assert Report.objects.get(number=1).title == "held"
