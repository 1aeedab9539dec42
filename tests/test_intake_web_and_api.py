from __future__ import annotations

import base64
import json
import re

import pytest
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.intake.models import Channel, Report
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project

from .conftest import signed_in


def _form_data(client: Client, slug: str, **overrides: str) -> dict[str, str]:
    page = client.get(f"/p/{slug}/report/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    data = {
        "form_token": token.group(1),
        "title": "Prompt injection reaches the tool router",
        "description": "The router executes tool calls taken from model output.",
        "reporter_name": "Rita Reporter",
        "reporter_email": "rita@researcher.test",
        "credit": "name",
        "accepted_guidelines": "on",
        "field_reproduction_steps": "1. Start the router. 2. Send the prompt below.",
    }
    data.update(overrides)
    return data


def test_the_report_form_shows_the_policys_guidance_and_fields(client: Client, project_b: Project) -> None:
    page = client.get("/p/agentic-tool-mesh/report/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Full paths of the source files related to the issue" in text
    assert "Send the report privately" in text
    assert "<script" not in text


def test_a_reporter_sends_a_report_by_web_form_and_gets_a_tracking_link(
    client: Client, project_a: Project
) -> None:
    response = client.post("/p/llm-d/report/", _form_data(client, "llm-d"))
    assert response.status_code == 200
    text = response.content.decode()
    link = re.search(r'href="(http://testserver/t/[^"]+/)"', text)
    assert link, text
    report = Report.objects.get()
    assert report.channel == Channel.WEB
    assert report.title == "Prompt injection reaches the tool router"
    assert report.reporter["email"] == "rita@researcher.test"
    tracking = client.get(link.group(1).removeprefix("http://testserver"))
    assert tracking.status_code == 200
    assert "Prompt injection reaches the tool router" in tracking.content.decode()
    assert "America/New_York" in tracking.content.decode()
    assert tracking["Referrer-Policy"] == "same-origin"


def test_the_acknowledgement_mail_is_queued_with_the_link_and_without_the_report(
    client: Client, project_a: Project
) -> None:
    client.post("/p/llm-d/report/", _form_data(client, "llm-d"))
    outbound = OutboundEmail.objects.get(kind="report-received")
    message = outbound.message
    assert message["to"] == ["rita@researcher.test"]
    assert "/t/" in str(message["text"])
    assert "tool router" not in str(message["text"])
    assert "tool router" not in outbound.sealed_message


def test_resubmitting_the_same_form_makes_one_report(client: Client, project_a: Project) -> None:
    data = _form_data(client, "llm-d")
    client.post("/p/llm-d/report/", data)
    again = client.post("/p/llm-d/report/", data)
    assert again.status_code == 200
    assert "already sent" in again.content.decode()
    assert Report.objects.count() == 1


def test_a_form_with_missing_fields_is_refused_with_a_message_per_field(
    client: Client, project_a: Project
) -> None:
    data = _form_data(client, "llm-d", title="", description="")
    response = client.post("/p/llm-d/report/", data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "The report was not sent" in text
    assert text.count("This field is required.") >= 2
    assert not Report.objects.exists()


def test_the_guidelines_must_be_accepted_on_the_web(client: Client, project_a: Project) -> None:
    data = _form_data(client, "llm-d")
    del data["accepted_guidelines"]
    response = client.post("/p/llm-d/report/", data)
    llm_d_has_guidelines = bool(project_a.policy.reporter_guidance.guidelines)
    assert (response.status_code == 400) == llm_d_has_guidelines


def test_an_api_report_answers_with_the_tracking_link(client: Client, project_a: Project) -> None:
    payload = {
        "title": "SSRF in the model fetcher",
        "description": "Any URL is fetched.",
        "reporter_email": "sam@researcher.test",
        "attachments": [
            {"filename": "../../poc.py", "content_base64": base64.b64encode(b"print(1)").decode()}
        ],
    }
    response = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tracking_url"].startswith("http://testserver/t/")
    assert body["created"] is True
    report = Report.objects.get()
    assert report.channel == Channel.API
    attachment = report.attachments.get()
    assert attachment.filename == "poc.py"
    assert attachment.content == b"print(1)"


def test_an_api_retry_with_the_same_idempotency_key_makes_one_report(
    client: Client, project_a: Project
) -> None:
    payload = json.dumps({"title": "t", "description": "d"})
    first = client.post(
        "/api/v1/projects/llm-d/reports",
        payload,
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    second = client.post(
        "/api/v1/projects/llm-d/reports",
        payload,
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["tracking_url"] is None
    assert second.json()["number"] == first.json()["number"]
    assert Report.objects.count() == 1


def test_an_api_report_with_unknown_or_missing_fields_is_refused_naming_them(
    client: Client, project_a: Project
) -> None:
    payload = json.dumps({"title": "", "description": "d", "fields": {"favourite_colour": "blue"}})
    response = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json")
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert problems["title"] == "is required"
    assert "favourite_colour" in problems
    assert not Report.objects.exists()


def test_report_contents_are_sealed_in_the_database(client: Client, project_a: Project) -> None:
    marker = "MARKER-7f3c0b2e"
    payload = json.dumps(
        {"title": f"title {marker}", "description": f"body {marker}", "reporter_name": marker}
    )
    client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json")
    row = Report.objects.values().get()
    assert all(marker not in str(value) for value in row.values())
    assert marker in Report.objects.get().title


@pytest.mark.django_db
def test_an_unknown_tracking_link_answers_404(client: Client) -> None:
    assert client.get("/t/not-a-real-token/").status_code == 404


def test_a_different_report_under_a_used_idempotency_key_is_not_swallowed(
    client: Client, project_a: Project
) -> None:
    first = json.dumps({"title": "first", "description": "d"})
    second = json.dumps({"title": "second", "description": "d"})
    headers = {"Idempotency-Key": "k1"}
    client.post("/api/v1/projects/llm-d/reports", first, content_type="application/json", headers=headers)
    response = client.post(
        "/api/v1/projects/llm-d/reports", second, content_type="application/json", headers=headers
    )
    assert response.status_code == 201
    assert sorted(r.title for r in Report.objects.all()) == ["first", "second"]


BIDI_AND_FORMAT = ["\u202e", "\u202a", "\u202c", "\u200e", "\u200f", "\u2066", "\u2069", "\u061c"]


def test_bidi_overrides_are_stripped_from_attachment_names_and_shown_escaped_if_stored(
    client: Client, project_a: Project, alice: User
) -> None:
    names = ["\u202egnp.exe", "inv\u200boice\ufeff.pdf", *(f"a{c}b.txt" for c in BIDI_AND_FORMAT)]
    payload = {
        "title": "t",
        "description": "d",
        "attachments": [
            {"filename": name, "content_base64": base64.b64encode(b"x").decode()} for name in names
        ],
    }
    response = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    stored = sorted(a.filename for a in Report.objects.get().attachments.all())
    assert stored == sorted(["gnp.exe", "invoice.pdf", *(["ab.txt"] * len(BIDI_AND_FORMAT))])
    # A name stored before names were cleaned is shown with its controls written out.
    old = Report.objects.get().attachments.first()
    assert old is not None
    old.filename = "\u202egnp.exe"
    old.save()
    team_page = signed_in(alice).get("/desk/p/llm-d/reports/1/").content.decode()
    tracking_page = client.get(
        response.json()["tracking_url"].removeprefix("http://testserver")
    ).content.decode()
    for page in (team_page, tracking_page):
        assert not any(c in page for c in BIDI_AND_FORMAT)
        assert "&lt;U+202E&gt;gnp.exe" in page


def test_a_refusal_names_the_attachment_without_its_bidi_controls(client: Client, project_a: Project) -> None:
    payload = {
        "title": "t",
        "description": "d",
        "attachments": [{"filename": "\u202egnp.exe", "content_base64": "not base64!"}],
    }
    response = client.post(
        "/api/v1/projects/llm-d/reports", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 422
    assert "'gnp.exe' is not valid base64" in response.json()["problems"]["attachments"]
    assert "\\u202e" not in response.content.decode().lower()
