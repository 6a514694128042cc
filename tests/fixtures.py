import io
import os
import shutil
import socket
import threading
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.db import connection

from requests_app import services
from requests_app.roles import ensure_roles

IN_CI = os.environ.get("CI") == "true" or os.environ.get("DSAR_REQUIRE_SERVICES") == "1"


def pytest_sessionstart(session):
    """In CI the real stack is required: an unreachable PostgreSQL or Redis fails the run."""
    if not IN_CI:
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise pytest.UsageError("CI must run the suite on PostgreSQL: set DATABASE_URL=postgres://…")
    import psycopg
    import redis

    try:
        psycopg.connect(url.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0] + "/postgres",
                        connect_timeout=5).close()
    except Exception as exc:  # noqa: BLE001
        raise pytest.UsageError(f"PostgreSQL is unreachable at {url}: {exc}") from exc
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
    except Exception as exc:  # noqa: BLE001
        raise pytest.UsageError(f"Redis is unreachable at {os.environ.get('REDIS_URL')}: {exc}") from exc
    if not shutil.which("chromium") or not shutil.which("pdftoppm"):
        raise pytest.UsageError("CI needs Debian's chromium and poppler-utils (.ci/run installs them)")


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


def make_user(username, role, password="pw-123456789"):
    user = User.objects.create_user(username, f"{username}@example.com", password, is_staff=True)
    user.groups.add(ensure_roles()[role])
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def manager(db):
    return make_user("mia", "manager")


@pytest.fixture
def analyst(db):
    return make_user("andy", "analyst")


@pytest.fixture
def auditor(db):
    return make_user("audrey", "auditor")


@pytest.fixture
def submit(db, django_capture_on_commit_callbacks):
    """Submit one request through the service, running its on-commit side effects."""

    def _submit(jurisdiction="US-CA", request_type="access", **kw):
        kw.setdefault("requester_name", "Ana Example")
        kw.setdefault("requester_email", "ana@example.com")
        if jurisdiction == "MX":
            kw.setdefault("data_description", "My order history")
        with django_capture_on_commit_callbacks(execute=True):
            cases = services.submit_request(jurisdiction=jurisdiction, request_types=[request_type], **kw)
        return cases[0]

    return _submit


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run what it queued on commit (letters, e-mails)."""

    def _run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return _run


@pytest.fixture(scope="session")
def stray_connection_reaper(django_db_setup, django_db_blocker):
    """Browser tests query the ORM while Playwright's sync API runs its loop; those queries get a
    connection in a context pytest-django never closes. Close such leftovers before the test
    database is dropped, so PostgreSQL can drop it."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def subprocess_database_url() -> str:
    """A DATABASE_URL that lets a subprocess (a real worker, a sweep to kill) use the test database."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{auth}@{db['HOST'] or '127.0.0.1'}" if auth else (db["HOST"] or "127.0.0.1")
    return f"postgres://{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    """test.sh compiles the translation catalogues; a bare pytest run must see them too."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    out = io.StringIO()
    call_command("compile_translations", stdout=out)
    if not out.getvalue().startswith("compiled 0"):
        trans_real._translations = {}
        trans_real._default = None


def submit_case(jurisdiction, request_type="access", **kw):
    """Submit one request through the service, without running its on-commit side effects."""
    kw.setdefault("requester_name", "Ana Example")
    kw.setdefault("requester_email", "ana@example.com")
    if jurisdiction == "MX":
        kw.setdefault("data_description", "My order history")
    return services.submit_request(jurisdiction=jurisdiction, request_types=[request_type], **kw)[0]


@pytest.fixture
def now(request, time_machine):
    """Freeze time, starting at the test module's T0 if it has one; `now(moment)` moves it."""
    def _now(moment):
        time_machine.move_to(moment, tick=False)
    start = getattr(request.module, "T0", None)
    if start is not None:
        _now(start)
    return _now


@pytest.fixture(autouse=True)
def default_language():
    """A view that speaks the case's language (use_case_language) leaves it active in the thread;
    each test starts in the default language, whatever ran before it on the same worker."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1 (for servers a test starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hung_server():
    """The port of a peer that accepts connections and never answers a byte (a hung provider)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()
