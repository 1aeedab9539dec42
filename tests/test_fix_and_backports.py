"""The fix of a case: releases, affected ranges, the backport matrix and the fix plan."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.test import Client

from vulndesk.accounts.actions import do_create_api_token
from vulndesk.accounts.models import User
from vulndesk.cases.actions.fixes import backport_matrix, fix_plan_of
from vulndesk.cases.actions.triage import triage_of
from vulndesk.cases.models import BackportStatus, Message
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project
from vulndesk.rotation import rotate

from .conftest import a_report, signed_in

PACKAGE = "pkg:pypi/llmesh"


def _record_releases(team: Client, *versions: str) -> None:
    for version in versions:
        line = ".".join(version.split(".")[:2])
        response = team.post(
            "/desk/p/agentic-tool-mesh/releases/",
            {
                "package": PACKAGE,
                "version": version,
                "branch": f"release-{line}",
                "released_on": "2026-10-01",
            },
        )
        assert response.status_code == 302, response.content.decode()


def _post(team: Client, report: Report, what: str, fields: dict[str, str]) -> str:
    response = team.post(f"/desk/p/agentic-tool-mesh/reports/{report.number}/{what}/", fields, follow=True)
    return response.content.decode()


def test_a_fix_on_the_three_supported_branches(project_b: Project, bob: User) -> None:
    team = signed_in(bob)
    _record_releases(team, "1.0.0", "1.1.0", "1.1.2", "1.2.0", "1.3.0", "1.3.1")
    report = a_report(project_b, "Prompt injection runs tools")
    _post(
        team,
        report,
        "affected",
        {"package": PACKAGE, "affected": ">=1.1.0|<1.1.3|>=1.2.0|<1.2.1|>=1.3.0|<1.3.2"},
    )
    # Three supported lines (the policy's three most recent minors); 1.0 is no longer supported.
    rows = backport_matrix(report)
    assert [(r.line, r.status, r.decided) for r in rows] == [
        ("1.3", BackportStatus.AFFECTED, False),
        ("1.2", BackportStatus.AFFECTED, False),
        ("1.1", BackportStatus.AFFECTED, False),
    ]
    page = _post(
        team,
        report,
        "backports",
        {"package": PACKAGE, "line": "1.3", "status": "fixed", "fixed_version": "1.3.1"},
    )
    assert "1.3.1 is inside the affected range" in page
    for line, fixed in (("1.3", "1.3.2"), ("1.2", "1.2.1"), ("1.1", "1.1.3")):
        page = _post(
            team,
            report,
            "backports",
            {
                "package": PACKAGE,
                "line": line,
                "status": "fixed",
                "fixed_version": fixed,
                "fix_reference": f"https://github.com/HewlettPackard/llmesh/pull/{line.replace('.', '')}",
            },
        )
        assert "Release line saved." in page
    assert [(r.line, r.status, r.entry and r.entry.fixed_version) for r in backport_matrix(report)] == [
        ("1.3", BackportStatus.FIXED, "1.3.2"),
        ("1.2", BackportStatus.FIXED, "1.2.1"),
        ("1.1", BackportStatus.FIXED, "1.1.3"),
    ]
    page = team.get(f"/desk/p/agentic-tool-mesh/reports/{report.number}/").content.decode()
    assert "Fixed</span> in 1.2.1" in page
    # The first fixed line is Vultron's "fix ready", recorded once, and the reporter reads it.
    assert "F" in triage_of(report).case_state
    assert Message.objects.filter(report=report).filter(author_kind="system").count() == 1
    assert "A fix is ready." in [m.body for m in Message.objects.filter(report=report)]


def test_a_line_that_will_not_be_fixed_needs_a_reason(project_b: Project, bob: User) -> None:
    team = signed_in(bob)
    _record_releases(team, "1.2.0", "1.3.0")
    report = a_report(project_b)
    _post(team, report, "affected", {"package": PACKAGE, "affected": "<1.4.0"})
    page = _post(team, report, "backports", {"package": PACKAGE, "line": "1.2", "status": "wont_fix"})
    assert "needs a reason" in page
    page = _post(
        team,
        report,
        "backports",
        {"package": PACKAGE, "line": "1.2", "status": "wont_fix", "reason": "End of life next week."},
    )
    assert "Release line saved." in page
    page = _post(team, report, "backports", {"package": PACKAGE, "line": "0.9", "status": "fixed"})
    assert "not a supported release line" in page


def test_a_malformed_release_is_refused_with_the_reason(project_b: Project, bob: User) -> None:
    response = signed_in(bob).post(
        "/desk/p/agentic-tool-mesh/releases/", {"package": "llmesh", "version": "1.0.0"}
    )
    assert response.status_code == 400
    assert "not a package URL" in response.content.decode()


def test_the_fix_plan_is_sealed_at_rest_and_survives_key_rotation(project_b: Project, bob: User) -> None:
    report = a_report(project_b)
    marker = "Disable-the-shell-tool-7f3a"
    page = _post(
        signed_in(bob),
        report,
        "fix-plan",
        {
            "timeline": "Patch releases on Tuesday.",
            "mitigations": marker,
            "fix_available_at": "2026-11-24T16:00",
        },
    )
    assert "Fix plan saved." in page
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_mitigations FROM cases_fixplan")
        (stored,) = cursor.fetchone()
    assert marker not in stored
    rotate()
    plan = fix_plan_of(report)
    assert plan.mitigations == marker
    assert plan.fix_available_at is not None
    assert plan.fix_available_at.isoformat() == "2026-11-24T16:00:00+00:00"


def test_the_fix_through_the_api(project_b: Project, bob: User) -> None:
    api = Client(headers={"Authorization": f"Bearer {do_create_api_token(bob, acting_user=None).raw}"})
    for version in ("1.2.0", "1.3.0"):
        response = api.post(
            "/api/v1/projects/agentic-tool-mesh/releases",
            json.dumps({"package": PACKAGE, "version": version, "branch": f"release-{version[:3]}"}),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    report = a_report(project_b)
    base = f"/api/v1/projects/agentic-tool-mesh/reports/{report.number}"
    fix = _put(api, f"{base}/affected", {"package": PACKAGE, "affected": "<1.3.1"})
    assert [(b["line"], b["status"], b["decided"]) for b in fix["backports"]] == [
        ("1.3", "affected", False),
        ("1.2", "affected", False),
    ]
    fix = _put(
        api,
        f"{base}/backports",
        {"package": PACKAGE, "line": "1.3", "status": "fixed", "fixed_version": "1.3.1"},
    )
    assert fix["backports"][0]["fixed_version"] == "1.3.1"
    refused = api.put(
        f"{base}/fix-plan",
        json.dumps({"fix_available_at": "2026-11-24T16:00:00"}),
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert "needs a timezone" in refused.json()["detail"]
    fix = _put(
        api,
        f"{base}/fix-plan",
        {"mitigations": "Turn off the shell tool.", "fix_available_at": "2026-11-24T16:00:00Z"},
    )
    assert fix["fix_plan"]["mitigations"] == "Turn off the shell tool."
    assert api.get(f"{base}/fix").json() == fix


def _put(api: Client, path: str, payload: dict[str, str]) -> dict[str, Any]:
    response = api.put(path, json.dumps(payload), content_type="application/json")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


FIXED_ON_1_3 = {"package": PACKAGE, "line": "1.3", "status": "fixed", "fixed_version": "1.3.1"}


def test_a_token_scoped_to_coordinate_writes_the_fix_but_reads_none_of_it(
    project_b: Project, bob: User
) -> None:
    from vulndesk.accounts.permissions import Permission  # noqa: PLC0415

    reader = do_create_api_token(bob, acting_user=None).raw
    writer = do_create_api_token(bob, scopes=[Permission.PROJECT_CASE_COORDINATE], acting_user=None).raw
    full, narrow = (Client(headers={"Authorization": f"Bearer {raw}"}) for raw in (reader, writer))
    release = {"package": PACKAGE, "version": "1.3.0", "branch": "release-1.3"}
    path = "/api/v1/projects/agentic-tool-mesh/releases"
    assert narrow.post(path, json.dumps(release), content_type="application/json").status_code == 201
    report = a_report(project_b)
    base = f"/api/v1/projects/agentic-tool-mesh/reports/{report.number}"
    _put(full, f"{base}/fix-plan", {"mitigations": "Turn off the shell tool.", "timeline": "a week"})
    writes = [
        (f"{base}/affected", {"package": PACKAGE, "affected": "<1.3.1"}),
        (
            f"{base}/backports",
            {"package": PACKAGE, "line": "1.3", "status": "fixed", "fixed_version": "1.3.1"},
        ),
        (f"{base}/fix-plan", {"timeline": "two weeks"}),
    ]
    for where, payload in writes:
        answer = narrow.put(where, json.dumps(payload), content_type="application/json")
        assert answer.status_code == 204, answer.content
        assert answer.content == b""  # written; nothing of the fix, the ranges or the plan read back
    assert narrow.get(f"{base}/fix").status_code == 404
    assert narrow.get(path).status_code == 404
    # The writes happened, as a token that may read sees.
    fix = full.get(f"{base}/fix").json()
    assert fix["affected"] == [{"package": PACKAGE, "affected": "vers:pypi/<1.3.1"}]
    assert fix["backports"][0]["fixed_version"] == "1.3.1"
    assert fix["fix_plan"]["timeline"] == "two weeks"
