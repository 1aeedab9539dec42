"""Every change to a case, as do_* actions: here the conversation between the reporter and the
team; triage decisions, the fix, acknowledging and closing in this package's modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from vulndesk.audit.actions import JsonScalar, record_event
from vulndesk.cases import emails
from vulndesk.cases.evidence import record_evidence
from vulndesk.cases.models import Author, InfoRequest, Message, Via, Visibility
from vulndesk.cases.reply_notices import tell_team_of_reply
from vulndesk.intake.submission import SubmissionError, clean_text
from vulndesk.intake.throttle import check_and_count
from vulndesk.notify.actions import queue_email

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report

MAX_MESSAGE = 100_000


def do_record_report_read(report: Report, *, via: Via, acting_user: User) -> None:
    """Reading a report's contents is an audited event: who read which report, when, and whether
    on the case page or through the API."""
    details: dict[str, JsonScalar | list[str]] | None = {"via": str(via)} if via != Via.WEB else None
    with transaction.atomic():
        record_event(
            "report.read", acting_user=acting_user, project=report.project, target=report, details=details
        )


def _checked_body(body: str) -> str:
    cleaned = clean_text(body)
    if not cleaned:
        raise SubmissionError({"body": "is required"})
    if len(cleaned) > MAX_MESSAGE:
        raise SubmissionError({"body": f"is too long (the limit is {MAX_MESSAGE} characters)"})
    return cleaned


def do_post_reporter_reply(report: Report, body: str, *, via: Via, acting_user: User | None) -> Message:
    """The reporter answers, from the tracking page or by replying to our mail."""
    text = _checked_body(body)
    with transaction.atomic():
        # Counted with the message, so parallel replies cannot all pass (intake/throttle.py).
        check_and_count(
            "reply", str(report.uid), settings.REPLIES_PER_REPORT_PER_HOUR, counted="replies to this report"
        )
        message = Message(report=report, author_kind=Author.REPORTER, via=via, visibility=Visibility.SHARED)
        message.body = text
        message.save()
        InfoRequest.objects.filter(report=report, answered_at__isnull=True).update(
            answered_at=message.created_at
        )
        record_evidence(report)  # an answer may bring the steps or the proof of concept asked for
        record_event(
            "message.reporter_replied",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"via": str(via)},
        )
        tell_team_of_reply(report, message.created_at)
    return message


def do_post_team_message(report: Report, body: str, *, internal: bool, acting_user: User) -> Message:
    """A team member writes to the reporter, or leaves an internal note for the team."""
    text = _checked_body(body)
    visibility = Visibility.INTERNAL if internal else Visibility.SHARED
    with transaction.atomic():
        message = Message(
            report=report, author_kind=Author.TEAM, author=acting_user, via=Via.WEB, visibility=visibility
        )
        message.body = text
        message.save()
        record_event(
            "message.team_posted",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"visibility": str(visibility)},
        )
        if not internal and report.reporter.get("email"):
            queue_email(emails.team_replied(report), project=report.project, report=report)
    return message
