"""Readiness checks: each bounded in time, each reporting what failed without personal data."""
from __future__ import annotations

import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection

CHECK_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)


def check_broker() -> None:
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return
    options = {**getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
               # a broker that accepts and never answers must not hold a probe (redis transport)
               "socket_timeout": CHECK_TIMEOUT_SECONDS, "socket_connect_timeout": CHECK_TIMEOUT_SECONDS}
    with Connection(url, connect_timeout=CHECK_TIMEOUT_SECONDS, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
        if conn.transport.driver_type == "redis":
            conn.default_channel.client.ping()


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def bounded(check) -> dict:
    """Run a check in a daemon thread and stop waiting after the limit, whatever the driver does
    (a peer that accepts and never answers must not hang the orchestrator's probe)."""
    box: dict = {}

    def target():
        box["result"] = _inline(check)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(CHECK_TIMEOUT_SECONDS * 2)
    return box.get("result") or {"ok": False, "error": "Timeout"}


def _inline(check) -> dict:
    try:
        check()
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the type says which
        return {"ok": False, "error": type(exc).__name__}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        # The database check runs here, on the request's own connection; the others in a thread.
        results[name] = bounded(check) if check is not check_database else _inline(check)
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return results
