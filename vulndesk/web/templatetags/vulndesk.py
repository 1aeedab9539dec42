from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from vulndesk.cases.wording import reporter_status
from vulndesk.web.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text or "")


@register.filter(name="reporter_status")
def reporter_status_filter(rm_state: str) -> str:
    return reporter_status(rm_state)


@register.filter(name="titleword")
def titleword(value: object) -> str:
    """'business_days' -> 'business days'; 'monday' -> 'Monday'."""
    return str(value).replace("_", " ")
