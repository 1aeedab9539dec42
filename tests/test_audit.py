from __future__ import annotations

import importlib
import json
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from pytest_django.fixtures import Settings

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Role
from vulndesk.audit.actions import verify_chain
from vulndesk.audit.checkpoints import CheckpointFinding, verify_against, write_checkpoint
from vulndesk.audit.models import AuditChainHead, AuditEvent, AuditLogIsAppendOnlyError
from vulndesk.audit.tasks import audit_checkpoint
from vulndesk.notify.models import OutboundEmail
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


def _broken_after(statement: str, params: list[str | int]) -> tuple[int, str]:
    """Where verify_chain finds the chain broken, and why, once an attacker with the database ran
    ``statement`` on the events' table."""
    _as_an_attacker_with_the_database()
    _raw_update(statement.format(table=AuditEvent._meta.db_table), params)
    broken = verify_chain()
    assert broken is not None
    return broken.seq, broken.reason


def test_verify_names_the_first_event_changed_behind_the_apps_back(project_a: Project, alice: User) -> None:
    seq, reason = _broken_after("UPDATE {table} SET action = %s WHERE seq = %s", ["forged", 2])
    assert seq == 2
    assert "changed" in reason


def test_verify_names_a_deleted_event(project_a: Project, alice: User) -> None:
    seq, reason = _broken_after("DELETE FROM {table} WHERE seq = %s", [2])
    assert seq == 2
    assert "missing" in reason


def test_verify_notices_the_newest_events_deleted(project_a: Project, alice: User) -> None:
    _, reason = _broken_after("DELETE FROM {table} WHERE seq = %s", [3])
    assert "deleted" in reason


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


# --- the chain head, and checkpoints kept outside the database --------------------------------

_head_triggers = importlib.import_module("vulndesk.audit.migrations.0004_h16a_head_triggers")
HEAD = AuditChainHead._meta.db_table
EVENTS = AuditEvent._meta.db_table


def _as_an_attacker_who_drops_every_trigger() -> None:
    _as_an_attacker_with_the_database()
    statements = {"sqlite": _head_triggers.SQLITE_DROP, "postgresql": _head_triggers.POSTGRESQL_DROP}
    with connection.cursor() as cursor:
        for statement in statements[connection.vendor]:
            cursor.execute(statement)


def test_the_database_refuses_to_delete_reset_or_move_the_chain_head(project_a: Project, alice: User) -> None:
    attempts: list[tuple[str, list[str | int]]] = [
        (f"DELETE FROM {HEAD}", []),  # noqa: S608
        (f"UPDATE {HEAD} SET seq = seq - 1", []),  # noqa: S608
        (f"UPDATE {HEAD} SET last_hash = %s", ["0" * 64]),  # noqa: S608
        (f"UPDATE {HEAD} SET seq = seq + 1", []),  # noqa: S608 - ahead of every event
        (f"INSERT INTO {HEAD} (id, seq, last_hash) VALUES (2, 0, %s)", ["0" * 64]),  # noqa: S608
    ]
    for sql, params in attempts:
        with pytest.raises(DatabaseError, match="moves only with a new event"), transaction.atomic():
            _raw_update(sql, params)
    # The head still there, the events stay undeletable: the attack of issue 16 no longer works.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw_update(f"DELETE FROM {EVENTS} WHERE seq = %s", [3])  # noqa: S608
    assert verify_chain() is None
    assert AuditChainHead.objects.get().seq == 3


def test_the_head_still_moves_with_every_new_event(project_a: Project, alice: User) -> None:
    User.objects.create_user("someone@elsewhere.test", "x" * 16)  # no event: the head stays
    from vulndesk.accounts.actions import do_create_user  # noqa: PLC0415

    do_create_user("carol@llm-d.test", role=Role.TEAM, project=project_a, password="y" * 16, acting_user=None)
    assert AuditChainHead.objects.get().seq == AuditEvent.objects.count() == 5
    assert verify_chain() is None


def test_verify_fails_when_events_remain_without_a_head(project_a: Project, alice: User) -> None:
    _as_an_attacker_who_drops_every_trigger()
    _raw_update(f"DELETE FROM {HEAD}", [])  # noqa: S608
    _raw_update(f"DELETE FROM {EVENTS} WHERE seq = %s", [3])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert "the chain head is gone while 2 events remain" in broken.reason


def test_verify_fails_when_the_head_disagrees_with_the_last_event(project_a: Project, alice: User) -> None:
    _as_an_attacker_who_drops_every_trigger()
    _raw_update(f"UPDATE {HEAD} SET last_hash = %s", ["f" * 64])  # noqa: S608
    broken = verify_chain()
    assert broken is not None
    assert broken.reason == "the chain head disagrees with event #3"


def _cut_to(seq: int) -> None:
    """Delete the events after ``seq`` and move the head back to match: the chain alone looks whole."""
    last = AuditEvent.objects.get(seq=seq)
    _raw_update(f"DELETE FROM {EVENTS} WHERE seq > %s", [seq])  # noqa: S608
    _raw_update(f"UPDATE {HEAD} SET seq = %s, last_hash = %s", [seq, last.hash])  # noqa: S608


def _rewrite_from(seq: int) -> None:
    """Change event ``seq`` and recompute every hash after it, and the head: the chain looks whole."""
    previous = AuditEvent.objects.get(seq=seq - 1).hash
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.actor_label = "someone else"
        event.prev_hash = previous
        event.hash = previous = event.compute_hash()
        _raw_update(
            f"UPDATE {EVENTS} SET actor_label = %s, prev_hash = %s, hash = %s WHERE seq = %s",  # noqa: S608
            [event.actor_label, event.prev_hash, event.hash, event.seq],
        )
    _raw_update(f"UPDATE {HEAD} SET last_hash = %s", [previous])  # noqa: S608


def test_a_cut_after_a_checkpoint_is_found_though_the_chain_looks_whole(
    project_a: Project, alice: User, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vulndesk.cli import main  # noqa: PLC0415

    checkpoints = tmp_path / "checkpoints.jsonl"
    assert main(["audit", "checkpoint", "--to", str(checkpoints)]) == 0
    assert main(["audit", "verify", "--against", str(checkpoints)]) == 0
    assert "Audit log matches all 1 checkpoints" in capsys.readouterr().out
    _as_an_attacker_who_drops_every_trigger()
    _cut_to(1)
    assert verify_chain() is None  # the chain alone cannot tell
    assert main(["audit", "verify", "--against", str(checkpoints)]) == 1
    err = capsys.readouterr().err
    assert "checkpoint line 1: the log has 1 events, fewer than the 3 of the checkpoint" in err
    assert "it was cut" in err


def test_a_rewrite_before_a_checkpoint_is_found_though_the_chain_looks_whole(
    project_a: Project, alice: User, tmp_path: Path
) -> None:
    checkpoints = tmp_path / "checkpoints.jsonl"
    write_checkpoint(str(checkpoints))
    _as_an_attacker_who_drops_every_trigger()
    _rewrite_from(2)
    assert verify_chain() is None
    read, findings = verify_against(checkpoints)
    assert read == 1
    assert len(findings) == 1
    assert findings[0].problem.startswith("event #3 is not the one checkpointed at ")
    assert findings[0].problem.endswith(": the log was rewritten")


def test_a_forged_checkpoint_does_not_verify(project_a: Project, tmp_path: Path) -> None:
    checkpoints = tmp_path / "checkpoints.jsonl"
    genuine = write_checkpoint(str(checkpoints))
    forged = {**genuine, "event_count": 0}
    checkpoints.write_text(checkpoints.read_text() + json.dumps(forged) + "\n")
    read, findings = verify_against(checkpoints)
    assert read == 2
    assert findings == [
        CheckpointFinding(2, "its signature does not verify with this instance's checkpoint key")
    ]


def test_the_checkpoint_key_is_made_at_first_need_readable_by_its_owner_only(project_a: Project) -> None:
    write_checkpoint("log")
    key_file = Path(settings.DATA_DIR) / "audit_checkpoint_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_worker_writes_checkpoints_where_the_operator_chose(
    project_a: Project, tmp_path: Path, settings: Settings
) -> None:
    checkpoints = tmp_path / "audit.jsonl"
    settings.AUDIT_CHECKPOINT_TO = str(checkpoints)
    assert audit_checkpoint.call() == "checkpoint at #1"
    line = json.loads(checkpoints.read_text())
    assert (line["event_count"], line["head_hash"]) == (1, AuditEvent.objects.get().hash)
    assert stat.S_IMODE(checkpoints.stat().st_mode) == 0o600
    settings.AUDIT_CHECKPOINT_TO = "mailto:audit@operator.test"
    audit_checkpoint.call()
    mail = OutboundEmail.objects.get(kind="audit-checkpoint")
    assert mail.message["to"] == ["audit@operator.test"]
    assert '"event_count": 1' in str(mail.message["text"])


def test_a_checkpoint_line_copied_from_the_log_verifies(
    project_a: Project, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="vulndesk.audit.checkpoints"):
        write_checkpoint("log")
    [record] = [r for r in caplog.records if r.name == "vulndesk.audit.checkpoints"]
    checkpoints = tmp_path / "from-the-log.txt"
    checkpoints.write_text(f"2026-12-03 12:00:00,000 INFO vulndesk.audit.checkpoints {record.getMessage()}\n")
    assert verify_against(checkpoints) == (1, [])
