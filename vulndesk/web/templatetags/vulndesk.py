from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from vulndesk.cases.wording import reporter_status, reporter_status_of
from vulndesk.intake.models import Report
from vulndesk.web.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text or "")


@register.filter(name="reporter_status")
def reporter_status_filter(report: Report | str) -> str:
    """The stage of a report (or, given a bare RM state, of one whose case has not moved yet)."""
    if isinstance(report, Report):
        return reporter_status_of(report).words
    return reporter_status(report)


@register.filter(name="titleword")
def titleword(value: object) -> str:
    """'business_days' -> 'business days'; 'monday' -> 'Monday'."""
    return str(value).replace("_", " ")
