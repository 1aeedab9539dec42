from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from vulndesk.accounts.actions import do_create_api_token
from vulndesk.accounts.models import ApiToken, User
from vulndesk.accounts.permissions import Permission
from vulndesk.projects.models import Project


def _bearer(user: User, scopes: list[Permission] | None = None) -> dict[str, str]:
    raw = do_create_api_token(user, scopes=scopes, acting_user=None).raw
    return {"Authorization": f"Bearer {raw}"}


def _put_policy(client: Client, document: object, headers: dict[str, str]) -> Any:
    """llm-d's whole policy replaced through the API, as a policy-as-code pipeline does."""
    return client.put(
        "/api/v1/projects/llm-d/policy",
        json.dumps(document),
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.django_db
def test_the_openapi_document_is_served(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "vulndesk API"
    assert "/api/v1/projects" in document["paths"]


def test_anyone_can_list_projects_and_read_a_policy(client: Client, project_a: Project) -> None:
    listing = client.get("/api/v1/projects").json()
    assert [p["slug"] for p in listing] == ["llm-d"]
    policy = client.get("/api/v1/projects/llm-d/policy").json()
    assert policy["policy"]["sla"]["acknowledge_working_days"] == 3


def test_me_needs_a_valid_token(client: Client, alice: User) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer vd_forged"}).status_code == 401
    me = client.get("/api/v1/me", headers=_bearer(alice)).json()
    assert me == {
        "email": "alice@llm-d.test",
        "display_name": "",
        "is_admin": False,
        "projects": ["llm-d"],
        "token_scopes": [],
        "token_expires_at": None,
    }
    # An expired token and a revoked one open nothing.
    from django.utils import timezone  # noqa: PLC0415

    from vulndesk.accounts.actions import do_create_api_token, do_revoke_api_token  # noqa: PLC0415

    expiring = do_create_api_token(alice, acting_user=None)
    ApiToken.objects.filter(pk=expiring.token.pk).update(expires_at=timezone.now())
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {expiring.raw}"}).status_code == 401
    revoked = do_create_api_token(alice, acting_user=None)
    do_revoke_api_token(revoked.token, acting_user=None)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {revoked.raw}"}).status_code == 401
    # A narrow token says how narrow it is.
    narrow = client.get("/api/v1/me", headers=_bearer(alice, [Permission.PROJECT_REPORT_READ])).json()
    assert narrow["token_scopes"] == ["project:report:read"]


def test_an_admin_replaces_a_policy_through_the_api(client: Client, admin: User, project_a: Project) -> None:
    document = project_a.policy.as_json()
    document["sla"]["acknowledge_working_days"] = 2
    response = _put_policy(client, document, _bearer(admin))
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_a_bad_policy_through_the_api_names_the_field(
    client: Client, admin: User, project_a: Project
) -> None:
    document = project_a.policy.as_json()
    document["disclosure"]["maximum_embargo_days"] = 1
    response = _put_policy(client, document, _bearer(admin))
    assert response.status_code == 422
    assert response.json()["problems"] == [
        "disclosure.maximum_embargo_days: cannot be shorter than default_embargo_days"
    ]


def test_a_team_member_of_another_project_gets_404_not_403(
    client: Client, bob: User, project_a: Project
) -> None:
    document = project_a.policy.as_json()
    response = _put_policy(client, document, _bearer(bob))
    assert response.status_code == 404


def test_a_token_scoped_without_policy_edit_cannot_edit(
    client: Client, admin: User, project_a: Project
) -> None:
    headers = _bearer(admin, scopes=[Permission.PROJECT_REPORT_READ])
    response = _put_policy(client, project_a.policy.as_json(), headers)
    assert response.status_code == 404


@pytest.mark.parametrize("scope", [p for p in Permission if p != Permission.PROJECT_REPORT_READ], ids=str)
def test_a_token_without_the_read_scope_reads_no_report_case_or_fix(
    client: Client, project_a: Project, alice: User, scope: Permission
) -> None:
    from .conftest import a_report  # noqa: PLC0415

    report = a_report(project_a, title="Scoped out")
    headers = _bearer(alice, scopes=[scope])
    base = f"/api/v1/projects/llm-d/reports/{report.number}"
    reads = [
        client.get("/api/v1/reports", headers=headers),
        client.post("/api/v1/reports/search", {"q": "Scoped"}, "application/json", headers=headers),
        client.get(base, headers=headers),
        client.get(f"{base}/fix", headers=headers),
        client.get("/api/v1/projects/llm-d/releases", headers=headers),
    ]
    for answer in reads:
        assert answer.status_code == 404, (answer.request["PATH_INFO"], answer.content)
        assert b"Scoped out" not in answer.content
