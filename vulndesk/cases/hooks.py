"""What the domains above cases (embargo, advisories, distributors) register to take part in a case.

The cases domain sits below them, so it never imports them: it calls these lists, and each upper
domain appends to them in its ``AppConfig.ready()``. Registration order is ``INSTALLED_APPS``
order (advisories, then embargo, then distributors), so a list runs in the order the layers stand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.cases.vultron import CaseEvent
    from vulndesk.intake.models import Report


class CaseEventsHook(Protocol):
    """Called inside the transaction that recorded case events, with the events that happened (the
    embargo domain ends an embargo when the case became public, an exploit was published or attacks
    were seen)."""

    def __call__(self, report: Report, events: list[CaseEvent], *, acting_user: User | None) -> None: ...


on_case_events: list[CaseEventsHook] = []


@dataclass(frozen=True)
class CasePanel:
    """A section of the team's case page that another domain fills.

    ``context`` is merged into the page's context. A panel ``on_section_pages`` is on every small
    section page too (their forms need it); otherwise it is on the case page and on the section
    page named ``section`` only."""

    section: str
    context: Callable[[Report], dict[str, object]]
    on_section_pages: bool = False


case_panels: list[CasePanel] = []


@dataclass(frozen=True)
class AdvisoryFacts:
    """What the advisories domain knows of a case, for its stage: a draft being written (not
    withdrawn), whether a second team member approved it, whether an advisory is published."""

    has_draft: bool = False
    draft_approved: bool = False
    published: bool = False


advisory_facts: list[Callable[[Report], AdvisoryFacts]] = []
"""The advisories domain answers here; with nothing registered, a case has no advisory."""

embargo_agreed: list[Callable[[Report], bool]] = []
"""The embargo domain answers here whether the case's embargo is agreed (active, or under revision)."""


@dataclass(frozen=True)
class SweepJob:
    """Periodic work of another domain the SLA sweep runs (a safety net: each normally has its own
    task at its moment). ``run`` returns how many things it did, ``done`` names them for the
    sweep's summary ("advisories published")."""

    done: str
    run: Callable[[dt.datetime], int]


sweep_jobs: list[SweepJob] = []


@dataclass(frozen=True)
class TrackingPanel:
    """What another domain shows on the reporter's tracking page: ``context`` gets the report and
    the tracking token (its forms post to addresses under the token)."""

    context: Callable[[Report, str], dict[str, object]]


tracking_panels: list[TrackingPanel] = []
