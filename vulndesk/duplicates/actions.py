"""Ranking a report against its project's earlier reports and storing what the ranking found.

The worker does this (``duplicates.tasks``), after the report's own transaction committed: intake
never waits for it. Running it again for a report gives the same suggestions in place of the old
ones, so a task retried after a crash, or run twice by two workers, leaves one set behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from vulndesk.audit.actions import record_event
from vulndesk.duplicates import ranking
from vulndesk.duplicates.fingerprints import PROFILE_VERSION, Profile, profile
from vulndesk.duplicates.models import DuplicateSuggestion, ReportProfile
from vulndesk.intake.models import Report

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


def report_profile(report: Report) -> Profile:
    """The profile of what the report says: its title and every field the reporter filled."""
    fields = report.fields
    text = "\n".join(
        [fields.get("description", ""), *(v for k, v in sorted(fields.items()) if k != "description")]
    )
    return profile(report.title, text)


def store_profile(report: Report) -> Profile:
    """(Re)build and seal a report's profile; safe to call from two workers at once."""
    built = report_profile(report)
    stored = ReportProfile.objects.filter(report=report).first()
    if stored is None:
        stored = ReportProfile(report=report, version=PROFILE_VERSION)
    stored.version, stored.profile = PROFILE_VERSION, built
    try:
        with transaction.atomic():
            stored.save()
    except IntegrityError:
        # Another worker stored it between our read and our write: theirs is the same profile.
        pass
    return built


def _current_profile(report: Report) -> Profile:
    stored: ReportProfile | None = getattr(report, "duplicate_profile", None)
    if stored is not None and stored.version == PROFILE_VERSION:
        return stored.profile
    return store_profile(report)


def candidates_for(report: Report) -> list[Report]:
    """The reports a new one may repeat: the project's earlier ones, except those in quarantine."""
    return list(
        Report.objects.filter(project_id=report.project_id, number__lt=report.number, quarantined=False)
        .select_related("duplicate_profile")
        .order_by("number")
    )


def do_suggest_duplicates(report: Report, *, acting_user: User | None) -> list[DuplicateSuggestion]:
    """Rank the project's earlier reports for ``report`` and keep the best few, replacing any older
    suggestions; one audit event says how many (never what they matched on). A ranking that finds
    what is already stored (a report ranked again after a release from quarantine, say) changes
    nothing and records nothing."""
    query = store_profile(report)
    earlier = {r.pk: r for r in candidates_for(report)}
    ranked = ranking.rank(query, [(pk, _current_profile(r)) for pk, r in earlier.items()])
    found = [(int(str(s.candidate)), s.score, s.reasons) for s in ranked]
    with transaction.atomic():
        locked = Report.objects.select_for_update(no_key=True).select_related("project").get(pk=report.pk)
        kept = list(DuplicateSuggestion.objects.filter(report=locked).order_by("rank"))
        if [(s.candidate_id, s.score, s.reasons) for s in kept] == found:
            return kept
        DuplicateSuggestion.objects.filter(report=locked).delete()
        stored = [
            _suggestion(locked, earlier[int(str(s.candidate))], rank, s) for rank, s in enumerate(ranked, 1)
        ]
        record_event(
            "report.duplicates_suggested",
            acting_user=acting_user,
            project=locked.project,
            target=locked,
            details={"suggestions": len(stored), "best_score": stored[0].score if stored else 0.0},
        )
    return stored


def _suggestion(
    report: Report, candidate: Report, rank: int, found: ranking.Suggestion
) -> DuplicateSuggestion:
    suggestion = DuplicateSuggestion(report=report, candidate=candidate, rank=rank, score=found.score)
    suggestion.reasons = found.reasons
    suggestion.save()
    return suggestion
