"""Credit for duplicates follows the policy: the first reporter, those before the fix, or everyone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import do_create_advisory, latest_revision
from vulndesk.cases.actions.fixes import do_set_fix_plan
from vulndesk.cases.actions.triage import do_mark_duplicate, do_mark_valid
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.submission import Submission
from vulndesk.projects.actions import do_update_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import DuplicateCredit, PolicyError, validate_policy

from .conftest import example_policy


def _report_by(project: Project, name: str, *, days_ago: int) -> Report:
    submission = Submission(
        title="Tool output reaches eval()",
        description="The agent passes tool output to eval().",
        reporter_name=name,
        reporter_email=f"{name.split(maxsplit=1)[0].lower()}@researcher.test",
        credit="name",
    )
    report = do_receive_report(project, submission, channel=Channel.API, acting_user=None).report
    Report.objects.filter(pk=report.pk).update(received_at=timezone.now() - dt.timedelta(days=days_ago))
    report.refresh_from_db()
    return report


def _with_credit_rule(project: Project, rule: DuplicateCredit) -> None:
    document = project.policy.as_json()
    document["credit"] = {"duplicates": rule.value}
    do_update_policy(project, validate_policy(document), acting_user=None)


@pytest.fixture
def case_with_duplicates(project_b: Project, bob: User) -> Report:
    """Rita reported first (10 days ago); Sam before the fix (6 days); Tess after it (1 day)."""
    original = _report_by(project_b, "Rita Researcher", days_ago=10)
    do_mark_valid(original, acting_user=bob)
    for name, days in (("Sam Second", 6), ("Tess Third", 1)):
        do_mark_duplicate(_report_by(project_b, name, days_ago=days), original, acting_user=bob)
    do_set_fix_plan(
        original,
        timeline="",
        mitigations="",
        fix_available_at=timezone.now() - dt.timedelta(days=3),
        acting_user=bob,
    )
    return original


@pytest.mark.parametrize(
    ("rule", "credited"),
    [
        (DuplicateCredit.FIRST_REPORTER, ["Rita Researcher"]),
        (DuplicateCredit.REPORTERS_BEFORE_FIX, ["Rita Researcher", "Sam Second"]),
        (DuplicateCredit.EVERY_REPORTER, ["Rita Researcher", "Sam Second", "Tess Third"]),
    ],
)
def test_the_drafted_advisory_credits_duplicates_as_the_policy_says(
    case_with_duplicates: Report, bob: User, rule: DuplicateCredit, credited: list[str]
) -> None:
    _with_credit_rule(case_with_duplicates.project, rule)
    case = Report.objects.get(pk=case_with_duplicates.pk)  # with the policy as it is now
    advisory = do_create_advisory(case.project, report=case, acting_user=bob)
    drafted = latest_revision(advisory).content["credits"]
    assert [c["name"] for c in drafted] == credited
    assert {c["type"] for c in drafted} == {"finder"}


def test_before_the_fix_credits_every_duplicate_while_no_fix_is_out(project_a: Project, alice: User) -> None:
    original = _report_by(project_a, "Rita Researcher", days_ago=5)
    do_mark_valid(original, acting_user=alice)
    do_mark_duplicate(_report_by(project_a, "Sam Second", days_ago=1), original, acting_user=alice)
    assert project_a.policy.credit.duplicates == DuplicateCredit.REPORTERS_BEFORE_FIX  # llm-d's example
    advisory = do_create_advisory(project_a, report=original, acting_user=alice)
    assert [c["name"] for c in latest_revision(advisory).content["credits"]] == [
        "Rita Researcher",
        "Sam Second",
    ]


def test_an_anonymous_duplicate_reporter_is_not_credited(project_b: Project, bob: User) -> None:
    original = _report_by(project_b, "Rita Researcher", days_ago=3)
    hidden = Submission(title="Same bug", description="Same.", reporter_email="x@researcher.test")
    duplicate = do_receive_report(project_b, hidden, channel=Channel.API, acting_user=None).report
    do_mark_duplicate(duplicate, original, acting_user=bob)
    advisory = do_create_advisory(project_b, report=original, acting_user=bob)
    assert [c["name"] for c in latest_revision(advisory).content["credits"]] == ["Rita Researcher"]


def test_the_policy_page_and_security_md_say_who_is_credited(client: Client, project_b: Project) -> None:
    sentence = "the advisory credits every one of them."
    assert sentence in client.get("/p/agentic-tool-mesh/").content.decode()
    assert sentence in client.get("/p/agentic-tool-mesh/SECURITY.md").content.decode()
    _with_credit_rule(project_b, DuplicateCredit.FIRST_REPORTER)
    assert (
        "the advisory credits the first to report it." in client.get("/p/agentic-tool-mesh/").content.decode()
    )


def test_an_unknown_credit_rule_is_refused_naming_the_field() -> None:
    document = example_policy("llm-d").as_json()
    document["credit"] = {"duplicates": "whoever"}
    with pytest.raises(PolicyError) as refused:
        validate_policy(document)
    assert refused.value.problems[0].startswith("credit.duplicates: ")


def test_the_example_policies_each_choose_a_credit_rule() -> None:
    rules = {
        slug: example_policy(slug).credit.duplicates for slug in ("fast-llm", "llm-d", "agentic-tool-mesh")
    }
    assert rules == {
        "fast-llm": DuplicateCredit.FIRST_REPORTER,
        "llm-d": DuplicateCredit.REPORTERS_BEFORE_FIX,
        "agentic-tool-mesh": DuplicateCredit.EVERY_REPORTER,
    }
    assert "duplicates" in example_policy("llm-d").as_toml()
