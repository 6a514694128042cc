"""./run.sh: links use its port, and stopping it stops the worker (beat, pool) and the server, every time.

Runs the real script against a throw-away SQLite database and an in-memory broker; each test stops
everything it started (a process group of its own)."""
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.integration

START_SECONDS = 180  # first run: migrations and the demo data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


@pytest.fixture
def running(tmp_path):
    venv_python = Path(settings.BASE_DIR) / ".venv" / "bin" / "python"
    try:
        usable = subprocess.run([str(venv_python), "-c", "import django"], capture_output=True, timeout=60).returncode == 0
    except OSError:
        usable = False
    if not usable:  # run.sh runs the project's own .venv; a broken one is not what this test is about
        pytest.skip(f"{venv_python} cannot import Django")
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "CELERY_BROKER_URL": "memory://", "DJANGO_SETTINGS_MODULE": "dsar.settings",
           "SITE_URL": "", "REDIS_URL": ""}
    out = open(tmp_path / "run.log", "wb")
    # As from a terminal: SIGINT at its default. A suite started in the background (`cmd &` without
    # job control) ignores it, and a shell that starts with a signal ignored cannot trap it, so the
    # Ctrl-C case would test how the suite was started rather than the script.
    proc = subprocess.Popen(["./run.sh"], cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    started: set[int] = set()
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail(f"run.sh did not serve: {(tmp_path / 'run.log').read_text(errors='replace')[-3000:]}")
        for _ in range(60):  # the worker forks beat and its pool once it is up
            started = _descendants(proc.pid)
            if sum("celery" in _cmdline(p) for p in started) >= 3:
                break
            time.sleep(1)
        yield proc, port, started
    finally:
        for pid in started | {proc.pid}:  # whatever the script left behind: this test started it
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        proc.wait(10)
        out.close()


def _all_gone(pids: set[int], seconds: float = 30) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if _alive(p)}
        if not left:
            return set()
        time.sleep(0.5)
    return {p for p in pids if _alive(p)}


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_it_stops_the_worker_and_the_server_with_the_script(running, how):
    proc, port, started = running
    worker = {p for p in started if "celery" in _cmdline(p)}
    assert len(worker) >= 3, [(p, _cmdline(p)) for p in started]  # worker, beat, pool
    if how == "ctrl-c":  # the terminal sends SIGINT to the script's foreground process group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        # The script allows each group 10 s of warm shutdown before SIGKILL: ~21 s at worst; the
        # rest is room for a loaded CI machine.
        proc.wait(60)
    except subprocess.TimeoutExpired:  # say where it is stuck: the processes and the logs
        alive = [(p, _cmdline(p), _state(p)) for p in sorted(_descendants(proc.pid) | {proc.pid}) if _alive(p)]
        log = Path(settings.BASE_DIR) / "var" / "worker.log"
        pytest.fail(f"run.sh still running 60 s after {how}: {alive}\nworker.log: "
                    f"{log.read_text(errors='replace')[-2000:] if log.exists() else '-'}")
    left = _all_gone(started)
    assert not left, [(p, _cmdline(p)) for p in left]


def test_it_links_emails_to_the_port_it_serves(running):
    proc, port, started = running
    worker = next(p for p in started if "celery" in _cmdline(p) and "worker" in _cmdline(p))
    assert _environ(worker)["SITE_URL"] == f"http://127.0.0.1:{port}"
