"""First run of the embedded default: example projects and the first administrator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from vulndesk.accounts.actions import do_add_team_member, do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.openpgp.tasks import queue_example_project_key
from vulndesk.projects.actions import do_import_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import parse_policy_toml


def load_example_projects(folder: Path) -> list[Project]:
    """Import every policy in ``folder``, marked as examples, but only into an empty database.

    Each example gets its OpenPGP key from the worker, not here: the first start stays quick.
    """
    if Project.objects.exists() or not folder.is_dir():
        return []
    projects = []
    for path in sorted(folder.glob("*.toml")):
        policy = parse_policy_toml(path.read_text(encoding="utf-8"))
        with transaction.atomic():  # the key's task is queued with its project, or not at all
            project = do_import_policy(policy, acting_user=None, is_example=True)
            queue_example_project_key(project)
        projects.append(project)
    return projects


@dataclass(frozen=True)
class FirstAdmin:
    email: str
    password: str


def create_first_admin(email: str) -> FirstAdmin | None:
    """An admin with a random password, when the instance has none yet."""
    if User.objects.filter(is_admin=True).exists():
        return None
    password = secrets.token_urlsafe(18)
    admin = do_create_user(email, role=Role.ADMIN, password=password, acting_user=None)
    # On each example's team, so that its reports reach someone who can own them from the start.
    for project in Project.objects.filter(is_example=True):
        do_add_team_member(admin, project, acting_user=None)
    return FirstAdmin(email=email, password=password)
