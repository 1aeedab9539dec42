"""Releases, supported release lines, and affected ranges evaluated as the exports will read them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vulndesk.accounts.models import User
from vulndesk.audit.models import AuditEvent
from vulndesk.cases.actions.affected import do_set_affected_package, fixed_versions, is_affected, parse_range
from vulndesk.cases.models import AffectedPackage
from vulndesk.intake.models import Report
from vulndesk.projects.actions import do_import_policy, do_record_release
from vulndesk.projects.models import Project
from vulndesk.projects.releases import PackageError, parse_version, release_line, supported_releases

from .conftest import a_report, example_policy

PACKAGE = "pkg:pypi/llmesh"


def ship(project: Project, *versions: str, package: str = PACKAGE) -> None:
    """``versions`` released one a day, oldest first, each from its release line's branch."""
    for day, version in enumerate(versions, start=1):
        do_record_release(
            project,
            package=package,
            version=version,
            branch=f"release-{release_line(version)}",
            released_on=dt.date(2026, 9, day),
            acting_user=None,
        )


def test_the_agentic_tool_mesh_supports_its_three_most_recent_minor_releases(project_b: Project) -> None:
    ship(project_b, "0.9.0", "1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.2.1", "1.10.0")
    supported = supported_releases(project_b)
    # 1.10 is newer than 1.2: versions are compared as versions, not as text.
    assert [(s.line, s.latest.version, s.branch) for s in supported] == [
        ("1.10", "1.10.0", "release-1.10"),
        ("1.2", "1.2.1", "release-1.2"),
        ("1.1", "1.1.0", "release-1.1"),
    ]


def test_a_pre_release_project_supports_nothing(db: None) -> None:
    fast_llm = do_import_policy(example_policy("fast-llm"), acting_user=None)
    ship(fast_llm, "0.1.0")
    assert supported_releases(fast_llm) == []


def test_a_release_is_refused_with_the_reason(project_b: Project) -> None:
    with pytest.raises(PackageError, match="package URL"):
        do_record_release(project_b, package="llmesh", version="1.0", acting_user=None)
    with pytest.raises(PackageError, match="names the package only"):
        do_record_release(project_b, package="pkg:pypi/llmesh@1.0", version="1.0", acting_user=None)
    with pytest.raises(PackageError, match="not a version"):
        do_record_release(project_b, package=PACKAGE, version="one point oh", acting_user=None)
    ship(project_b, "1.0.0")
    with pytest.raises(PackageError, match="already recorded"):
        ship(project_b, "1.0.0")


def test_an_affected_range_answers_as_univers_does(project_b: Project) -> None:
    report = Report(project=project_b)  # the range is read without saving a report
    entry = AffectedPackage(report=report, package=PACKAGE, affected=">=1.1.0|<1.1.3|>=1.2.0|<1.2.2")
    assert is_affected(entry, "1.1.0")
    assert is_affected(entry, "1.2.1")
    assert not is_affected(entry, "1.1.3")
    assert not is_affected(entry, "1.0.9")
    assert fixed_versions(entry) == ["1.1.3", "1.2.2"]


def test_a_malformed_range_is_refused_with_the_reason(project_b: Project) -> None:
    with pytest.raises(PackageError, match="vers range"):
        parse_range(PACKAGE, ">=banana|<<")
    with pytest.raises(PackageError, match="the range is for npm"):
        parse_range(PACKAGE, "vers:npm/>=1.0.0")


def test_the_affected_range_is_stored_normalised_and_audited(project_b: Project, bob: User) -> None:
    report = a_report(project_b)
    entry = do_set_affected_package(report, package=PACKAGE, affected="<1.2.2|>=1.2.0", acting_user=None)
    assert entry.affected == "vers:pypi/>=1.2.0|<1.2.2"
    again = do_set_affected_package(report, package=PACKAGE, affected=">=1.0.0|<1.2.2", acting_user=None)
    assert again.pk == entry.pk
    assert AuditEvent.objects.filter(action="case.affected_package_set").count() == 2


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 20), st.integers(0, 30)), min_size=1, max_size=8))
def test_membership_matches_the_bounds_for_any_versions(versions: list[tuple[int, int, int]]) -> None:
    affected = parse_range(PACKAGE, ">=1.2.0|<1.4.0")
    for major, minor, patch in versions:
        inside = (1, 2, 0) <= (major, minor, patch) < (1, 4, 0)
        version = parse_version(PACKAGE, f"{major}.{minor}.{patch}")
        assert (version in affected) is inside
