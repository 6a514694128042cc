"""The scale drill: several processes on one database, a minute of mixed load, then the books.

Starts, against its own PostgreSQL database (dsar_drill) and Redis db 11: gunicorn with 2 web
processes, 2 Celery worker processes (default, timers and mail queues) and one beat sweeping every 5 s.
Seeds 200 confirmed cases whose clocks are due soon or overdue (so the sweeps have alerts to send),
then runs 8 concurrent clients on 127.0.0.1 for 60 s (`--quick`: 15 s): filings through the whole
public form, staff queue reads, and health probes. Then it stops the load, lets the workers drain
the outbox, and checks:
  - every filing the form accepted exists exactly once, with its clocks;
  - every alert e-mail (deadline digest) the outbox sent was delivered once (the filebased mail
    backend writes one file per delivery), and every seeded clock was claimed;
  - no ERROR or traceback in the web or worker logs.
Prints throughput, p95 latency per kind of request, the counts, and the RESULT line (figure: p95
of all form and queue requests; floor: p95 of /healthz under the same load, same run).

    .venv/bin/python bench/drill.py [--quick] [--seconds N] [--keep]
Not part of the test suite.
"""
from __future__ import annotations

import sys

# bench/queue.py is named like the stdlib module: drop this folder from the path before imports.
sys.path[:] = [p for p in sys.path if p not in ("", __file__.rsplit("/", 1)[0])]

import argparse  # noqa: E402
import collections
import os
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = Path(sys.executable)
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "dsar_drill"
REDIS = "redis://127.0.0.1:6379/11"
CLIENTS = 8
SEEDED = 200


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="15 s of load instead of 60 s")
    p.add_argument("--seconds", type=int)
    p.add_argument("--keep", action="store_true", help="keep the database and logs")
    return p.parse_args()


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG.replace("postgres://", "postgresql://", 1) + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


def environment(mail_dir: str, port: int) -> dict:
    tag = f"drill{os.getpid()}"
    return {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "REDIS_URL": REDIS, "DJANGO_SETTINGS_MODULE": "dsar.settings",
            "CELERY_QUEUE": tag, "CELERY_TIMERS_QUEUE": f"{tag}-timers", "CELERY_MAIL_QUEUE": f"{tag}-mail", "DEBUG": "False", "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": mail_dir,
            "DSAR_SWEEP_SECONDS": "5", "DSAR_OUTBOX_FLUSH_SECONDS": "5", "SITE_URL": f"http://127.0.0.1:{port}",
            "DSAR_RATE_LIMIT_PER_IP": "1000000/h", "DSAR_RATE_LIMIT_PER_EMAIL": "1000/h",
            "DSAR_TEAM_EMAIL": "team@drill.example", "CELERY_TASK_ALWAYS_EAGER": "False"}


def setup(env: dict) -> None:
    admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {DB}")
    subprocess.run([str(PY), "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    os.environ.update(env)
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth.models import User
    from django.utils import timezone

    from requests_app import services
    from requests_app.roles import ensure_roles

    user = User.objects.create_user("drill-manager", "m@drill.example", "drill-pass-123")
    user.groups.add(ensure_roles()["manager"])
    now = timezone.now()
    for i in range(SEEDED):  # CCPA: 45 days from receipt; 40-50 days ago = due soon, urgent or overdue
        case = services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name=f"Seed {i}",
                                       requester_email=f"seed{i}@drill.example",
                                       received_at=now - dt.timedelta(days=40 + i % 10))[0]
        services.confirm_email(case)


def start(env: dict, port: int, logs: Path) -> list[subprocess.Popen]:
    def spawn(name, args):
        out = open(logs / f"{name}.log", "w")
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    queues = f"{env['CELERY_QUEUE']},{env['CELERY_TIMERS_QUEUE']},{env['CELERY_MAIL_QUEUE']}"
    bin_dir = PY.parent
    return [
        spawn("web", [str(bin_dir / "gunicorn"), "dsar.wsgi:application", "--bind", f"127.0.0.1:{port}",
                      "--workers", "2", "--timeout", "60"]),
        spawn("worker1", [str(bin_dir / "celery"), "-A", "dsar", "worker", "-Q", queues, "-c", "1", "-n", "w1@%h",
                          "--loglevel", "WARNING"]),
        spawn("worker2", [str(bin_dir / "celery"), "-A", "dsar", "worker", "-Q", queues, "-c", "1", "-n", "w2@%h",
                          "--loglevel", "WARNING"]),
        spawn("beat", [str(bin_dir / "celery"), "-A", "dsar", "beat", "--loglevel", "WARNING",
                       "--schedule", str(logs / "beat-schedule")]),
    ]


def stop(procs) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


class Client:
    def __init__(self, base: str):
        self.base, self.s = base, requests.Session()

    def post(self, path, data):
        token = self.s.cookies.get("csrftoken") or self.get_token(path)
        return self.s.post(self.base + path, data={**data, "csrfmiddlewaretoken": token}, allow_redirects=False,
                           timeout=30, headers={"Referer": self.base + path})

    def get_token(self, path):
        self.s.get(self.base + path, timeout=30)
        return self.s.cookies.get("csrftoken")


def file_one(c: Client, email: str) -> bool:
    steps = [("/", {"country": "DE"}), ("/request/what/", {"request_types": ["access"], "details": ""}),
             ("/request/about-you/", {"filer": "self", "requester_name": "Drill Person", "requester_email": email}),
             ("/request/review/", {"declaration": "on"})]
    for path, data in steps:
        c.get_token(path) if path != "/" else None
        r = c.post(path, data)
        if r.status_code != 302:
            return False
        if path == "/":
            c.s.get(c.base + "/request/rights/", timeout=30)
    return r.headers.get("Location", "").endswith("/request/thank-you/")


def run_load(base: str, seconds: int):
    timings, filed, failures = collections.defaultdict(list), [], collections.Counter()
    lock, stop_at = threading.Lock(), time.monotonic() + seconds

    def worker(n: int):
        c = Client(base)
        staff = Client(base)
        staff.get_token("/accounts/login/")
        staff.post("/accounts/login/", {"username": "drill-manager", "password": "drill-pass-123"})
        i = 0
        while time.monotonic() < stop_at:
            i += 1
            kind = ("file", "queue", "queue", "health")[i % 4]
            started = time.perf_counter()
            try:
                if kind == "file":
                    email = f"c{n}-{i}@drill.example"
                    ok = file_one(Client(base), email)
                    if ok:
                        with lock:
                            filed.append(email)
                elif kind == "queue":
                    ok = staff.s.get(base + "/staff/", timeout=30).status_code == 200
                else:
                    ok = c.s.get(base + "/healthz", timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            with lock:
                timings[kind].append((time.perf_counter() - started) * 1000)
                if not ok:
                    failures[kind] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings, filed, failures


def p95(values):
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values, default=0)


def books(filed, mail_dir: Path, logs: Path) -> dict:
    from django.db.models import Count

    from requests_app.models import DataSubjectRequest, Deadline, Notification, NotificationStatus

    # Let the workers drain what is pending (sends, sweeps) for up to a minute.
    for _ in range(60):
        if not Notification.objects.filter(status=NotificationStatus.PENDING).exists():
            break
        time.sleep(1)
    counts = dict(DataSubjectRequest.objects.filter(requester_email__in=filed).values_list("requester_email")
                  .annotate(n=Count("id")).values_list("requester_email", "n"))
    missing = [e for e in filed if counts.get(e, 0) == 0]
    doubled = [e for e, n in counts.items() if n > 1]
    no_clock = DataSubjectRequest.objects.filter(requester_email__in=filed, deadlines__isnull=True).count()
    alerts_sent = Notification.objects.filter(kind="deadline_alert", status=NotificationStatus.SENT).count()
    delivered = 0
    for f in mail_dir.glob("*.log"):
        delivered += len(re.findall(r"^Subject: \[DSAR\] Deadline alert", f.read_text(errors="replace"), re.M))
    unclaimed = Deadline.objects.filter(case__requester_email__startswith="seed", kind="respond",
                                        status="open", alert_level=0).count()
    errors = []
    for f in logs.glob("*.log"):
        errors += [line for line in f.read_text(errors="replace").splitlines()
                   if " ERROR " in line or "Traceback" in line or '"level": "ERROR"' in line]
    return {"filed": len(filed), "missing": len(missing), "duplicated": len(doubled), "without_clocks": no_clock,
            "alerts_sent": alerts_sent, "alert_deliveries": delivered, "seeded_clocks_unclaimed": unclaimed,
            "logged_errors": len(errors), "first_errors": errors[:5],
            "pending_left": Notification.objects.filter(status=NotificationStatus.PENDING).count()}


def main():
    args = parse_args()
    seconds = args.seconds or (15 if args.quick else 60)
    port = 8700 + os.getpid() % 200
    work = Path(tempfile.mkdtemp(prefix="dsar-drill-"))
    mail_dir, logs = work / "mail", work / "logs"
    mail_dir.mkdir()
    logs.mkdir()
    env = environment(str(mail_dir), port)
    setup(env)
    procs = start(env, port, logs)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        started = time.monotonic()
        timings, filed, failures = run_load(base, seconds)
        elapsed = time.monotonic() - started
        time.sleep(12)  # two more sweep intervals: alerts of the last batch, sends of the last filings
        result = books(filed, mail_dir, logs)
    finally:
        stop(procs)
    total = sum(len(v) for v in timings.values())
    work_p95 = p95(timings["file"] + timings["queue"])
    floor = p95(timings["health"])
    print(f"load: {CLIENTS} clients, {elapsed:.0f} s, {total} requests ({total / elapsed:.1f}/s), "
          f"failures {dict(failures)}")
    for kind, values in sorted(timings.items()):
        print(f"  {kind:6} n={len(values):5}  median {statistics.median(values):7.1f} ms  p95 {p95(values):7.1f} ms")
    for key, value in result.items():
        print(f"  {key}: {value}")
    ok = (not result["missing"] and not result["duplicated"] and not result["without_clocks"]
          and result["alerts_sent"] == result["alert_deliveries"] and not result["seeded_clocks_unclaimed"]
          and not result["logged_errors"] and not sum(failures.values()))
    print("books balance" if ok else "BOOKS DO NOT BALANCE")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    else:
        print(f"kept: database {DB}, logs in {logs}")
    print(f"RESULT drill {work_p95:.1f} ms floor {floor:.1f} ms ratio {work_p95 / floor if floor else 0:.2f} "
          f"target every filing once, every alert once, no error ({'met' if ok else 'MISSED'})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
