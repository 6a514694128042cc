"""A DRP agent for the conformance suite: real Ed25519 keys (PyNaCl), real signed bodies, sent
through Django's test client, with the on-commit side effects (hooks, outbox, callbacks) run."""
import http.server
import socket
import threading

import pytest

from requests_app.drp import services
from requests_app.drp.agent_client import AgentClient
from tests.fixtures import free_port  # noqa: F401 - also imported from here by tests

BUSINESS = "AE_PRIVACY"


@pytest.fixture(autouse=True)
def drp_settings(settings):
    settings.DRP_BUSINESS_ID = BUSINESS
    settings.DRP_RATE_LIMIT = "10000/m"
    settings.DRP_CALLBACK_CONNECT_TIMEOUT = 1.0
    settings.DRP_CALLBACK_READ_TIMEOUT = 0.5
    from django.core.cache import cache

    cache.clear()  # rate-limit counters of earlier tests


class Api:
    """The test client, with each call's on-commit callbacks run (as after a real commit)."""

    def __init__(self, client, capture):
        self.client, self.capture = client, capture

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            with self.capture(execute=True):
                return method(*args, **kwargs)
        return call


@pytest.fixture
def api(client, django_capture_on_commit_callbacks):
    return Api(client, django_capture_on_commit_callbacks)


def registered(api, agent_id, name):
    agent = AgentClient(agent_id, business_id=BUSINESS)
    services.register_agent(agent.directory_entry(name=name))
    assert agent.pair(api).status_code == 200
    return agent


@pytest.fixture
def agent(db, api):
    return registered(api, "PERMISSION_SLIP", "Permission Slip")


@pytest.fixture
def other_agent(db, api):
    return registered(api, "OTHER_AGENT", "Other Agent")


class Receiver(http.server.ThreadingHTTPServer):
    """A local agent's status_callback endpoint that records what it receives."""

    daemon_threads = True

    def __init__(self, port=0, status=200):
        self.received, self.status = [], status
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                received.append({"body": self.rfile.read(length), "id": self.headers.get("X-DRP-Callback-Id"),
                                 "type": self.headers.get("Content-Type")})
                self.send_response(self.server.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/drp/callback"

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver():
    servers = []

    def start(port=0, status=200):
        server = Receiver(port, status)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()




@pytest.fixture
def silent_server():
    """Accepts TCP connections (the kernel's backlog) and never answers a byte."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield f"http://127.0.0.1:{s.getsockname()[1]}/drp/callback"
    s.close()
