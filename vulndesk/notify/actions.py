"""Queueing mail: render it now, store it sealed in the outbox, deliver it from the worker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from vulndesk.notify.models import OutboundEmail

if TYPE_CHECKING:
    from vulndesk.intake.models import Report
    from vulndesk.projects.models import Project


@dataclass(frozen=True)
class Email:
    """A named email, as its ``emails.py`` function describes it: template and context."""

    kind: str
    to: list[str]
    context: dict[str, object]
    reply_to: list[str] = field(default_factory=list)
    # Extra headers, such as List-Unsubscribe (RFC 8058) on announcements.
    headers: dict[str, str] = field(default_factory=dict)
    # An armored OpenPGP public key: the mail goes out encrypted to it or not at all (embargoed
    # notices to distributors). Mail to a reporter finds the reporter's key by itself.
    encrypt_to: str = ""


def render(email: Email) -> dict[str, object]:
    folder = f"emails/{email.kind}"
    # One line, whatever a name in it holds: a CR or LF would make it an invalid header.
    subject = " ".join(render_to_string(f"{folder}/subject.txt", email.context).split())
    return {
        "to": email.to,
        "reply_to": email.reply_to,
        "subject": subject,
        "text": render_to_string(f"{folder}/body.txt", email.context),
        "html": render_to_string(f"{folder}/body.html", email.context),
        "headers": email.headers,
        "encrypt_to": email.encrypt_to,
    }


def queue_email(
    email: Email, *, project: Project | None = None, report: Report | None = None
) -> OutboundEmail:
    """Must run inside the action's transaction: the mail exists only if the change commits.

    ``report`` is given for mail to that report's reporter, and only then: it is how delivery
    finds the reporter's OpenPGP key (``openpgp.outbound``).
    """
    from vulndesk.notify.tasks import deliver_outbound  # noqa: PLC0415 - tasks import this module

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("queue_email must run inside the action's transaction")
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "vulndesk.invalid"
    outbound = OutboundEmail(
        kind=email.kind, project=project, report=report, message_id=f"<{uuid.uuid4()}@{domain}>"
    )
    outbound.message = render(email)
    outbound.save()
    deliver_outbound.enqueue(str(outbound.uid))
    return outbound
