"""Every change to a project and its policy."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from vulndesk.audit.actions import record_event
from vulndesk.projects.models import PolicyRevision, Project, Release
from vulndesk.projects.policy import Policy, PolicyError
from vulndesk.projects.releases import PackageError, parse_package, parse_version

COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names, as OSV takes them

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


def do_import_policy(policy: Policy, *, acting_user: User | None, is_example: bool = False) -> Project:
    """Create the project the policy names, or give an existing one this policy."""
    with transaction.atomic():
        project = Project.objects.select_for_update(no_key=True).filter(slug=policy.project.slug).first()
        if project is None:
            return _create_project(policy, acting_user=acting_user, is_example=is_example)
        return _set_policy(project, policy, acting_user=acting_user)


def do_update_policy(project: Project, policy: Policy, *, acting_user: User | None) -> Project:
    if policy.project.slug != project.slug:
        raise PolicyError([f"project.slug: cannot change from {project.slug!r} to {policy.project.slug!r}"])
    with transaction.atomic():
        locked = Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        return _set_policy(locked, policy, acting_user=acting_user)


def _create_project(policy: Policy, *, acting_user: User | None, is_example: bool) -> Project:
    project = Project.objects.create(
        slug=policy.project.slug,
        name=policy.project.name,
        policy_document=policy.as_json(),
        is_example=is_example,
    )
    PolicyRevision.objects.create(
        project=project, version=1, document=project.policy_document, changed_by=acting_user
    )
    record_event(
        "project.created", acting_user=acting_user, project=project, target=project, details={"version": 1}
    )
    return project


def _set_policy(project: Project, policy: Policy, *, acting_user: User | None) -> Project:
    document = policy.as_json()
    if document == project.policy_document:
        return project
    project.policy_document = document
    project.name = policy.project.name
    project.policy_version += 1
    project.updated_at = timezone.now()
    project.save(update_fields=["policy_document", "name", "policy_version", "updated_at"])
    project.__dict__.pop("policy", None)
    PolicyRevision.objects.create(
        project=project, version=project.policy_version, document=document, changed_by=acting_user
    )
    record_event(
        "project.policy_changed",
        acting_user=acting_user,
        project=project,
        target=project,
        details={"version": project.policy_version},
    )
    return project


def do_record_release(
    project: Project,
    *,
    package: str,
    version: str,
    branch: str = "",
    commit: str = "",
    released_on: dt.date | None = None,
    acting_user: User | None,
) -> Release:
    """Record a shipped version; the package URL and the version are checked before anything is saved."""
    package = parse_package(package).to_string()
    parse_version(package, version)
    commit = commit.strip().lower()
    if commit and not COMMIT.fullmatch(commit):
        raise PackageError(f"commit: {commit[:80]!r} is not a full commit hash (40 or 64 hexadecimal digits)")
    if Release.objects.filter(project=project, package=package, version=version.strip()).exists():
        raise PackageError(f"{package}@{version.strip()} is already recorded")
    with transaction.atomic():
        release = Release.objects.create(
            project=project,
            package=package,
            version=version.strip(),
            branch=branch.strip(),
            commit=commit,
            released_on=released_on,
        )
        record_event(
            "project.release_recorded",
            acting_user=acting_user,
            project=project,
            target=release,
            details={
                "package": package,
                "version": release.version,
                "branch": release.branch,
                "commit": release.commit,
            },
        )
    return release
