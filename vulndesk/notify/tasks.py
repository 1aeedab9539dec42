"""Delivering the outbox. A plain function the worker runs and tests call directly."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
from typing import cast

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django_tasks import task

from vulndesk.notify import hooks
from vulndesk.notify.delivery import Courier, Verdict
from vulndesk.notify.models import OutboundEmail


@task()
def deliver_outbound(uid: str) -> str:
    return deliver(uid)


MAIL = Courier(model=OutboundEmail, task=deliver_outbound, label="outbound")


def deliver(uid: str) -> str:
    """Send one queued mail (claimed, retried and failed by notify/delivery.py)."""
    return MAIL.deliver(uid, _send, _judge)


def requeue_stranded(now: dt.datetime | None = None) -> int:
    """Mail left "sending" by a worker that died mid-send goes back to the queue."""
    return MAIL.requeue_stranded(now)


def _judge(exc: Exception) -> Verdict:
    # The relay down or refusing for now: try again. A mail that cannot be built will never go: say so, once.
    return Verdict(retry=isinstance(exc, smtplib.SMTPException | OSError), reason=failure_reason(exc))


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
    _sealed(outbound, mail, cast("str", message.get("encrypt_to") or "")).send(fail_silently=False)


class UnsealedMailError(RuntimeError):
    """A mail that must go encrypted, and nothing registered to encrypt it: it fails for good
    rather than leave in clear."""


def _sealed(outbound: OutboundEmail, mail: EmailMessage, required_key: str) -> EmailMessage:
    if required_key and not hooks.mail_sealers:
        raise UnsealedMailError
    for seal in hooks.mail_sealers:
        mail = seal(outbound, mail, required_key=required_key)
    return mail


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
