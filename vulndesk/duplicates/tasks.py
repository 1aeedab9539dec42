"""The worker's side of duplicate suggestions: a plain function the tests call directly."""

from __future__ import annotations

from django_tasks import task

from vulndesk.duplicates.actions import do_suggest_duplicates
from vulndesk.intake.models import Report


@task()
def suggest_duplicates(report_id: int) -> int:
    """How many suggestions were stored; a report deleted since it was queued has none."""
    report = Report.objects.select_related("project").filter(pk=report_id).first()
    if report is None:
        return 0
    return len(do_suggest_duplicates(report, acting_user=None))


def queue_ranking(report: Report) -> None:
    """Inside the intake's transaction: the task row commits with the report, or not at all."""
    suggest_duplicates.enqueue(report.pk)


def on_report_received(report: Report, _fields: dict[str, str], _attachments: int) -> None:
    """Registered in ``intake.hooks.on_report_received``: the worker ranks the report after commit."""
    queue_ranking(report)
