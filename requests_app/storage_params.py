"""PostgreSQL storage parameters the models cannot declare, set after every migrate.

The case row is updated in place all day (escalation by the sweep, next_due_at, state, version)
while it carries some fifteen indexes. With full pages (fillfactor 100) every such update writes
a new row version on another page and an entry in every index; with free room left on each page,
an update that changes no indexed column (the sweep's escalation_level / escalated_at) is a HOT
update: the new version stays on the page and no index is touched (bench/sweep.py, 1,000,000
cases: escalating 3,000 overdue cases ~650-960 ms → ~85-95 ms, ~30 us a case). The clock table
too: the sweep raises alert_level (an indexed column, so never HOT), services close and move
clocks; with room on the page each new row version stays beside the old one instead of moving to
the end of the table, so the table neither grows nor reorders itself with every sweep.

A search by part of the requester's name (`icontains`, the queue's and admin's search) reads every
case without an index a LIKE '%...%' can use: a trigram index (pg_trgm) on the same UPPER() that
Django's icontains compares serves it (bench/queue.py, 1,000,000 cases: ~1.1 s before).

The outbox keeps every e-mail's bodies (the sweep's digests are ~25 KB each, 54 of them per batch
in bench/sweep.py): they are compressed with lz4 rather than the default pglz, several times
faster to compress for about the same size (the digests' INSERT ~50 → ~35 ms there).

Set from a post_migrate receiver rather than only a migration, so a schema built from the models
(pytest --nomigrations, the benches) gets it too. It applies to pages written from then on: an
existing table gains the room as rows are updated and vacuumed (or at once with VACUUM FULL).
"""
from __future__ import annotations

import logging

from django.db import DatabaseError, transaction

log = logging.getLogger(__name__)

# table → fillfactor (percent of each heap page filled by INSERTs)
FILLFACTORS = {"requests_app_datasubjectrequest": 85, "requests_app_deadline": 90}


# table → columns whose TOAST compression is lz4 (PostgreSQL 14+ built with lz4; else left as is)
LZ4_COLUMNS = {"requests_app_notification": ("body_text", "body_html")}


# index name → (table, column): GIN trigram indexes on UPPER(column), what icontains compares
TRIGRAM_INDEXES = {"case_name_trgm": ("requests_app_datasubjectrequest", "requester_name")}


def apply(connection) -> list[str]:
    """Set each table's fillfactor and columns' compression where they differ (idempotent: no lock
    taken when they are set) and create the trigram indexes that are missing. Returns what changed (tables, index names)."""
    if connection.vendor != "postgresql":
        return []
    changed = _fillfactors(connection)
    return changed + _compressions(connection) + _trigram_indexes(connection)


def _compressions(connection) -> list[str]:
    changed = []
    if connection.pg_version < 140000:  # column compression methods came with PostgreSQL 14
        return changed
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, columns in LZ4_COLUMNS.items():
            cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = ANY(%s)"
                           " AND attcompression IS DISTINCT FROM 'l'", [table, list(columns)])
            todo = [row[0] for row in cursor.fetchall()]
            if not todo:
                continue
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(f"ALTER TABLE {q(table)} "
                                   + ", ".join(f"ALTER COLUMN {q(c)} SET COMPRESSION lz4" for c in todo))
            except DatabaseError as exc:  # a server built without lz4: pglz, only slower
                log.warning("lz4 compression not set on %s (%s)", table, exc)
                continue
            changed.append(f"{table}({', '.join(todo)})")
    return changed


def _trigram_indexes(connection) -> list[str]:
    created = []
    with connection.cursor() as cursor:
        for name, (table, column) in TRIGRAM_INDEXES.items():
            cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [name])
            if cursor.fetchone():
                continue
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:
                continue
            try:
                with transaction.atomic(using=connection.alias):
                    # A trusted extension since PostgreSQL 13: the database owner may create it.
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    q = connection.ops.quote_name
                    cursor.execute(f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(table)} "
                                   f"USING gin (UPPER({q(column)}::text) gin_trgm_ops)")
            except DatabaseError as exc:  # no right to create the extension: searches work, only slower
                log.warning("trigram index %s not created (%s): name searches read the whole table", name, exc)
                continue
            created.append(name)
    return created


def _fillfactors(connection) -> list[str]:
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
