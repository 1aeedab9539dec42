"""Who may do what: every route of the URL conf against every persona.

The table below is the contract. A route that is missing from it fails the test, so a new page or
API operation cannot ship without someone deciding who may reach it. Objects of another project
or another reporter answer 404, never 403: nobody can probe for what exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from vulndesk.accounts.actions import do_create_api_token
from vulndesk.accounts.models import User
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.cases.actions.saved_replies import do_create_saved_reply
from vulndesk.distributors.models import (
    CaseEmbargoAcceptance,
    CaseShare,
    DistributorMember,
    MemberState,
    Organisation,
    OrganisationState,
    SharedAttachment,
)
from vulndesk.duplicates.tasks import suggest_duplicates
from vulndesk.intake.models import Report, ReportAttachment
from vulndesk.projects.models import Project

from .conftest import a_report, signed_in

PERSONAS = ("admin", "alice", "bob", "outsider", "reporter", "anonymous", "distributor", "dist_outsider")
# Expected status for each persona, in PERSONAS order. "login" means a redirect to sign in.
# "distributor" is a member of Distro A, on the Agentic Tool Mesh list, which was told about case
# ``m`` and accepted its embargo; "dist_outsider" is a member of Vendor B, on the same list, not told.
# Distributor members hold no team role: a six-entry row gives them what "outsider" gets.
LOGIN = "login"
EVERYONE_200 = (200, 200, 200, 200, 200, 200)
TEAM_A_ONLY = (200, 200, 404, 404, LOGIN, LOGIN)
TEAM_A_ACTS = (302, 302, 404, 404, LOGIN, LOGIN)
SIGNED_IN = (200, 200, 200, 200, LOGIN, LOGIN)
ADMIN_ONLY = (200, 404, 404, 404, LOGIN, LOGIN)
# Titles of earlier reports that the cast's reports are suggested duplicates of: only each
# project's team may see a suggestion, never a reporter, a distributor or another project.
SUGGESTED_IN_LLM_D = "Earlier llm-d original"
SUGGESTED_IN_ATM = "Earlier embargoed original"
SEES_SUGGESTIONS = {SUGGESTED_IN_LLM_D: {"admin", "alice"}, SUGGESTED_IN_ATM: {"admin", "bob"}}
CVSS31_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"


@dataclass(frozen=True)
class Check:
    method: str
    path: str
    expected: tuple[int | str, ...]
    body: dict[str, str] | None = None
    api: bool = False


def _matrix(  # one id per object the routes name
    report_number: int,
    tracking_path: str,
    shared: int = 0,
    applicant: int = 0,
    alices_token: int = 0,
    *,
    attachments: tuple[str, str] = ("", ""),
    saved_replies: tuple[int, int] = (0, 0),
) -> dict[str, list[Check]]:
    n, m = report_number, shared
    reply_a, reply_b = saved_replies
    # An attachment of report n (llm-d) and one of case m that the team shared with Distro A.
    file_n, file_m = attachments
    unknown = "00000000-0000-4000-8000-000000000000"
    atm = "/distributor/p/agentic-tool-mesh"
    members_only = (404, 404, 404, 404, LOGIN, LOGIN, 302, 302)
    year = timezone.now().year
    published, draft = f"x_LLMD-{year}-0001", f"x_LLMD-{year}-0002"
    return {
        # First: later checks replace the reporter's link.
        "tracking": [
            Check("GET", tracking_path, EVERYONE_200),  # the link is the key, whoever holds it
            Check("GET", "/t/" + "x" * 43 + "/", (404,) * 6),
        ],
        "tracking-attachment": [
            Check("GET", f"{tracking_path}attachments/{file_n}/", (200,) * 8),  # the link is the key
            Check("GET", f"{tracking_path}attachments/{file_m}/", (404,) * 8),  # another report's
            Check("GET", "/t/" + "x" * 43 + f"/attachments/{file_n}/", (404,) * 8),
        ],
        "tracking-embargo": [
            Check("POST", tracking_path + "embargo/", (302,) * 6, {"action": "accept", "proposal": "0"}),
            # Opened, not posted (a reload, a saved address): back to the page's section.
            Check("GET", tracking_path + "embargo/", (302,) * 8),
            Check("GET", "/t/" + "x" * 43 + "/embargo/", (404,) * 8),
            Check("POST", "/t/" + "x" * 43 + "/embargo/", (404,) * 6, {"action": "accept"}),
        ],
        "tracking-leak": [
            Check("POST", tracking_path + "leak/", (302,) * 8, {"what": "x", "to_whom": "y"}),
            Check("GET", tracking_path + "leak/", (302,) * 8),
            Check("POST", "/t/" + "x" * 43 + "/leak/", (404,) * 8, {"what": "x", "to_whom": "y"}),
        ],
        "distributor-apply": [
            Check("GET", "/p/agentic-tool-mesh/distributors/apply/", (200,) * 8),
            Check("GET", "/p/llm-d/distributors/apply/", (404,) * 8),  # llm-d has no list
        ],
        "distributor-portal": [Check("GET", "/distributor/", (404, 404, 404, 404, LOGIN, LOGIN, 200, 200))],
        "distributor-welcome": [Check("GET", "/distributor/welcome/MQ/forged/", (404,) * 8)],
        "distributor-accept-policy": [Check("POST", f"{atm}/policy/", members_only, {})],
        "distributor-vouch": [Check("POST", f"{atm}/vouch/{applicant}/", members_only, {"statement": "x"})],
        "distributor-case": [
            Check("GET", f"{atm}/cases/{m}/", (404, 404, 404, 404, LOGIN, LOGIN, 200, 404)),
            Check("GET", f"/distributor/p/llm-d/cases/{n}/", (404, 404, 404, 404, LOGIN, LOGIN, 404, 404)),
        ],
        "distributor-attachment": [
            Check(
                "GET", f"{atm}/cases/{m}/attachments/{file_m}/", (404, 404, 404, 404, LOGIN, LOGIN, 200, 404)
            ),
            Check(
                "GET", f"{atm}/cases/{m}/attachments/{unknown}/", (404, 404, 404, 404, LOGIN, LOGIN, 404, 404)
            ),
        ],
        "distributor-case-act": [
            Check(
                "POST",
                f"{atm}/cases/{m}/act/",
                (404, 404, 404, 404, LOGIN, LOGIN, 302, 404),
                {"action": "status", "product": "p", "status": "affected"},
            )
        ],
        "project-distributors": [
            Check(
                "GET", "/desk/p/agentic-tool-mesh/distributors/", (200, 404, 200, 404, LOGIN, LOGIN, 404, 404)
            ),
            Check("GET", "/desk/p/llm-d/distributors/", TEAM_A_ONLY),
        ],
        "project-distributor-act": [
            Check(
                "POST",
                f"/desk/p/agentic-tool-mesh/distributors/{applicant}/",
                (302, 404, 302, 404, LOGIN, LOGIN, 404, 404),
                {"action": "x"},
            )
        ],
        "report-distributors": [
            Check("POST", f"/desk/p/llm-d/reports/{n}/distributors/", TEAM_A_ACTS, {"action": "x"})
        ],
        "home": [Check("GET", "/", EVERYONE_200)],
        "healthz": [Check("GET", "/healthz", EVERYONE_200)],
        "well-known-security-txt": [Check("GET", "/.well-known/security.txt", EVERYONE_200)],
        "login": [Check("GET", "/accounts/login/", EVERYONE_200)],
        # Without a password step just done, both second-factor pages send back to the sign-in.
        "login-verify": [Check("GET", "/accounts/login/code/", (302,) * 8)],
        "login-setup": [Check("GET", "/accounts/login/setup/", (302,) * 8)],
        "reauthenticate": [Check("GET", "/accounts/confirm/", (200, 200, 200, 200, LOGIN, LOGIN, 200, 200))],
        "logout": [Check("POST", "/accounts/logout/", (302, 302, 302, 302, 302, 302))],
        "password-reset": [Check("GET", "/accounts/password-reset/", EVERYONE_200)],
        # A mailed link opens nothing without its token: a forged one is the same 404 for everyone.
        "password-reset-link": [Check("GET", "/accounts/password-reset/forged/", (404,) * 8)],
        "team-invitation": [Check("GET", "/accounts/invitation/forged/", (404,) * 8)],
        "teams": [Check("GET", "/desk/teams/", SIGNED_IN)],
        # Any member reads the team; only an administrator or the team lead changes it (alice is
        # a plain member: her change is refused as a stranger's). An empty change is a clear 400.
        "project-team": [
            Check("GET", "/desk/p/llm-d/team/", TEAM_A_ONLY),
            Check("POST", "/desk/p/llm-d/team/", (400, 404, 404, 404, LOGIN, LOGIN), {}),
        ],
        "desk": [Check("GET", "/desk/", SIGNED_IN)],
        "account": [Check("GET", "/accounts/", SIGNED_IN)],
        "account-password": [Check("POST", "/accounts/password/", (400, 400, 400, 400, LOGIN, LOGIN), {})],
        "account-notices": [Check("POST", "/accounts/notices/", (302, 302, 302, 302, LOGIN, LOGIN), {})],
        "account-recovery-codes": [
            Check("POST", "/accounts/recovery-codes/", (302, 302, 302, 302, LOGIN, LOGIN))
        ],
        # Tokens are for the team's API: a person without a team role (an outsider, a distributor) has none.
        "account-token-create": [
            Check("POST", "/accounts/tokens/", (302, 302, 302, 404, LOGIN, LOGIN), {}),
            Check("GET", "/accounts/tokens/", (302, 302, 302, 404, LOGIN, LOGIN)),  # nothing to show
        ],
        "account-token-revoke": [
            Check("POST", f"/accounts/tokens/{alices_token}/revoke/", (404, 302, 404, 404, LOGIN, LOGIN))
        ],
        "report-queue": [
            Check("GET", "/desk/reports/", SIGNED_IN),
            Check("POST", "/desk/reports/", (302, 302, 302, 302, LOGIN, LOGIN), {"q": "x"}),
        ],
        # Anyone signed in may post; each named report goes through access_report_for_team, so a
        # report of another project is skipped as "not found" (tests/test_queue.py checks it).
        "report-queue-bulk": [
            Check("GET", "/desk/reports/bulk/", (405, 405, 405, 405, LOGIN, LOGIN)),
            Check(
                "POST",
                "/desk/reports/bulk/",
                (302, 302, 302, 302, LOGIN, LOGIN),
                {"action": "label", "label": "matrix", "report": f"llm-d/{n}"},
            ),
        ],
        "report-page": [
            Check("GET", f"/desk/p/llm-d/reports/{n}/", TEAM_A_ONLY),
            Check("GET", "/desk/p/llm-d/reports/999/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "report-attachment": [
            Check("GET", f"/desk/p/llm-d/reports/{n}/attachments/{file_n}/", TEAM_A_ONLY),
            Check(
                "GET", f"/desk/p/llm-d/reports/{n}/attachments/{unknown}/", (404, 404, 404, 404, LOGIN, LOGIN)
            ),
            Check(
                "GET", f"/desk/p/llm-d/reports/{n}/attachments/{file_m}/", (404, 404, 404, 404, LOGIN, LOGIN)
            ),
        ],
        "report-message": [
            Check("POST", f"/desk/p/llm-d/reports/{n}/messages/", TEAM_A_ACTS, {"body": "hello"})
        ],
        "report-tracking-link": [
            Check("POST", f"/desk/p/llm-d/reports/{n}/tracking-link/", TEAM_A_ACTS, {"action": "replace"})
        ],
        # Not in quarantine: nothing to release, back to the page.
        "report-release": [Check("POST", f"/desk/p/llm-d/reports/{n}/release/", TEAM_A_ACTS, {})],
        "report-triage": [
            Check("POST", f"/desk/p/llm-d/reports/{n}/triage/", TEAM_A_ACTS, {"decision": "x"})
        ],
        "report-severity": [Check("POST", f"/desk/p/llm-d/reports/{n}/severity/", TEAM_A_ACTS, {"cwes": ""})],
        "report-severity-score": [
            Check(
                "POST", f"/desk/p/llm-d/reports/{n}/severity/score/", TEAM_A_ONLY, {"vector": CVSS31_VECTOR}
            )
        ],
        "report-assign": [Check("POST", f"/desk/p/llm-d/reports/{n}/assign/", TEAM_A_ACTS, {"owner": ""})],
        # Too long a message: refused with a message, so the report stays unacknowledged.
        "report-acknowledge": [
            Check("POST", f"/desk/p/llm-d/reports/{n}/acknowledge/", TEAM_A_ACTS, {"message": "x" * 10_001})
        ],
        "report-section": [
            Check("GET", f"/desk/p/llm-d/reports/{n}/edit/severity/", TEAM_A_ONLY),
            Check("GET", f"/desk/p/llm-d/reports/{n}/edit/message/", TEAM_A_ONLY),
            Check("GET", f"/desk/p/llm-d/reports/{n}/edit/nothing/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "report-affected": [
            Check(
                "POST", f"/desk/p/llm-d/reports/{n}/affected/", TEAM_A_ACTS, {"package": "x", "affected": "x"}
            )
        ],
        "report-backport": [
            Check(
                "POST", f"/desk/p/llm-d/reports/{n}/backports/", TEAM_A_ACTS, {"package": "x", "line": "1.0"}
            )
        ],
        "report-fix-plan": [
            Check("POST", f"/desk/p/llm-d/reports/{n}/fix-plan/", TEAM_A_ACTS, {"timeline": ""})
        ],
        "needs-evidence": [
            Check("GET", "/desk/p/llm-d/needs-evidence/", TEAM_A_ONLY),
            Check("GET", "/desk/p/nope/needs-evidence/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "needs-evidence-request": [
            Check("POST", f"/desk/p/llm-d/needs-evidence/{n}/request/", TEAM_A_ACTS, {}),
            Check(
                "POST", "/desk/p/llm-d/needs-evidence/999/request/", (404, 404, 404, 404, LOGIN, LOGIN), {}
            ),
        ],
        # Saved replies: llm-d's (reply_a) and Agentic Tool Mesh's (reply_b), named under llm-d.
        "saved-replies": [
            Check("GET", "/desk/p/llm-d/saved-replies/", TEAM_A_ONLY),
            Check("POST", "/desk/p/llm-d/saved-replies/", (400, 400, 404, 404, LOGIN, LOGIN), {"name": ""}),
        ],
        "saved-reply-edit": [
            Check("GET", f"/desk/p/llm-d/saved-replies/{reply_a}/", TEAM_A_ONLY),
            Check("GET", f"/desk/p/llm-d/saved-replies/{reply_b}/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "saved-reply-delete": [
            Check(
                "POST", f"/desk/p/llm-d/saved-replies/{reply_b}/delete/", (404, 404, 404, 404, LOGIN, LOGIN)
            ),
            Check(
                "POST",
                f"/desk/p/agentic-tool-mesh/saved-replies/{reply_a}/delete/",
                (404, 404, 404, 404, LOGIN, LOGIN),
            ),
        ],
        "project-releases": [
            Check("GET", "/desk/p/llm-d/releases/", TEAM_A_ONLY),
            Check("GET", "/desk/p/nope/releases/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "report-embargo": [
            Check("POST", f"/desk/p/llm-d/reports/{n}/embargo/", TEAM_A_ACTS, {"action": "x"})
        ],
        "report-draft-advisory": [Check("POST", f"/desk/p/llm-d/reports/{n}/advisory/", TEAM_A_ACTS, {})],
        "advisory-desk-list": [Check("GET", "/desk/p/llm-d/advisories/", TEAM_A_ONLY)],
        "advisory-edit": [
            Check("GET", f"/desk/p/llm-d/advisories/{draft}/", TEAM_A_ONLY),
            Check("GET", "/desk/p/llm-d/advisories/x_LLMD-1999-0001/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "advisory-preview": [
            Check("GET", f"/desk/p/llm-d/advisories/{draft}/preview/", TEAM_A_ONLY),
            Check("GET", f"/desk/p/llm-d/advisories/{published}/preview/", TEAM_A_ONLY),
        ],
        "advisory-diff": [
            Check("GET", f"/desk/p/llm-d/advisories/{published}/diff/", TEAM_A_ONLY),
            Check(
                "GET",
                f"/desk/p/llm-d/advisories/{draft}/diff/?from=1&to=9",
                (404, 404, 404, 404, LOGIN, LOGIN),
            ),
        ],
        "advisory-action": [Check("POST", f"/desk/p/llm-d/advisories/{draft}/approve/", TEAM_A_ACTS, {})],
        "advisory-publish": [Check("POST", f"/desk/p/llm-d/advisories/{draft}/publish/", TEAM_A_ACTS, {})],
        "all-advisories": [Check("GET", "/advisories/", EVERYONE_200)],
        "advisory-list": [Check("GET", "/p/llm-d/advisories/", EVERYONE_200)],
        "advisory-feed": [Check("GET", "/p/llm-d/advisories.atom", EVERYONE_200)],
        "advisory-json-feed": [Check("GET", "/p/llm-d/feed.json", EVERYONE_200)],
        "advisory-index": [Check("GET", "/p/llm-d/advisories.json", EVERYONE_200)],
        "advisory-page": [
            Check("GET", f"/p/llm-d/advisories/{published}/", EVERYONE_200),
            Check("GET", f"/p/llm-d/advisories/{draft}/", (404,) * 6),  # a draft is nobody's public page
        ],
        "announce-subscribe": [Check("GET", "/p/llm-d/announce/", EVERYONE_200)],
        "announce-confirm": [Check("GET", "/p/llm-d/announce/confirm/forged/", (404,) * 6)],
        "announce-unsubscribe": [Check("GET", "/p/llm-d/announce/unsubscribe/forged/", (404,) * 6)],
        "metrics": [Check("GET", "/desk/metrics/?months=3", ADMIN_ONLY)],
        "metrics-csv": [Check("GET", "/desk/metrics.csv", ADMIN_ONLY)],
        "project-metrics": [
            Check("GET", "/desk/p/llm-d/metrics/", TEAM_A_ONLY),
            Check("GET", "/desk/p/nope/metrics/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "project-metrics-csv": [Check("GET", "/desk/p/llm-d/metrics.csv", TEAM_A_ONLY)],
        "instance_metrics": [Check("GET", "/api/v1/metrics", (200, 404, 404, 404, 401, 401), api=True)],
        "project_metrics": [
            Check("GET", "/api/v1/projects/llm-d/metrics", (200, 200, 404, 404, 401, 401), api=True)
        ],
        "outbox": [
            Check("GET", "/desk/outbox/", ADMIN_ONLY),
            Check("GET", "/desk/outbox/?status=failed&kind=report-received&project=llm-d", ADMIN_ONLY),
        ],
        # An unknown row answers 404 to everyone; tests/test_outbox_page.py retries a real one.
        "outbox-retry-mail": [
            Check("POST", f"/desk/outbox/mail/{unknown}/retry/", (404, 404, 404, 404, LOGIN, LOGIN), {})
        ],
        "outbox-retry-webhook": [
            Check("POST", f"/desk/outbox/webhooks/{unknown}/retry/", (404, 404, 404, 404, LOGIN, LOGIN), {})
        ],
        "project-webhooks": [
            Check("GET", "/desk/p/llm-d/webhooks/", ADMIN_ONLY),
            Check("GET", "/desk/p/nope/webhooks/", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "project-policy-edit": [
            Check("GET", "/desk/p/llm-d/policy/", ADMIN_ONLY),
            Check("GET", "/desk/p/llm-d/policy/?section=sla", ADMIN_ONLY),
        ],
        "project-policy-diff": [
            Check("GET", "/desk/p/llm-d/policy/diff/", ADMIN_ONLY),
            Check("GET", "/desk/p/llm-d/policy/diff/?from=1&to=99", (404, 404, 404, 404, LOGIN, LOGIN)),
        ],
        "project-policy": [Check("GET", "/p/llm-d/", EVERYONE_200)],
        "report-form": [Check("GET", "/p/llm-d/report/", EVERYONE_200)],
        "project-security-md": [Check("GET", "/p/llm-d/SECURITY.md", EVERYONE_200)],
        "project-security-txt": [Check("GET", "/p/llm-d/security.txt", EVERYONE_200)],
        # Public when the project has a key (tests/test_openpgp.py); llm-d has none here.
        "project-openpgp-key": [Check("GET", "/p/llm-d/openpgp.asc", (404,) * 6)],
        "advisory-export": [
            Check("GET", f"/p/llm-d/advisories/{published}/osv.json", EVERYONE_200),
            Check("GET", f"/p/llm-d/advisories/{draft}/csaf.json", (404,) * 6),  # a draft exports to nobody
            Check("GET", f"/p/llm-d/advisories/{published}/spdx.json", (404,) * 6),
        ],
        # CSAF 2.0 requirement 4: TLP:WHITE documents and their listings are open to everyone.
        "csaf-provider-metadata": [Check("GET", "/.well-known/csaf/provider-metadata.json", EVERYONE_200)],
        "csaf-index": [Check("GET", "/p/llm-d/csaf/index.txt", EVERYONE_200)],
        "csaf-changes": [Check("GET", "/p/llm-d/csaf/changes.csv", EVERYONE_200)],
        "csaf-feed": [Check("GET", "/p/llm-d/csaf/feed-tlp-white.json", EVERYONE_200)],
        "csaf-atom-feed": [Check("GET", "/p/llm-d/csaf/feed-tlp-white.atom", EVERYONE_200)],
        "csaf-document": [
            Check("GET", f"/p/llm-d/csaf/{year}/{published.lower()}.json", EVERYONE_200),
            Check("GET", f"/p/llm-d/csaf/{year}/{published.lower()}-vex.json", EVERYONE_200),
            Check("GET", f"/p/llm-d/csaf/{year}/{draft.lower()}.json", (404,) * 6),  # a draft is not listed
        ],
        "openapi-json": [Check("GET", "/api/v1/openapi.json", EVERYONE_200, api=True)],
        "openapi-view": [Check("GET", "/api/v1/docs", EVERYONE_200, api=True)],
        "me": [Check("GET", "/api/v1/me", (200, 200, 200, 200, 401, 401), api=True)],
        "list_projects": [Check("GET", "/api/v1/projects", EVERYONE_200, api=True)],
        "get_project": [Check("GET", "/api/v1/projects/llm-d", EVERYONE_200, api=True)],
        "get_policy": [Check("GET", "/api/v1/projects/llm-d/policy", EVERYONE_200, api=True)],
        "put_policy": [
            Check(
                "PUT",
                "/api/v1/projects/llm-d/policy",
                (422, 404, 404, 404, 401, 401),
                {"not": "a policy"},
                api=True,
            )
        ],
        "submit_report": [
            Check(
                "POST",
                "/api/v1/projects/llm-d/reports",
                (201,) * 6,
                {"title": "t", "description": "d"},
                api=True,
            )
        ],
        "list_reports": [Check("GET", "/api/v1/reports", (200, 200, 200, 200, 401, 401), api=True)],
        "search_reports": [
            Check("POST", "/api/v1/reports/search", (200, 200, 200, 200, 401, 401), {"q": "x"}, api=True)
        ],
        "get_report": [
            Check("GET", f"/api/v1/projects/llm-d/reports/{n}", (200, 200, 404, 404, 401, 401), api=True)
        ],
        "acknowledge_report": [
            Check(
                "POST",
                f"/api/v1/projects/llm-d/reports/{n}/acknowledge",
                (422, 422, 404, 404, 401, 401),
                {"message": "x" * 10_001},
                api=True,
            )
        ],
        "list_releases": [
            Check("GET", "/api/v1/projects/llm-d/releases", (200, 200, 404, 404, 401, 401), api=True)
        ],
        "record_release": [
            Check(
                "POST",
                "/api/v1/projects/llm-d/releases",
                (422, 422, 404, 404, 401, 401),
                {"package": "pypi", "version": "1.0"},
                api=True,
            )
        ],
        "get_fix": [
            Check("GET", f"/api/v1/projects/llm-d/reports/{n}/fix", (200, 200, 404, 404, 401, 401), api=True)
        ],
        "set_affected": [
            Check(
                "PUT",
                f"/api/v1/projects/llm-d/reports/{n}/affected",
                (422, 422, 404, 404, 401, 401),
                {"package": "x", "affected": "x"},
                api=True,
            )
        ],
        "set_backport": [
            Check(
                "PUT",
                f"/api/v1/projects/llm-d/reports/{n}/backports",
                (422, 422, 404, 404, 401, 401),
                {"package": "pkg:pypi/x", "line": "1.0", "status": "affected"},
                api=True,
            )
        ],
        "set_fix_plan": [
            Check(
                "PUT",
                f"/api/v1/projects/llm-d/reports/{n}/fix-plan",
                (200, 200, 404, 404, 401, 401),
                {"timeline": "Next Tuesday."},
                api=True,
            )
        ],
        "export_published_advisory": [
            Check(
                "GET", f"/api/v1/projects/llm-d/advisories/{published}/export/openvex", EVERYONE_200, api=True
            ),
            Check("GET", f"/api/v1/projects/llm-d/advisories/{draft}/export/cve", (404,) * 6, api=True),
        ],
        "publish_advisory": [
            # The draft is not approved: the team hears why; nobody else learns it exists.
            Check(
                "POST",
                f"/api/v1/projects/llm-d/advisories/{draft}/publish",
                (409, 409, 404, 404, 401, 401),
                {},
                api=True,
            )
        ],
        "api-root": [],  # the API's own prefix pattern: nothing is served at it
    }


def _route_names(patterns: list[URLPattern | URLResolver]) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _route_names(pattern.url_patterns)
        else:
            yield str(pattern.name)


@pytest.fixture
def cast(admin: User, alice: User, bob: User, outsider: User) -> dict[str, object]:
    client = Client()
    # An earlier report the API report below resembles: the worker suggests it as a duplicate.
    a_report(Project.objects.get(slug="llm-d"), SUGGESTED_IN_LLM_D, "secret")
    payload = json.dumps({"title": "secret", "description": "d", "reporter_email": "r@researcher.test"})
    receipt = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()
    _advisories(Project.objects.get(slug="llm-d"), alice, admin)
    distributor, dist_outsider, shared, applicant = _distributors(
        Project.objects.get(slug="agentic-tool-mesh")
    )
    llm_d_report = Report.objects.get(project__slug="llm-d", number=receipt["number"])
    suggest_duplicates.call(llm_d_report.pk)
    return {
        "users": {
            "admin": admin,
            "alice": alice,
            "bob": bob,
            "outsider": outsider,
            "distributor": distributor,
            "dist_outsider": dist_outsider,
        },
        "number": receipt["number"],
        "tracking": re.sub(r"^http://testserver", "", receipt["tracking_url"]),
        "shared": shared,
        "applicant": applicant,
        "alices_token": do_create_api_token(alice, name="alice's", acting_user=None).token.pk,
        "saved_replies": (_saved_reply("llm-d", admin), _saved_reply("agentic-tool-mesh", admin)),
        "attachments": (
            _attachment(llm_d_report),
            str(SharedAttachment.objects.get(share__report__number=shared).attachment.uid),
        ),
    }


def _attachment(report: Report) -> str:
    attachment = ReportAttachment(report=report, content_type="text/plain", size=3)
    attachment.filename, attachment.content = "poc.txt", b"poc"
    attachment.save()
    return str(attachment.uid)


def _distributors(project: Project) -> tuple[User, User, int, int]:
    """Distro A (told about a case, its embargo accepted) and Vendor B (not told); Applicant C."""
    people = []
    for name, address in (("Distro A", "dina@distro-a.test"), ("Vendor B", "otto@vendor-b.test")):
        organisation = Organisation.objects.create(project=project, name=name, website="https://x.test")
        organisation.state = OrganisationState.APPROVED
        organisation.save()
        user = User.objects.create_user(address, "a long test password")
        people.append(
            DistributorMember.objects.create(
                organisation=organisation,
                user=user,
                public_key="-----BEGIN PGP PUBLIC KEY BLOCK-----",
                fingerprint="0" * 40,
                state=MemberState.ACTIVE,
                embargo_policy_version=project.policy.distributors.embargo_policy_version,
                embargo_policy_accepted_at=timezone.now(),
            )
        )
    a_report(project, SUGGESTED_IN_ATM, "Details.")
    report = a_report(project, "Embargoed")
    suggest_duplicates.call(report.pk)
    share = CaseShare(report=report, organisation=people[0].organisation)
    share.summary = "embargoed summary"
    share.save()
    CaseEmbargoAcceptance.objects.create(share=share, member=people[0])
    attachment = ReportAttachment.objects.get(uid=_attachment(report))
    SharedAttachment.objects.create(share=share, attachment=attachment)
    applicant = Organisation.objects.create(project=project, name="Applicant C", website="https://c.test")
    return people[0].user, people[1].user, report.number, applicant.pk


def _saved_reply(slug: str, author: User) -> int:
    project = Project.objects.get(slug=slug)
    return do_create_saved_reply(
        project, name="Thanks", body="Thank you, {reporter_name}.", acting_user=author
    ).pk


def _advisories(project: Project, author: User, reviewer: User) -> None:
    """x_LLMD-YYYY-0001 published, x_LLMD-YYYY-0002 a draft."""
    published = do_create_advisory(project, acting_user=author)
    content = AdvisoryContent(
        title="Public", summary="S", affected=[{"package": "pkg:pypi/x", "affected": "<1.0"}]
    )
    do_edit_draft(published, content, acting_user=author)
    do_approve_draft(published, acting_user=reviewer)
    do_publish_advisory(published, acting_user=reviewer)
    do_create_advisory(project, acting_user=author)


def _client(persona: str, users: dict[str, User], *, api: bool) -> Client:
    user = users.get(persona)
    if user is None:
        return Client()
    if api:
        token = do_create_api_token(user, acting_user=None).raw
        return Client(headers={"Authorization": f"Bearer {token}"})
    return signed_in(user)


def _status(response: HttpResponseBase, expected: int | str) -> int | str:
    status = response.status_code
    if expected == LOGIN and status == 302 and "/accounts/login/" in response["Location"]:
        return LOGIN
    return status


def _request(client: Client, check: Check) -> HttpResponseBase:
    if check.api:
        body = json.dumps(check.body) if check.body else ""
        return client.generic(check.method, check.path, body, content_type="application/json")
    if check.method == "POST":
        return client.post(check.path, check.body or {})
    return client.get(check.path)


def _check_page_title(name: str, response: HttpResponseBase) -> None:
    """Every HTML page has a plain-text title (a template whose blocks leaked shows up here) and the
    same strict headers: no inline script or style, nothing from another host, no framing."""
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        policy = response.get("Content-Security-Policy", "")
        assert "default-src 'none'" in policy, f"{name} has no strict Content-Security-Policy"
        assert "unsafe-inline" not in policy, name
        assert response.get("X-Frame-Options") == "DENY", name
        assert response.get("X-Content-Type-Options") == "nosniff", name
        assert isinstance(response, HttpResponse)
        head = response.content.split(b"<body")[0]
        assert b"http://" not in head, f"{name} loads something from elsewhere"
        assert b"https://" not in head, f"{name} loads something from elsewhere"
        title = re.search(rb"<title>(.*?)</title>", response.content, re.DOTALL)
        assert title, f"{name} has no <title>"
        assert b"<" not in title.group(1), f"{name} has markup in its <title>"


PRIVATE_PREFIXES = ("/desk/", "/distributor/", "/accounts/", "/t/")
SIGNED_IN_PERSONAS = {"admin", "alice", "bob", "outsider", "distributor", "dist_outsider"}


def _cacheable_private_answer(name: str, persona: str, check: Check, response: HttpResponseBase) -> str:
    """An answer behind a sign-in, a tracking link or an API token is never kept by a cache: a
    shared computer's disk or a proxy would show it after the sign-out or to the next person.
    Returns what is wrong, or ""."""
    private = persona in SIGNED_IN_PERSONAS or check.path.startswith(PRIVATE_PREFIXES)
    cache_control = response.get("Cache-Control", "")
    if private and "no-store" not in cache_control:
        return f"{name} {check.method} {check.path} as {persona} may be cached: {cache_control!r}"
    return ""


def _suggestion_leaks(name: str, persona: str, check: Check, response: HttpResponseBase) -> list[str]:
    """Duplicate suggestions name other reporters' reports: only the project's team sees them."""
    content = getattr(response, "content", b"")
    return [
        f"{name} {check.method} {check.path} shows {persona} a suggested duplicate of another report"
        for title, team in SEES_SUGGESTIONS.items()
        if persona not in team and title.encode() in content
    ]


def _matrix_of(cast: dict[str, object], **ids: tuple[int, int]) -> dict[str, list[Check]]:
    """The matrix over the cast's report, shared case, applicant, token and attachments."""
    return _matrix(
        int(str(cast["number"])),
        str(cast["tracking"]),
        int(str(cast["shared"])),
        int(str(cast["applicant"])),
        int(str(cast["alices_token"])),
        attachments=cast["attachments"],  # type: ignore[arg-type]
        **ids,
    )


def test_every_route_is_in_the_access_matrix(cast: dict[str, object]) -> None:
    matrix = _matrix(int(str(cast["number"])), str(cast["tracking"]), int(str(cast["shared"])))
    missing = set(_route_names(get_resolver().url_patterns)) - set(matrix)
    assert not missing, f"routes nobody decided access for: {sorted(missing)}"


def test_every_persona_gets_exactly_what_the_matrix_says(cast: dict[str, object]) -> None:
    users: dict[str, User] = cast["users"]  # type: ignore[assignment]
    matrix = _matrix_of(cast, saved_replies=cast["saved_replies"])  # type: ignore[arg-type]
    wrong = []
    for name, checks in matrix.items():
        for check in checks:
            expected_row = (
                check.expected
                if len(check.expected) == len(PERSONAS)
                else (*check.expected, *(check.expected[3],) * 2)
            )
            for persona, expected in zip(PERSONAS, expected_row, strict=True):
                response = _request(_client(persona, users, api=check.api), check)
                got = _status(response, expected)
                _check_page_title(name, response)
                if cacheable := _cacheable_private_answer(name, persona, check, response):
                    wrong.append(cacheable)
                wrong += _suggestion_leaks(name, persona, check, response)
                if got != expected:
                    wrong.append(
                        f"{name} {check.method} {check.path} as {persona}: {got}, expected {expected}"
                    )
                assert got != 403, f"{name} answered 403 to {persona}: forbidden objects must answer 404"
    assert not wrong, "\n".join(wrong)
    # The leak check above is not vacuous: each team does see its report's suggestion.
    for persona, slug, number, title in (
        ("alice", "llm-d", cast["number"], SUGGESTED_IN_LLM_D),
        ("bob", "agentic-tool-mesh", cast["shared"], SUGGESTED_IN_ATM),
    ):
        page = signed_in(users[persona]).get(f"/desk/p/{slug}/reports/{number}/").content.decode()
        assert "Possible duplicates" in page
        assert title in page.split('id="duplicates"', 1)[1]


def test_public_pages_stay_cacheable_for_visitors_and_private_for_the_signed_in(alice: User) -> None:
    """no-store follows who asks, not only where: the same public page is private once signed in."""
    visitor = Client().get("/p/llm-d/")
    assert "no-store" not in visitor.get("Cache-Control", "")
    assert "no-store" in signed_in(alice).get("/p/llm-d/")["Cache-Control"]


# Tables a GET may write, each for a reason that is not a read writing state:
READ_MAY_WRITE = {
    # Every read of embargoed material is audited (the house rule): the event and the chain's head.
    "audit.AuditEvent",
    "audit.AuditChainHead",
    # Django's session: a request may refresh the signed-in person's session (its expiry, messages).
    "sessions.Session",
    # An API token's last use, at most once a minute (accounts/access.py), so its owner can tell a
    # leaked token in use from a forgotten one.
    "accounts.ApiToken",
}


def _tables() -> dict[str, str]:
    """Every table's rows, as a digest of their values: what a GET must leave as it found it."""
    from django.apps import apps  # noqa: PLC0415

    return {
        model._meta.label: repr(list(model._default_manager.order_by("pk").values_list()))
        for model in apps.get_models()
        if model._meta.label not in READ_MAY_WRITE and model._meta.managed
    }


def test_reading_a_page_writes_nothing_but_the_audit_log(cast: dict[str, object]) -> None:
    """Every GET of the matrix, as every persona: only the audit log (and the session) may change."""
    users: dict[str, User] = cast["users"]  # type: ignore[assignment]
    matrix = _matrix_of(cast)
    wrote = []
    for name, checks in matrix.items():
        for check in (c for c in checks if c.method == "GET"):
            for persona in PERSONAS:
                client = _client(persona, users, api=check.api)
                before = _tables()
                _request(client, check)
                changed = sorted(label for label, rows in _tables().items() if before.get(label) != rows)
                if changed:
                    wrote.append(f"{name} GET {check.path} as {persona} changed {', '.join(changed)}")
    assert not wrote, "\n".join(wrote)
