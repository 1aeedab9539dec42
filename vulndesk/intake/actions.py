"""Receiving a report: the one action every intake channel calls."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.intake import emails, hooks
from vulndesk.intake.filenames import safe_filename
from vulndesk.intake.models import Channel, Report, ReportAttachment, ReportCounter
from vulndesk.intake.search import index_report
from vulndesk.intake.spam import spam_reason
from vulndesk.intake.submission import Submission, check_submission, clean_text
from vulndesk.intake.throttle import check_and_count
from vulndesk.notify.actions import queue_email, release_held_email
from vulndesk.notify.models import NoticeKind, OutboxPriority
from vulndesk.notify.preferences import queue_team_notice
from vulndesk.notify.threads import new_message_id, safe_message_id
from vulndesk.openpgp.actions import store_reporter_key
from vulndesk.openpgp.models import SignatureStatus
from vulndesk.projects.models import Project

if TYPE_CHECKING:
    from vulndesk.accounts.models import User

# A sender's first reports of the hour are acknowledged in turn; later ones wait behind other
# mail (OutboxPriority.BULK), so a flood's thousand acknowledgements delay nobody else's.
ACKNOWLEDGED_IN_TURN = 3


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
    client_address: str = ""  # the network peer, for rate limits; never stored in clear
    # The OpenPGP public key that came with the message (armored, public parts only) and its
    # fingerprint: mail to the reporter is then encrypted to it.
    reporter_public_key: str = ""
    reporter_key_fingerprint: str = ""


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
    # Email is free text: it cannot fill the form's fields, so the policy's required fields and
    # the guidelines checkbox apply to the web form (and fields to the API), not to mail.
    check_submission(
        submission,
        project.policy,
        require_guidelines=channel == Channel.WEB,
        require_fields=channel != Channel.EMAIL,
    )
    existing = _find_retry(project, submission, origin)
    if existing is not None:
        return Received(existing, None, created=False)
    try:
        return _create(project, submission, channel=channel, acting_user=acting_user, origin=origin)
    except IntegrityError:
        # A concurrent retry won the race on the unique key: answer with its report.
        existing = _find_retry(project, submission, origin)
        if existing is None:
            raise
        return Received(existing, None, created=False)


def _enforce_rate_limits(submission: Submission, origin: Provenance) -> int:
    """Raise ``Throttled`` before anything is stored; a retry of a stored report is never limited.

    Returns how many reports the sender sent earlier this hour."""
    check_and_count("ip", origin.client_address, settings.INTAKE_PER_ADDRESS_PER_HOUR)
    sender = submission.reporter_email.strip().lower()
    return check_and_count("sender", sender, settings.INTAKE_PER_SENDER_PER_HOUR)


def acknowledgement_priority(carries_evidence: bool, earlier_reports: int) -> int:
    """Where the acknowledgement goes in the outbox: a report with evidence first, a busy sender's last.

    The sender's count comes first: adding a code block to every report of a flood must not jump
    the queue. Nothing waits for ever (``notify.delivery.PRIORITY_AGES_AFTER``)."""
    if earlier_reports >= ACKNOWLEDGED_IN_TURN:
        return OutboxPriority.BULK
    if carries_evidence:
        return OutboxPriority.EVIDENCE
    return OutboxPriority.NORMAL


def retry_key(key: str, submission: Submission) -> str:
    """A retry is the same key with the same report: the key alone would let anyone who learns a
    Message-ID or an Idempotency-Key make a genuine report vanish behind their own. Keyed with the
    secret, so the stored value confirms nothing about a report's contents."""
    content = "\x1f".join(
        [key, submission.reporter_email.strip().lower(), submission.title, submission.description]
    )
    return hmac.new(settings.SECRET_KEY.encode(), content.encode(), hashlib.sha256).hexdigest()


def _find_retry(project: Project, submission: Submission, origin: Provenance) -> Report | None:
    if origin.idempotency_key:
        key = retry_key(origin.idempotency_key, submission)
        return Report.objects.filter(project=project, idempotency_digest=key).first()
    if origin.message_id:
        key = retry_key(origin.message_id, submission)
        return Report.objects.filter(project=project, message_id_digest=key).first()
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
    # On PostgreSQL the number comes from a short transaction of its own (``ReportCounter``).
    # SQLite runs one writer at a time whatever we do: a second transaction would only make each
    # report queue twice for its write lock (and fsync twice).
    apart = transaction.get_connection().vendor == "postgresql"
    taken = take_report_number(project, submission, origin) if apart else None
    with transaction.atomic():
        number, earlier_reports = taken or take_report_number(project, submission, origin)
        report = Report(
            project=project,
            number=number,
            channel=channel,
            reporter_index=reporter_index(submission.reporter_email),
            tracking_digest=digest(token),
            idempotency_digest=retry_key(origin.idempotency_key, submission)
            if origin.idempotency_key
            else None,
            message_id_digest=retry_key(origin.message_id, submission) if origin.message_id else None,
            thread_root=safe_message_id(origin.message_id) or new_message_id(),
            team_thread_root=new_message_id(),
            was_encrypted=origin.was_encrypted,
            signature=origin.signature,
            signer_fingerprint=origin.signer_fingerprint,
            quarantine_reason=spam_reason(submission),
        )
        report.quarantined = bool(report.quarantine_reason)
        report_fields = _seal_contents(report, submission)
        report.save()
        if origin.reporter_public_key:
            store_reporter_key(report, origin.reporter_public_key, origin.reporter_key_fingerprint)
        _store_attachments(report, submission)
        index_report(report, [submission.title, submission.description, *submission.fields.values()])
        for hook in hooks.on_report_received:  # evidence, then duplicate suggestions (after commit)
            hook(report, report_fields, len(submission.attachments))
        carries_evidence = any(ask(report) for ask in hooks.carries_evidence)
        _announce(report, submission, token, acknowledgement_priority(carries_evidence, earlier_reports))
        # Last: the audit chain is one lock for the whole instance, held from here to the commit.
        record_event(
            "report.received",
            acting_user=acting_user,
            project=project,
            target=report,
            details={"channel": str(channel), "number": number},
        )
    return Received(report, token, created=True)


def take_report_number(project: Project, submission: Submission, origin: Provenance) -> tuple[int, int]:
    """Count the attempt against the hourly limits and take the report's number (``ReportCounter``),
    in one transaction, or in the caller's; the number, and the sender's reports earlier this hour."""
    with transaction.atomic():
        earlier_reports = _enforce_rate_limits(submission, origin)
        counter = ReportCounter.objects.select_for_update().filter(project=project).first()
        if counter is None:
            counter = _start_counting(project)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
    return counter.last_number, earlier_reports


def _start_counting(project: Project) -> ReportCounter:
    """The project's first number from the counter: it goes on from the highest number given.

    NO KEY UPDATE on the project, so that two first reports agree on where to start without
    blocking the rows that reference the project (their foreign keys take KEY SHARE)."""
    Project.objects.select_for_update(no_key=True).get(pk=project.pk)
    highest = Report.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0
    counter, _ = ReportCounter.objects.get_or_create(project=project, defaults={"last_number": highest})
    return ReportCounter.objects.select_for_update().get(pk=counter.pk)


def _seal_contents(report: Report, submission: Submission) -> dict[str, str]:
    """Seal what the reporter sent; the fields as sealed, for what reads them in this transaction."""
    report.title = clean_text(submission.title)
    fields = {
        "description": clean_text(submission.description),
        **{name: clean_text(value) for name, value in submission.fields.items() if value.strip()},
    }
    report.fields = fields
    report.reporter = {
        "name": "" if submission.anonymous else submission.reporter_name.strip(),
        "affiliation": "" if submission.anonymous else submission.reporter_affiliation.strip(),
        "email": submission.reporter_email.strip(),
        "anonymous": submission.anonymous,
        "credit": submission.credit,
        "credit_handle": submission.credit_handle.strip(),
    }
    return fields


def _store_attachments(report: Report, submission: Submission) -> None:
    for attachment in submission.attachments:
        stored = ReportAttachment(
            report=report, content_type=attachment.content_type[:100], size=len(attachment.content)
        )
        stored.filename = safe_filename(attachment.filename)
        stored.content = attachment.content
        stored.save()


def _announce(report: Report, submission: Submission, token: str, priority: int) -> None:
    # The acknowledgement of a quarantined report is held in the outbox (queue_email) and goes
    # out if the team releases the report: spam must not make vulndesk mail a stranger's address.
    if submission.reporter_email:
        acknowledgement = replace(emails.report_received(report, token), priority=priority)
        queue_email(acknowledgement, project=report.project, report=report)
    # A quarantined report waits in the queue's quarantine; the team hears of it when released.
    if not report.quarantined:
        _tell_the_team(report)


def _tell_the_team(report: Report) -> None:
    team = emails.new_report_for_team(report)
    if team.to:
        queue_team_notice(team, NoticeKind.NEW_REPORT, project=report.project, about=report)


def do_release_from_quarantine(report: Report, *, acting_user: User) -> Report:
    """A team member judged a held report genuine: it joins the queue, the team is told, and the
    reporter gets the acknowledgement (and any other mail) held since it arrived."""
    with transaction.atomic():
        locked = Report.objects.select_for_update(no_key=True).get(pk=report.pk)
        if not locked.quarantined:
            return locked
        locked.quarantined = False
        locked.save(update_fields=["quarantined"])
        record_event(
            "report.released_from_quarantine", acting_user=acting_user, project=locked.project, target=locked
        )
        release_held_email(locked)
        _tell_the_team(locked)
        for hook in hooks.on_report_released:
            hook(locked)
    return locked


def do_replace_tracking_link(report: Report, *, acting_user: User | None) -> str:
    """A new private link for the reporter; the old one stops working at once.

    The reporter asks for this when a link leaked; the team, when it was sent to the wrong place.
    The new link is mailed to the reporter when they left an address, and returned once.
    """
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = Report.objects.select_for_update(no_key=True).select_related("project").get(pk=report.pk)
        locked.tracking_digest = digest(token)
        locked.tracking_revoked_at = None
        locked.save(update_fields=["tracking_digest", "tracking_revoked_at"])
        record_event(
            "report.tracking_link_replaced", acting_user=acting_user, project=locked.project, target=locked
        )
        if locked.reporter.get("email"):
            queue_email(emails.tracking_link_replaced(locked, token), project=locked.project, report=locked)
    return token


def do_revoke_tracking_link(report: Report, *, acting_user: User) -> None:
    """Close the reporter's access (an abusive or mistaken reporter); no new link is sent."""
    with transaction.atomic():
        locked = Report.objects.select_for_update(no_key=True).get(pk=report.pk)
        locked.tracking_revoked_at = timezone.now()
        locked.save(update_fields=["tracking_revoked_at"])
        record_event(
            "report.tracking_link_revoked", acting_user=acting_user, project=locked.project, target=locked
        )
