"""Saved replies: a project's named reply templates, filled from a report when the team uses one.

A template is the team's text with ``{placeholder}`` names from a fixed list (``PLACEHOLDERS``);
``{{`` and ``}}`` write a brace. The text is never run through a template engine: filling it is a
plain substitution of those names, so a template cannot reach anything but the values below, and
an unknown name is refused when the template is saved, with the list of the names that exist.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from vulndesk.cases.evidence import evidence_of
from vulndesk.cases.models import SavedReply
from vulndesk.cases.sla import local_time, report_clocks
from vulndesk.projects.rendering import absolute

if TYPE_CHECKING:
    from vulndesk.intake.models import Report
    from vulndesk.projects.models import Project

MAX_NAME = 100
MAX_BODY = 20_000
# A name in braces, a doubled brace, or a lone brace (which is a mistake).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class SavedReplyError(ValueError):
    """A template that cannot be saved or used; the message says what to change."""


def _deadline(name: str) -> Callable[[Report], str]:
    def due(report: Report) -> str:
        clock = next((c for c in report_clocks(report) if c.name == name), None)
        return local_time(report, clock.due) if clock else "(no such deadline for this report)"

    return due


def _answer_by(report: Report) -> str:
    # What an information request sent now would say (cases/triage.py: do_request_info).
    closes = timezone.now() + dt.timedelta(days=report.project.policy.sla.needs_info_days)
    return local_time(report, closes)


def _reporter_name(report: Report) -> str:
    reporter = report.reporter
    return "" if reporter.get("anonymous") else str(reporter.get("name", "")).strip()


def _missing_evidence(report: Report) -> str:
    missing = evidence_of(report).missing
    return "\n".join(f"- {item}" for item in missing) if missing else "- (nothing: it has both)"


def _policy_url(report: Report) -> str:
    return absolute(reverse("project-policy", args=[report.project.slug]))


def _security_md_url(report: Report) -> str:
    return absolute(reverse("project-security-md", args=[report.project.slug]))


# Every name a template may use, with what it becomes; deadlines carry their timezone.
PLACEHOLDERS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "reporter_name": ("the reporter's name (empty when anonymous)", _reporter_name),
    "report_number": ("the report's number, such as 12", lambda r: str(r.number)),
    "project_name": ("the project's name", lambda r: r.project.policy.project.name),
    "security_team": ("the security team's name", lambda r: r.project.policy.project.security_team),
    "acknowledge_deadline": ("when the acknowledgement is due", _deadline("acknowledge")),
    "first_reply_deadline": ("when the first reply is due", _deadline("first_reply")),
    "triage_deadline": ("when the triage decision is due", _deadline("triage")),
    "answer_deadline": ("when a request for information sent now closes", _answer_by),
    "missing_evidence": ("what the report lacks: steps, proof of concept", _missing_evidence),
    "policy_url": ("the project's security policy page", _policy_url),
    "security_md_url": ("the project's SECURITY.md", _security_md_url),
}


def check_template(body: str) -> None:
    """Refuse a lone brace or an unknown name, naming it and the names that exist."""
    unknown: list[str] = []
    for token in _TOKEN.finditer(body):
        if token.group(0) in ("{{", "}}"):
            continue
        name = token.group(1)
        if name is None:
            raise SavedReplyError("a lone { or } : write {{ or }} for a brace, or {name} for a placeholder")
        if name not in PLACEHOLDERS and name not in unknown:
            unknown.append(name)
    if unknown:
        shown = ", ".join("{" + name[:40] + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise SavedReplyError(f"unknown placeholder {shown}; the placeholders are {known}")


def render_saved_reply(reply: SavedReply, report: Report) -> str:
    """The reply's text for this report: each placeholder replaced by its value, once.

    Values are inserted as they are, never read again as a template: a reporter named
    ``{policy_url}`` is greeted by that name.
    """
    if reply.project_id != report.project_id:
        raise SavedReplyError("a saved reply of another project")
    check_template(reply.body)

    def fill(token: re.Match[str]) -> str:
        text = token.group(0)
        if text in ("{{", "}}"):
            return text[0]
        return PLACEHOLDERS[token.group(1)][1](report)

    return _TOKEN.sub(fill, reply.body)


def saved_replies_of(project: Project) -> QuerySet[SavedReply]:
    return SavedReply.objects.filter(project=project)
