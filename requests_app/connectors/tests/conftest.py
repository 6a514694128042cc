"""Target databases for the connector tests: a fresh "shop" in SQLite, PostgreSQL and MariaDB.
Databases created on the servers are named dsarconn_*; a server that cannot be reached skips the
test locally and fails it in CI (CI=true), where these tests must run."""
import os
import secrets

import pytest

from requests_app import services
from requests_app.connectors import shop
from tests.fixtures import IN_CI, make_user

PG_ADMIN = os.environ.get("DSAR_CONNECTORS_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN = os.environ.get("DSAR_CONNECTORS_MYSQL", "mysql://root@127.0.0.1:3306/")


def _unavailable(what, exc):
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {exc}")
    pytest.skip(f"{what} unavailable: {exc}")


def _postgres_db():
    import psycopg

    name = f"dsarconn_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name

    def drop():
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return url, drop


def _mysql_db():
    import pymysql

    from requests_app.connectors.engine import urlsplit

    name = f"dsarconn_{secrets.token_hex(4)}"
    u = urlsplit(MYSQL_ADMIN)
    kw = dict(host=u.hostname, port=u.port or 3306, user=u.username or "root", password=u.password or "",
              connect_timeout=3)
    try:
        conn = pymysql.connect(**kw)
    except pymysql.err.OperationalError as exc:
        _unavailable("MariaDB/MySQL", exc)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    conn.close()
    auth = u.username or "root"
    if u.password:
        auth += f":{u.password}"
    url = f"mysql://{auth}@{u.hostname}:{u.port or 3306}/{name}"

    def drop():
        c = pymysql.connect(**kw)
        with c.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        c.close()
    return url, drop


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def dialect(request):
    return request.param


@pytest.fixture
def shop_url(dialect, tmp_path):
    """A fresh shop database of the dialect; its URL."""
    if dialect == "sqlite":
        path = tmp_path / "shop.sqlite3"
        path.touch()
        url, drop = f"sqlite:///{path}", (lambda: None)
    else:
        url, drop = _postgres_db() if dialect == "postgresql" else _mysql_db()
    try:
        shop.create(url)
        yield url
    finally:
        drop()


@pytest.fixture
def owner(db):
    return make_user("olga", "analyst")


@pytest.fixture
def shop_systems(shop_url, owner):
    return shop.configure(shop_url, owner=owner)


@pytest.fixture
def worked(submit, run, manager):
    """A case confirmed and verified, every on-commit effect run (fan-out, connector runs)."""
    def _worked(jurisdiction="US-CA", request_type="access", verify=True, assignee=None, **kw):
        case = submit(jurisdiction, request_type, **kw)
        run(services.confirm_email, case)
        case.refresh_from_db()
        if verify and case.state == "verifying":
            run(services.verify_identity, case, manager, method="account match")
        case.refresh_from_db()
        if assignee is not None:
            run(services.assign, case, manager, assignee)
            case.refresh_from_db()
        return case
    return _worked


def query(url, sql, params=None):
    """Rows from the target database, read directly (what the shop really holds)."""
    from requests_app.connectors import engine

    conn = engine.connect(url, 10)
    try:
        conn.begin(read_only=True)
        cur = conn.execute(sql, params or {})
        rows = [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cur.fetchall()]
        conn.rollback()
        return rows
    finally:
        conn.close()
