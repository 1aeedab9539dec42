"""Keeping each report's queue entry true: its next deadline, and what it is waiting for.

An entry is recomputed after the transaction of any change to its report commits (every change is
an audit event naming the report, so one signal sees them all), and every SLA sweep recomputes the
open reports' entries, which heals an entry a crash left behind and follows a policy edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Max
from django.utils import timezone

from vulndesk.audit.models import AuditEvent
from vulndesk.cases.clocks import Clock, ClockState, next_commitment
from vulndesk.cases.models import Author, Message, QueueEntry, Visibility
from vulndesk.cases.sla import many_report_clocks
from vulndesk.intake.models import Report

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
BATCH = 500


def refresh_queue_entries(report_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Recompute the entries of these reports, a batch at a time, in a bounded number of queries each."""
    ids = sorted(set(report_ids))
    moment = now or timezone.now()
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH], moment)
    return len(ids)


def _refresh_batch(ids: list[int], now: dt.datetime) -> None:
    reports = list(Report.objects.select_related("project", "triage").filter(pk__in=ids))
    shared: dict[int, Any] = {}
    for report in reports:  # one Project per project, so its policy is parsed once
        report.project = shared.setdefault(report.project_id, report.project)
    clocks = many_report_clocks(reports, now)
    waiting = _reporter_waiting_since([r.pk for r in reports])
    entries = [_entry(report, clocks[report.pk], waiting.get(report.pk), now) for report in reports]
    QueueEntry.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["report"],
        update_fields=[
            "next_due_at",
            "next_due_label",
            "awaiting_acknowledgement",
            "reporter_waiting_since",
            "severity_rank",
            "refreshed_at",
        ],
    )


def _entry(
    report: Report, report_clocks: list[Clock], waiting: dt.datetime | None, now: dt.datetime
) -> QueueEntry:
    pending = next_commitment(report_clocks)
    running = pending is not None and pending.state != ClockState.PAUSED
    acknowledge = next((c for c in report_clocks if c.name == "acknowledge"), None)
    rating = getattr(getattr(report, "triage", None), "rating", "") or ""
    return QueueEntry(
        report=report,
        next_due_at=pending.due if running and pending else None,
        next_due_label=pending.label if pending else "",
        awaiting_acknowledgement=acknowledge is not None
        and acknowledge.state not in {ClockState.MET, ClockState.STOPPED},
        reporter_waiting_since=waiting,
        severity_rank=SEVERITY_RANK.get(rating.lower(), 0),
        refreshed_at=now,
    )


def _reporter_waiting_since(ids: list[int]) -> dict[int, dt.datetime]:
    """Reports whose reporter wrote after the team last wrote to them (internal notes do not answer)."""
    last: dict[int, dict[str, dt.datetime]] = {}
    for report_id, author_kind, latest in (
        Message.objects.filter(
            report_id__in=ids, visibility=Visibility.SHARED, author_kind__in=[Author.REPORTER, Author.TEAM]
        )
        .values("report_id", "author_kind")
        .annotate(latest=Max("created_at"))
        .values_list("report_id", "author_kind", "latest")
    ):
        last.setdefault(report_id, {})[author_kind] = latest
    return {
        report_id: times[Author.REPORTER]
        for report_id, times in last.items()
        if Author.REPORTER in times
        and times[Author.REPORTER] > times.get(Author.TEAM, dt.datetime.min.replace(tzinfo=dt.UTC))
    }


# The events that can move a report's clocks or what it waits for; reads change nothing.
_CHANGES = ("report.", "message.", "case.")
_READS = {"report.read"}


def on_audit_event(
    sender: type[AuditEvent],  # noqa: ARG001 - the signal passes it
    instance: AuditEvent,
    *,
    created: bool,
    **_kwargs: object,
) -> None:
    """Every change to a report is an audit event: recompute its entry in the same transaction.

    Inside the transaction, so the entry commits (or rolls back) with the change it follows; every
    action writes its event after the change itself, so the entry sees the new state.
    """
    if not created or instance.target_type != "intake.report" or instance.action in _READS:
        return
    if instance.action.startswith(_CHANGES):
        refresh_queue_entries([int(instance.target_id)])


def refresh_open_reports(now: dt.datetime) -> int:
    """The sweep's pass: every report not closed (a closed report's entry owes nothing more)."""
    ids = Report.objects.exclude(rm_state="closed").values_list("pk", flat=True)
    return refresh_queue_entries(list(ids), now)
