"""The team's "reporter replied" notices, batched: at most one per report per quiet period.

Fifteen replies in a row used to be fifteen mails to every member of the team. Now the first reply
after a quiet period is told at once; replies during the period are counted, and one notice for
all of them goes out when the period is over, from the worker (a task queued for that moment, and
the sweep as a safety net). A notice says how many messages came, never what they say.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from vulndesk.cases import emails
from vulndesk.cases.models import ReplyNotice
from vulndesk.notify.models import NoticeKind
from vulndesk.notify.preferences import queue_team_notice

if TYPE_CHECKING:
    from vulndesk.intake.models import Report


def quiet_period() -> dt.timedelta:
    return dt.timedelta(minutes=settings.REPLY_NOTICE_MINUTES)


def tell_team_of_reply(report: Report, now: dt.datetime) -> None:
    """Inside the reply's transaction: tell the team now, or count the reply for the next notice."""
    notice, _ = ReplyNotice.objects.select_for_update().get_or_create(report=report)
    quiet_until = notice.last_sent_at + quiet_period() if notice.last_sent_at else now
    if notice.pending == 0 and now >= quiet_until:
        _send(report, notice, replies=1, now=now)
        return
    notice.pending += 1
    notice.save(update_fields=["pending"])
    if notice.pending == 1:
        reply_notice_due.using(run_after=quiet_until).enqueue(report.pk)


def _send(report: Report, notice: ReplyNotice, *, replies: int, now: dt.datetime) -> None:
    mail = emails.reporter_replied(report, replies=replies)
    if mail.to:
        queue_team_notice(mail, NoticeKind.REPORTER_REPLIED, project=report.project, about=report)
    notice.last_sent_at, notice.pending = now, 0
    notice.save(update_fields=["last_sent_at", "pending"])


@task()
def reply_notice_due(report_id: int) -> int:
    return send_due_reply_notices(timezone.now(), report_id=report_id)


def send_due_reply_notices(now: dt.datetime, *, report_id: int | None = None) -> int:
    """One notice per report whose counted replies have waited out the quiet period."""
    due = ReplyNotice.objects.filter(pending__gt=0, last_sent_at__lte=now - quiet_period())
    if report_id is not None:
        due = due.filter(report_id=report_id)
    sent = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            # Locked and checked again: the task and the sweep may both find it.
            notice = ReplyNotice.objects.select_for_update().select_related("report__project").get(pk=pk)
            if notice.pending > 0:
                _send(notice.report, notice, replies=notice.pending, now=now)
                sent += 1
    return sent
