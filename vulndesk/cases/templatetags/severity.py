"""Severity on pages: the rating word beside every score, and the CVSS calculators."""

from __future__ import annotations

from django import template

from vulndesk.cases.calculator import VERSIONS, Calculator, calculator, score_with_rating
from vulndesk.cases.models import Triage

register = template.Library()


@register.filter(name="score_with_rating")
def score_with_rating_filter(vector: str) -> str:
    """``{{ vector|score_with_rating }}`` -> "7.5 High": a score is never shown without its word."""
    return score_with_rating(vector or "")


@register.simple_tag
def cvss_calculators(triage: Triage | None) -> list[Calculator]:
    """Both calculators, pre-set from the case's stored vectors."""
    stored = {
        "cvss31": triage.cvss31_vector if triage else "",
        "cvss40": triage.cvss40_vector if triage else "",
    }
    return [calculator(version, stored[version.field]) for version in VERSIONS]
