"""A connector collect across 5 SQL systems of 1,000,000 customers each (PostgreSQL), per request,
against the floor of the same SELECTs run directly with psycopg in the same run (issue 15).

The connector path is what a collect task runs per system: open the connection (the URL from the
connector), a read-only transaction with its statement timeout, the bound SELECT, the row limit,
the rows made JSON-safe and serialised as the task's export. The floor opens a connection per
system too (each system is its own database in real life), runs the same SELECT and fetches the
rows. Interleaved rounds, so load from other processes weighs on both alike; the median counts.

    .venv/bin/python bench/connectors.py [--quick] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

The tables live in the database dsarconn_bench (kept between runs; rebuilt if the size differs).
Target: ≤ 1.5× the floor.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# bench/queue.py would shadow the standard library's queue (psycopg imports it): drop bench/ itself.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402

from requests_app.connectors import engine  # noqa: E402

SYSTEMS = 5
SELECT = ("SELECT id, email, account_id, phone, name, address, created_on FROM {t} "
          "WHERE email = %(email)s OR account_id = %(account_id)s")


def prepare(admin: str, rows: int) -> str:
    url = admin.rsplit("/", 1)[0] + "/dsarconn_bench"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'dsarconn_bench'").fetchone():
            conn.execute("CREATE DATABASE dsarconn_bench")
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(1, SYSTEMS + 1):
            t = f"customers_{i}"
            have = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (t,)).fetchone()[0]
            if have and conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == rows:
                continue
            print(f"building {t} ({rows:,} rows)…", file=sys.stderr)
            conn.execute(f"DROP TABLE IF EXISTS {t}")
            conn.execute(f"CREATE TABLE {t} (id bigint PRIMARY KEY, email text, account_id text, phone text, "
                         "name text, address text, created_on date)")
            conn.execute(f"INSERT INTO {t} SELECT g, 'user' || g || '@example.com', 'A-' || g, '+1555' || g, "
                         f"'Person ' || g, g || ' Main St', DATE '2020-01-01' + (g % 2000) "
                         f"FROM generate_series(1, {rows}) g")
            conn.execute(f"CREATE INDEX {t}_email ON {t} (email)")
            conn.execute(f"CREATE INDEX {t}_account ON {t} (account_id)")
            conn.execute(f"ANALYZE {t}")
    return url


def connector_collect(url: str, params: dict) -> int:
    n = 0
    for i in range(1, SYSTEMS + 1):
        out = engine.run(url, [engine.Step(str(i), "customers", SELECT.format(t=f"customers_{i}"))], params,
                         mode="read", timeout=30, max_rows=10_000)
        content = json.dumps({r.label: r.data for r in out.results}, ensure_ascii=False, sort_keys=True).encode()
        n += len(content) > 0
    return n


def floor_collect(url: str, params: dict) -> int:
    n = 0
    for i in range(1, SYSTEMS + 1):
        with psycopg.connect(url) as conn:
            n += len(conn.execute(SELECT.format(t=f"customers_{i}"), params).fetchall()) > 0
    return n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    rows = 100_000 if args.quick else 1_000_000
    requests_per_round, rounds = (20, 5) if args.quick else (50, 9)
    url = prepare(args.pg, rows)
    rng = random.Random(15)
    ours, floor = [], []
    for r in range(rounds):
        people = [rng.randint(1, rows) for _ in range(requests_per_round)]
        batch = [{"email": f"user{g}@example.com", "account_id": f"A-{g}", "phone": None} for g in people]
        order = [(connector_collect, ours), (floor_collect, floor)]
        for fn, sink in order if r % 2 == 0 else reversed(order):
            t = time.perf_counter()
            for params in batch:
                assert fn(url, params) == SYSTEMS
            sink.append((time.perf_counter() - t) / len(batch) * 1000)
    ours_ms, floor_ms = statistics.median(ours), statistics.median(floor)
    print(f"collect across {SYSTEMS} systems of {rows:,} customers: connector {ours_ms:.2f} ms/request, "
          f"psycopg directly {floor_ms:.2f} ms/request")
    print(f"RESULT connectors_collect {ours_ms:.2f} ms/request floor {floor_ms:.2f} ms/request "
          f"ratio {ours_ms / floor_ms:.2f} target <=1.5x")


if __name__ == "__main__":
    main()
