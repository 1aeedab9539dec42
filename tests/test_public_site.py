"""Nothing unpublished is reachable from the public site or the anonymous API, by any URL.

The test walks every URL pattern of the URL conf (the API's included) as an anonymous visitor,
filling each parameter with the ids of unpublished things: a draft advisory, a withdrawn one, an
embargoed case. No answer may carry their secret text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    do_withdraw_advisory,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.advisories.models import Advisory
from vulndesk.projects.models import Project

from .conftest import a_report

DRAFT_SECRET = "draft-secret-4b1e"
WITHDRAWN_SECRET = "withdrawn-secret-77c0"
CASE_SECRET = "case-secret-9d2a"
# Routes that are not public by design: the team's desk, signing in, the reporter's token link.
PRIVATE_PREFIXES = ("desk/", "accounts/", "t/")


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def _fill(route: str, values: dict[str, str]) -> str:
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), route)
    return "/" + path.lstrip("^").rstrip("$")


def _advisory(project: Project, author: User, reviewer: User, secret: str, title: str) -> Advisory:
    advisory = do_create_advisory(project, acting_user=author)
    content = AdvisoryContent(
        title=title,
        summary=f"Summary {secret}",
        details=f"Details {secret}",
        affected=[{"package": "pkg:pypi/llm-d", "affected": "<1.0.0"}],
    )
    do_edit_draft(advisory, content, acting_user=author)
    do_approve_draft(advisory, acting_user=reviewer)
    return advisory


def test_no_public_url_reveals_a_draft_a_withdrawn_text_or_a_case(
    client: Client, project_a: Project, alice: User, admin: User
) -> None:
    report = a_report(project_a, f"Report {CASE_SECRET}", f"Description {CASE_SECRET}")
    draft = _advisory(project_a, alice, admin, DRAFT_SECRET, title=f"Title {DRAFT_SECRET}")
    # A withdrawn advisory keeps its title in public (what was withdrawn); its text goes.
    withdrawn = _advisory(project_a, alice, admin, WITHDRAWN_SECRET, title="A withdrawn advisory")
    do_publish_advisory(withdrawn, acting_user=admin)
    do_withdraw_advisory(withdrawn, "Published by mistake; the issue is not confirmed.", acting_user=admin)

    routes = [r for r in _routes(get_resolver().url_patterns) if not r.startswith(PRIVATE_PREFIXES)]
    assert any("advisories" in r for r in routes)
    assert any(r.startswith("api/v1/") for r in routes)
    walked = 0
    for identifier in (draft.identifier, withdrawn.identifier):
        for format_name in ("osv", "cve", "csaf", "csaf-vex", "openvex"):
            values = {
                "slug": "llm-d",
                "identifier": identifier,
                "number": str(report.number),
                "token": "forged",
                "format": format_name,
            }
            for route in routes:
                response = client.get(_fill(route, values))
                body = response.content.decode(errors="replace")
                walked += 1
                for secret in (DRAFT_SECRET, WITHDRAWN_SECRET, CASE_SECRET):
                    assert secret not in body, f"{route} ({identifier}) shows {secret}"
    assert walked > 50
    # The draft has no public page at all; the withdrawn one says so, without its earlier text.
    assert client.get(f"/p/llm-d/advisories/{draft.identifier}/").status_code == 404
    withdrawn_page = client.get(f"/p/llm-d/advisories/{withdrawn.identifier}/").content.decode()
    assert "Withdrawn" in withdrawn_page
    assert "Published by mistake" in withdrawn_page
