"""The team's queue as a query: which reports, under which filters, in which order.

The desk home counts with the very same query behind each of its links (``queue_reports``), so a
count there is always the number of rows the link shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import QueryDict

from vulndesk.accounts.models import User
from vulndesk.cases.clocks import AMBER_BEFORE
from vulndesk.cases.models import Triage
from vulndesk.cases.vultron import EMState, RMState
from vulndesk.intake.access import reports_visible_to
from vulndesk.intake.models import Report

EMBARGO_ENDING_WITHIN = dt.timedelta(days=7)

# Each sort: its label and its ordering. The next deadline first; a report with no deadline
# running (paused, or nothing owed) after every report that has one.
SORTS: dict[str, tuple[str, tuple[str | OrderBy, ...]]] = {
    "deadline": ("Next deadline", (F("queue_entry__next_due_at").asc(nulls_last=True), "-received_at")),
    "severity": (
        "Severity",
        (
            F("queue_entry__severity_rank").desc(nulls_last=True),
            F("queue_entry__next_due_at").asc(nulls_last=True),
        ),
    ),
    "oldest": ("Oldest first", ("received_at",)),
    "newest": ("Newest first", ("-received_at",)),
    "number": ("By number", ("number",)),
}
DEFAULT_SORT = "deadline"
SEVERITIES = {"critical": 4, "high": 3, "medium": 2, "low": 1, "unscored": 0}
DUE = {"overdue": "Overdue", "soon": "Due within 24 hours"}
WAITING = {
    "acknowledgement": "Acknowledgement",
    "reply": "An answer to the reporter",
    "embargo": "Embargo ending within 7 days",
}


@dataclass(frozen=True)
class QueueFilters:
    """The queue's visible controls; every one travels in the address except the search words."""

    project: str = ""
    state: str = ""
    owner: str = ""  # "me", "nobody" or a member's id
    severity: str = ""
    due: str = ""
    waiting: str = ""
    sort: str = ""
    q: str = ""  # search words: sealed in the session, never in an address

    @classmethod
    def from_query(cls, query: QueryDict) -> QueueFilters:
        return cls(**{f.name: query.get(f.name, "")[:100] for f in fields(cls) if f.name != "q"})

    def shown(self) -> dict[str, str]:
        """The filters as address parameters: the words never, only that a search applies."""
        shown = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "q" and getattr(self, f.name)
        }
        return shown | ({"search": "1"} if self.q else {})

    def with_(self, **changes: str) -> QueueFilters:
        return replace(self, **changes)


def queue_reports(user: User, filters: QueueFilters, now: dt.datetime) -> QuerySet[Report]:
    """The reports the queue lists for ``filters``, in its order (the search words applied by the caller)."""
    reports = _by_state(reports_visible_to(user), filters.state)
    if filters.project:
        reports = reports.filter(project__slug=filters.project)
    reports = _by_owner(reports, filters.owner, user)
    if filters.severity in SEVERITIES:
        rank = SEVERITIES[filters.severity]
        reports = reports.filter(
            Q(queue_entry__severity_rank=rank) | (Q(queue_entry__isnull=True) if rank == 0 else Q(pk__in=[]))
        )
    reports = _by_due(reports, filters.due, now)
    reports = _by_waiting(reports, filters.waiting, now)
    return reports.order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT])[1])


def _by_state(reports: QuerySet[Report], state: str) -> QuerySet[Report]:
    if state == "quarantine":
        return reports.filter(quarantined=True)
    if state:
        return reports.filter(rm_state=state, quarantined=False)
    return reports.exclude(rm_state=RMState.CLOSED).filter(quarantined=False)


def _by_owner(reports: QuerySet[Report], owner: str, user: User) -> QuerySet[Report]:
    """A person's reports: those they own and those they are assigned to."""
    if owner == "nobody":
        return reports.exclude(pk__in=Triage.objects.filter(owner__isnull=False).values("report_id"))
    person = user.pk if owner == "me" else int(owner) if owner.isdigit() else None
    if person is None:
        return reports
    theirs = Triage.objects.filter(Q(owner_id=person) | Q(assignees__id=person)).values("report_id")
    return reports.filter(pk__in=theirs)


def _by_due(reports: QuerySet[Report], due: str, now: dt.datetime) -> QuerySet[Report]:
    if due == "overdue":
        return reports.filter(queue_entry__next_due_at__lt=now)
    if due == "soon":
        return reports.filter(
            queue_entry__next_due_at__gte=now, queue_entry__next_due_at__lt=now + AMBER_BEFORE
        )
    return reports


def _by_waiting(reports: QuerySet[Report], waiting: str, now: dt.datetime) -> QuerySet[Report]:
    if waiting == "acknowledgement":
        return reports.filter(queue_entry__awaiting_acknowledgement=True)
    if waiting == "reply":
        return reports.filter(queue_entry__reporter_waiting_since__isnull=False)
    if waiting == "embargo":
        return reports.filter(
            embargo__state__in=[EMState.ACTIVE, EMState.REVISE],
            embargo__ends_at__gte=now,
            embargo__ends_at__lt=now + EMBARGO_ENDING_WITHIN,
        )
    return reports
