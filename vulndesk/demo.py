"""Example cases for a first look: `vulndesk setup` loads them into an empty database.

Every example is marked as one: report titles start with "Example:", the two example team members
have addresses under example.invalid and no usable password, advisories carry ``is_example``. No
mail leaves for them: the example reporters gave no address.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone

from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    draft_revision,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.cases.actions import triage
from vulndesk.cases.actions.affected import do_set_affected_package
from vulndesk.cases.actions.fixes import do_set_fix_plan
from vulndesk.intake.actions import do_receive_report
from vulndesk.intake.models import Channel, Report
from vulndesk.intake.submission import Submission
from vulndesk.projects.actions import do_record_release
from vulndesk.projects.models import Project

PACKAGES = {
    "agentic-tool-mesh": "pkg:pypi/llmesh",
    "llm-d": "pkg:github/llm-d/llm-d",
    "fast-llm": "pkg:pypi/fast-llm",
}
RELEASES = {"agentic-tool-mesh": ["0.9.0", "1.0.0", "1.0.1", "1.1.0"], "llm-d": ["0.2.0", "0.3.0", "0.3.1"]}
# The release each example advisory's fix shipped in: one the project recorded, so every export
# (OSV names llm-d's versions by the commits of its releases) can say where the fix is.
FIXED_IN = {"agentic-tool-mesh": "1.0.1", "llm-d": "0.3.1", "fast-llm": "1.0.1"}


def load_demo_cases(projects: list[Project]) -> int:
    """Example reports in several states and one published advisory per project; how many reports."""
    loaded = 0
    for project in projects:
        author, reviewer = _example_team(project)
        _releases(project)
        loaded += _reports(project, author, reviewer)
    return loaded


def _example_team(project: Project) -> tuple[User, User]:
    """Two inactive accounts that wrote and reviewed the examples: nobody signs in as them, and the
    team mail that every new report sends goes to active members only, so none is sent."""
    author, reviewer = (
        do_create_user(
            f"example-{name}@{project.slug}.example.invalid",
            role=Role.TEAM,
            project=project,
            display_name=f"Example {name} ({project.name})",
            acting_user=None,
        )
        for name in ("author", "reviewer")
    )
    User.objects.filter(pk__in=[author.pk, reviewer.pk]).update(is_active=False)
    return author, reviewer


def _releases(project: Project) -> None:
    for day, version in enumerate(RELEASES.get(project.slug, []), start=1):
        do_record_release(
            project,
            package=PACKAGES[project.slug],
            version=version,
            branch=f"release-{version.rsplit('.', 1)[0]}",
            commit=_example_commit(project, version),
            released_on=dt.date(2026, 9, day),
            acting_user=None,
        )


def _example_commit(project: Project, version: str) -> str:
    """A stand-in commit hash for an example release (OSV names versions of a repository-only
    package, like llm-d's, by commit). Not a real commit: the projects are marked as examples."""
    return hashlib.sha1(f"{project.slug} {version}".encode(), usedforsecurity=False).hexdigest()


def _report(project: Project, title: str, description: str) -> Report:
    fields = {f.name.value: "(example)" for f in project.policy.reporter_guidance.fields if f.required}
    fields.pop("description", None)
    submission = Submission(
        title=f"Example: {title}", description=description, fields=fields, reporter_name="Example Reporter"
    )
    return do_receive_report(project, submission, channel=Channel.API, acting_user=None).report


def _reports(project: Project, author: User, reviewer: User) -> int:
    _report(
        project, "Model server crashes on a long prompt", "An example of a report nobody has looked at yet."
    )
    asked = _report(
        project, "Token leaks into debug logs", "An example of a report waiting for the reporter."
    )
    triage.do_request_info(
        asked, "Which version and which logging configuration did you use?", acting_user=author
    )
    rejected = _report(
        project, "Admin can run admin commands", "An example of a report that is not a vulnerability."
    )
    triage.do_mark_invalid(
        rejected,
        "Administrators are trusted to run any command; this needs no vulnerability.",
        acting_user=author,
    )
    fixed = _report(
        project, "Tool output reaches eval()", "An example of a confirmed, fixed and published case."
    )
    _publish_example(project, fixed, author, reviewer)
    return 4


def _publish_example(project: Project, report: Report, author: User, reviewer: User) -> None:
    triage.do_mark_valid(report, acting_user=author, owner=author)
    triage.do_accept(report, acting_user=author)
    triage.do_set_severity(
        report,
        acting_user=author,
        cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N",
        cvss40_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N",
        cwes=["CWE-95"],
        llm_risks=[],
    )
    do_set_affected_package(
        report, package=PACKAGES[project.slug], affected=f"<{FIXED_IN[project.slug]}", acting_user=author
    )
    do_set_fix_plan(
        report,
        timeline="Example: patch releases on every supported line.",
        mitigations="Turn off tools that evaluate code until you upgrade.",
        fix_available_at=timezone.now(),
        acting_user=author,
    )
    advisory = do_create_advisory(project, report=report, acting_user=author, is_example=True)
    content = AdvisoryContent.from_json(draft_revision(advisory).content)  # type: ignore[union-attr]
    content.summary = "Example advisory: a crafted tool answer could run code in the agent's process."
    content.details = (
        "This advisory is an **example** loaded by `vulndesk setup`, to show what a published one looks like."
    )
    content.credits = [{"name": "Example Reporter", "type": "finder"}]
    do_edit_draft(advisory, content, change_summary="First publication.", acting_user=author)
    do_approve_draft(advisory, acting_user=reviewer)
    do_publish_advisory(advisory, acting_user=reviewer)
