"""The background worker's name, and picking up the work of one that died.

The task backend marks a task "running" when a worker claims it and never looks at it again: a
worker killed mid-task (a power cut, `kill -9`, the OOM killer) leaves it running for ever, and the
mail or webhook it was sending stays "sending" until the sweep's 15-minute safety net. A worker
names itself after its host and process, so the next worker started on the same host can tell a
claim of a process that no longer exists from one still at work, and run that task again at once.
Every task is written to be run twice safely (each claims its work with a conditional UPDATE), so
running it again is the recovery.
"""

from __future__ import annotations

import logging
import os
import socket

from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from vulndesk.notify.models import OutboundEmail, OutboundStatus, OutboundWebhook, OutboxRow
from vulndesk.notify.tasks import deliver_outbound
from vulndesk.notify.webhooks import deliver_webhook_task

logger = logging.getLogger(__name__)

# A delivery task's own claim on its mail or webhook: put back to "queued" before it runs again.
_DELIVERIES: dict[str, type[OutboxRow]] = {
    deliver_outbound.module_path: OutboundEmail,
    deliver_webhook_task.module_path: OutboundWebhook,
}


def worker_id() -> str:
    """`host:pid`, within the backend's 64 characters."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}"


def _died_here(claimed_by: str) -> bool:
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname()[:50] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a live process of another user
    return False


def recover_abandoned_tasks() -> int:
    """Run again the tasks a dead worker of this host left "running"; how many there were."""
    abandoned = [
        result
        for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
        if result.worker_ids and _died_here(str(result.worker_ids[-1]))
    ]
    for result in abandoned:
        with transaction.atomic():
            delivery = _DELIVERIES.get(result.task_path)
            if delivery is not None:
                uid = result.args_kwargs["args"][0]
                delivery._default_manager.filter(uid=uid, status=OutboundStatus.SENDING).update(  # noqa: SLF001 - Django API
                    status=OutboundStatus.QUEUED, next_attempt_at=timezone.now()
                )
            DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None
            )
    if abandoned:
        logger.warning("%d task(s) left running by a worker that died: queued again", len(abandoned))
    return len(abandoned)
