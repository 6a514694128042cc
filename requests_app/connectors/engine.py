"""Runs a connector's SQL statements against PostgreSQL, MySQL/MariaDB or SQLite (no Django here).

Every call is one transaction on one connection, with a statement timeout, bound parameters only
(the statements were checked by sqlcheck when saved), and a row limit on what a SELECT may return.
Modes: ``read`` (a read-only transaction, rolled back: collect, identity look-up, the test button),
``dry`` (the writes run and are rolled back: how many rows each would touch) and ``write``.

A write records itself in a ledger table in the target database, in the same transaction as the
statements (``dsar_connector_ledger``, keyed by the task). A worker killed after the target
committed but before our database heard of it re-runs the task: the ledger row says it is done and
returns the recorded counts, so nothing is erased or anonymised twice.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote, urlsplit

from . import sqlcheck

LEDGER = "dsar_connector_ledger"


class ConnectorError(Exception):
    """A failure the task records. ``transient`` ones (unreachable, timed out) are retried."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass
class Step:
    key: str  # stable across runs (the statement's id): what the ledger and the record name
    label: str
    sql: str


@dataclass
class StepResult:
    key: str
    label: str
    rows: int
    data: list[dict] | None = None
    columns: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    results: list[StepResult]
    replayed: bool = False  # the ledger said this write was already done

    @property
    def total(self) -> int:
        return sum(r.rows for r in self.results)

    def summary(self) -> list[dict]:
        return [{"statement": r.key, "label": r.label, "rows": r.rows} for r in self.results]


def dialect_of(url: str) -> str:
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    return {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql",
            "sqlite": "sqlite"}.get(scheme, "")


def jsonable(value):
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


# --- connections ----------------------------------------------------------------------------------

class _Conn:
    """The little each driver needs: begin (read-only or not), execute, commit, rollback, close."""
    paramstyle_named = False  # SQLite takes :name

    def __init__(self, url: str, timeout: float):
        self.timeout = timeout

    def execute(self, sql: str, params: dict):
        cur = self.raw.cursor()
        try:
            cur.execute(sqlcheck.to_qmark_named(sql) if self.paramstyle_named else sql, params)
        except Exception as exc:  # noqa: BLE001 - translated to a recorded, readable error
            raise self.translate(exc) from None
        return cur

    ledger_done_at = ""

    def ledger_ddl(self) -> str:
        return (f"CREATE TABLE IF NOT EXISTS {LEDGER} (run_key varchar(100) PRIMARY KEY, results text NOT NULL, "
                f"done_at {self.ledger_done_at})")

    def translate(self, exc: Exception) -> ConnectorError:
        return ConnectorError(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}")

    def commit(self):
        self.raw.commit()

    def ddl(self, sql: str):
        self.execute(sql, {})
        self.commit()

    def rollback(self):
        try:
            self.raw.rollback()
        except Exception:  # noqa: BLE001 - the connection is closed next anyway
            pass

    def close(self):
        try:
            self.raw.close()
        except Exception:  # noqa: BLE001
            pass


class _Postgres(_Conn):
    def __init__(self, url: str, timeout: float):
        super().__init__(url, timeout)
        import psycopg

        self.errors = psycopg.errors
        try:
            self.raw = psycopg.connect(url.replace("postgres://", "postgresql://", 1),
                                       connect_timeout=max(1, int(min(timeout, 10))), autocommit=False)
        except psycopg.OperationalError as exc:
            raise ConnectorError(f"cannot connect: {str(exc).strip().splitlines()[0]}", transient=True) from None

    def begin(self, read_only: bool):
        self.raw.read_only = read_only
        self.execute("SELECT set_config('statement_timeout', %(ms)s, true)", {"ms": str(int(self.timeout * 1000))})

    def translate(self, exc):
        if isinstance(exc, self.errors.QueryCanceled):
            return ConnectorError(f"statement timed out after {self.timeout:g} s", transient=True)
        if isinstance(exc, self.errors.OperationalError):
            return ConnectorError(f"connection lost: {exc}", transient=True)
        return super().translate(exc)

    ledger_done_at = "timestamptz NOT NULL DEFAULT now()"


class _MySQL(_Conn):
    def __init__(self, url: str, timeout: float):
        super().__init__(url, timeout)
        import pymysql
        import pymysql.constants.CLIENT  # noqa: F401 - client_flag below

        self.pymysql = pymysql
        u = urlsplit(url)
        try:
            self.raw = pymysql.connect(
                host=u.hostname or "127.0.0.1", port=u.port or 3306, user=unquote(u.username or "root"),
                password=unquote(u.password or ""), database=unquote(u.path.lstrip("/")), charset="utf8mb4",
                connect_timeout=max(1, int(min(timeout, 10))), read_timeout=int(timeout) + 5,
                write_timeout=int(timeout) + 5, cursorclass=pymysql.cursors.DictCursor, autocommit=False,
                # Rows matched, not only changed: the count means the same as on PostgreSQL and SQLite.
                client_flag=pymysql.constants.CLIENT.FOUND_ROWS)
        except pymysql.err.OperationalError as exc:
            raise ConnectorError(f"cannot connect: {exc.args[-1]}", transient=True) from None
        with self.raw.cursor() as cur:
            cur.execute("SELECT VERSION() AS v")
            self.mariadb = "mariadb" in cur.fetchone()["v"].lower()

    def begin(self, read_only: bool):
        with self.raw.cursor() as cur:
            # MariaDB bounds every statement (seconds); MySQL bounds SELECTs (ms), read_timeout the rest.
            if self.mariadb:
                cur.execute("SET SESSION max_statement_time = %s", (float(self.timeout),))
            else:
                cur.execute("SET SESSION max_execution_time = %s", (int(self.timeout * 1000),))
            cur.execute("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")

    def translate(self, exc):
        code = exc.args[0] if getattr(exc, "args", None) else None
        if code in (1969, 3024, 1317):  # MariaDB / MySQL statement-time exceeded, query interrupted
            return ConnectorError(f"statement timed out after {self.timeout:g} s", transient=True)
        if isinstance(exc, self.pymysql.err.OperationalError) and code in (2006, 2013, 2003):
            return ConnectorError(f"connection lost: {exc.args[-1]}", transient=True)
        return super().translate(exc)

    ledger_done_at = "timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP"


class _SQLite(_Conn):
    paramstyle_named = True

    def __init__(self, url: str, timeout: float):
        super().__init__(url, timeout)
        path = url.split("sqlite:///", 1)[-1] if url.startswith("sqlite:///") else url.split("sqlite://", 1)[-1]
        try:
            self.raw = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise ConnectorError(f"cannot open {path}: {exc}", transient=False) from None
        self.raw.row_factory = sqlite3.Row

    def begin(self, read_only: bool):
        deadline = time.monotonic() + self.timeout
        # SQLite has no statement timeout: a progress handler interrupts a statement that runs too long.
        self.raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
        self.raw.execute("PRAGMA query_only = %d" % (1 if read_only else 0))
        self.raw.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    def commit(self):
        self.raw.execute("COMMIT")

    def ddl(self, sql: str):
        self.execute(sql, {})  # outside a transaction: SQLite applies it at once

    def rollback(self):
        try:
            self.raw.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def translate(self, exc):
        if isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc):
            return ConnectorError(f"statement timed out after {self.timeout:g} s", transient=True)
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return ConnectorError(f"database busy: {exc}", transient=True)
        return super().translate(exc)

    ledger_done_at = "text NOT NULL DEFAULT CURRENT_TIMESTAMP"


DRIVERS = {"postgresql": _Postgres, "mysql": _MySQL, "sqlite": _SQLite}


def connect(url: str, timeout: float) -> _Conn:
    dialect = dialect_of(url)
    if dialect not in DRIVERS:
        raise ConnectorError("The connection URL must start with postgresql://, mysql:// or sqlite:///.")
    return DRIVERS[dialect](url, timeout)


# --- running --------------------------------------------------------------------------------------

def _rows(cur, conn: _Conn) -> tuple[list[str], list[dict]]:
    if cur.description is None:
        return [], []
    columns = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall() if conn.limit is None else cur.fetchmany(conn.limit + 1):
        values = row.values() if isinstance(row, dict) else tuple(row)
        out.append({c: jsonable(v) for c, v in zip(columns, values, strict=False)})
    return columns, out


def run(url: str, steps: list[Step], params: dict, *, mode: str, timeout: float = 30.0, max_rows: int = 10_000,
        ledger_key: str | None = None) -> Outcome:
    """Run ``steps`` in one transaction. See the module docstring for the modes."""
    if mode not in ("read", "dry", "write"):
        raise ValueError(mode)
    conn = connect(url, timeout)
    conn.limit = max_rows
    try:
        if mode == "write" and ledger_key:
            conn.ddl(conn.ledger_ddl())  # on its own: MySQL commits DDL implicitly
        conn.begin(read_only=mode == "read")
        if mode == "write" and ledger_key:
            cur = conn.execute(f"SELECT results FROM {LEDGER} WHERE run_key = %(k)s", {"k": ledger_key})
            done = cur.fetchone()
            if done is not None:
                conn.rollback()
                raw = done["results"] if isinstance(done, dict) else done[0]
                return Outcome([StepResult(**r) for r in json.loads(raw)], replayed=True)
        results = []
        for step in steps:
            bound = {k: params.get(k) for k in sqlcheck.params_of(step.sql)}
            cur = conn.execute(step.sql, bound)
            if mode == "read":
                columns, data = _rows(cur, conn)
                if len(data) > max_rows:
                    raise ConnectorError(f"result too large: '{step.label}' returned more than {max_rows} rows "
                                         "(the connector's limit); nothing was collected")
                results.append(StepResult(step.key, step.label, len(data), data, columns))
            else:
                results.append(StepResult(step.key, step.label, max(cur.rowcount, 0)))
        if mode == "write":
            if ledger_key:
                conn.execute(f"INSERT INTO {LEDGER} (run_key, results) VALUES (%(k)s, %(r)s)",
                             {"k": ledger_key, "r": json.dumps([asdict(r) for r in results])})
            conn.commit()
        else:
            conn.rollback()
        return Outcome(results)
    except ConnectorError:
        conn.rollback()
        raise
    except Exception as exc:  # noqa: BLE001 - anything else from a driver is a recorded failure
        conn.rollback()
        raise conn.translate(exc) from None
    finally:
        conn.close()
