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
from vulndesk.cases.evidence import BY_EVIDENCE
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
    # cases/evidence.py: a proof of concept and reproduction steps first, the newest first among equals.
    "evidence": ("By evidence", (BY_EVIDENCE, "-received_at")),
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
    reports = reports_visible_to(user).filter(matching(filters, user, now))
    return reports.order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT])[1])


def matching(filters: QueueFilters, user: User, now: dt.datetime) -> Q:
    """The condition a report meets to be listed under ``filters``: the queue filters by it, and
    the desk home counts by it (``desk/my_work.py``), all its counts in one pass."""
    return (
        _by_state(filters.state)
        & (Q(project__slug=filters.project) if filters.project else Q())
        & _by_owner(filters.owner, user)
        & _by_severity(filters.severity)
        & _by_due(filters.due, now)
        & _by_waiting(filters.waiting, now)
    )


def _by_state(state: str) -> Q:
    if state == "quarantine":
        return Q(quarantined=True)
    if state:
        return Q(rm_state=state, quarantined=False)
    return ~Q(rm_state=RMState.CLOSED) & Q(quarantined=False)


def _by_owner(owner: str, user: User) -> Q:
    """A person's reports: those they own and those they are assigned to."""
    if owner == "nobody":
        return ~Q(pk__in=Triage.objects.filter(owner__isnull=False).values("report_id"))
    person = user.pk if owner == "me" else int(owner) if owner.isdigit() else None
    if person is None:
        return Q()
    return Q(pk__in=Triage.objects.filter(Q(owner_id=person) | Q(assignees__id=person)).values("report_id"))


def _by_severity(severity: str) -> Q:
    if severity not in SEVERITIES:
        return Q()
    rank = SEVERITIES[severity]
    unscored = Q(queue_entry__isnull=True) if rank == 0 else Q(pk__in=[])
    return Q(queue_entry__severity_rank=rank) | unscored


def _by_due(due: str, now: dt.datetime) -> Q:
    if due == "overdue":
        return Q(queue_entry__next_due_at__lt=now)
    if due == "soon":
        return Q(queue_entry__next_due_at__gte=now, queue_entry__next_due_at__lt=now + AMBER_BEFORE)
    return Q()


def _by_waiting(waiting: str, now: dt.datetime) -> Q:
    if waiting == "acknowledgement":
        return Q(queue_entry__awaiting_acknowledgement=True)
    if waiting == "reply":
        return Q(queue_entry__reporter_waiting_since__isnull=False)
    if waiting == "embargo":
        return Q(
            embargo__state__in=[EMState.ACTIVE, EMState.REVISE],
            embargo__ends_at__gte=now,
            embargo__ends_at__lt=now + EMBARGO_ENDING_WITHIN,
        )
    return Q()
