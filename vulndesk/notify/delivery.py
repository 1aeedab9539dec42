"""The one delivery machine of the outbox: a mail and a webhook POST are both a row (see
``notify.models.OutboxRow``) claimed with a conditional UPDATE, sent, retried with backoff while the
other side is down, failed for good after about eight hours, and put back in the queue when a worker
died while sending. Only sending itself and judging its errors differ between the two."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_tasks.base import Task

from vulndesk.notify.models import OutboundStatus, OutboxPriority, OutboxRow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
STRANDED_AFTER = dt.timedelta(minutes=15)
# A row due this long and still waiting behind higher priorities goes up to the top: with the
# sweep every 5 minutes, nothing waits much more than a quarter of an hour for priority mail.
PRIORITY_AGES_AFTER = dt.timedelta(minutes=10)
TOP_PRIORITY = max(OutboxPriority)
PROMOTED_PER_TRANSACTION = 500

RowT = TypeVar("RowT", bound=OutboxRow)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … capped at an hour: about 8 hours of retries in all."""
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


class Verdict(NamedTuple):
    """What a failed attempt means: try again later, or never; and why, in words safe to store."""

    retry: bool
    reason: str


@dataclass(frozen=True)
class Courier(Generic[RowT]):
    """Delivers the rows of one outbox table through the task that sends one of them."""

    model: type[RowT]
    task: Task[[str], str]
    label: str  # how the log names a row: "outbound", "webhook delivery"
    related: tuple[str, ...] = ()

    def deliver(self, uid: str, send: Callable[[RowT], None], judge: Callable[[Exception], Verdict]) -> str:
        """Send one due row; the claim is a conditional UPDATE, so two workers never both send it."""
        if not self._claim(uid):
            return "not due"
        row = self.model._default_manager.select_related(*self.related).get(uid=uid)  # noqa: SLF001 - Django API
        try:
            send(row)
        except Exception as exc:  # noqa: BLE001 - judged below: the row must never stay "sending"
            verdict = judge(exc)
            return (
                self._retry_later(row, verdict.reason) if verdict.retry else self._fail(row, verdict.reason)
            )
        self._rows(pk=row.pk).update(status=OutboundStatus.SENT, sent_at=timezone.now())
        return "sent"

    def requeue_stranded(self, now: dt.datetime | None = None) -> int:
        """Rows left "sending" by a worker that died mid-send go back to the queue. The stable id
        (Message-ID, X-Vulndesk-Delivery) lets the receiver drop the copy if the first attempt got through.
        Rows kept waiting too long by higher priorities go to the top (``promote_waiting``)."""
        moment = now or timezone.now()
        stranded = self._rows(status=OutboundStatus.SENDING, next_attempt_at__lt=moment - STRANDED_AFTER)
        rows = list(stranded.values_list("uid", "priority"))
        for uid, priority in rows:
            with transaction.atomic():
                if self._rows(uid=uid, status=OutboundStatus.SENDING).update(
                    status=OutboundStatus.QUEUED, next_attempt_at=moment
                ):
                    self.task.using(priority=priority).enqueue(str(uid))
        return len(rows) + self.promote_waiting(moment)

    def promote_waiting(self, now: dt.datetime | None = None) -> int:
        """Due rows waiting longer than ``PRIORITY_AGES_AFTER`` below the top priority get a task at
        the top. Their first task stays queued and finds the row sent ("not due"): the claim, not the
        task, decides who sends, so a row is never sent twice and never dropped."""
        moment = now or timezone.now()
        waiting = self._rows(
            status=OutboundStatus.QUEUED,
            priority__lt=TOP_PRIORITY,
            next_attempt_at__lte=moment - PRIORITY_AGES_AFTER,
        )
        uids = [str(uid) for uid in waiting.values_list("uid", flat=True)]
        for start in range(0, len(uids), PROMOTED_PER_TRANSACTION):
            batch = uids[start : start + PROMOTED_PER_TRANSACTION]
            with transaction.atomic():
                self._rows(uid__in=batch).update(priority=TOP_PRIORITY)
                for uid in batch:
                    self.task.using(priority=TOP_PRIORITY).enqueue(uid)
        return len(uids)

    def requeue_failed(self, row: OutboxRow) -> bool:
        """A row that failed for good, back in the queue with a fresh round of attempts; False if
        it had not failed. Conditional, so two administrators pressing "retry" at once queue it once."""
        if not self._rows(pk=row.pk, status=OutboundStatus.FAILED).update(
            status=OutboundStatus.QUEUED, attempts=0, next_attempt_at=timezone.now()
        ):
            return False
        self.task.using(priority=row.priority).enqueue(str(row.uid))
        return True

    def _rows(self, **lookup: object) -> QuerySet[RowT]:
        return self.model._default_manager.filter(**lookup)  # noqa: SLF001 - Django API

    def _claim(self, uid: str) -> bool:
        now = timezone.now()
        return bool(
            self._rows(uid=uid, status=OutboundStatus.QUEUED, next_attempt_at__lte=now).update(
                # While sending, next_attempt_at holds the claim time: requeue_stranded measures from it.
                status=OutboundStatus.SENDING,
                attempts=F("attempts") + 1,
                next_attempt_at=now,
            )
        )

    def _fail(self, row: RowT, reason: str) -> str:
        self._rows(pk=row.pk).update(status=OutboundStatus.FAILED, last_error=reason[:300])
        logger.error("%s %s failed for good after %d attempts: %s", self.label, row.uid, row.attempts, reason)
        return "failed"

    def _retry_later(self, row: RowT, reason: str) -> str:
        if row.attempts >= MAX_ATTEMPTS:
            return self._fail(row, reason)
        when = timezone.now() + backoff(row.attempts)
        with transaction.atomic():
            self._rows(pk=row.pk).update(
                status=OutboundStatus.QUEUED, next_attempt_at=when, last_error=reason[:300]
            )
            self.task.using(run_after=when, priority=row.priority).enqueue(str(row.uid))
        logger.warning("%s %s deferred (attempt %d): %s", self.label, row.uid, row.attempts, reason)
        return "deferred"
