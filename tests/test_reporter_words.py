"""What the reporter reads at each stage of their case, on the tracking page and in the status mails:
a fix planned, a fix ready, the fix released, published (with the advisory's address), closed; and
their answers in the order the policy asked for them."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.cases.actions.case_events import do_record_case_event
from vulndesk.cases.actions.fixes import do_set_fix_plan
from vulndesk.cases.actions.triage import do_accept, do_mark_valid
from vulndesk.cases.vultron import CaseEvent
from vulndesk.cases.wording import CaseFacts, reporter_status
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.submission import Submission
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project


def _report(client: Client) -> tuple[Report, str]:
    payload = json.dumps({"title": "t", "description": "d", "reporter_email": "rita@researcher.test"})
    body = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()
    return Report.objects.get(number=body["number"]), re.sub(r"^http://testserver", "", body["tracking_url"])


def _status_on(client: Client, link: str) -> str:
    page = client.get(link).content.decode()
    found = re.search(r"<dt>Status</dt><dd>(.*?)</dd>", page, re.DOTALL)
    assert found
    return re.sub(r"<[^>]+>", "", found.group(1))


def _last_status_mail() -> dict[str, object]:
    mail = OutboundEmail.objects.filter(kind="status-changed").order_by("-pk").first()
    assert mail is not None
    return mail.message


def _published(report: Report, author: User, reviewer: User) -> str:
    advisory = do_create_advisory(report.project, acting_user=author, report=report)
    content = AdvisoryContent(
        title="Public", summary="S", affected=[{"package": "pkg:pypi/x", "affected": "<1.0"}]
    )
    do_edit_draft(advisory, content, acting_user=author)
    do_approve_draft(advisory, acting_user=reviewer)
    do_publish_advisory(advisory, acting_user=reviewer)
    advisory.refresh_from_db()
    return advisory.public_id


@pytest.mark.parametrize(
    ("rm_state", "facts", "words"),
    [
        ("received", CaseFacts(), "received, waiting for the security team's first look"),
        ("valid", CaseFacts(), "confirmed as a vulnerability"),
        ("accepted", CaseFacts(), "accepted: a fix is being planned"),
        ("accepted", CaseFacts(fix_planned=True), "accepted: a fix is planned"),
        ("accepted", CaseFacts("VFdpxa", fix_planned=True), "fixed: the fix is ready and not released yet"),
        ("accepted", CaseFacts("VFDpxa"), "fixed: the fix is released, and the advisory follows"),
        ("accepted", CaseFacts("VFDPxa", published=True), "published"),
        ("accepted", CaseFacts("VfdPxa", published=True), "published"),
        ("closed", CaseFacts("VFDPxa", published=True), "published"),
        ("closed", CaseFacts(), "closed"),
        ("deferred", CaseFacts("VFdpxa"), "on hold"),
    ],
)
def test_the_words_follow_the_stage_not_only_the_report_state(
    rm_state: str, facts: CaseFacts, words: str
) -> None:
    assert reporter_status(rm_state, facts) == words


def test_the_reporter_reads_each_stage_on_the_page_and_in_the_mail(
    client: Client, alice: User, admin: User
) -> None:
    report, link = _report(client)
    report = do_accept(do_mark_valid(report, acting_user=alice), acting_user=alice)
    assert _status_on(client, link) == "Accepted: a fix is being planned"

    do_set_fix_plan(
        report, timeline="Patch release next week.", mitigations="", fix_available_at=None, acting_user=alice
    )
    assert _status_on(client, link) == "Accepted: a fix is planned"

    do_record_case_event(report, CaseEvent.FIX_READY, acting_user=alice)
    assert _status_on(client, link) == "Fixed: the fix is ready and not released yet"
    mail = _last_status_mail()
    assert "fixed: the fix is ready and not released yet" in str(mail["subject"])
    assert "being planned" not in json.dumps(mail)

    do_record_case_event(report, CaseEvent.FIX_DEPLOYED, acting_user=alice)
    assert _status_on(client, link) == "Fixed: the fix is released, and the advisory follows"

    # Published with the fix already deployed: the case closes at once (A -> C).
    identifier = _published(report, alice, admin)
    assert _status_on(client, link) == f"Published: {identifier} · the case is closed"
    page = client.get(link).content.decode()
    assert f'href="http://testserver/p/llm-d/advisories/{identifier}/">{identifier}</a>' in page
    mail = OutboundEmail.objects.filter(kind="advisory-published").latest("pk").message
    assert f"http://testserver/p/llm-d/advisories/{identifier}/" in str(mail["text"])


def test_a_withdrawn_advisory_is_not_offered_as_published(client: Client, alice: User, admin: User) -> None:
    report, link = _report(client)
    report = do_accept(do_mark_valid(report, acting_user=alice), acting_user=alice)
    identifier = _published(report, alice, admin)
    assert _status_on(client, link) == f"Published: {identifier}"
    report.advisories.update(state="withdrawn", withdrawn_at=timezone.now())
    assert _status_on(client, link) == "Accepted: a fix is being planned"


def test_a_fix_available_date_counts_as_a_plan(client: Client, alice: User) -> None:
    report, link = _report(client)
    report = do_accept(do_mark_valid(report, acting_user=alice), acting_user=alice)
    do_set_fix_plan(
        report,
        timeline="",
        mitigations="",
        fix_available_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC),
        acting_user=alice,
    )
    assert _status_on(client, link) == "Accepted: a fix is planned"


def test_the_reporters_answers_read_in_the_policys_order_not_alphabetically(
    client: Client, project_b: Project
) -> None:
    policy_order = [f.name.value for f in project_b.policy.reporter_guidance.fields]
    answers = {name: f"answer to {name}" for name in policy_order if name not in {"identity", "affiliation"}}
    assert list(answers) != sorted(answers), "the example policy's order is not alphabetical"
    received = do_receive_report(
        project_b,
        Submission(title="t", description="what happened", reporter_email="r@x.test", fields=answers),
        channel=Channel.API,
        acting_user=None,
    )
    page = client.get(f"/t/{received.tracking_token}/").content.decode()
    shown = re.findall(r'<pre class="report-text">answer to (\w+)</pre>', page)
    assert shown == list(answers)
    assert page.index("what happened") < page.index("answer to")
