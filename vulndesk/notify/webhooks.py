"""Webhooks: a project's public announcements POSTed as signed JSON, through the same kind of
outbox as mail: a row first (in the transaction of the change), delivered by the worker, retried
with backoff while the receiver is down, failed for good after about eight hours, visible to admins.

Every delivery carries ``X-Vulndesk-Delivery`` (stable across retries: the receiver drops a repeat),
``X-Vulndesk-Event`` and ``X-Vulndesk-Signature: sha256=<HMAC of the body with the secret>``. Only
public events exist: nothing embargoed ever goes to a webhook. The JSON has a ``text`` field, so a
Slack or Mattermost incoming webhook shows it as it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from django.db import transaction
from django_tasks import task

from vulndesk.notify.delivery import Courier, Verdict
from vulndesk.notify.models import OutboundWebhook, Webhook, WebhookEvent
from vulndesk.notify.webhook_address import (
    UnresolvedHostError,
    WebhookError,
    post,
    resolve_destination,
)

TIMEOUT_SECONDS = 10
MAX_WEBHOOKS_PER_PROJECT = 20


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


WEBHOOKS = Courier(
    model=OutboundWebhook, task=deliver_webhook_task, label="webhook delivery", related=("webhook",)
)


def deliver_webhook(uid: str) -> str:
    """POST one delivery (claimed, retried and failed by notify/delivery.py)."""
    return WEBHOOKS.deliver(uid, _post, _judge)


def requeue_stranded_webhooks(now: dt.datetime | None = None) -> int:
    """Deliveries left "sending" by a worker that died mid-request go back to the queue."""
    return WEBHOOKS.requeue_stranded(now)


def _judge(exc: Exception) -> Verdict:
    if isinstance(exc, UnresolvedHostError):
        # A resolver that fails for a while must not fail the delivery for good.
        return Verdict(retry=True, reason=str(exc))
    if isinstance(exc, _PermanentError | WebhookError):
        return Verdict(retry=False, reason=str(exc))
    if isinstance(exc, OSError | _TemporaryError):
        return Verdict(retry=True, reason=_reason(exc))
    # Anything else is named by its kind only (its text could quote the receiver's answer).
    return Verdict(retry=False, reason=f"unexpected error: {type(exc).__name__}")


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
