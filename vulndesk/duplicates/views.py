"""What the team's pages show of duplicate suggestions; no route of its own.

The case page (team only, through ``access_report_for_team``) lists a report's suggestions, and the
queue puts a chip on a row whose best suggestion reaches ``ranking.SHOWN_THRESHOLD``. Marking a
duplicate posts to the case page's existing triage decision, so it runs ``do_mark_duplicate`` with
its checks and audit event. Nothing here reaches a reporter's or a distributor's page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vulndesk.duplicates.models import DuplicateSuggestion
from vulndesk.duplicates.ranking import SHOWN_THRESHOLD
from vulndesk.intake.models import Report


@dataclass(frozen=True)
class ShownSuggestion:
    candidate: Report
    score: float
    reasons: list[str]

    @property
    def likely(self) -> bool:
        return self.score >= SHOWN_THRESHOLD

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def suggestions_context(report: Report) -> dict[str, object]:
    """The case page's "Possible duplicates" section."""
    stored = DuplicateSuggestion.objects.filter(report=report).select_related("candidate__project")
    return {
        "duplicate_suggestions": [ShownSuggestion(s.candidate, s.score, s.reasons) for s in stored],
        "duplicate_threshold": round(SHOWN_THRESHOLD * 100),
    }


def possible_duplicates(reports: Iterable[Report]) -> dict[int, int]:
    """For a queue page: report id -> number of the report it likely repeats, in one query."""
    best = DuplicateSuggestion.objects.filter(report__in=list(reports), rank=1, score__gte=SHOWN_THRESHOLD)
    return dict(best.values_list("report_id", "candidate__number"))
