"""Queueing mail: render it now, store it sealed in the outbox, deliver it from the worker."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from vulndesk.audit.actions import JsonScalar, record_event
from vulndesk.notify.delivery import Courier
from vulndesk.notify.models import (
    OutboundEmail,
    OutboundStatus,
    OutboundWebhook,
    OutboxPriority,
    Webhook,
    WebhookEvent,
)
from vulndesk.notify.tasks import MAIL, deliver_outbound
from vulndesk.notify.threads import Thread, new_message_id
from vulndesk.notify.webhook_address import WebhookError, check_url
from vulndesk.notify.webhooks import MAX_WEBHOOKS_PER_PROJECT, WEBHOOKS

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
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
    # The thread of a mail that is neither to a reporter nor to the team (a distributor's notices
    # about one case): its root's Message-ID. Reporter and team threads come from queue_email.
    thread_root: str = ""
    # Where it goes in the worker's queue (``OutboxPriority``): the highest first, then the oldest.
    priority: int = OutboxPriority.NORMAL


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
    email: Email,
    *,
    project: Project | None = None,
    report: Report | None = None,
    about: Report | None = None,
) -> OutboundEmail:
    """Must run inside the action's transaction: the mail exists only if the change commits.

    ``report`` is given for mail to that report's reporter, and only then: it is how delivery
    finds the reporter's OpenPGP key (``openpgp.outbound``), and it puts the mail in the
    reporter's thread. ``about`` is the report a mail to the team is about: it goes in the team's
    thread of that report. While that report is in quarantine the mail is held, not sent
    (``release_held_email``).
    """

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("queue_email must run inside the action's transaction")
    thread = Thread(email.thread_root) if email.thread_root else _thread_of(report, about)
    message_id = thread.root if thread.opens else new_message_id()
    outbound = OutboundEmail(
        kind=email.kind, project=project, report=report, message_id=message_id, priority=email.priority
    )
    rendered = render(email)
    rendered["headers"] = {**email.headers, **thread.headers()}
    outbound.message = rendered
    # The spam check held the report: its address may be a stranger's that a spammer typed in, so
    # nothing is mailed to it until a person judged the report genuine.
    if report is not None and report.quarantined:
        outbound.status = OutboundStatus.HELD
    outbound.save()
    if outbound.status == OutboundStatus.QUEUED:
        deliver_outbound.using(priority=outbound.priority).enqueue(str(outbound.uid))
    return outbound


def release_held_email(report: Report) -> int:
    """Queue the mail held while ``report`` was in quarantine, in the release's transaction."""

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("release_held_email must run inside the action's transaction")
    held = OutboundEmail.objects.filter(report=report, status=OutboundStatus.HELD)
    rows = list(held.values_list("uid", "priority"))
    held.update(status=OutboundStatus.QUEUED, next_attempt_at=timezone.now())
    for uid, priority in rows:
        deliver_outbound.using(priority=priority).enqueue(str(uid))
    return len(rows)


def _thread_of(report: Report | None, about: Report | None) -> Thread:
    """The thread a mail joins; the first mail of a thread we start takes the root as its id."""
    root = report.thread_root if report is not None else about.team_thread_root if about else ""
    if not root:
        return Thread("")
    # A root on our domain is one we made; its first mail opens the thread. A reporter's own
    # Message-ID (or one we already sent) is answered.
    ours = root.endswith(f"@{settings.MAIL_DOMAIN}>")
    opens = ours and not OutboundEmail.objects.filter(message_id=root).exists()
    return Thread(root, opens=opens)


class RetryError(ValueError):
    """Only a delivery that failed for good is retried by hand: the others are still in the queue."""


@dataclass(frozen=True)
class RetryTerms:
    """How a retry of one outbox row is carried out and told: its courier and its audit event."""

    courier: Courier[Any]
    event: str
    noun: str  # "mail", "delivery"
    name: str  # how the page names the row: "report-received mail", "advisory.published delivery"
    project: Project | None
    details: dict[str, JsonScalar | list[str]]


def retry_terms(row: OutboundEmail | OutboundWebhook) -> RetryTerms:
    if isinstance(row, OutboundWebhook):
        event: dict[str, JsonScalar | list[str]] = {"event": row.event}
        name = f"{row.event} delivery"
        return RetryTerms(WEBHOOKS, "webhook.delivery_retried", "delivery", name, row.webhook.project, event)
    # The error's kind only: its detail is not for the audit log.
    mail: dict[str, JsonScalar | list[str]] = {
        "kind": row.kind,
        "last_error": row.last_error.split(":", 1)[0],
    }
    return RetryTerms(MAIL, "outbound.retried", "mail", f"{row.kind} mail", row.project, mail)


def do_retry_delivery(row: OutboundEmail | OutboundWebhook, *, acting_user: User) -> None:
    """Put a mail or a webhook delivery that failed for good back in the queue with a fresh round
    of attempts."""
    terms = retry_terms(row)
    with transaction.atomic():
        if not terms.courier.requeue_failed(row):
            raise RetryError(f"this {terms.noun} has not failed: it is queued or already sent")
        record_event(
            terms.event, acting_user=acting_user, project=terms.project, target=row, details=terms.details
        )
    row.refresh_from_db()


# --- webhooks (their delivery is in notify/webhooks.py) -------------------------------------------


def do_add_webhook(
    project: Project, url: str, events: list[str], *, acting_user: User | None
) -> tuple[Webhook, str]:
    """A new webhook and its signing secret, which is shown once."""
    address = check_url(url)
    chosen = [WebhookEvent(e) for e in events if e in WebhookEvent.values] or [
        WebhookEvent.ADVISORY_PUBLISHED
    ]
    if project.webhooks.count() >= MAX_WEBHOOKS_PER_PROJECT:
        raise WebhookError(f"a project has at most {MAX_WEBHOOKS_PER_PROJECT} webhooks")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        webhook = Webhook(project=project, url=address, events=[str(e) for e in chosen])
        webhook.secret = secret
        webhook.save()
        host = urlsplit(address).hostname or ""
        record_event(
            "webhook.added", acting_user=acting_user, project=project, target=webhook, details={"host": host}
        )
    return webhook, secret


def do_remove_webhook(webhook: Webhook, *, acting_user: User | None) -> None:
    with transaction.atomic():
        record_event("webhook.removed", acting_user=acting_user, project=webhook.project, target=webhook)
        webhook.delete()
