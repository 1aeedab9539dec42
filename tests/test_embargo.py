"""The embargo: negotiated between the reporter and the team within the policy's bounds, ended at
once by disclosure, and the moment the case's advisory is published."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.advisories.models import Advisory
from vulndesk.cases.vultron import EMState
from vulndesk.embargo import hooks
from vulndesk.embargo.actions import EmbargoError, do_propose_embargo, embargo_of
from vulndesk.embargo.models import Embargo, ProposalStatus, ProposerKind
from vulndesk.embargo.rules import suggested_end
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project

from .conftest import a_report, example_policy, signed_in

ATM = "agentic-tool-mesh"


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # +20 days is a Sunday: the next preferred day is Tuesday 16:00 in Chicago (CST, UTC-6).
        ("2026-11-02T10:00", "2026-11-24T22:00"),
        # +20 days is a Wednesday before the clocks change: 16:00 CDT is 21:00 UTC.
        ("2026-10-01T10:00", "2026-10-21T21:00"),
        # Thanksgiving (Thursday 2026-11-26) is not a working day: the slot moves to Tuesday.
        ("2026-11-06T23:00", "2026-12-01T22:00"),
    ],
)
def test_the_suggested_end_is_a_preferred_publication_slot(received: str, expected: str) -> None:
    policy = example_policy(ATM)
    assert suggested_end(policy, _utc(received), fix_available_at=None, rating="") == _utc(expected)


def test_a_critical_fix_shortens_the_suggestion_to_the_policys_business_day_gap() -> None:
    policy = example_policy(ATM)
    received, fixed = _utc("2026-11-02T10:00"), _utc("2026-11-03T15:00")
    # 14 business days after Tuesday 2026-11-03 (Veterans Day off) is Tuesday 2026-11-24 09:00 CST.
    critical = suggested_end(policy, received, fix_available_at=fixed, rating="Critical")
    assert critical == _utc("2026-11-24T22:00")
    # The gap applies to critical issues only at the Agentic Tool Mesh.
    assert suggested_end(policy, received, fix_available_at=fixed, rating="High") == _utc("2026-11-24T22:00")


def test_a_target_seconds_past_the_publication_hour_keeps_that_days_slot() -> None:
    policy = example_policy(ATM)
    # Friday 2026-12-04 16:00:05 in Chicago: 14 business days later is Thursday 24 December at
    # 16:00:05, a publication day; the seconds must not push the slot past Christmas to the 29th.
    at = _utc("2026-12-04T22:00:05")
    assert suggested_end(policy, at, fix_available_at=at, rating="Critical") == _utc("2026-12-24T22:00")
    assert suggested_end(policy, at, fix_available_at=None, rating="") == _utc("2026-12-24T22:00")


def test_a_proposal_beyond_the_policys_maximum_is_refused_with_the_reason(
    project_b: Project, bob: User
) -> None:
    report = a_report(project_b)
    too_late = report.received_at + dt.timedelta(days=31)
    with pytest.raises(EmbargoError, match="beyond the policy's maximum embargo of 30 days"):
        do_propose_embargo(report, too_late, proposer_kind=ProposerKind.REPORTER, acting_user=None)
    page = signed_in(bob).post(
        f"/desk/p/{ATM}/reports/{report.number}/embargo/",
        {"action": "propose", "zone": "UTC", "ends_at": too_late.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert "beyond the policy&#x27;s maximum embargo of 30 days" in page.content.decode()
    assert embargo_of(report).state == EMState.NONE


def _tracking(client: Client) -> tuple[int, str]:
    body = client.post(
        f"/api/v1/projects/{ATM}/reports",
        json.dumps({"title": "t", "description": "d", "reporter_email": "rita@researcher.test"}),
        content_type="application/json",
    ).json()
    return body["number"], body["tracking_url"].removeprefix("http://testserver")


def test_the_reporter_proposes_the_team_counters_and_the_reporter_accepts(
    client: Client, project_b: Project, bob: User
) -> None:
    number, tracking = _tracking(client)
    team = signed_in(bob)
    team.post(f"/desk/p/{ATM}/reports/{number}/advisory/")  # a draft waits for the date
    soon = (timezone.now() + dt.timedelta(days=5)).replace(second=0, microsecond=0)
    client.post(
        f"{tracking}embargo/",
        {"action": "propose", "zone": "UTC", "ends_at": soon.strftime("%Y-%m-%dT%H:%M")},
    )
    embargo = Embargo.objects.get(report__number=number, report__project=project_b)
    assert embargo.state == EMState.PROPOSED
    assert OutboundEmail.objects.filter(kind="embargo-update-team").count() == 1

    reporters = embargo.proposals.get()
    # The team counters with 16:00 in Chicago two days later, written in the project's timezone.
    later_local = (soon + dt.timedelta(days=2)).strftime("%Y-%m-%dT16:00")
    team.post(
        f"/desk/p/{ATM}/reports/{number}/embargo/",
        {"action": "counter", "proposal": str(reporters.pk), "zone": "project", "ends_at": later_local},
    )
    reporters.refresh_from_db()
    assert reporters.status == ProposalStatus.COUNTERED
    counter = embargo.proposals.get(status=ProposalStatus.OPEN)
    assert counter.ends_at.astimezone(dt.UTC).hour in (21, 22)  # 16:00 CDT or CST
    page = client.get(tracking).content.decode()
    for shown in ("Counter", "UTC", "America/Chicago"):
        assert shown in page

    client.post(f"{tracking}embargo/", {"action": "accept", "proposal": str(counter.pk)})
    embargo.refresh_from_db()
    assert embargo.state == EMState.ACTIVE
    assert embargo.ends_at == counter.ends_at
    assert OutboundEmail.objects.filter(kind="embargo-agreed-reporter").count() == 1
    # The case's advisory is scheduled for the moment the embargo ends.
    assert Advisory.objects.get(report=embargo.report).publish_at == embargo.ends_at


def test_the_embargo_form_opened_rather_than_posted_is_the_tracking_page_again(
    client: Client, project_b: Project
) -> None:
    _, tracking = _tracking(client)
    response = client.get(f"{tracking}embargo/")
    assert response.status_code == 302
    assert response["Location"] == f"{tracking}#embargo"
    assert client.get(f"{tracking}leak/")["Location"] == tracking
    assert client.get("/t/" + "x" * 43 + "/embargo/").status_code == 404


def test_the_reporter_cannot_accept_their_own_proposal(client: Client, project_b: Project) -> None:
    _, tracking = _tracking(client)
    soon = (timezone.now() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"{tracking}embargo/", {"action": "propose", "zone": "UTC", "ends_at": soon})
    proposal = Embargo.objects.get().proposals.get()
    page = client.post(f"{tracking}embargo/", {"action": "accept", "proposal": str(proposal.pk)}, follow=True)
    assert "answered by the other side" in page.content.decode()
    assert Embargo.objects.get().state == EMState.PROPOSED


def test_attacks_in_the_wild_end_an_active_embargo_and_everyone_is_told(
    client: Client, project_b: Project, bob: User, django_capture_on_commit_callbacks: Any
) -> None:
    told: list[str] = []
    hooks.on_embargo_changed.append(lambda embargo: told.append(embargo.state))
    try:
        number, _ = _tracking(client)
        team = signed_in(bob)
        soon = (timezone.now() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
        with django_capture_on_commit_callbacks(execute=True):
            team.post(
                f"/desk/p/{ATM}/reports/{number}/embargo/", {"action": "set", "zone": "UTC", "ends_at": soon}
            )
            assert Embargo.objects.get().state == EMState.ACTIVE
            team.post(f"/desk/p/{ATM}/reports/{number}/triage/", {"decision": "event:A"})
    finally:
        hooks.on_embargo_changed.pop()
    embargo = Embargo.objects.get()
    assert embargo.state == EMState.EXITED
    assert embargo.exit_reason == "attacks_observed"
    assert told == [EMState.ACTIVE, EMState.EXITED]  # the distributors' hook heard both
    team_mail = OutboundEmail.objects.get(kind="embargo-exited-team")
    assert "Attacks were seen in the wild" in str(team_mail.message["subject"])
    assert "move forward" in str(team_mail.message["text"])
    assert OutboundEmail.objects.filter(kind="embargo-exited-reporter").count() == 1
    later = (timezone.now() + dt.timedelta(days=6)).strftime("%Y-%m-%dT%H:%M")
    refused = team.post(
        f"/desk/p/{ATM}/reports/{number}/embargo/",
        {"action": "propose", "zone": "UTC", "ends_at": later},
        follow=True,
    )
    assert "the embargo is over" in refused.content.decode()


def _active(client: Client, bob: User, days: int = 10) -> tuple[int, str, Client, dt.datetime]:
    number, tracking = _tracking(client)
    team = signed_in(bob)
    end = (timezone.now() + dt.timedelta(days=days)).replace(second=0, microsecond=0)
    team.post(
        f"/desk/p/{ATM}/reports/{number}/embargo/",
        {"action": "set", "zone": "UTC", "ends_at": f"{end:%Y-%m-%dT%H:%M}"},
    )
    assert Embargo.objects.get().state == EMState.ACTIVE
    return number, tracking, team, end


def test_a_proposal_to_revise_an_active_embargo_is_rejected_and_the_agreed_end_stands(
    client: Client, project_b: Project, bob: User
) -> None:
    number, tracking, team, agreed = _active(client, bob)
    later = agreed + dt.timedelta(days=3)
    client.post(
        f"{tracking}embargo/", {"action": "propose", "zone": "UTC", "ends_at": f"{later:%Y-%m-%dT%H:%M}"}
    )
    embargo = Embargo.objects.get()
    assert embargo.state == EMState.REVISE  # Vultron: a change asked of an active embargo
    assert embargo.ends_at == agreed  # the agreed end holds meanwhile
    proposal = embargo.proposals.get(status=ProposalStatus.OPEN)
    team.post(
        f"/desk/p/{ATM}/reports/{number}/embargo/",
        {"action": "reject", "proposal": str(proposal.pk), "reason": "The fix ships on time."},
    )
    embargo.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED
    assert embargo.state == EMState.ACTIVE
    assert embargo.ends_at == agreed
    assert OutboundEmail.objects.filter(kind="embargo-update-team").exists()


def test_a_rejected_first_proposal_leaves_no_embargo(client: Client, project_b: Project, bob: User) -> None:
    number, tracking = _tracking(client)
    soon = (timezone.now() + dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"{tracking}embargo/", {"action": "propose", "zone": "UTC", "ends_at": soon})
    embargo = Embargo.objects.get()
    assert embargo.state == EMState.PROPOSED
    signed_in(bob).post(
        f"/desk/p/{ATM}/reports/{number}/embargo/",
        {"action": "reject", "proposal": str(embargo.proposals.get().pk), "reason": "Too soon."},
    )
    embargo.refresh_from_db()
    assert embargo.state == EMState.NONE
    assert embargo.ends_at is None


@pytest.mark.parametrize(("event", "reason"), [("P", "public"), ("X", "exploit_published")])
def test_a_public_case_or_a_public_exploit_ends_an_active_embargo(
    client: Client, project_b: Project, bob: User, event: str, reason: str
) -> None:
    number, _, team, _ = _active(client, bob)
    team.post(f"/desk/p/{ATM}/reports/{number}/triage/", {"decision": f"event:{event}"})
    embargo = Embargo.objects.get()
    assert embargo.state == EMState.EXITED
    assert embargo.exit_reason == reason
    assert OutboundEmail.objects.filter(kind="embargo-exited-team").count() == 1
    assert OutboundEmail.objects.filter(kind="embargo-exited-reporter").count() == 1
