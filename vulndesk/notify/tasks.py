"""Delivering the outbox. A plain function the worker runs and tests call directly."""

from __future__ import annotations

import datetime as dt
import logging
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
    ).update(status=OutboundStatus.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return "not due"
    outbound = OutboundEmail.objects.get(uid=uid)
    try:
        _send(outbound)
    except (smtplib.SMTPException, OSError) as exc:
        return _retry_later(outbound, exc)
    OutboundEmail.objects.filter(pk=outbound.pk).update(status=OutboundStatus.SENT, sent_at=timezone.now())
    return "sent"


def _send(outbound: OutboundEmail) -> None:
    message = outbound.message
    mail = EmailMultiAlternatives(
        subject=cast("str", message["subject"]),
        body=cast("str", message["text"]),
        to=cast("list[str]", message["to"]),
        reply_to=cast("list[str]", message["reply_to"]) or None,
        headers={"Message-ID": outbound.message_id, "Auto-Submitted": "auto-generated"},
    )
    mail.attach_alternative(cast("str", message["html"]), "text/html")
    for_recipient(outbound, mail).send(fail_silently=False)


def _retry_later(outbound: OutboundEmail, exc: Exception) -> str:
    # The error names the relay's complaint, never the message: logs must not carry contents.
    reason = f"{type(exc).__name__}: {str(exc)[:200]}"
    if outbound.attempts >= MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=outbound.pk).update(status=OutboundStatus.FAILED, last_error=reason)
        logger.error("outbound %s failed for good after %d attempts", outbound.uid, outbound.attempts)
        return "failed"
    when = timezone.now() + backoff(outbound.attempts)
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=outbound.pk).update(
            status=OutboundStatus.QUEUED, next_attempt_at=when, last_error=reason
        )
        deliver_outbound.using(run_after=when).enqueue(str(outbound.uid))
    logger.warning("outbound %s deferred (attempt %d): %s", outbound.uid, outbound.attempts, reason)
    return "deferred"
