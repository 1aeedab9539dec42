"""The worker's side of duplicate suggestions: a plain function the tests call directly."""

from __future__ import annotations

from django_tasks import task
from django_tasks_db.models import DBTaskResult

from vulndesk.duplicates.actions import do_suggest_duplicates
from vulndesk.intake.models import Report
from vulndesk.notify.models import OutboxPriority

# Below every mail (django-tasks runs the highest priority first): a suggestion helps the team
# later, a message tells somebody something now. In a flood, ranking a thousand junk reports
# would otherwise keep other reporters' acknowledgements waiting behind it.
RANKING_PRIORITY = OutboxPriority.BULK - 10
# After a release from quarantine, the later reports that may repeat the released one are ranked
# again, newest first, up to this many: the ones a team is still working on are the recent ones.
RERANKED_AFTER_RELEASE = 200


@task()
def suggest_duplicates(report_id: int) -> int:
    """How many suggestions were stored; a report deleted since it was queued has none."""
    report = Report.objects.select_related("project").filter(pk=report_id).first()
    if report is None:
        return 0
    return len(do_suggest_duplicates(report, acting_user=None))


def queue_ranking(report: Report) -> None:
    """Inside the intake's transaction: the task row commits with the report, or not at all."""
    suggest_duplicates.using(priority=RANKING_PRIORITY).enqueue(report.pk)


def on_report_received(report: Report, _fields: dict[str, str], _attachments: int) -> None:
    """Registered in ``intake.hooks.on_report_received``: the worker ranks the report after commit."""
    queue_ranking(report)


def on_report_released(report: Report) -> None:
    """Registered in ``intake.hooks.on_report_released``: a report the ranking skipped while it was
    in quarantine is now a candidate for the reports that came after it, and is ranked afresh."""
    later = (
        Report.objects.filter(project_id=report.project_id, number__gt=report.number, quarantined=False)
        .order_by("-number")
        .values_list("pk", flat=True)[:RERANKED_AFTER_RELEASE]
    )
    # A release in bulk would otherwise queue the same later reports once per released report.
    waiting = _waiting_rankings()
    for pk in [report.pk, *later]:
        if pk not in waiting:
            suggest_duplicates.using(priority=RANKING_PRIORITY).enqueue(pk)
            waiting.add(pk)


def _waiting_rankings() -> set[int]:
    """The reports whose ranking is queued and not started: it will see every candidate there is
    when it runs, so a second job would only rank them again alike. The rows stay locked until the
    release commits, so no worker starts one of them before the released report is a candidate;
    a row a worker is claiming right now is skipped, and its report gets a job of its own."""
    queued = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
        task_path=suggest_duplicates.module_path, status="READY"
    )
    return {int(job["args"][0]) for job in queued.values_list("args_kwargs", flat=True) if job.get("args")}
