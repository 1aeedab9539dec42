"""What the distributors list registers in the cases domain's hooks (``cases/hooks.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from vulndesk.distributors.models import CaseShare

if TYPE_CHECKING:
    from vulndesk.intake.models import Report


def tracking_context(report: Report, token: str) -> dict[str, object]:
    """The reporter's tracking page: how many organisations were told, and the leak form."""
    return {
        "leak_action": reverse("tracking-leak", args=[token]),
        "distributors_told": CaseShare.objects.filter(report=report).count(),
    }
