"""The case table leaves room on each page so the sweep's escalation is a HOT update (see
requests_app/storage_params.py; measured in bench/sweep.py)."""
import pytest
from django.db import connection

from requests_app import storage_params
from requests_app.models import DataSubjectRequest, Deadline


def _reloptions(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = to_regclass(%s)", [table])
        return cursor.fetchone()[0] or []


@pytest.mark.django_db
def test_it_sets_the_case_tables_fillfactor_after_migrate(on_postgres):
    if not on_postgres:
        pytest.skip("storage parameters are PostgreSQL's")
    assert set(storage_params.FILLFACTORS) == {DataSubjectRequest._meta.db_table, Deadline._meta.db_table}
    for table, fillfactor in storage_params.FILLFACTORS.items():
        assert f"fillfactor={fillfactor}" in _reloptions(table)
    # Idempotent: a second migrate changes nothing (and takes no table lock).
    assert storage_params.apply(connection) == []


@pytest.mark.django_db
def test_it_restores_a_fillfactor_reset_by_hand(on_postgres):
    if not on_postgres:
        pytest.skip("storage parameters are PostgreSQL's")
    table = DataSubjectRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} RESET (fillfactor)")
    assert storage_params.apply(connection) == [table]
    assert f"fillfactor={storage_params.FILLFACTORS[table]}" in _reloptions(table)


@pytest.mark.django_db
def test_it_compresses_the_outboxs_bodies_with_lz4_and_restores_it(on_postgres):
    if not on_postgres:
        pytest.skip("storage parameters are PostgreSQL's")
    table, columns = next(iter(storage_params.LZ4_COLUMNS.items()))

    def compressions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT attname, attcompression FROM pg_attribute WHERE attrelid = to_regclass(%s)"
                           " AND attname = ANY(%s) ORDER BY attname", [table, list(columns)])
            return dict(cursor.fetchall())

    assert compressions() == {c: "l" for c in columns}
    assert storage_params.apply(connection) == []
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN body_html SET COMPRESSION pglz")
    assert storage_params.apply(connection) == [f"{table}(body_html)"]
    assert compressions() == {c: "l" for c in columns}


def test_it_changes_nothing_on_other_databases():
    class Other:
        vendor = "sqlite"

    assert storage_params.apply(Other()) == []


def _index_exists(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [name])
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_it_serves_a_name_search_from_the_trigram_index(on_postgres, manager):
    if not on_postgres:
        pytest.skip("trigram indexes are PostgreSQL's")
    from requests_app import selectors

    assert _index_exists("case_name_trgm")
    # The index must be on the very expression Django's icontains compares, or it is never used.
    qs = selectors.case_list(manager, selectors.QueueFilters(q="Silva"), status="all")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "case_name_trgm" in plan, plan


@pytest.mark.django_db
def test_it_recreates_a_trigram_index_dropped_by_hand(on_postgres):
    if not on_postgres:
        pytest.skip("trigram indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX case_name_trgm")
    assert storage_params.apply(connection) == ["case_name_trgm"]
    assert _index_exists("case_name_trgm")
    assert storage_params.apply(connection) == []
