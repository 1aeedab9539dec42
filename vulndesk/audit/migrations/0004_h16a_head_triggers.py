"""The database refuses to delete, reset or move the audit chain head except as ``record_event`` does.

Without this, ``DELETE FROM audit_auditchainhead`` lifted the events' own triggers (0002: deleting
events is a reset, allowed once the head is gone) and the newest events could then be deleted
unseen. Now the head can only be created empty, once, before any event, and only move forward by
one, to the event just appended after it. Deleting it, or resetting the log, takes dropping these
triggers: someone who can run DDL can still do it, and the signed checkpoints kept outside the
database (``vulndesk audit checkpoint``, ``audit verify --against``) are what then shows it.
PostgreSQL's TRUNCATE fires no row trigger: it stays a reset for the table's owner (see SECURITY.md).
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MESSAGE = "the audit chain head moves only with a new event"
GENESIS = "0" * 64

SQLITE_CREATE = [
    f"""CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_auditchainhead
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_head_moves_with_an_event BEFORE UPDATE ON audit_auditchainhead
        WHEN NOT (NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND EXISTS (
            SELECT 1 FROM audit_auditevent e
            WHERE e.seq = NEW.seq AND e.hash = NEW.last_hash AND e.prev_hash = OLD.last_hash))
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_head_created_empty BEFORE INSERT ON audit_auditchainhead
        WHEN NOT (NEW.seq = 0 AND NEW.last_hash = '{GENESIS}'
            AND NOT EXISTS (SELECT 1 FROM audit_auditchainhead)
            AND NOT EXISTS (SELECT 1 FROM audit_auditevent))
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_moves_with_an_event",
    "DROP TRIGGER IF EXISTS audit_head_created_empty",
]

POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND EXISTS (
              SELECT 1 FROM audit_auditevent e
              WHERE e.seq = NEW.seq AND e.hash = NEW.last_hash AND e.prev_hash = OLD.last_hash) THEN
            RETURN NEW;
          END IF;
          IF TG_OP = 'INSERT' AND NEW.seq = 0 AND NEW.last_hash = '{GENESIS}'
              AND NOT EXISTS (SELECT 1 FROM audit_auditchainhead)
              AND NOT EXISTS (SELECT 1 FROM audit_auditevent) THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION '{MESSAGE}';
        END $$""",
    """CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchainhead
        FOR EACH ROW EXECUTE FUNCTION audit_head_guard()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_auditchainhead",
    "DROP FUNCTION IF EXISTS audit_head_guard()",
]


def _run(statements: dict[str, list[str]], schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def create_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}, schema_editor)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_auditevent_audit_audit_target__59bbff_idx")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
