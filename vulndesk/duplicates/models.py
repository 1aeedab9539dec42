"""What duplicate ranking keeps: each report's profile and each report's suggestions.

Both are derived from report text, so both are sealed like the text (``vulndesk.crypto``, covered
by ``vulndesk keys rotate``): the database holds no word, function name or path of a report in
clear. Only the score and the rank are plain, for the queue's "possible duplicate" chip.
"""

from __future__ import annotations

import json
import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone

from vulndesk.crypto import SealedColumns
from vulndesk.duplicates.fingerprints import Profile


class ReportProfile(SealedColumns, models.Model):
    """A report's words and technical marks (``fingerprints.Profile``), sealed."""

    sealed_contexts: ClassVar = {"sealed_profile": "profile:{uid}"}

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.OneToOneField("intake.Report", on_delete=models.CASCADE, related_name="duplicate_profile")
    version = models.PositiveSmallIntegerField()
    sealed_profile = models.TextField()

    def __str__(self) -> str:
        return f"duplicate profile of report {self.report_id}"

    @property
    def profile(self) -> Profile:
        return Profile.from_json(json.loads(self.opened("sealed_profile")))

    @profile.setter
    def profile(self, value: Profile) -> None:
        self.sealed_profile = self.sealed("sealed_profile", json.dumps(value.as_json(), sort_keys=True))


class DuplicateSuggestion(SealedColumns, models.Model):
    """An earlier report of the same project that a new report may repeat, with why."""

    sealed_contexts: ClassVar = {"sealed_reasons": "suggestion:{uid}"}

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(
        "intake.Report", on_delete=models.CASCADE, related_name="duplicate_suggestions"
    )
    candidate = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    sealed_reasons = models.TextField()
    ranked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["report", "rank"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["report", "rank"], name="one_suggestion_per_rank"),
            models.UniqueConstraint(fields=["report", "candidate"], name="one_suggestion_per_candidate"),
        ]

    def __str__(self) -> str:
        return f"suggestion {self.rank} for report {self.report_id}"

    @property
    def reasons(self) -> list[str]:
        value: list[str] = json.loads(self.opened("sealed_reasons"))
        return value

    @reasons.setter
    def reasons(self, value: list[str]) -> None:
        self.sealed_reasons = self.sealed("sealed_reasons", json.dumps(value))
