"""The audit trails are append-only in the database too, not only in the ORM (PostgreSQL).

`AppendOnly` (models.py) refuses to save an audit row twice or to delete one, but raw SQL, a
`QuerySet.update` reached through the base class, or a console session go around it. A trigger
on each trail refuses UPDATE and DELETE for every client of the database, so rewriting history
takes a change of schema (dropping the trigger), not just a statement.

One exception, for retention (11 CCR §7101: keep what happened and when, without the person):
inside a transaction that called `allow_redaction()`, an audit event's `data` and `reason` may be
rewritten; what happened (kind, states, case, actor, time) still may not. Nothing may delete.

Installed from a post_migrate receiver, like storage_params, so a schema built from the models
(pytest --nomigrations, the benches) has it too. TRUNCATE (a test database's flush) is not a row
operation and is not stopped.
"""
from __future__ import annotations

from django.db import connection as default_connection

FUNCTION = "dsar_append_only"
# table → whether retention may redact its rows (the columns named in the function)
GUARDED = {"requests_app_event": True, "requests_app_configchange": False}
REDACTING = "dsar.redacting"

_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND TG_ARGV[0] = 'redactable' AND current_setting('{REDACTING}', true) = 'on'
     AND (to_jsonb(NEW) - 'data' - 'reason') = (to_jsonb(OLD) - 'data' - 'reason') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _trigger_name(table: str) -> str:
    return f"{table}_append_only"


def apply(connection) -> list[str]:
    """Create the function and any missing trigger. Returns the tables that gained one."""
    if connection.vendor != "postgresql":
        return []
    added = []
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        for table, redactable in GUARDED.items():
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:
                continue
            cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s AND NOT tgisinternal", [_trigger_name(table)])
            if cursor.fetchone():
                continue
            q = connection.ops.quote_name
            cursor.execute(f"CREATE TRIGGER {q(_trigger_name(table))} BEFORE UPDATE OR DELETE ON {q(table)}"
                           f" FOR EACH ROW EXECUTE FUNCTION {FUNCTION}('{'redactable' if redactable else ''}')")
            added.append(table)
    return added


def allow_redaction(connection=default_connection) -> None:
    """Let this transaction rewrite audit events' data and reason (retention). Call inside atomic()."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [REDACTING])  # true: this transaction only


def on_post_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    apply(connections[using])
