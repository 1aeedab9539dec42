"""Publication honours the embargo: before the agreed end, only an explicit early-disclosure
decision with its reason publishes, on the desk, the API and the command line alike, and the
embargo then ends with that reason, never "as agreed". At the agreed end the scheduler publishes
as before."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.actions import do_create_api_token, do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission, Role
from vulndesk.accounts.views import SECOND_FACTOR_AT
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    do_schedule_publication,
    publish_due,
)
from vulndesk.advisories.content import AdvisoryContent, AdvisoryError
from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.audit.models import AuditEvent
from vulndesk.cli import main
from vulndesk.embargo.actions import do_set_embargo_end
from vulndesk.embargo.models import EarlyDisclosure, Embargo, ExitReason
from vulndesk.notify.models import OutboundEmail
from vulndesk.projects.models import Project

from .conftest import PASSWORD, a_report, signed_in

REASON_NOTE = "The reporter presents the finding at a conference tomorrow."


def _approved_draft_under_embargo(project: Project, author: User, days: int = 10) -> Advisory:
    """A case whose embargo was agreed ``days`` ahead, and its advisory approved by a second member."""
    report = a_report(project, "Router header injection")
    ends_at = (timezone.now() + dt.timedelta(days=days)).replace(second=0, microsecond=0)
    do_set_embargo_end(report, ends_at, acting_user=author)
    advisory = do_create_advisory(project, report=report, acting_user=author)
    content = AdvisoryContent(
        title="Router header injection",
        summary="A crafted header reaches the router's upstream request.",
        affected=[{"package": "pkg:pypi/llm-d", "affected": "<0.4.2"}],
    )
    do_edit_draft(advisory, content, acting_user=author)
    reviewer = do_create_user(
        f"reviewer-{days}@llm-d.test", role=Role.TEAM, project=project, password=PASSWORD, acting_user=None
    )
    do_approve_draft(advisory, acting_user=reviewer)
    advisory.refresh_from_db()
    assert advisory.publish_at == ends_at  # the agreed end is its publication time
    return advisory


def _embargo(advisory: Advisory) -> Embargo:
    return Embargo.objects.get(report=advisory.report)


def _reporter_mail(kind: str) -> str:
    mail = OutboundEmail.objects.filter(kind=kind).latest("pk")
    return str(mail.message["text"])


def test_the_desk_refuses_to_publish_early_without_a_reason(project_a: Project, alice: User) -> None:
    advisory = _approved_draft_under_embargo(project_a, alice)
    team = signed_in(alice)
    editor = team.get(f"/desk/p/llm-d/advisories/{advisory.identifier}/").content.decode()
    assert "Publish before the agreed embargo end" in editor
    assert "Publish now" not in editor  # no plain button while the embargo runs

    refused = team.post(f"/desk/p/llm-d/advisories/{advisory.identifier}/publish/", follow=True)
    assert "early-disclosure decision" in refused.content.decode()
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.DRAFT
    assert _embargo(advisory).state == "active"

    other = team.post(
        f"/desk/p/llm-d/advisories/{advisory.identifier}/publish/",
        {"early_reason": "early_other", "early_note": "soon"},
        follow=True,
    )
    assert "at least 10 characters" in other.content.decode()
    assert Advisory.objects.get(pk=advisory.pk).state == AdvisoryState.DRAFT


def test_an_early_publication_on_the_desk_tells_the_reporter_why(project_a: Project, alice: User) -> None:
    advisory = _approved_draft_under_embargo(project_a, alice)
    published = signed_in(alice).post(
        f"/desk/p/llm-d/advisories/{advisory.identifier}/publish/",
        {"early_reason": "reporter_agreed", "early_note": REASON_NOTE},
        follow=True,
    )
    assert "Published" in published.content.decode()
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.PUBLISHED
    embargo = _embargo(advisory)
    assert (embargo.state, embargo.exit_reason) == ("exited", ExitReason.REPORTER_AGREED)
    assert embargo.exit_reason != ExitReason.DISCLOSED
    told = _reporter_mail("embargo-exited-reporter")
    assert "Disclosed early with the reporter's agreement" in told
    assert REASON_NOTE in told
    assert "The advisory is published." in told
    team_mail = _reporter_mail("embargo-exited-team")
    assert "Disclosed as agreed" not in team_mail
    event = AuditEvent.objects.get(action="advisory.published")
    assert event.details["early_disclosure"] == "reporter_agreed"
    assert REASON_NOTE not in json.dumps(event.details)  # free text stays out of the audit log


def test_publishing_early_needs_a_recent_sign_in(project_a: Project, alice: User) -> None:
    advisory = _approved_draft_under_embargo(project_a, alice)
    stale = signed_in(alice)
    session = stale.session
    session[SECOND_FACTOR_AT] = int(time.time()) - 3600  # signed in an hour ago
    session.save()
    answer = stale.post(
        f"/desk/p/llm-d/advisories/{advisory.identifier}/publish/",
        {"early_reason": "attacks_observed"},
    )
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/confirm/")
    assert Advisory.objects.get(pk=advisory.pk).state == AdvisoryState.DRAFT


def _token(user: User, scopes: list[Permission] | None = None) -> Client:
    raw = do_create_api_token(user, scopes=scopes, acting_user=None).raw
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_the_api_publishes_early_only_with_a_decision(project_a: Project, alice: User, bob: User) -> None:
    advisory = _approved_draft_under_embargo(project_a, alice)
    url = f"/api/v1/projects/llm-d/advisories/{advisory.identifier}/publish"
    api = _token(alice, [Permission.PROJECT_ADVISORY_PUBLISH])

    refused = api.post(url, "{}", content_type="application/json")
    assert refused.status_code == 409
    assert "early-disclosure decision" in refused.json()["problems"]["embargo"]
    unknown = api.post(
        url, json.dumps({"early_disclosure": {"reason": "disclosed"}}), content_type="application/json"
    )
    assert unknown.status_code == 422  # "as agreed" is never an early reason
    narrow = _token(alice, [Permission.PROJECT_CASE_COORDINATE])
    body = json.dumps({"early_disclosure": {"reason": "attacks_observed"}})
    assert narrow.post(url, body, content_type="application/json").status_code == 404
    assert _token(bob).post(url, body, content_type="application/json").status_code == 404
    assert Advisory.objects.get(pk=advisory.pk).state == AdvisoryState.DRAFT

    done = api.post(url, body, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "published"
    assert done.json()["early_disclosure"] == "attacks_observed"
    assert _embargo(advisory).exit_reason == ExitReason.ATTACKS_OBSERVED
    assert "Attacks were seen in the wild" in _reporter_mail("embargo-exited-reporter")


def test_the_early_reasons_the_api_documents_are_the_actions_own() -> None:
    from typing import get_args  # noqa: PLC0415

    from vulndesk.advisories.api import EarlyReason  # noqa: PLC0415
    from vulndesk.embargo.models import EARLY_DISCLOSURE_REASONS  # noqa: PLC0415

    assert list(get_args(EarlyReason)) == [r.value for r in EARLY_DISCLOSURE_REASONS]


def _publish_from_the_command_line(advisory: Advisory, *options: str) -> int:
    """`vulndesk advisory publish` of llm-d's advisory; the command's exit status."""
    return main(["advisory", "publish", advisory.identifier, "--project", "llm-d", *options])


def test_the_command_line_publishes_early_only_with_a_decision(
    project_a: Project, alice: User, capsys: pytest.CaptureFixture[str]
) -> None:
    advisory = _approved_draft_under_embargo(project_a, alice)
    assert _publish_from_the_command_line(advisory) == 2
    assert "early-disclosure decision" in capsys.readouterr().err
    assert _publish_from_the_command_line(advisory, "--early-disclosure", "disclosed") == 2
    assert Advisory.objects.get(pk=advisory.pk).state == AdvisoryState.DRAFT

    note = ("--note", "A blog post describes the bug.")
    assert _publish_from_the_command_line(advisory, "--early-disclosure", "public", *note) == 0
    assert f"Published {advisory.identifier}" in capsys.readouterr().out
    embargo = _embargo(advisory)
    assert (embargo.exit_reason, embargo.exit_note) == (ExitReason.PUBLIC, "A blog post describes the bug.")


def test_the_scheduler_publishes_at_the_agreed_end_as_agreed(project_a: Project, alice: User) -> None:
    advisory = _approved_draft_under_embargo(project_a, alice)
    end = _embargo(advisory).ends_at
    assert end is not None
    assert publish_due(now=end - dt.timedelta(minutes=1)) == 0
    assert publish_due(now=end) == 1
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.PUBLISHED
    assert _embargo(advisory).exit_reason == ExitReason.DISCLOSED
    assert "The advisory is published." in _reporter_mail("embargo-exited-reporter")


def test_a_schedule_never_runs_ahead_of_the_embargo(project_a: Project, alice: User) -> None:
    advisory = _approved_draft_under_embargo(project_a, alice)
    end = _embargo(advisory).ends_at
    assert end is not None
    with pytest.raises(AdvisoryError, match="before the agreed embargo end"):
        do_schedule_publication(advisory, end - dt.timedelta(days=1), acting_user=alice)
    # An embargo extended after the schedule was set: the old time passes and nothing is published.
    do_set_embargo_end(advisory.report, end + dt.timedelta(days=3), acting_user=alice)  # type: ignore[arg-type]
    Advisory.objects.filter(pk=advisory.pk).update(publish_at=end)
    assert publish_due(now=end + dt.timedelta(minutes=1)) == 0
    assert Advisory.objects.get(pk=advisory.pk).state == AdvisoryState.DRAFT


def test_an_early_reason_without_an_embargo_changes_nothing(project_a: Project, alice: User) -> None:
    report = a_report(project_a, "No embargo here")
    advisory = do_create_advisory(project_a, report=report, acting_user=alice)
    do_edit_draft(
        advisory,
        AdvisoryContent(
            title="No embargo here",
            summary="Published when ready.",
            affected=[{"package": "pkg:pypi/llm-d", "affected": "<0.4.2"}],
        ),
        acting_user=alice,
    )
    reviewer = do_create_user("rev@llm-d.test", role=Role.TEAM, project=project_a, acting_user=None)
    do_approve_draft(advisory, acting_user=reviewer)
    do_publish_advisory(
        advisory, acting_user=alice, early_disclosure=EarlyDisclosure(reason=ExitReason.ATTACKS_OBSERVED)
    )
    assert AuditEvent.objects.get(action="advisory.published").details["early_disclosure"] == ""
