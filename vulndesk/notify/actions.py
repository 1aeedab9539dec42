"""Queueing mail: render it now, store it sealed in the outbox, deliver it from the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.notify.models import OutboundEmail, OutboundStatus, OutboundWebhook, OutboxPriority
from vulndesk.notify.tasks import deliver_outbound
from vulndesk.notify.threads import Thread, new_message_id

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


def do_retry_email(mail: OutboundEmail, *, acting_user: User) -> OutboundEmail:
    """Put a mail that failed for good back in the queue with a fresh round of attempts."""
    with transaction.atomic():
        # Conditional, so two administrators pressing "retry" at once queue it once.
        if not OutboundEmail.objects.filter(pk=mail.pk, status=OutboundStatus.FAILED).update(
            status=OutboundStatus.QUEUED, attempts=0, next_attempt_at=timezone.now()
        ):
            raise RetryError("this mail has not failed: it is queued or already sent")
        record_event(
            "outbound.retried",
            acting_user=acting_user,
            project=mail.project,
            target=mail,
            details={"kind": mail.kind, "last_error": mail.last_error.split(":", 1)[0]},
        )
        deliver_outbound.using(priority=mail.priority).enqueue(str(mail.uid))
    mail.refresh_from_db()
    return mail


def do_retry_webhook(delivery: OutboundWebhook, *, acting_user: User) -> OutboundWebhook:
    from vulndesk.notify.webhooks import deliver_webhook_task  # noqa: PLC0415 - webhooks import this module

    with transaction.atomic():
        if not OutboundWebhook.objects.filter(pk=delivery.pk, status=OutboundStatus.FAILED).update(
            status=OutboundStatus.QUEUED, attempts=0, next_attempt_at=timezone.now()
        ):
            raise RetryError("this delivery has not failed: it is queued or already sent")
        record_event(
            "webhook.delivery_retried",
            acting_user=acting_user,
            project=delivery.webhook.project,
            target=delivery,
            details={"event": delivery.event},
        )
        deliver_webhook_task.enqueue(str(delivery.uid))
    delivery.refresh_from_db()
    return delivery
