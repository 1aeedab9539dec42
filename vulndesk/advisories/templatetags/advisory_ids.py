"""The public page's other databases' ids, linked where the database publishes them, and the
credits' contacts as people read them."""

from __future__ import annotations

from django import template

from vulndesk.advisories.aliases import id_url
from vulndesk.advisories.document import AffectedRange

register = template.Library()


@register.filter(name="id_url")
def id_url_filter(value: str) -> str:
    """``{{ alias|id_url }}``: the database's page for the id, or "" when vulndesk knows none."""
    return id_url(value)


@register.filter(name="contact_text")
def contact_text(contact: str) -> str:
    """A mailto: contact reads as its address."""
    return contact.removeprefix("mailto:")


@register.filter(name="names_functions")
def names_functions(affected: tuple[AffectedRange, ...]) -> bool:
    return any(entry.functions for entry in affected)
