"""Receiving a report: the one action every intake channel calls."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from vulndesk.audit.actions import record_event
from vulndesk.intake import emails
from vulndesk.intake.models import Channel, Report, ReportAttachment, SignatureStatus
from vulndesk.intake.submission import Submission, check_submission, clean_text, safe_filename
from vulndesk.notify.actions import queue_email
from vulndesk.projects.models import Project

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


@dataclass(frozen=True)
class Received:
    report: Report
    tracking_token: str | None  # None when the report already existed (a retry): no new link
    created: bool


@dataclass(frozen=True)
class Provenance:
    """How a report arrived, beyond its channel: keys that make a retry find the first report."""

    idempotency_key: str = ""
    message_id: str = ""
    was_encrypted: bool = False
    signature: str = SignatureStatus.NONE
    signer_fingerprint: str = ""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def reporter_index(email: str) -> str:
    """An HMAC of the address: equal for the same reporter, useless without the secret key."""
    if not email:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def do_receive_report(
    project: Project,
    submission: Submission,
    *,
    channel: Channel,
    acting_user: User | None,
    provenance: Provenance | None = None,
) -> Received:
    """Store a report and queue its acknowledgement in one transaction.

    A retry with the same Idempotency-Key (API) or Message-ID (SMTP) returns the first report.
    """
    origin = provenance or Provenance()
    check_submission(submission, project.policy, require_guidelines=channel == Channel.WEB)
    existing = _find_retry(project, origin)
    if existing is not None:
        return Received(existing, None, created=False)
    try:
        return _create(project, submission, channel=channel, acting_user=acting_user, origin=origin)
    except IntegrityError:
        # A concurrent retry won the race on the unique key: answer with its report.
        existing = _find_retry(project, origin)
        if existing is None:
            raise
        return Received(existing, None, created=False)


def _find_retry(project: Project, origin: Provenance) -> Report | None:
    if origin.idempotency_key:
        return Report.objects.filter(
            project=project, idempotency_digest=digest(origin.idempotency_key)
        ).first()
    if origin.message_id:
        return Report.objects.filter(project=project, message_id_digest=digest(origin.message_id)).first()
    return None


def _create(
    project: Project,
    submission: Submission,
    *,
    channel: Channel,
    acting_user: User | None,
    origin: Provenance,
) -> Received:
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        number = (Report.objects.filter(project=locked).aggregate(n=Max("number"))["n"] or 0) + 1
        report = Report(
            project=locked,
            number=number,
            channel=channel,
            reporter_index=reporter_index(submission.reporter_email),
            tracking_digest=digest(token),
            idempotency_digest=digest(origin.idempotency_key) if origin.idempotency_key else None,
            message_id_digest=digest(origin.message_id) if origin.message_id else None,
            was_encrypted=origin.was_encrypted,
            signature=origin.signature,
            signer_fingerprint=origin.signer_fingerprint,
        )
        _seal_contents(report, submission)
        report.save()
        _store_attachments(report, submission)
        record_event(
            "report.received",
            acting_user=acting_user,
            project=locked,
            target=report,
            details={"channel": str(channel), "number": number},
        )
        _announce(report, submission, token)
    return Received(report, token, created=True)


def _seal_contents(report: Report, submission: Submission) -> None:
    report.title = clean_text(submission.title)
    report.fields = {
        "description": clean_text(submission.description),
        **{name: clean_text(value) for name, value in submission.fields.items() if value.strip()},
    }
    report.reporter = {
        "name": "" if submission.anonymous else submission.reporter_name.strip(),
        "affiliation": "" if submission.anonymous else submission.reporter_affiliation.strip(),
        "email": submission.reporter_email.strip(),
        "anonymous": submission.anonymous,
        "credit": submission.credit,
        "credit_handle": submission.credit_handle.strip(),
    }


def _store_attachments(report: Report, submission: Submission) -> None:
    for attachment in submission.attachments:
        stored = ReportAttachment(
            report=report, content_type=attachment.content_type[:100], size=len(attachment.content)
        )
        stored.filename = safe_filename(attachment.filename)
        stored.content = attachment.content
        stored.save()


def _announce(report: Report, submission: Submission, token: str) -> None:
    if submission.reporter_email:
        queue_email(emails.report_received(report, token), project=report.project)
    team = emails.new_report_for_team(report)
    if team.to:
        queue_email(team, project=report.project)
