from __future__ import annotations

import json

from django.test import Client

from vulndesk.accounts.actions import do_create_api_token
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.audit.models import AuditEvent


def _token_client(user: User, scopes: list[Permission] | None = None) -> Client:
    raw = do_create_api_token(user, scopes=scopes, acting_user=None).raw
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _report(client: Client, title: str) -> int:
    payload = json.dumps({"title": title, "description": "the details"})
    number: int = client.post(
        "/api/v1/projects/llm-d/reports", payload, content_type="application/json"
    ).json()["number"]
    return number


def test_the_queue_is_in_the_api_with_its_clocks(client: Client, alice: User) -> None:
    _report(client, "Router injection")
    rows = _token_client(alice).get("/api/v1/reports").json()
    assert [r["title"] for r in rows] == ["Router injection"]
    assert {c["name"] for c in rows[0]["clocks"]} == {"acknowledge", "first_reply", "triage"}


def test_the_api_searches_and_filters(client: Client, alice: User) -> None:
    _report(client, "Router injection")
    _report(client, "Fetcher SSRF")
    team = _token_client(alice)
    found = team.post("/api/v1/reports/search", json.dumps({"q": "ssrf"}), content_type="application/json")
    assert [r["title"] for r in found.json()] == ["Fetcher SSRF"]
    # The words are report contents: a URL never carries them, and one that tries is refused.
    refused = team.get("/api/v1/reports?q=ssrf")
    assert refused.status_code == 400
    assert "POST /api/v1/reports/search" in refused.json()["detail"]
    assert team.get("/api/v1/reports?state=closed").json() == []


def test_a_report_read_through_the_api_is_audited(client: Client, alice: User) -> None:
    number = _report(client, "Router injection")
    detail = _token_client(alice).get(f"/api/v1/projects/llm-d/reports/{number}").json()
    assert detail["fields"]["description"] == "the details"
    assert AuditEvent.objects.filter(action="report.read", actor=alice).exists()


def test_another_team_and_narrow_tokens_get_nothing(client: Client, alice: User, bob: User) -> None:
    number = _report(client, "Router injection")
    assert _token_client(bob).get("/api/v1/reports").json() == []
    assert _token_client(bob).get(f"/api/v1/projects/llm-d/reports/{number}").status_code == 404
    narrow = _token_client(alice, scopes=[Permission.PROJECT_POLICY_READ])
    assert narrow.get("/api/v1/reports").status_code == 404
    assert client.get("/api/v1/reports").status_code == 401
