from __future__ import annotations

import pytest
from django.db import connection

from vulndesk.accounts.models import User
from vulndesk.audit.actions import verify_chain
from vulndesk.audit.models import AuditEvent, AuditLogIsAppendOnlyError
from vulndesk.projects.models import Project


def test_every_action_writes_a_chained_audit_event(project_a: Project, alice: User) -> None:
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["project.created", "user.created", "team.member_added"]
    assert verify_chain() is None


def test_audit_events_cannot_be_changed_or_deleted_through_the_models(project_a: Project) -> None:
    event = AuditEvent.objects.get()
    event.action = "forged"
    with pytest.raises(AuditLogIsAppendOnlyError):
        event.save()
    with pytest.raises(AuditLogIsAppendOnlyError):
        event.delete()


def _raw_update(sql: str, params: list[str | int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_names_the_first_event_changed_behind_the_apps_back(project_a: Project, alice: User) -> None:
    table = AuditEvent._meta.db_table
    _raw_update(f"UPDATE {table} SET action = %s WHERE seq = %s", ["forged", 2])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert broken.seq == 2
    assert "changed" in broken.reason


def test_verify_names_a_deleted_event(project_a: Project, alice: User) -> None:
    table = AuditEvent._meta.db_table
    _raw_update(f"DELETE FROM {table} WHERE seq = %s", [2])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert broken.seq == 2
    assert "missing" in broken.reason


def test_verify_notices_the_newest_events_deleted(project_a: Project, alice: User) -> None:
    table = AuditEvent._meta.db_table
    _raw_update(f"DELETE FROM {table} WHERE seq = %s", [3])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert "deleted" in broken.reason
