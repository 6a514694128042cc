"""Peers that fail the two ways a red team made them fail: down (connection refused) and hung (a
socket that accepts the connection and never answers)."""
from __future__ import annotations

import contextlib
import importlib.util
import socket
import threading
import time

import dsar.settings


@contextlib.contextmanager
def silent_server(hang_for: float = 60):
    """A local TCP server that accepts every connection, reads nothing and never answers (for
    `hang_for` seconds, then it hangs up: a client without a timeout of its own then fails with a
    different error instead of hanging the test run). Yields its port; closes everything on exit."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def _accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                conn = None
            if conn is not None:
                accepted.append((time.monotonic(), conn))
            for opened, old in list(accepted):
                if time.monotonic() - opened > hang_for:
                    old.close()
                    accepted.remove((opened, old))

    thread = threading.Thread(target=_accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for _opened, conn in accepted:
            conn.close()
        listener.close()


def closed_port() -> int:
    """A port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def peer(kind: str):
    """Yields host:port of a peer that is `down` or `hung`."""
    if kind == "down":
        yield f"127.0.0.1:{closed_port()}"
    else:
        with silent_server() as port:
            yield f"127.0.0.1:{port}"


def production_settings(monkeypatch, **env) -> object:
    """dsar/settings.py evaluated afresh with `env` (the real settings, not the test ones)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("_dsar_settings_probe", dsar.settings.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
