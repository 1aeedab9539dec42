"""A case from acknowledgement to closing: the Acknowledge action, the stage, and the case closing."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from django.test import Client

from vulndesk.accounts.actions import do_create_api_token, do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    reporter_credit,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.advisories.models import Advisory
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions.acknowledgement import DEFAULT_ACKNOWLEDGEMENT, do_acknowledge_report
from vulndesk.cases.actions.affected import do_set_affected_package
from vulndesk.cases.actions.case_events import do_record_case_event
from vulndesk.cases.actions.closing import do_record_no_fix_needed
from vulndesk.cases.actions.triage import do_accept, do_mark_valid, triage_of
from vulndesk.cases.clocks import ClockState
from vulndesk.cases.models import Message
from vulndesk.cases.sla import report_clocks
from vulndesk.cases.stage import CaseFacts, Stage, case_facts, next_steps, reached, stage_of
from vulndesk.cases.vultron import CaseEvent, CaseState, RMState
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.actions import do_update_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import validate_policy

from .conftest import PASSWORD, a_report, signed_in

PACKAGE = "pkg:pypi/llm-d"


def _stage(report: Report) -> Stage:
    report.refresh_from_db()
    return stage_of(case_facts(report, triage_of(report)))


def _clock(report: Report, name: str) -> ClockState:
    return next(c.state for c in report_clocks(report) if c.name == name)


# Acknowledge


def test_acknowledging_tells_the_reporter_and_stops_only_the_acknowledgement_clock(
    project_a: Project, alice: User
) -> None:
    report = a_report(project_a, "Router trusts the model")
    assert _clock(report, "acknowledge") != ClockState.MET
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    # The editable message starts from vulndesk's template, filled in for this report.
    assert f"Thank you for your report #{report.number} to llm-d" in page
    response = signed_in(alice).post(
        f"/desk/p/llm-d/reports/{report.number}/acknowledge/",
        {"message": "Thanks, Rita: we have your report and will look at it this week."},
    )
    assert response.status_code == 302
    assert _clock(report, "acknowledge") == ClockState.MET
    # The acknowledgement is its own promise: the first reply is still owed.
    assert _clock(report, "first_reply") != ClockState.MET
    assert _stage(report) == Stage.ACKNOWLEDGED
    shared = [m.body for m in Message.objects.filter(report=report, visibility="shared")]
    assert "Thanks, Rita: we have your report and will look at it this week." in shared
    assert OutboundEmail.objects.filter(kind="team-replied", report=report).count() == 1
    event = AuditEvent.objects.get(action="report.acknowledged")
    assert event.actor == alice
    assert "Rita" not in str(event.details)


def test_a_policy_sets_its_own_acknowledgement(project_a: Project, alice: User) -> None:
    document = project_a.policy.as_json()
    document["reporter_guidance"]["acknowledgement"] = "The $security_team has report #$number. {x.__class__}"
    do_update_policy(project_a, validate_policy(document), acting_user=None)
    project_a.refresh_from_db()
    report = a_report(project_a)
    triage = do_acknowledge_report(report, acting_user=alice)
    body = triage.acknowledgement.body if triage.acknowledgement else ""
    # Names only are filled in; anything else in braces stays as typed.
    team = project_a.policy.project.security_team
    assert body == f"The {team} has report #{report.number}. {{x.__class__}}"
    assert "$number" in DEFAULT_ACKNOWLEDGEMENT


def test_a_triage_decision_made_first_counts_as_the_acknowledgement(project_a: Project, alice: User) -> None:
    report = a_report(project_a)
    do_mark_valid(report, acting_user=alice)
    assert _clock(report, "acknowledge") == ClockState.MET
    with pytest.raises(SubmissionError, match="already acknowledged"):
        do_acknowledge_report(report, acting_user=alice)
    assert not AuditEvent.objects.filter(action="report.acknowledged").exists()


def test_a_report_is_acknowledged_once(project_a: Project, alice: User) -> None:
    report = a_report(project_a)
    do_acknowledge_report(report, acting_user=alice)
    with pytest.raises(SubmissionError, match="already acknowledged"):
        do_acknowledge_report(report, acting_user=alice)
    assert AuditEvent.objects.filter(action="report.acknowledged").count() == 1


def test_the_api_acknowledges_a_report(client: Client, project_a: Project, alice: User, bob: User) -> None:
    report = a_report(project_a)
    path = f"/api/v1/projects/llm-d/reports/{report.number}/acknowledge"
    bobs = do_create_api_token(bob, acting_user=None).raw
    refused = client.post(
        path, {}, content_type="application/json", headers={"authorization": f"Bearer {bobs}"}
    )
    assert refused.status_code == 404
    token = do_create_api_token(alice, acting_user=None).raw
    response = client.post(
        path, {"message": ""}, content_type="application/json", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.content.decode()
    clocks = {c["name"]: c for c in response.json()["clocks"]}
    assert clocks["acknowledge"]["state"] == "met"
    again = client.post(
        path, {}, content_type="application/json", headers={"authorization": f"Bearer {token}"}
    )
    # A conflict with the report's state, not a problem with the request (the same body was fine).
    assert again.status_code == 409
    assert "already acknowledged" in again.json()["problems"]["message"]


# The case closes


def _reviewer(project: Project) -> User:
    return do_create_user(
        "rosa@llm-d.test", role=Role.TEAM, project=project, password=PASSWORD, acting_user=None
    )


def _accepted_case(project: Project, alice: User) -> Report:
    report = a_report(project, "Scheduler leaks prompts between tenants")
    do_acknowledge_report(report, acting_user=alice)
    do_mark_valid(report, acting_user=alice)
    do_accept(report, acting_user=alice)
    do_set_affected_package(report, package=PACKAGE, affected=">=0.1.0|<0.3.1", acting_user=alice)
    return report


def _publish(report: Report, author: User, reviewer: User) -> Advisory:
    advisory = do_create_advisory(report.project, report=report, acting_user=author)
    do_edit_draft(
        advisory,
        AdvisoryContent(
            title=report.title,
            summary="One tenant reads another's prompts.",
            affected=[{"package": PACKAGE, "affected": "vers:pypi/>=0.1.0|<0.3.1"}],
            credits=reporter_credit(report),
        ),
        acting_user=author,
    )
    do_approve_draft(advisory, acting_user=reviewer)
    return do_publish_advisory(advisory, acting_user=author)


def test_publication_then_the_fix_deployed_closes_the_case_and_stops_every_clock(
    project_a: Project, alice: User
) -> None:
    report = _accepted_case(project_a, alice)
    do_record_case_event(report, CaseEvent.FIX_READY, acting_user=alice)
    assert _stage(report) == Stage.FIX_READY
    _publish(report, alice, _reviewer(project_a))
    report.refresh_from_db()
    assert report.rm_state == "accepted"  # the fix is not deployed yet
    assert _stage(report) == Stage.PUBLISHED
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    assert "Record the fix as deployed" in page  # the one remaining step, up front
    assert any(c.name == "update" for c in report_clocks(report))

    do_record_case_event(report, CaseEvent.FIX_DEPLOYED, acting_user=alice)
    report.refresh_from_db()
    assert report.rm_state == "closed"
    assert _stage(report) == Stage.CLOSED
    assert AuditEvent.objects.filter(action="case.closed", target_id=str(report.pk)).count() == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    states = {c.name: c.state for c in report_clocks(report, later)}
    assert "update" not in states  # no more updates are owed
    assert set(states.values()) <= {ClockState.MET, ClockState.STOPPED}
    # The case leaves the open queue; the reporter's page says it is published, with the link and credit.
    queue = signed_in(alice).get("/desk/reports/").content.decode()
    assert "Scheduler leaks prompts between tenants" not in queue


def test_the_fix_deployed_first_then_publication_closes_the_case(project_a: Project, alice: User) -> None:
    report = _accepted_case(project_a, alice)
    do_record_case_event(report, CaseEvent.FIX_READY, acting_user=alice)
    do_record_case_event(report, CaseEvent.FIX_DEPLOYED, acting_user=alice)
    report.refresh_from_db()
    assert report.rm_state == "accepted"  # the advisory is not out yet
    _publish(report, alice, _reviewer(project_a))
    report.refresh_from_db()
    assert report.rm_state == "closed"  # publication was the last step: the hook closed it


def test_no_fix_needed_closes_the_case_once_published(project_a: Project, alice: User) -> None:
    report = _accepted_case(project_a, alice)
    with pytest.raises(SubmissionError):
        do_record_no_fix_needed(report, "none", acting_user=alice)
    assert (
        do_record_no_fix_needed(report, "The hosted scheduler was reconfigured.", acting_user=alice) is False
    )
    _publish(report, alice, _reviewer(project_a))
    report.refresh_from_db()
    assert report.rm_state == "closed"


def test_a_case_not_accepted_stays_open_after_publication(project_a: Project, alice: User) -> None:
    """Vultron RM has no Valid→Closed: the page asks for the acceptance instead."""
    report = a_report(project_a)
    do_mark_valid(report, acting_user=alice)
    do_set_affected_package(report, package=PACKAGE, affected="<0.3.1", acting_user=alice)
    do_record_case_event(report, CaseEvent.FIX_READY, acting_user=alice)
    do_record_case_event(report, CaseEvent.FIX_DEPLOYED, acting_user=alice)
    _publish(report, alice, _reviewer(project_a))
    report.refresh_from_db()
    assert report.rm_state == "valid"


def test_the_reporter_reads_published_with_the_link_and_their_credit(
    client: Client, project_a: Project, alice: User
) -> None:
    response = client.post(
        "/p/llm-d/report/",
        {
            "title": "Gateway forwards the admin token",
            "description": "The gateway copies the admin token into upstream requests.",
            "reporter_name": "Rita Reporter",
            "reporter_email": "rita@researcher.test",
            "credit": "name",
            "accepted_guidelines": "on",
            "form_token": "a" * 32,
            **{
                f"field_{f.name.value}": "Details."
                for f in project_a.policy.reporter_guidance.fields
                if f.required and f.name.value != "description"
            },
        },
    )
    assert response.status_code == 200, response.content.decode()[:3000]
    tracking = re.findall(r'href="(http://testserver)?(/t/[^"]+/)"', response.content.decode())[0][1]
    report = Report.objects.get(project=project_a)
    do_mark_valid(report, acting_user=alice)
    do_accept(report, acting_user=alice)
    do_set_affected_package(report, package=PACKAGE, affected="<0.3.1", acting_user=alice)
    do_record_case_event(report, CaseEvent.FIX_READY, acting_user=alice)
    do_record_case_event(report, CaseEvent.FIX_DEPLOYED, acting_user=alice)
    advisory = _publish(report, alice, _reviewer(project_a))
    page = client.get(tracking).content.decode()
    status = page.split("<dt>Status</dt>")[1].split("</dd>")[0]
    assert "Published" in status
    assert f"/p/llm-d/advisories/{advisory.identifier}/" in page
    assert "Rita Reporter" in page.split('id="advisory"')[1]


# Each form saves only its own fields


def test_each_free_text_form_is_on_its_own_page_so_nothing_typed_elsewhere_is_lost(
    project_a: Project, alice: User
) -> None:
    report = a_report(project_a)
    do_mark_valid(report, acting_user=alice)
    do_accept(report, acting_user=alice)
    team = signed_in(alice)
    case = f"/desk/p/llm-d/reports/{report.number}/"
    page = team.get(case).content.decode()
    # The case page holds at most one form with free text (the next step up front).
    forms = re.findall(r"<form\b.*?</form>", page.split('class="case-layout"')[0], flags=re.DOTALL)
    typed = [f for f in forms if re.search(r"<textarea\b|<input[^>]+type=\"(text|url)\"", f)]
    assert len(typed) == 1
    main = page.split('class="case-layout"')[1]
    assert not re.search(r"<textarea(?![^>]*readonly)", main)
    # Each section's form is on a page of its own, which posts to the section's own handler.
    for section, action in (("severity", "severity/"), ("fix", "fix-plan/"), ("message", "messages/")):
        small = team.get(f"{case}edit/{section}/").content.decode()
        assert f'action="{case}{action}"' in small
    # Saving the fix plan leaves the severity as it was, and the other way round.
    team.post(
        f"{case}fix-plan/", {"timeline": "Release on Tuesday.", "mitigations": "", "fix_available_at": ""}
    )
    team.post(f"{case}severity/", {"cvss31": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", "cwes": ""})
    from vulndesk.cases.actions.fixes import fix_plan_of  # noqa: PLC0415

    assert fix_plan_of(report).timeline == "Release on Tuesday."
    assert triage_of(report).rating == "Critical"


def test_the_case_page_names_its_stage_and_case_state_in_words(project_a: Project, alice: User) -> None:
    report = a_report(project_a)
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/").content.decode()
    assert "Stage: Received." in page
    assert "Next: Acknowledge the report" in page
    assert "Vfdpxa" not in page
    assert "The project knows; no fix is ready; the fix is not deployed; the issue is not public" in page


def test_the_team_is_never_offered_accept_or_reject_on_its_own_embargo_proposal(
    project_a: Project, alice: User
) -> None:
    from vulndesk.embargo.actions import do_propose_embargo  # noqa: PLC0415
    from vulndesk.embargo.models import ProposerKind  # noqa: PLC0415

    report = a_report(project_a)
    do_mark_valid(report, acting_user=alice)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
    do_propose_embargo(report, soon, proposer_kind=ProposerKind.TEAM, acting_user=alice)
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/edit/embargo/").content.decode()
    assert 'value="accept"' not in page
    assert 'value="reject"' not in page
    # The reporter's proposal is the team's to answer.
    do_propose_embargo(
        report, soon + dt.timedelta(days=1), proposer_kind=ProposerKind.REPORTER, acting_user=None
    )
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/edit/embargo/").content.decode()
    assert page.count('value="accept"') == 1


# The stage, computed in one place


def _facts(**changes: object) -> CaseFacts:
    base = CaseFacts(
        rm_state=RMState.RECEIVED,
        acknowledged=False,
        case_state=CaseState.parse("Vfdpxa"),
        affected_recorded=False,
        embargo_agreed=False,
        has_draft=False,
        draft_approved=False,
        published=False,
        no_fix_needed=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_stage_is_the_furthest_reached_and_a_skipped_one_is_not_ticked() -> None:
    assert stage_of(_facts()) == Stage.RECEIVED
    assert stage_of(_facts(acknowledged=True)) == Stage.ACKNOWLEDGED
    # A decision made first counts as the acknowledgement.
    assert reached(_facts(rm_state=RMState.VALID)) == {Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.TRIAGED}
    accepted = _facts(rm_state=RMState.ACCEPTED, affected_recorded=True, case_state=CaseState.parse("VFdpxa"))
    assert stage_of(accepted) == Stage.FIX_READY
    approved = replace(accepted, has_draft=True, draft_approved=True)
    assert stage_of(approved) == Stage.ADVISORY_APPROVED
    assert Stage.EMBARGO_AGREED not in reached(approved)  # no embargo: skipped, never ticked
    assert [s.action for s in next_steps(approved, Stage.ADVISORY_APPROVED)] == ["publish"]
    agreed = replace(approved, embargo_agreed=True)
    assert [s.action for s in next_steps(agreed, Stage.ADVISORY_APPROVED)] == ["scheduled"]
    published = replace(approved, published=True, case_state=CaseState.parse("VFdPxa"))
    assert [s.action for s in next_steps(published, Stage.PUBLISHED)] == ["fix_deployed", "no_fix"]
    closed = replace(published, rm_state=RMState.CLOSED)
    assert stage_of(closed) == Stage.CLOSED
    assert next_steps(closed, Stage.CLOSED) == []


def test_the_distributors_forms_are_on_their_own_page_and_the_case_page_only_summarizes(
    project_b: Project, bob: User
) -> None:
    report = a_report(project_b)
    team = signed_in(bob)
    case = f"/desk/p/agentic-tool-mesh/reports/{report.number}/"
    page = team.get(case).content.decode()
    section = page.split('id="distributors-section"')[1].split("</details>", 1)[0]
    assert "<textarea" not in section  # nothing to type here, so nothing typed can be lost
    assert f'href="{case}edit/distributors/"' in section
    small = team.get(f"{case}edit/distributors/").content.decode()
    assert 'name="what"' in small  # recording a leak
    assert f'action="{case}distributors/"' in small
