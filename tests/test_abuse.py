from __future__ import annotations

import json
import threading
from email import message_from_string

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.test import Client
from pytest_django.fixtures import Settings

from vulndesk.accounts.models import User
from vulndesk.audit.actions import record_event
from vulndesk.intake import actions as intake_actions
from vulndesk.intake.actions import Provenance, do_receive_report, do_release_from_quarantine
from vulndesk.intake.models import Channel, IntakeAttempt, Report
from vulndesk.intake.spam import spam_reason
from vulndesk.intake.submission import Submission
from vulndesk.intake.throttle import Throttled
from vulndesk.notify.models import OutboundEmail, OutboundStatus
from vulndesk.notify.tasks import deliver
from vulndesk.projects.models import Project

from .conftest import Relay

SPAM = "Best casino bonus " + " ".join(f"https://spam.example/{n}" for n in range(8))


def _post(client: Client, **fields: str) -> tuple[int, dict[str, object]]:
    payload = {"title": "t", "description": "d", **fields}
    response = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    return response.status_code, response.json()


def test_one_address_sending_too_many_reports_is_refused_with_a_clear_429(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 3
    assert [_post(client)[0] for _ in range(3)] == [201, 201, 201]
    status, body = _post(client)
    assert status == 429
    assert "too many reports from this network address (at most 3 an hour)" in str(body["detail"])
    assert Report.objects.count() == 3


def test_the_web_form_says_why_it_refused_and_when_to_retry(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 1
    _post(client)
    page = client.get("/p/llm-d/report/").content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    response = client.post(
        "/p/llm-d/report/", {"form_token": token, "title": "t", "description": "d", "credit": "anonymous"}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "This report was not stored" in response.content.decode()


def test_one_sender_is_limited_whatever_the_address(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.INTAKE_PER_SENDER_PER_HOUR = 2
    statuses = [_post(client, reporter_email="same@researcher.test")[0] for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert _post(client, reporter_email="other@researcher.test")[0] == 201


def test_rate_limit_buckets_never_hold_an_address_in_clear(client: Client, project_a: Project) -> None:
    _post(client, reporter_email="rita@researcher.test")
    buckets = list(IntakeAttempt.objects.values_list("bucket", flat=True))
    assert buckets
    assert all("researcher" not in b and "127.0.0.1" not in b for b in buckets)


def test_a_retry_with_an_idempotency_key_is_not_counted_against_the_limit(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 1
    payload = json.dumps({"title": "t", "description": "d"})
    for _ in range(3):
        response = client.post(
            "/api/v1/projects/llm-d/reports",
            payload,
            content_type="application/json",
            headers={"Idempotency-Key": "same"},
        )
        assert response.status_code in {200, 201}


def test_a_spammy_report_is_held_in_quarantine_not_dropped(client: Client, alice: User) -> None:
    status, _ = _post(client, description=SPAM)
    assert status == 201
    report = Report.objects.get()
    assert report.quarantined
    assert report.quarantine_reason == "spam vocabulary"
    assert not OutboundEmail.objects.filter(kind="new-report-team").exists()


def test_releasing_a_report_from_quarantine_tells_the_team(client: Client, alice: User) -> None:
    _post(client, description=SPAM)
    report = do_release_from_quarantine(Report.objects.get(), acting_user=alice)
    assert not report.quarantined
    assert OutboundEmail.objects.filter(kind="new-report-team").count() == 1


def _deliver_everything_queued() -> None:
    """What the worker does with every mail in the outbox, held ones included (they must refuse)."""
    for uid in OutboundEmail.objects.values_list("uid", flat=True):
        deliver(str(uid))


def test_a_quarantined_report_sends_no_acknowledgement_to_its_address(
    client: Client, project_a: Project, relay: Relay
) -> None:
    relay.start()
    status, _ = _post(client, description=SPAM, reporter_email="stranger@victim.test")
    assert status == 201
    acknowledgement = OutboundEmail.objects.get(kind="report-received")
    assert acknowledgement.status == OutboundStatus.HELD
    _deliver_everything_queued()
    assert relay.received == []


def test_releasing_a_quarantined_report_sends_its_acknowledgement_then(
    client: Client, alice: User, relay: Relay
) -> None:
    relay.start()
    _, receipt = _post(client, description=SPAM, reporter_email="rita@researcher.test")
    _deliver_everything_queued()
    assert relay.received == []
    do_release_from_quarantine(Report.objects.get(), acting_user=alice)
    _deliver_everything_queued()
    delivered = [message_from_string(text) for text in relay.received]
    (acknowledgement,) = (m for m in delivered if "We received your security report" in str(m["Subject"]))
    assert acknowledgement["To"] == "rita@researcher.test"
    # It carries the link made with the report, the one the submitter was shown.
    text = next(part for part in acknowledgement.walk() if part.get_content_type() == "text/plain")
    body = text.get_payload(decode=True)
    assert isinstance(body, bytes)
    token = str(receipt["tracking_url"]).split("/t/")[1]
    assert f"/t/{token}" in body.decode()


def test_a_report_the_spam_check_let_through_is_acknowledged_at_once(
    client: Client, project_a: Project, relay: Relay
) -> None:
    relay.start()
    _post(client, reporter_email="unverified@researcher.test")
    _deliver_everything_queued()
    assert any("We received your security report" in text for text in relay.received)


def test_mail_is_not_refused_for_form_fields_it_cannot_carry(project_a: Project) -> None:
    document = project_a.policy.as_json()
    document["reporter_guidance"]["fields"] = [{"name": "reproduction_steps", "required": True}]
    from vulndesk.projects.actions import do_update_policy  # noqa: PLC0415
    from vulndesk.projects.policy import validate_policy  # noqa: PLC0415

    project = do_update_policy(project_a, validate_policy(document), acting_user=None)
    received = do_receive_report(
        project,
        Submission(title="by mail", description="steps inside"),
        channel=Channel.EMAIL,
        acting_user=None,
    )
    assert received.created


def test_the_reporters_email_must_be_one_plain_address(client: Client, project_a: Project) -> None:
    for address in ("x,victim@evil.test", "a;b@x.test", "postmaster(x@researcher.test", '"r"@x.test'):
        status, body = _post(client, reporter_email=address)
        assert status == 422, address
        assert body["problems"] == {"reporter_email": "is not an email address"}


def test_a_spam_reason_names_the_rule_never_the_reports_words(client: Client, alice: User) -> None:
    _post(client, description=SPAM)
    assert Report.objects.get().quarantine_reason == "spam vocabulary"


def test_a_leaked_link_cannot_be_replaced_over_and_over(client: Client, project_a: Project) -> None:
    import re  # noqa: PLC0415

    _, body = _post(client, reporter_email="rita@researcher.test")
    link = re.sub(r"^http://testserver", "", str(body["tracking_url"]))
    for _ in range(3):
        page = client.post(link, {"action": "replace_link"}).content.decode()
        link = re.search(r'href="http://testserver(/t/[^"]+/)"', page).group(1)  # type: ignore[union-attr]
    refused = client.post(link, {"action": "replace_link"})
    assert refused.status_code == 429
    assert client.get(link).status_code == 200, "the last link still works"


@pytest.mark.skipif(
    str(django_settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3"),
    reason="SQLite runs one writer at a time by itself; its in-memory test database takes no threads",
)
@pytest.mark.django_db(transaction=True)
def test_reports_sent_in_parallel_from_one_address_are_held_to_the_limit(
    project_a: Project, settings: Settings
) -> None:
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 3
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def send(number: int) -> None:
        start.wait()
        try:
            do_receive_report(
                project_a,
                Submission(title=f"t{number}", description="d", reporter_email=f"p{number}@x.test"),
                channel=Channel.API,
                acting_user=None,
                provenance=Provenance(client_address="203.0.113.5"),
            )
            outcomes.append("accepted")
        except Throttled:
            outcomes.append("throttled")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted"] * 3 + ["throttled"] * 5
    assert Report.objects.count() == 3


@pytest.mark.skipif(
    str(django_settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3"),
    reason="SQLite runs one writer at a time by itself; its in-memory test database takes no threads",
)
@pytest.mark.django_db(transaction=True)
def test_an_audited_change_never_waits_for_a_report_being_numbered(
    project_a: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report holds its project's numbering lock until it commits; an audited change to that
    project meanwhile (its event references the project row) must not wait for it. It did, while
    holding the audit chain the report then waited for: a deadlock, found with two web nodes."""
    numbering, resume = threading.Event(), threading.Event()

    def pause_while_numbering(submission: Submission) -> str:
        numbering.set()
        resume.wait(10)
        return spam_reason(submission)

    # The spam check runs under the numbering lock: a place to hold the report there.
    monkeypatch.setattr(intake_actions, "spam_reason", pause_while_numbering)

    def receive() -> None:
        try:
            do_receive_report(
                project_a, Submission(title="t", description="d"), channel=Channel.API, acting_user=None
            )
        finally:
            connections.close_all()

    report = threading.Thread(target=receive)
    report.start()
    try:
        assert numbering.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            record_event("project.checked", acting_user=None, project=project_a, details={})
    finally:
        resume.set()
        report.join()
    assert Report.objects.count() == 1
