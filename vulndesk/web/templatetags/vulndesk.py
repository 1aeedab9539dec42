"""Filters every page may use: markdown, and field names as words (a domain's own filters are in
its own ``templatetags/``)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from vulndesk.web.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text or "")


@register.filter(name="titleword")
def titleword(value: object) -> str:
    """'business_days' -> 'business days'; 'monday' -> 'Monday'."""
    return str(value).replace("_", " ")
