"""Duplicate suggestions: a new report is ranked against its project's earlier ones by the worker.

The reports below are small labelled examples written for these tests: two describe one flaw in
other words (same function, file and endpoint), one is another flaw of the same component, one
is unrelated. They arrive through the API and the real SMTP intake; the worker's task is run as
the worker runs it, by calling the task function on the queued job.
"""

from __future__ import annotations

import json
import re
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from vulndesk import crypto
from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.duplicates.models import DuplicateSuggestion, ReportProfile
from vulndesk.duplicates.ranking import SHOWN_THRESHOLD
from vulndesk.duplicates.tasks import suggest_duplicates
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project
from vulndesk.rotation import keys_in_use

from .conftest import signed_in
from .test_smtp_intake import INTAKE_A, StartIntake, start_intake  # noqa: F401 - the real SMTP intake

ORIGINAL = {
    "title": "Path traversal in export_bundle lets a client read any file",
    "description": (
        "GET /api/v2/bundles/export?name=../../etc/passwd returns the file. export_bundle() in "
        "llm_d/bundles/export.py joins the name parameter to the bundle directory without "
        "normalising it (CWE-22). Affects 0.4.0 to 0.6.2."
    ),
}
# The same flaw, reported by someone else in their own words.
SAME_FLAW = {
    "title": "Arbitrary file read through the bundle export endpoint",
    "description": (
        "The export endpoint /api/v2/bundles/export does not sanitise ?name=, so ../ sequences "
        "escape the bundle folder: export_bundle in bundles/export.py reads whatever file is "
        "named. Seen on 0.6.2."
    ),
}
# Another flaw of the same component: it shares words, not the function or the endpoint.
SAME_COMPONENT = {
    "title": "Bundle import accepts unsigned archives",
    "description": (
        "import_bundle() in llm_d/bundles/importer.py does not check the archive's signature "
        "before unpacking it, so a bundle from anyone is loaded as trusted."
    ),
}
UNRELATED = {
    "title": "Session cookie lacks the Secure flag",
    "description": "The dashboard sets its session cookie without Secure or SameSite over plain HTTP.",
}


def _send(client: Client, report: dict[str, str]) -> Report:
    payload = json.dumps({**report, "reporter_email": "rita@researcher.test"})
    response = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return Report.objects.get(project__slug="llm-d", number=response.json()["number"])


def _run_queued_rankings() -> int:
    """What the worker does with the ranking jobs intake queued: run each, once."""
    jobs = DBTaskResult.objects.filter(task_path=suggest_duplicates.module_path, status="READY")
    ran = 0
    for job in jobs:
        suggest_duplicates.call(*job.args_kwargs["args"])
        DBTaskResult.objects.filter(pk=job.pk).update(status="SUCCESSFUL")
        ran += 1
    return ran


def test_a_report_repeating_an_earlier_one_gets_it_as_its_best_suggestion(
    client: Client, project_a: Project
) -> None:
    original = _send(client, ORIGINAL)
    _send(client, SAME_COMPONENT)
    duplicate = _send(client, SAME_FLAW)
    # Intake only queued the ranking: nothing was ranked on the intake's path.
    assert not DuplicateSuggestion.objects.exists()
    assert _run_queued_rankings() == 3

    best, *others = DuplicateSuggestion.objects.filter(report=duplicate)
    assert best.candidate == original
    assert best.score >= SHOWN_THRESHOLD
    assert "same function: export_bundle" in best.reasons
    assert any(reason.startswith("same endpoint: /api/v2/bundles/export") for reason in best.reasons)
    assert [s.candidate.number for s in others] == [2]
    assert all(s.score < SHOWN_THRESHOLD for s in others)
    # The first report of a project has nothing earlier to repeat.
    assert not DuplicateSuggestion.objects.filter(report=original).exists()


def test_another_flaw_of_the_same_component_and_an_unrelated_report_stay_below_the_threshold(
    client: Client, project_a: Project
) -> None:
    _send(client, ORIGINAL)
    other_flaw = _send(client, SAME_COMPONENT)
    unrelated = _send(client, UNRELATED)
    _run_queued_rankings()
    for report in (other_flaw, unrelated):
        scores = DuplicateSuggestion.objects.filter(report=report).values_list("score", flat=True)
        assert all(score < SHOWN_THRESHOLD for score in scores), report


def test_the_worker_sends_every_mail_before_it_ranks(client: Client, project_a: Project) -> None:
    _send(client, ORIGINAL)
    _send(client, SAME_FLAW)
    # The worker takes ready jobs in this order (django-tasks-db's own ordering of ready rows).
    order = list(DBTaskResult.objects.ready().values_list("task_path", flat=True))
    rankings = [i for i, path in enumerate(order) if path == suggest_duplicates.module_path]
    assert len(rankings) == 2
    assert len(order) > 2, "the acknowledgements and the team's notices are queued too"
    assert rankings == list(range(len(order) - 2, len(order))), order


def test_ranking_twice_leaves_one_set_of_suggestions(client: Client, project_a: Project) -> None:
    _send(client, ORIGINAL)
    duplicate = _send(client, SAME_FLAW)
    _run_queued_rankings()
    first = list(DuplicateSuggestion.objects.filter(report=duplicate).values_list("candidate", "score"))
    events = AuditEvent.objects.filter(action="report.duplicates_suggested", target_id=str(duplicate.pk))
    assert events.count() == 1
    # A retried job, or two workers on the same job: the same suggestions, not twice as many.
    assert suggest_duplicates.call(duplicate.pk) == 1
    assert suggest_duplicates.call(duplicate.pk) == 1
    again = list(DuplicateSuggestion.objects.filter(report=duplicate).values_list("candidate", "score"))
    assert again == first
    assert events.count() == 1, "a ranking that finds what is stored records nothing"
    assert ReportProfile.objects.filter(report=duplicate).count() == 1
    assert suggest_duplicates.call(987_654) == 0, "a job for a report deleted since is a no-op"


def test_a_mailed_report_is_ranked_against_the_api_reports(
    start_intake: StartIntake,  # noqa: F811 - the fixture imported above
    project_a: Project,
) -> None:
    port = start_intake()
    original = _send(Client(), ORIGINAL)
    message = EmailMessage(policy=SMTP)
    message["From"] = "Sam Finder <sam@finder.test>"
    message["To"] = INTAKE_A
    message["Subject"] = SAME_FLAW["title"]
    message["Message-ID"] = "<same-flaw@finder.test>"
    message.set_content(SAME_FLAW["description"])
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message)
    mailed = Report.objects.get(project=project_a, number=2)
    assert mailed.channel == "email"
    _run_queued_rankings()
    best = DuplicateSuggestion.objects.get(report=mailed, rank=1)
    assert best.candidate == original
    assert best.score >= SHOWN_THRESHOLD


def test_the_team_sees_the_suggestions_and_the_chip_only_above_the_threshold(
    client: Client, project_a: Project, alice: User
) -> None:
    _send(client, ORIGINAL)
    _send(client, SAME_COMPONENT)
    duplicate = _send(client, SAME_FLAW)
    unrelated = _send(client, UNRELATED)
    _run_queued_rankings()
    team = signed_in(alice)
    queue = team.get("/desk/reports/").content.decode()
    chips = re.findall(r'reports/(\d+)/">.*?</a>(.*?)</td>', queue)
    by_number = {int(number): cell for number, cell in chips}
    assert "possible duplicate of #1" in by_number[duplicate.number]
    assert "possible duplicate" not in by_number[unrelated.number]
    assert "possible duplicate" not in by_number[2]

    page = team.get(f"/desk/p/llm-d/reports/{duplicate.number}/").content.decode()
    assert "Possible duplicates" in page
    assert "likely a duplicate of #1" in page
    assert "same function: export_bundle" in page
    assert f"Mark #{duplicate.number} a duplicate of #1" in page


def test_marking_a_duplicate_from_a_suggestion_uses_the_triage_decision(
    client: Client, project_a: Project, alice: User
) -> None:
    original = _send(client, ORIGINAL)
    duplicate = _send(client, SAME_FLAW)
    _run_queued_rankings()
    team = signed_in(alice)
    page = team.get(f"/desk/p/llm-d/reports/{duplicate.number}/").content.decode()
    section = page.split('id="duplicates"', 1)[1]
    form = re.search(r'action="([^"]+)"[^>]*>.*?name="duplicate_of" value="(\d+)"', section, re.DOTALL)
    assert form, "the suggestion carries a mark-duplicate form"
    response = team.post(form.group(1), {"decision": "duplicate", "duplicate_of": form.group(2)}, follow=True)
    assert "Decision recorded" in response.content.decode()
    duplicate.refresh_from_db()
    assert duplicate.rm_state == "invalid"
    assert duplicate.triage.duplicate_of == original


def test_a_reporter_never_sees_the_suggestions(client: Client, project_a: Project) -> None:
    _send(client, ORIGINAL)
    payload = json.dumps({**SAME_FLAW, "reporter_email": "sam@finder.test"})
    receipt = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()
    _run_queued_rankings()
    tracking = client.get(receipt["tracking_url"].removeprefix("http://testserver")).content.decode()
    assert SAME_FLAW["title"] in tracking  # their own report
    assert ORIGINAL["title"] not in tracking
    assert "duplicate" not in tracking.lower()


def _raw_database_text() -> str:
    tables = ("duplicates_reportprofile", "duplicates_duplicatesuggestion")
    with connection.cursor() as cursor:
        rows = []
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            rows += [str(row) for row in cursor.fetchall()]
    return "\n".join(rows)


def test_profiles_and_reasons_are_sealed_at_rest_and_rotate_with_the_keys(
    client: Client, project_a: Project
) -> None:
    _send(client, ORIGINAL)
    _send(client, SAME_FLAW)
    _run_queued_rankings()
    raw = _raw_database_text()
    assert raw, "the worker stored profiles and suggestions"
    for token in ("export_bundle", "bundles/export", "passwd", "traversal", "CWE-22", "sanitise"):
        assert token not in raw, f"{token!r} is in the database in clear"


@pytest.fixture
def fresh_keyring() -> Iterator[None]:
    crypto.keyring.cache_clear()
    yield
    crypto.keyring.cache_clear()  # keys from settings this test changed must not outlive it


@pytest.mark.usefixtures("fresh_keyring")
def test_profiles_and_reasons_rotate_with_the_encryption_key(
    client: Client, project_a: Project, settings: Settings
) -> None:
    from vulndesk.cli import main  # noqa: PLC0415

    old, new = "old:" + "o" * 40, "new:" + "n" * 40
    settings.ENCRYPTION_KEYS = old
    crypto.keyring.cache_clear()
    _send(client, ORIGINAL)
    duplicate = _send(client, SAME_FLAW)
    _run_queued_rankings()
    settings.ENCRYPTION_KEYS = f"{new},{old}"
    crypto.keyring.cache_clear()
    assert main(["keys", "rotate"]) == 0
    assert set(keys_in_use()) == {"new"}
    settings.ENCRYPTION_KEYS = new  # the old key is gone: everything still opens
    crypto.keyring.cache_clear()
    try:
        assert (
            "same function: export_bundle"
            in DuplicateSuggestion.objects.get(report=duplicate, rank=1).reasons
        )
        assert "export_bundle" in ReportProfile.objects.get(report=duplicate).profile.marks["function"]
    finally:
        crypto.keyring.cache_clear()


def test_a_reindex_rebuilds_the_profiles(client: Client, project_a: Project) -> None:
    from vulndesk.cli import main  # noqa: PLC0415

    _send(client, ORIGINAL)
    _run_queued_rankings()
    ReportProfile.objects.all().delete()
    assert main(["keys", "reindex"]) == 0
    assert ReportProfile.objects.count() == 1


@pytest.mark.parametrize("persona", ["bob", "outsider"])
def test_another_projects_team_cannot_reach_the_case_page_with_the_suggestions(
    client: Client, project_a: Project, persona: str, request: pytest.FixtureRequest
) -> None:
    _send(client, ORIGINAL)
    duplicate = _send(client, SAME_FLAW)
    _run_queued_rankings()
    other: User = request.getfixturevalue(persona)
    response = signed_in(other).get(f"/desk/p/llm-d/reports/{duplicate.number}/")
    assert response.status_code == 404
    assert b"export_bundle" not in response.content
