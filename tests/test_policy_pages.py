from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings
from sectxt import Parser

from vulndesk.accounts.models import User
from vulndesk.projects.actions import do_import_policy
from vulndesk.projects.models import Project

from .conftest import example_policy, signed_in


def test_the_policy_page_shows_the_seeds_commitments(client: Client, project_a: Project) -> None:
    page = client.get("/p/llm-d/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Each report is acknowledged within 3 working days." in text
    assert "llm-d-security-reporting@googlegroups.com" in text
    assert "America/New_York" in text


def test_llm_d_security_md_states_acknowledgement_within_3_working_days(
    client: Client, project_a: Project
) -> None:
    response = client.get("/p/llm-d/SECURITY.md")
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# Security Policy for llm-d")
    assert "acknowledged within 3 working days" in text
    assert "The final say on the date rests with the llm-d maintainers." in text
    assert "When should I NOT report a vulnerability?" in text
    assert "&amp;" not in text, "SECURITY.md is text, not HTML: nothing may be escaped"


def test_agentic_tool_mesh_security_md_covers_its_distributors_list(
    client: Client, project_b: Project
) -> None:
    text = client.get("/p/agentic-tool-mesh/SECURITY.md").content.decode()
    assert "three most recent minor releases" in text or "3 most recent minor releases" in text
    assert "within 5 working days" in text
    assert "## Early Disclosure to Distributors" in text
    assert "### Membership Criteria" in text
    assert "7. " in text
    assert "confidentiality and integrity" in text
    assert "about 14 business days" in text
    assert "English" in text


@pytest.mark.django_db
def test_fast_llm_security_md_says_no_version_is_supported_yet(client: Client) -> None:
    do_import_policy(example_policy("fast-llm"), acting_user=None)
    text = client.get("/p/fast-llm/SECURITY.md").content.decode()
    assert "pre-release" in text
    assert "disclosure@servicenow.com" in text


def test_security_txt_is_valid_rfc_9116(client: Client, project_a: Project, settings: Settings) -> None:
    settings.BASE_URL = "https://desk.example.org"
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    parsed = Parser(response.content, urls="https://desk.example.org/.well-known/security.txt")
    assert parsed.errors == []
    assert parsed.is_valid()
    body = response.content.decode()
    assert "Contact: mailto:llm-d-security-reporting@googlegroups.com" in body
    assert "Policy: https://desk.example.org/p/llm-d/" in body
    assert "Preferred-Languages: en" in body


def test_security_txt_expires_less_than_a_year_ahead(client: Client, project_a: Project) -> None:
    body = client.get("/p/llm-d/security.txt").content.decode()
    expires_line = next(line for line in body.splitlines() if line.startswith("Expires: "))
    expires = dt.datetime.fromisoformat(expires_line.removeprefix("Expires: "))
    assert timezone.now() < expires < timezone.now() + dt.timedelta(days=365)


@pytest.mark.django_db
def test_well_known_security_txt_without_a_project_says_so(client: Client) -> None:
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 404
    assert b"No project" in response.content


def test_an_unknown_project_answers_404(client: Client, project_a: Project) -> None:
    for path in ("/p/nope/", "/p/nope/SECURITY.md", "/p/nope/security.txt"):
        assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_healthz_reports_the_database(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_home_lists_the_projects(client: Client, project_a: Project, project_b: Project) -> None:
    text = client.get("/").content.decode()
    assert "llm-d" in text
    assert "LLM Agentic Tool Mesh" in text


def test_pages_carry_a_strict_content_security_policy(client: Client, project_a: Project) -> None:
    response = client.get("/p/llm-d/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_an_admin_edits_a_policy_and_a_bad_one_is_refused_naming_the_field(
    admin: User, project_a: Project
) -> None:
    client = signed_in(admin)
    page = client.get("/desk/p/llm-d/policy/")
    assert page.status_code == 200
    text = project_a.policy.as_toml()
    bad = client.post(
        "/desk/p/llm-d/policy/",
        {"policy": text.replace('timezone = "America/New_York"', 'timezone = "Mars/Olympus"')},
    )
    assert bad.status_code == 400
    assert "calendar.timezone" in bad.content.decode()
    good = client.post(
        "/desk/p/llm-d/policy/",
        {"policy": text.replace("acknowledge_working_days = 3", "acknowledge_working_days = 2")},
    )
    assert good.status_code == 302
    project_a.refresh_from_db()
    assert project_a.policy_version == 2
    assert project_a.policy.sla.acknowledge_working_days == 2


def test_a_team_member_cannot_edit_the_policy_and_sees_404(alice: User, project_a: Project) -> None:
    assert signed_in(alice).get("/desk/p/llm-d/policy/").status_code == 404


def test_the_policy_editor_needs_a_sign_in(client: Client, project_a: Project) -> None:
    response = client.get("/desk/p/llm-d/policy/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
