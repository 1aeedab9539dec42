"""What each standard export would refuse if a draft were published now.

Publication checks this, so a public export link never answers "cannot be exported": a package a
format cannot express is refused, with its reason, before anything is public. The draft is read
here for the team only; nothing of it leaves this function but the exporters' reasons.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from vulndesk.advisories.documents import document
from vulndesk.advisories.exports import FORMAT_NAMES
from vulndesk.advisories.exports.context import ExportError
from vulndesk.advisories.exports.published import project_context
from vulndesk.advisories.exports.render import render

if TYPE_CHECKING:
    import datetime as dt

    from vulndesk.advisories.models import Advisory, AdvisoryRevision


def export_problems(advisory: Advisory, revision: AdvisoryRevision, now: dt.datetime) -> list[str]:
    """``export.<format>: reason`` for every format that could not express ``revision``."""
    draft = document(revision)
    as_published = dataclasses.replace(
        draft, published_at=draft.published_at or now, modified_at=now, revision=revision.number
    )
    context = project_context(advisory.project)
    problems = []
    for name in FORMAT_NAMES:
        try:
            render(name, as_published, context)
        except ExportError as exc:
            problems.append(f"export.{name}: {exc}")
    return problems
