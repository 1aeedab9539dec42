"""The database itself refuses to change or delete an audit event.

The models refuse too (AuditEvent.save/delete), but a raw query, a bulk update or a bug elsewhere
would not pass through them. An attacker who can run DDL can drop these triggers; `vulndesk audit
verify` still finds what they changed, because the chain head is kept apart.

Deleting events is allowed only once the chain head row is gone: that is a reset of the whole log
(`manage.py flush`, the test suite's flush, which empties tables in name order, head first).
PostgreSQL's TRUNCATE is a reset too and fires no row trigger.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MESSAGE = "the audit log is append-only"

SQLITE_CREATE = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
        WHEN EXISTS (SELECT 1 FROM audit_auditchainhead)
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_event_no_update", "DROP TRIGGER IF EXISTS audit_event_no_delete"]

POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM audit_auditchainhead) THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION '{MESSAGE}';
        END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]


def _run(statements: dict[str, list[str]], schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def create_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}, schema_editor)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
