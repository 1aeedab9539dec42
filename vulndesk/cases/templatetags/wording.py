"""The words a reporter reads on pages: the stage of a report."""

from __future__ import annotations

from django import template

from vulndesk.cases.wording import reporter_status, reporter_status_of
from vulndesk.intake.models import Report

register = template.Library()


@register.filter(name="reporter_status")
def reporter_status_filter(report: Report | str) -> str:
    """The stage of a report (or, given a bare RM state, of one whose case has not moved yet)."""
    if isinstance(report, Report):
        return reporter_status_of(report).words
    return reporter_status(report)
