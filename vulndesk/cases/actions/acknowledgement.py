"""Acknowledging a report: the team tells the reporter it has the report, which stops the first clock.

The message starts from a template: the policy's own (``reporter_guidance.acknowledgement``) or
vulndesk's default. The team may edit it before sending. A triage decision made first already
counts as the acknowledgement (``cases/clocks.py``), so a decided report is not acknowledged again.
"""

from __future__ import annotations

from string import Template
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.cases import emails
from vulndesk.cases.actions.triage import triage_to_change
from vulndesk.cases.models import Author, Message, Via, Visibility
from vulndesk.cases.vultron import RMState
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError, clean_text
from vulndesk.notify.actions import queue_email

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.cases.models import Triage

MAX_ACKNOWLEDGEMENT = 10_000

DEFAULT_ACKNOWLEDGEMENT = (
    "Thank you for your report #$number to $project. The $security_team has received it and will "
    "look at it; you will hear from us again as the report moves through triage, the fix and its "
    "release. Please keep the issue private until we agree on its disclosure."
)


def acknowledgement_text(report: Report) -> str:
    """The message the team starts from. ``string.Template`` names only: a policy's template
    cannot reach attributes the way ``str.format`` would let it."""
    policy = report.project.policy
    template = policy.reporter_guidance.acknowledgement or DEFAULT_ACKNOWLEDGEMENT
    return Template(template).safe_substitute(
        number=report.number, project=policy.project.name, security_team=policy.project.security_team
    )


class AlreadyAcknowledged(SubmissionError):  # noqa: N818 - reads as the condition, as Throttled
    """The report's state, not the request, stands in the way: the API answers it as a conflict."""


def already_acknowledged(report: Report, triage: Triage) -> bool:
    return triage.acknowledged_at is not None or RMState(report.rm_state) != RMState.RECEIVED


def do_acknowledge_report(report: Report, message: str = "", *, acting_user: User) -> Triage:
    """Send the acknowledgement to the reporter (an empty message sends the template's text)."""
    text = clean_text(message) or acknowledgement_text(report)
    if len(text) > MAX_ACKNOWLEDGEMENT:
        raise SubmissionError({"message": f"is longer than {MAX_ACKNOWLEDGEMENT} characters"})
    with transaction.atomic():
        locked = Report.objects.select_for_update().select_related("project").get(pk=report.pk)
        triage = triage_to_change(locked)
        if already_acknowledged(locked, triage):
            raise AlreadyAcknowledged({"message": "the report is already acknowledged"})
        note = Message(
            report=locked,
            author_kind=Author.TEAM,
            author=acting_user,
            via=Via.WEB,
            visibility=Visibility.SHARED,
        )
        note.body = text
        note.save()
        triage.acknowledged_at, triage.acknowledgement = timezone.now(), note
        triage.save(update_fields=["acknowledged_at", "acknowledgement"])
        record_event("report.acknowledged", acting_user=acting_user, project=locked.project, target=locked)
        if locked.reporter.get("email"):
            queue_email(emails.team_replied(locked), project=locked.project, report=locked)
    return triage
