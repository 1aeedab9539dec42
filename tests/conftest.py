"""Shared test set-up and the cast of personas every test speaks about.

- ``admin``: the instance administrator;
- ``alice``: on the security team of project A (llm-d);
- ``bob``: on the security team of project B (LLM Agentic Tool Mesh);
- ``outsider``: signed in, on no team;
- anonymous visitors use the plain ``client``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from vulndesk.accounts.actions import do_create_user
from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.projects.actions import do_import_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import Policy, parse_policy_toml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "policies"
PASSWORD = "correct horse battery staple"


def example_policy(slug: str) -> Policy:
    return parse_policy_toml((EXAMPLES / f"{slug}.toml").read_text(encoding="utf-8"))


@pytest.fixture
def project_a(db: None) -> Project:
    return do_import_policy(example_policy("llm-d"), acting_user=None)


@pytest.fixture
def project_b(db: None) -> Project:
    return do_import_policy(example_policy("agentic-tool-mesh"), acting_user=None)


@pytest.fixture
def admin(db: None) -> User:
    return do_create_user("admin@vulndesk.test", role=Role.ADMIN, password=PASSWORD, acting_user=None)


@pytest.fixture
def alice(project_a: Project) -> User:
    return do_create_user(
        "alice@llm-d.test", role=Role.TEAM, project=project_a, password=PASSWORD, acting_user=None
    )


@pytest.fixture
def bob(project_b: Project) -> User:
    return do_create_user(
        "bob@atm.test", role=Role.TEAM, project=project_b, password=PASSWORD, acting_user=None
    )


@pytest.fixture
def outsider(db: None) -> User:
    return User.objects.create_user("outsider@elsewhere.test", PASSWORD)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder
