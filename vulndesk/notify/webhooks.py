"""Webhooks: a project's public announcements POSTed as signed JSON, through the same kind of
outbox as mail: a row first (in the transaction of the change), delivered by the worker, retried
with backoff while the receiver is down, failed for good after about eight hours, visible to admins.

Every delivery carries ``X-Vulndesk-Delivery`` (stable across retries: the receiver drops a repeat),
``X-Vulndesk-Event`` and ``X-Vulndesk-Signature: sha256=<HMAC of the body with the secret>``. Only
public events exist: nothing embargoed ever goes to a webhook. The JSON has a ``text`` field, so a
Slack or Mattermost incoming webhook shows it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from vulndesk.audit.actions import record_event
from vulndesk.notify.models import OutboundStatus, OutboundWebhook, Webhook, WebhookEvent
from vulndesk.notify.tasks import MAX_ATTEMPTS, backoff
from vulndesk.notify.webhook_address import (
    UnresolvedHostError,
    WebhookError,
    check_url,
    post,
    resolve_destination,
)

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
MAX_WEBHOOKS_PER_PROJECT = 20


def do_add_webhook(project: Any, url: str, events: list[str], *, acting_user: Any) -> tuple[Webhook, str]:
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


def do_remove_webhook(webhook: Webhook, *, acting_user: Any) -> None:
    with transaction.atomic():
        record_event("webhook.removed", acting_user=acting_user, project=webhook.project, target=webhook)
        webhook.delete()


def queue_webhooks(project: Any, event: WebhookEvent, payload: dict[str, Any]) -> list[OutboundWebhook]:
    """Inside the change's transaction: the deliveries exist only if the change commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("queue_webhooks must run inside the action's transaction")
    queued = []
    for webhook in Webhook.objects.filter(project=project, is_active=True):
        if str(event) not in webhook.events:
            continue
        delivery = OutboundWebhook.objects.create(webhook=webhook, event=event, payload=payload)
        deliver_webhook_task.enqueue(str(delivery.uid))
        queued.append(delivery)
    return queued


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@task()
def deliver_webhook_task(uid: str) -> str:
    return deliver_webhook(uid)


def deliver_webhook(uid: str) -> str:
    """POST one delivery; the claim is a conditional UPDATE, so two workers never both send it."""
    now = timezone.now()
    claimed = OutboundWebhook.objects.filter(
        uid=uid, status=OutboundStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=OutboundStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now)
    if not claimed:
        return "not due"
    delivery = OutboundWebhook.objects.select_related("webhook").get(uid=uid)
    try:
        _post(delivery)
    except UnresolvedHostError as exc:
        # A resolver that fails for a while must not fail the delivery for good.
        return _retry_later(delivery, str(exc))
    except (_PermanentError, WebhookError) as exc:
        return _fail(delivery, str(exc))
    except (OSError, _TemporaryError) as exc:
        return _retry_later(delivery, _reason(exc))
    except Exception as exc:  # noqa: BLE001 - whatever else breaks, the row must not stay "sending"
        # An unexpected error would otherwise leave the row "sending", re-queued as stranded for
        # ever; it is named by its kind only (its text could quote the receiver's answer).
        return _fail(delivery, f"unexpected error: {type(exc).__name__}")
    OutboundWebhook.objects.filter(pk=delivery.pk).update(status=OutboundStatus.SENT, sent_at=timezone.now())
    return "sent"


class _TemporaryError(Exception):
    pass


class _PermanentError(Exception):
    pass


def _post(delivery: OutboundWebhook) -> None:
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    # Checked again at delivery: the name may resolve elsewhere now than when it was saved.
    destination = resolve_destination(delivery.webhook.url)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "vulndesk-webhooks",
        "X-Vulndesk-Event": delivery.event,
        "X-Vulndesk-Delivery": str(delivery.uid),
        "X-Vulndesk-Signature": signature(delivery.webhook.secret, body),
    }
    status = post(destination, body, headers, timeout=TIMEOUT_SECONDS)
    if 200 <= status < 300:  # noqa: PLR2004 - HTTP's success range
        return
    # Too many requests, a timeout or a server error: worth another try. Anything else will not change.
    if status in {408, 425, 429} or status >= 500:  # noqa: PLR2004
        raise _TemporaryError(f"the receiver answered {status}")
    raise _PermanentError(f"the receiver answered {status}")


def _reason(exc: Exception) -> str:
    if isinstance(exc, _TemporaryError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno:
        return f"{type(exc).__name__}: errno {exc.errno}"
    return type(exc).__name__


def _fail(delivery: OutboundWebhook, reason: str) -> str:
    OutboundWebhook.objects.filter(pk=delivery.pk).update(
        status=OutboundStatus.FAILED, last_error=reason[:300]
    )
    logger.error(
        "webhook delivery %s failed for good after %d attempts: %s", delivery.uid, delivery.attempts, reason
    )
    return "failed"


def _retry_later(delivery: OutboundWebhook, reason: str) -> str:
    if delivery.attempts >= MAX_ATTEMPTS:
        return _fail(delivery, reason)
    when = timezone.now() + backoff(delivery.attempts)
    with transaction.atomic():
        OutboundWebhook.objects.filter(pk=delivery.pk).update(
            status=OutboundStatus.QUEUED, next_attempt_at=when, last_error=reason[:300]
        )
        deliver_webhook_task.using(run_after=when).enqueue(str(delivery.uid))
    logger.warning("webhook delivery %s deferred (attempt %d): %s", delivery.uid, delivery.attempts, reason)
    return "deferred"


def requeue_stranded_webhooks(now: Any = None) -> int:
    """Deliveries left "sending" by a worker that died mid-request go back to the queue; the
    stable delivery id lets the receiver drop the copy if the first attempt got through."""
    from vulndesk.notify.tasks import STRANDED_AFTER  # noqa: PLC0415

    moment = now or timezone.now()
    uids = list(
        OutboundWebhook.objects.filter(
            status=OutboundStatus.SENDING, next_attempt_at__lt=moment - STRANDED_AFTER
        ).values_list("uid", flat=True)
    )
    for uid in uids:
        with transaction.atomic():
            if OutboundWebhook.objects.filter(uid=uid, status=OutboundStatus.SENDING).update(
                status=OutboundStatus.QUEUED, next_attempt_at=moment
            ):
                deliver_webhook_task.enqueue(str(uid))
    return len(uids)
