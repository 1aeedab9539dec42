"""The worker writes an audit checkpoint every ``VULNDESK_AUDIT_CHECKPOINT_MINUTES``.

Like the SLA sweep, the task re-enqueues itself; ``vulndesk worker`` starts the chain.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from vulndesk.audit.checkpoints import CheckpointError, write_checkpoint

logger = logging.getLogger(__name__)


@task()
def audit_checkpoint() -> str:
    try:
        written = write_checkpoint()
    except CheckpointError as exc:
        # Loud, and the chain goes on: the next run tries again, and `audit verify` says more.
        logger.error("audit checkpoint not written: %s", exc)  # noqa: TRY400 - no traceback needed
        done = "not written"
    else:
        done = f"checkpoint at #{written['event_count']}"
    every = dt.timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES)
    audit_checkpoint.using(run_after=timezone.now() + every).enqueue()
    return done


def ensure_checkpoints_scheduled() -> None:
    """Start the checkpoint chain unless one is already waiting (called when a worker starts)."""
    pending = DBTaskResult.objects.filter(task_path=audit_checkpoint.module_path, status="READY").exists()
    if not pending:
        audit_checkpoint.enqueue()
