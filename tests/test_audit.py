from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, connection, transaction

from vulndesk.accounts.models import User
from vulndesk.audit.actions import verify_chain
from vulndesk.audit.models import AuditEvent, AuditLogIsAppendOnlyError
from vulndesk.projects.models import Project

_triggers = importlib.import_module("vulndesk.audit.migrations.0002_append_only_triggers")
SQLITE_DROP: list[str] = _triggers.SQLITE_DROP
POSTGRESQL_DROP: list[str] = _triggers.POSTGRESQL_DROP


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


def test_the_database_refuses_to_change_or_delete_an_event(project_a: Project, alice: User) -> None:
    table = AuditEvent._meta.db_table
    attempts: list[tuple[str, list[str | int]]] = [
        (f"UPDATE {table} SET action = %s WHERE seq = %s", ["forged", 2]),  # noqa: S608
        (f"DELETE FROM {table} WHERE seq = %s", [2]),  # noqa: S608
    ]
    for sql, params in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw_update(sql, params)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(action="forged")
    assert verify_chain() is None


def _as_an_attacker_with_the_database() -> None:
    """Someone who can run DDL drops the triggers first; the chain is what still catches them."""
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}[connection.vendor]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_verify_names_the_first_event_changed_behind_the_apps_back(project_a: Project, alice: User) -> None:
    table = AuditEvent._meta.db_table
    _as_an_attacker_with_the_database()
    _raw_update(f"UPDATE {table} SET action = %s WHERE seq = %s", ["forged", 2])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert broken.seq == 2
    assert "changed" in broken.reason


def test_verify_names_a_deleted_event(project_a: Project, alice: User) -> None:
    table = AuditEvent._meta.db_table
    _as_an_attacker_with_the_database()
    _raw_update(f"DELETE FROM {table} WHERE seq = %s", [2])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert broken.seq == 2
    assert "missing" in broken.reason


def test_verify_notices_the_newest_events_deleted(project_a: Project, alice: User) -> None:
    table = AuditEvent._meta.db_table
    _as_an_attacker_with_the_database()
    _raw_update(f"DELETE FROM {table} WHERE seq = %s", [3])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert "deleted" in broken.reason


def test_verify_names_an_inserted_event_and_the_command_fails(
    project_a: Project, alice: User, capsys: pytest.CaptureFixture[str]
) -> None:
    from vulndesk.cli import main  # noqa: PLC0415

    _as_an_attacker_with_the_database()
    genuine = AuditEvent.objects.get(seq=2)
    # A forged event slipped in after #3: well formed, its own hash right, but chained to nothing.
    forged = AuditEvent(
        seq=4,
        occurred_at=genuine.occurred_at,
        actor_label="system",
        action="user.unlocked",
        target_type=genuine.target_type,
        target_id=genuine.target_id,
        details={},
        prev_hash="0" * 64,
    )
    forged.hash = forged.compute_hash()
    table = AuditEvent._meta.db_table
    columns = [
        "seq",
        "occurred_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "details",
        "prev_hash",
        "hash",
    ]
    values = [getattr(forged, c) if c != "details" else "{}" for c in columns]
    _raw_update(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
        values,
    )
    broken = verify_chain()
    assert broken is not None
    assert broken.seq == 4
    assert "does not follow" in broken.reason
    assert main(["audit", "verify"]) == 1
    assert "Audit chain broken: event #4 does not follow #3" in capsys.readouterr().err
