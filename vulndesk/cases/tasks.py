"""Background work of the cases domain: the SLA sweep, and the metrics' refresh it asks for.
Plain functions the tests call directly.

The sweep runs every few minutes (it re-enqueues itself; ``vulndesk worker`` starts the chain):
it reminds the case owner before a deadline, escalates to the team and the admins after it, warns
a reporter who has not answered a question, and closes the report when the policy's wait is over.
Each notice is sent once: an ``SlaNotice`` row records it. The domains above add their own
safety nets (scheduled publication, embargo ends, final notices) through ``hooks.sweep_jobs``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from vulndesk.accounts.models import User
from vulndesk.cases import emails, hooks
from vulndesk.cases.actions.triage import do_close_unanswered
from vulndesk.cases.clocks import ClockState
from vulndesk.cases.metrics_snapshots import refresh_due, refresh_metrics
from vulndesk.cases.models import InfoRequest, SlaNotice, Triage
from vulndesk.cases.queue_entries import refresh_open_reports
from vulndesk.cases.reply_notices import send_due_reply_notices
from vulndesk.cases.sla import report_clocks
from vulndesk.cases.vultron import RMState
from vulndesk.intake.models import Report
from vulndesk.notify.actions import queue_email
from vulndesk.notify.models import NoticeKind
from vulndesk.notify.preferences import queue_team_notice
from vulndesk.notify.tasks import requeue_stranded
from vulndesk.notify.webhooks import requeue_stranded_webhooks

logger = logging.getLogger(__name__)

SWEEP_EVERY = dt.timedelta(minutes=5)
WARN_BEFORE_CLOSING = dt.timedelta(days=2)


# Any constant: the advisory lock that makes every worker agree on one chain of sweeps.
_SWEEP_CHAIN_LOCK = 0x5357454550


@task()
def sla_sweep() -> str:
    done = sweep()
    _queue_sweep(run_after=timezone.now() + SWEEP_EVERY)
    return done


def ensure_sweep_scheduled() -> None:
    """Start the sweep chain unless a sweep is already waiting (called when a worker starts)."""
    _queue_sweep(run_after=None)


def _queue_sweep(run_after: dt.datetime | None) -> None:
    """Queue the next sweep unless one is waiting: one chain, however many workers.

    Without the lock, two workers starting together each found no sweep waiting and started a chain
    of their own; and a worker starting while a sweep ran started a second chain beside it. The
    check and the enqueue now happen under one lock, and a sweep that finds another one waiting
    ends its chain there, so chains that did double up come back to one.
    """
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions already serialize
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SWEEP_CHAIN_LOCK])
        waiting = DBTaskResult.objects.filter(task_path=sla_sweep.module_path, status="READY")
        if waiting.exists():
            return
        (sla_sweep.using(run_after=run_after) if run_after else sla_sweep).enqueue()


def sweep(now: dt.datetime | None = None) -> str:
    moment = now or timezone.now()
    notices = _clock_notices(moment)
    closed = _expire_info_requests(moment)
    requeued = requeue_stranded(moment) + requeue_stranded_webhooks(moment)
    # Safety nets of the domains above (scheduled publication, embargo ends, final notices): each
    # has its own task at its moment.
    done = [f"{job.run(moment)} {job.done}" for job in hooks.sweep_jobs]
    reply_notices = send_due_reply_notices(moment)
    refresh_open_reports(moment)  # heals an entry a crash left behind, and follows policy edits
    _queue_metrics_refresh(moment)
    return ", ".join(
        [
            f"{notices} notices",
            f"{closed} reports closed",
            f"{requeued} stranded mails requeued",
            *done,
            f"{reply_notices} reply notices",
        ]
    )


@task()
def metrics_refresh() -> str:
    return f"metrics of {refresh_metrics()} scopes refreshed"


def _queue_metrics_refresh(now: dt.datetime) -> None:
    """Ask for new metrics when the last are ``REFRESH_EVERY`` old, in a task of their own: at
    100,000 reports they take seconds, which the sweep's notices should not wait for."""
    if not refresh_due(now):
        return
    pending = DBTaskResult.objects.filter(
        task_path=metrics_refresh.module_path, status__in=["READY", "RUNNING"]
    )
    if not pending.exists():
        metrics_refresh.enqueue()


def _clock_notices(now: dt.datetime) -> int:
    sent = 0
    open_reports = (
        Report.objects.select_related("project").exclude(rm_state=RMState.CLOSED).filter(quarantined=False)
    )
    for report in open_reports.iterator(chunk_size=200):
        for clock in report_clocks(report, now):
            if clock.state == ClockState.DUE_SOON:
                sent += _notice_once(report, clock.name, "reminder", clock.due)
            elif clock.state == ClockState.OVERDUE:
                sent += _notice_once(report, clock.name, "escalation", clock.due)
    return sent


def _notice_once(report: Report, clock: str, kind: str, due: dt.datetime) -> int:
    try:
        with transaction.atomic():
            SlaNotice.objects.create(report=report, clock=clock, kind=kind, due=due)
            queue_team_notice(
                emails.sla_notice(report, clock, kind, due, _people_on(report)),
                NoticeKind.DEADLINE_APPROACHING if kind == "reminder" else NoticeKind.OVERDUE,
                project=report.project,
                about=report,
                owner=_owner_of(report),
            )
    except IntegrityError:
        return 0  # already sent for this deadline
    return 1


def _owner_of(report: Report) -> User | None:
    case = Triage.objects.filter(report=report).select_related("owner").first()
    return case.owner if case is not None else None


def _people_on(report: Report) -> list[str]:
    """The owner and the assignees of a case: who a reminder goes to before the team."""
    case = Triage.objects.filter(report=report).select_related("owner").first()
    if case is None:
        return []
    people = {case.owner.email} if case.owner else set()
    people |= set(case.assignees.values_list("email", flat=True))
    return sorted(people)


def _expire_info_requests(now: dt.datetime) -> int:
    closed = 0
    waiting = InfoRequest.objects.select_related("report__project").filter(answered_at__isnull=True)
    for request in waiting.filter(warned_at__isnull=True, closes_at__lte=now + WARN_BEFORE_CLOSING):
        with transaction.atomic():
            InfoRequest.objects.filter(pk=request.pk).update(warned_at=now)
            if request.report.reporter.get("email"):
                queue_email(
                    emails.closing_soon(request.report, request.closes_at),
                    project=request.report.project,
                    report=request.report,
                )
    for request in waiting.filter(closes_at__lte=now):
        closed += _close_unanswered(request)
    return closed


def _close_unanswered(request: InfoRequest) -> int:
    report = request.report
    with transaction.atomic():
        InfoRequest.objects.filter(pk=request.pk).update(answered_at=timezone.now())
        if do_close_unanswered(report, acting_user=None):
            return 1
    logger.warning(
        "report %s: no answer, but a %s report cannot be closed directly", report.pk, report.rm_state
    )
    return 0
