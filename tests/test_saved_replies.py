"""Saved replies: the team manages them per project, they fill a fixed set of placeholders from the
report (never through a template engine), and the reply, decision and needs-evidence forms use them."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions.saved_replies import do_create_saved_reply
from vulndesk.cases.models import InfoRequest, Message, SavedReply
from vulndesk.cases.saved_replies import SavedReplyError, check_template, render_saved_reply
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project

from .conftest import signed_in

GREETING = (
    "Hello {reporter_name},\n\nThank you for report #{report_number} to {project_name}. "
    "We will decide by {triage_deadline}; our policy: {policy_url} ({{braces}} stay)."
)

UPSTREAM = "Report #{report_number} concerns an upstream library."
ASK_FOR_EVIDENCE = "Hi {reporter_name}, please send:\n{missing_evidence}"


def _report(client: Client, *, name: str = "Rita Reporter", slug: str = "llm-d") -> Report:
    payload = {
        "title": "Router runs tool output",
        "description": "The router runs what the model says.",
        "reporter_email": "rita@researcher.test",
        "reporter_name": name,
        "credit": "name",
    }
    response = client.post(
        f"/api/v1/projects/{slug}/reports", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return Report.objects.get(project__slug=slug, number=response.json()["number"])


def test_the_team_creates_edits_and_deletes_a_saved_reply_each_step_audited(alice: User) -> None:
    team = signed_in(alice)
    response = team.post("/desk/p/llm-d/saved-replies/", {"name": "Thanks", "body": GREETING})
    assert response.status_code == 302
    reply = SavedReply.objects.get(project__slug="llm-d")
    assert (reply.name, reply.body, reply.updated_by) == ("Thanks", GREETING, alice)
    listing = team.get("/desk/p/llm-d/saved-replies/").content.decode()
    assert "Thanks" in listing
    assert "{reporter_name}" in listing  # the list of placeholders, and the reply's own text

    response = team.post(f"/desk/p/llm-d/saved-replies/{reply.pk}/", {"name": "Thank you", "body": "Thanks."})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.name, reply.body) == ("Thank you", "Thanks.")

    assert team.post(f"/desk/p/llm-d/saved-replies/{reply.pk}/delete/").status_code == 302
    assert not SavedReply.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="saved_reply.").values_list("action", flat=True)
    )
    assert actions == ["saved_reply.created", "saved_reply.edited", "saved_reply.deleted"]


def test_an_unknown_placeholder_is_refused_with_the_known_ones_and_the_text_is_kept(alice: User) -> None:
    body = "Dear {reporter}, see {policy_url}."
    response = signed_in(alice).post("/desk/p/llm-d/saved-replies/", {"name": "Typo", "body": body})
    assert response.status_code == 400
    page = response.content.decode()
    assert "unknown placeholder {reporter}; the placeholders are {reporter_name}, {report_number}" in page
    assert "Dear {reporter}, see {policy_url}.</textarea>" in page  # nothing typed is lost
    assert not SavedReply.objects.exists()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Hello {", "a lone {"),
        ("Hello }", "a lone {"),
        (
            "{{ settings.SECRET_KEY }} {report_number.__class__}",
            "unknown placeholder {report_number.__class__}",
        ),
        ("{0}", "unknown placeholder {0}"),
        ("{reporter_name!r}", "unknown placeholder {reporter_name!r}"),
    ],
)
def test_anything_but_a_known_name_in_braces_is_refused(body: str, problem: str) -> None:
    with pytest.raises(SavedReplyError, match=problem.replace("{", r"\{").replace(".", r"\.")):
        check_template(body)


def test_a_name_already_used_in_the_project_is_refused(alice: User, project_a: Project) -> None:
    do_create_saved_reply(project_a, name="Thanks", body="Thanks.", acting_user=alice)
    response = signed_in(alice).post("/desk/p/llm-d/saved-replies/", {"name": "Thanks", "body": "Again."})
    assert response.status_code == 400
    assert "a saved reply named &#x27;Thanks&#x27; already exists" in response.content.decode()


def test_rendering_fills_each_placeholder_once_with_deadlines_in_the_projects_timezone(
    client: Client, alice: User, project_a: Project
) -> None:
    report = _report(client)
    reply = do_create_saved_reply(project_a, name="Thanks", body=GREETING, acting_user=alice)
    text = render_saved_reply(reply, report)
    zone = project_a.policy.calendar.timezone
    assert text.startswith(
        f"Hello Rita Reporter,\n\nThank you for report #{report.number} to llm-d. We will decide by "
    )
    assert f"({zone}); our policy: http://testserver/p/llm-d/ ({{braces}} stay)." in text


def test_a_reporters_own_braces_are_never_read_as_placeholders(
    client: Client, alice: User, project_a: Project
) -> None:
    report = _report(client, name="{policy_url} {{ settings.SECRET_KEY }}")
    reply = do_create_saved_reply(project_a, name="Hi", body="Hi {reporter_name}.", acting_user=alice)
    assert render_saved_reply(reply, report) == "Hi {policy_url} {{ settings.SECRET_KEY }}."


def test_another_projects_saved_reply_cannot_be_used(client: Client, alice: User, bob: User) -> None:
    report = _report(client)
    theirs = do_create_saved_reply(bob.memberships.get().project, name="Hi", body="Hi.", acting_user=bob)
    with pytest.raises(SavedReplyError):
        render_saved_reply(theirs, report)
    page = signed_in(alice).get(
        f"/desk/p/llm-d/reports/{report.number}/edit/message/?saved_reply={theirs.pk}"
    )
    assert "That saved reply does not exist in this project." in page.content.decode()


def test_insert_fills_the_reply_box_without_javascript_and_the_team_sends_it(
    client: Client, alice: User, project_a: Project
) -> None:
    report = _report(client)
    reply = do_create_saved_reply(project_a, name="Thanks", body=GREETING, acting_user=alice)
    team = signed_in(alice)
    section = f"/desk/p/llm-d/reports/{report.number}/edit/message/"
    page = team.get(section).content.decode()
    assert f'<option value="{reply.pk}">Thanks</option>' in page
    page = team.get(f"{section}?saved_reply={reply.pk}").content.decode()
    assert f"Thank you for report #{report.number} to llm-d." in page.split('id="message-body"')[1]
    filled = render_saved_reply(reply, report)
    team.post(f"/desk/p/llm-d/reports/{report.number}/messages/", {"body": filled, "visibility": "shared"})
    assert Message.objects.get(report=report, author_kind="team").body == filled


def test_a_saved_reply_fills_the_reason_of_a_decision(
    client: Client, alice: User, project_a: Project
) -> None:
    report = _report(client)
    reply = do_create_saved_reply(project_a, name="Not ours", body=UPSTREAM, acting_user=alice)
    page = signed_in(alice).get(
        f"/desk/p/llm-d/reports/{report.number}/edit/decision/?saved_reply={reply.pk}"
    )
    reason = page.content.decode().split('id="triage-reason"')[1].split("</textarea>")[0]
    assert f"Report #{report.number} concerns an upstream library." in reason


def test_the_needs_evidence_request_can_use_a_saved_reply(
    client: Client, alice: User, project_a: Project
) -> None:
    report = _report(client)
    reply = do_create_saved_reply(project_a, name="Evidence", body=ASK_FOR_EVIDENCE, acting_user=alice)
    response = signed_in(alice).post(
        f"/desk/p/llm-d/needs-evidence/{report.number}/request/", {"saved_reply": str(reply.pk)}
    )
    assert response.status_code == 302
    assert InfoRequest.objects.filter(report=report).exists()
    body = Message.objects.get(report=report, author_kind="team").body
    assert body.startswith(
        "Hi Rita Reporter, please send:\n- the steps to reproduce the issue\n- a proof of concept"
    )
