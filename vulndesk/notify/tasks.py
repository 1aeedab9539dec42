"""Delivering the outbox. A plain function the worker runs and tests call directly."""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
from typing import cast

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from vulndesk.notify.models import OutboundEmail, OutboundStatus
from vulndesk.openpgp.outbound import for_recipient

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
STRANDED_AFTER = dt.timedelta(minutes=15)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … capped at an hour: about 8 hours of retries in all."""
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


@task()
def deliver_outbound(uid: str) -> str:
    return deliver(uid)


def deliver(uid: str) -> str:
    """Send one queued mail; the claim is a conditional UPDATE, so two workers never both send it."""
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(
        uid=uid, status=OutboundStatus.QUEUED, next_attempt_at__lte=now
    ).update(
        # While sending, next_attempt_at holds the claim time: requeue_stranded measures from it.
        status=OutboundStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now,
    )
    if not claimed:
        return "not due"
    outbound = OutboundEmail.objects.get(uid=uid)
    try:
        _send(outbound)
    except (smtplib.SMTPException, OSError) as exc:
        return _retry_later(outbound, exc)
    except Exception as exc:  # noqa: BLE001 - a mail that cannot be built will never go: say so, once
        return _fail(outbound, failure_reason(exc))
    OutboundEmail.objects.filter(pk=outbound.pk).update(status=OutboundStatus.SENT, sent_at=timezone.now())
    return "sent"


def _send(outbound: OutboundEmail) -> None:
    message = outbound.message
    mail = EmailMultiAlternatives(
        subject=cast("str", message["subject"]),
        body=cast("str", message["text"]),
        to=cast("list[str]", message["to"]),
        reply_to=cast("list[str]", message["reply_to"]) or None,
        headers={
            **cast("dict[str, str]", message.get("headers") or {}),
            "Message-ID": outbound.message_id,
            "Auto-Submitted": "auto-generated",
        },
    )
    mail.attach_alternative(cast("str", message["html"]), "text/html")
    required_key = cast("str", message.get("encrypt_to") or "")
    for_recipient(outbound, mail, required_key=required_key).send(fail_silently=False)


def failure_reason(exc: Exception) -> str:
    """What went wrong, in words that carry no address and no content: an exception's own text
    can quote the recipients (SMTPRecipientsRefused) or the message, so only its kind and codes."""
    kind = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{kind}: {len(exc.recipients)} recipient(s) refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{kind}: the relay answered {exc.smtp_code}"
    if isinstance(exc, OSError) and exc.errno:
        return f"{kind}: errno {exc.errno} ({os.strerror(exc.errno)})"
    return kind


def _fail(outbound: OutboundEmail, reason: str) -> str:
    OutboundEmail.objects.filter(pk=outbound.pk).update(status=OutboundStatus.FAILED, last_error=reason)
    logger.error("outbound %s failed for good after %d attempts: %s", outbound.uid, outbound.attempts, reason)
    return "failed"


def requeue_stranded(now: dt.datetime | None = None) -> int:
    """Mail left "sending" by a worker that died mid-send goes back to the queue. The stable
    Message-ID lets receiving servers drop the copy if the first attempt did get through."""
    moment = now or timezone.now()
    stranded = OutboundEmail.objects.filter(
        status=OutboundStatus.SENDING, next_attempt_at__lt=moment - STRANDED_AFTER
    )
    uids = list(stranded.values_list("uid", flat=True))
    for uid in uids:
        with transaction.atomic():
            if OutboundEmail.objects.filter(uid=uid, status=OutboundStatus.SENDING).update(
                status=OutboundStatus.QUEUED, next_attempt_at=moment
            ):
                deliver_outbound.enqueue(str(uid))
    return len(uids)


def _retry_later(outbound: OutboundEmail, exc: Exception) -> str:
    reason = failure_reason(exc)
    if outbound.attempts >= MAX_ATTEMPTS:
        return _fail(outbound, reason)
    when = timezone.now() + backoff(outbound.attempts)
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=outbound.pk).update(
            status=OutboundStatus.QUEUED, next_attempt_at=when, last_error=reason
        )
        deliver_outbound.using(run_after=when).enqueue(str(outbound.uid))
    logger.warning("outbound %s deferred (attempt %d): %s", outbound.uid, outbound.attempts, reason)
    return "deferred"
