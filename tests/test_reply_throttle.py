"""A reporter's replies are limited per report and per hour, and the team's notices are batched."""

from __future__ import annotations

import datetime as dt
import json
import re

from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from vulndesk.accounts.models import User
from vulndesk.cases.models import Message
from vulndesk.cases.reply_notices import send_due_reply_notices
from vulndesk.intake.models import Report
from vulndesk.intake.replies import reply_address
from vulndesk.notify.models import OutboundEmail

from .test_smtp_intake import intake, mail, only_report, plain, send, start_intake

__all__ = ["intake", "start_intake"]  # the real SMTP intake, as test_smtp_intake starts it


def _report_with_link(client: Client) -> tuple[Report, str]:
    payload = json.dumps({"title": "t", "description": "d", "reporter_email": "rita@researcher.test"})
    body = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()
    return Report.objects.get(number=body["number"]), re.sub(r"^http://testserver", "", body["tracking_url"])


def _reply_notices() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind="reporter-replied").order_by("pk"))


def test_the_eleventh_reply_in_an_hour_is_refused_with_429_and_kept_in_the_box(
    client: Client, alice: User, settings: Settings
) -> None:
    settings.REPLIES_PER_REPORT_PER_HOUR = 10
    report, link = _report_with_link(client)
    for n in range(10):
        assert client.post(link, {"body": f"reply {n}"}).status_code == 302
    refused = client.post(link, {"body": "one reply too many"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    page = refused.content.decode()
    assert "Your message was not sent: too many replies to this report (at most 10 an hour)" in page
    assert ">one reply too many</textarea>" in page
    assert Message.objects.filter(report=report).count() == 10


def test_fifteen_replies_in_a_row_give_the_team_one_notice_then_one_summary(
    client: Client, alice: User, settings: Settings
) -> None:
    settings.REPLIES_PER_REPORT_PER_HOUR = 20
    report, link = _report_with_link(client)
    for n in range(15):
        assert client.post(link, {"body": f"reply {n}"}).status_code == 302
    assert len(_reply_notices()) == 1
    assert Message.objects.filter(report=report).count() == 15
    # Nothing more while the quiet period lasts; then one notice counts the other fourteen.
    assert send_due_reply_notices(timezone.now()) == 0
    later = timezone.now() + dt.timedelta(minutes=settings.REPLY_NOTICE_MINUTES, seconds=1)
    assert send_due_reply_notices(later) == 1
    assert send_due_reply_notices(later) == 0
    _, summary = _reply_notices()
    assert summary.message["to"] == ["alice@llm-d.test"]
    assert "14 new messages since the last notice" in str(summary.message["text"])
    assert "reply 3" not in json.dumps(summary.message)


def test_a_reply_after_a_quiet_period_is_told_at_once(client: Client, alice: User) -> None:
    _, link = _report_with_link(client)
    assert client.post(link, {"body": "first"}).status_code == 302
    assert send_due_reply_notices(timezone.now() + dt.timedelta(hours=1)) == 0
    assert len(_reply_notices()) == 1


def test_a_reply_by_mail_over_the_limit_gets_a_temporary_refusal_that_says_why(
    intake: int, settings: Settings
) -> None:
    settings.REPLIES_PER_REPORT_PER_HOUR = 2
    assert send(intake, plain())[0] == 250
    report = only_report()
    answers = []
    for n in range(3):
        answer = mail(subject="Re: your report", Message_ID=f"<answer-{n}@researcher.test>")
        answer.set_content(f"Answer {n}.\n")
        answers.append(send(intake, answer.as_bytes(), to=reply_address(report)))
    assert [code for code, _ in answers] == [250, 250, 450]
    assert answers[2][1].startswith("4.7.1 the reply was not accepted: too many replies to this report")
    assert Message.objects.filter(report=report).count() == 2
