"""What the embargo domain registers in the cases domain's hooks (``cases/hooks.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from vulndesk.cases.vultron import EMState
from vulndesk.embargo.models import Embargo, ProposerKind
from vulndesk.embargo.views import embargo_context

if TYPE_CHECKING:
    from vulndesk.intake.models import Report


def embargo_agreed(report: Report) -> bool:
    """For the stage of a case: an end is agreed (active, or under revision)."""
    return Embargo.objects.filter(report=report, state__in=[EMState.ACTIVE, EMState.REVISE]).exists()


def tracking_context(report: Report, token: str) -> dict[str, object]:
    """The reporter's tracking page: the embargo as the reporter may answer it."""
    return {
        **embargo_context(report, ProposerKind.REPORTER),
        "embargo_action": reverse("tracking-embargo", args=[token]),
    }
