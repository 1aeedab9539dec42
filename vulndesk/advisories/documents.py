"""From a stored revision to the plain ``AdvisoryDocument`` the pages, feeds and exports read."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from vulndesk.advisories.content import AdvisoryContent
from vulndesk.advisories.document import (
    RATING_OF_CVSS,
    AdvisoryDocument,
    AffectedRange,
    Credit,
    CreditType,
    Reference,
    ReferenceType,
    SeverityRating,
)
from vulndesk.advisories.models import Advisory, AdvisoryRevision, AdvisoryState
from vulndesk.cases.cvss40 import scores as cvss40_scores
from vulndesk.cases.severity import cvss31, cvss40


def document(revision: AdvisoryRevision) -> AdvisoryDocument:
    """What ``revision`` says. A withdrawn advisory says only its title and why it was withdrawn."""
    advisory = revision.advisory
    content = AdvisoryContent.from_json(revision.content)
    published = revision.published_at or advisory.published_at
    if advisory.state == AdvisoryState.WITHDRAWN:
        content = _withdrawn(content, advisory)
    return AdvisoryDocument(
        identifier=advisory.identifier,
        project_slug=advisory.project.slug,
        project_name=advisory.project.name,
        vendor=advisory.project.policy.project.security_team,
        title=content.title,
        summary=content.summary,
        details=content.details,
        published_at=advisory.published_at or published,  # type: ignore[arg-type]  # drafts are previews
        modified_at=advisory.withdrawn_at or revision.published_at or advisory.modified_at or published,  # type: ignore[arg-type]
        revision=revision.number,
        affected=tuple(_affected_range(entry) for entry in content.affected),
        cve_id=advisory.cve_id,
        aliases=tuple(content.aliases),
        related=tuple(content.related),
        upstream=tuple(content.upstream),
        severity=severity_of(content),
        cvss31_vector=content.cvss31_vector,
        cvss31_score=cvss31(content.cvss31_vector).score if content.cvss31_vector else None,
        cvss40_vector=content.cvss40_vector,
        cvss40_score=cvss40(content.cvss40_vector).score if content.cvss40_vector else None,
        **_cvss40_beyond_base(content.cvss40_vector),
        cwes=tuple(content.cwes),
        credits=tuple(
            Credit(c["name"], CreditType(c["type"]), tuple(c.get("contact", ()))) for c in content.credits
        ),
        mitigations=content.mitigations,
        references=tuple(
            Reference(r["url"], ReferenceType(r.get("type", "WEB"))) for r in content.references
        ),
        withdrawn_at=advisory.withdrawn_at,
        withdrawn_reason=advisory.withdrawn_reason,
        revision_history=_history(advisory),
    )


def _affected_range(entry: dict[str, Any]) -> AffectedRange:
    return AffectedRange(entry["package"], entry["affected"], tuple(entry.get("functions", ())))


def severity_of(content: AdvisoryContent) -> SeverityRating | None:
    """The rating of the CVSS 4.0 score, else of the 3.1 score, else the team's own word."""
    for vector, score in ((content.cvss40_vector, cvss40), (content.cvss31_vector, cvss31)):
        if vector:
            return RATING_OF_CVSS.get(score(vector).rating)
    return SeverityRating(content.severity) if content.severity else None


def draft_document(revision: AdvisoryRevision, *, at: dt.datetime) -> AdvisoryDocument:
    """What ``revision`` would say if it were published at ``at``: the team's preview and the export
    checks read this; nothing public does (``access.public_advisories`` serves published ones only)."""
    first_published = revision.advisory.published_at or at
    return replace(document(revision), published_at=first_published, modified_at=at)


def _withdrawn(content: AdvisoryContent, advisory: Advisory) -> AdvisoryContent:
    return AdvisoryContent(
        title=content.title,
        summary=f"Withdrawn: {advisory.withdrawn_reason}",
        affected=content.affected,
        aliases=content.aliases,  # a withdrawn record keeps its identity, so consumers can match it
    )


def _history(advisory: Advisory) -> tuple[tuple[int, dt.datetime, str], ...]:
    published = advisory.revisions.filter(published_at__isnull=False).order_by("number")
    return tuple((r.number, r.published_at, r.change_summary) for r in published if r.published_at)


def published_revision(advisory: Advisory) -> AdvisoryRevision | None:
    return advisory.revisions.filter(published_at__isnull=False).order_by("-number").first()


def for_reporter(report_id: int) -> tuple[Advisory, AdvisoryContent, bool] | None:
    """What the reporter may read of their case's advisory: the shared draft, or the published text."""
    advisory = Advisory.objects.filter(report_id=report_id).exclude(state=AdvisoryState.WITHDRAWN).first()
    if advisory is None:
        return None
    latest = advisory.revisions.order_by("-number").first()
    if latest is not None and latest.published_at is None and latest.shared_with_reporter_at is not None:
        return advisory, AdvisoryContent.from_json(latest.content), False
    published = published_revision(advisory)
    if published is None:
        return None  # a draft the team has not shared yet
    return advisory, AdvisoryContent.from_json(published.content), True


def _cvss40_beyond_base(vector: str) -> dict[str, Any]:
    """The CVSS-BT/BE/BTE score and its name, when the vector states more than base metrics."""
    if not vector:
        return {}
    found = cvss40_scores(vector)
    if not found.has_more_than_base:
        return {}
    return {"cvss40_full_score": found.score, "cvss40_nomenclature": found.nomenclature}
