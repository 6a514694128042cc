"""PostgreSQL storage parameters the models cannot declare, set after every migrate.

The case row is updated in place all day (escalation by the sweep, next_due_at, state, version)
while it carries some fifteen indexes. With full pages (fillfactor 100) every such update writes
a new row version on another page and an entry in every index; with free room left on each page,
an update that changes no indexed column (the sweep's escalation_level / escalated_at) is a HOT
update: the new version stays on the page and no index is touched (bench/sweep.py, 1,000,000
cases: escalating 3,000 overdue cases ~650-960 ms → ~85-95 ms, ~30 us a case).

Set from a post_migrate receiver rather than only a migration, so a schema built from the models
(pytest --nomigrations, the benches) gets it too. It applies to pages written from then on: an
existing table gains the room as rows are updated and vacuumed (or at once with VACUUM FULL).
"""
from __future__ import annotations

# table → fillfactor (percent of each heap page filled by INSERTs)
FILLFACTORS = {"requests_app_datasubjectrequest": 85}


def apply(connection) -> list[str]:
    """Set each table's fillfactor where it differs (idempotent: no lock taken when it is set).
    Returns the tables changed."""
    if connection.vendor != "postgresql":
        return []
    changed = []
    with connection.cursor() as cursor:
        for table, fillfactor in FILLFACTORS.items():
            cursor.execute("SELECT reloptions FROM pg_class WHERE oid = to_regclass(%s)", [table])
            row = cursor.fetchone()
            if row is None or f"fillfactor={fillfactor}" in (row[0] or []):
                continue
            cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} SET (fillfactor = {int(fillfactor)})")
            changed.append(table)
    return changed


def on_post_migrate(sender, using="default", **kwargs) -> None:
    from django.db import connections

    apply(connections[using])
