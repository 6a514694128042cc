"""The HTTP connector against a local HTTP server: signed requests (Standard Webhooks), a
synchronous answer, an asynchronous answer by signed callback, a failing endpoint (retried, then
failed with the error), one that accepts and never answers, and one that never calls back."""
import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from requests_app.connectors import services
from requests_app.connectors.models import Connector, Run, RunState
from requests_app.connectors.sweep_steps import connectors_step
from requests_app.fulfilment.models import DataSystem, Task
from requests_app.models import Event

pytestmark = pytest.mark.django_db
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


class Service:
    """A local stand-in for a vendor's service; records what it received (verified)."""

    def __init__(self):
        self.received, self.calls = [], {}
        self.release = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                service.calls[self.path] = service.calls.get(self.path, 0) + 1
                try:
                    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in self.headers.items()})
                except Exception:  # noqa: BLE001
                    return self._send(401, {"error": "bad signature"})
                service.received.append((self.path, dict(self.headers), payload))
                if self.path == "/sync":
                    if payload["action"] == "collect":
                        return self._send(200, {"status": "done", "data": {"parcels": [{"id": 7, "city": "SF"}]}})
                    return self._send(200, {"status": "done", "records_affected": 3})
                if self.path == "/async":
                    return self._send(202, {"accepted": True})
                if self.path == "/fail":
                    return self._send(503, {"error": "down"})
                if self.path == "/hang":
                    service.release.wait(10)  # accepts, never answers in time
                    return self._send(200, {"status": "done"})
                if self.path == "/identity":
                    return self._send(200, {"match": {"email": True, "account_id": True, "login": True}})
                return self._send(404, {})

            def _send(self, status, data):
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def service():
    s = Service()
    yield s
    s.stop()


@pytest.fixture
def courier(service, db):
    def _make(path, kinds=("access", "deletion"), timeout=2):
        system = DataSystem.objects.create(
            name="Courier API", kind="processor", vendor_name="FastShip", vendor_email="dpo@fastship.example",
            work_mode="connector", categories=["identifiers"], request_kinds=list(kinds))
        connector = Connector(system=system, kind="http", endpoint=service.url + path, timeout_seconds=timeout)
        connector.set_secret(SECRET)
        connector.save()
        return connector
    return _make


def test_it_posts_a_signed_payload_and_records_a_synchronous_answer(courier, service, worked):
    courier("/sync")
    case = worked(requester_email="ana@example.com", account_id="A-1001")
    task = Task.objects.get(case=case)
    assert task.state == "done"
    assert json.loads(task.files.get().file.read()) == {"parcels": [{"city": "SF", "id": 7}]}
    path, headers, payload = service.received[0]
    assert headers["webhook-id"] == f"dsar-task-{task.pk}"
    assert payload["identity"] == {"email": "ana@example.com", "account_id": "A-1001", "phone": None}


def test_it_takes_an_asynchronous_answer_by_signed_callback_once(courier, service, worked, analyst, manager, run,
                                                                 client):
    courier("/async")
    case = worked(request_type="deletion", assignee=analyst)
    run_ = Run.objects.get(task__case=case)
    run(services.request_erasure, run_, analyst)
    run(services.approve_erasure, run_, manager)
    run_.refresh_from_db()
    assert run_.state == RunState.WAITING
    callback = service.received[0][2]["callback_url"].replace("http://testserver", "")
    body = json.dumps({"status": "done", "records_affected": 4})
    now = dt.datetime.now(dt.timezone.utc)
    forged = Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).sign("m1", now, body)
    bad = client.post(callback, body, content_type="application/json", HTTP_WEBHOOK_ID="m1",
                      HTTP_WEBHOOK_TIMESTAMP=str(int(now.timestamp())), HTTP_WEBHOOK_SIGNATURE=forged)
    assert bad.status_code == 401 and Task.objects.get(case=case).state == "open"
    signed = Webhook(SECRET).sign("m1", now, body)
    for _ in range(2):  # the service repeats its callback: attached once
        with_ok = client.post(callback, body, content_type="application/json", HTTP_WEBHOOK_ID="m1",
                              HTTP_WEBHOOK_TIMESTAMP=str(int(now.timestamp())), HTTP_WEBHOOK_SIGNATURE=signed)
        assert with_ok.status_code == 200
    task = Task.objects.get(case=case)
    assert (task.state, task.records_affected) == ("done", 4)
    assert Event.objects.filter(case=case, kind="task_answered").count() == 1
    assert client.post(callback.replace("/callback/", "/callback/x"), body,
                       content_type="application/json").status_code == 404


def test_it_retries_a_failing_endpoint_then_fails_the_task_with_the_error(courier, service, worked, settings):
    settings.DSAR_CONNECTOR_MAX_ATTEMPTS = 3
    courier("/fail")
    case = worked()
    task = Task.objects.get(case=case)
    assert service.calls["/fail"] == 3
    assert task.state == "failed" and task.reason == "Connector: the service answered HTTP 503"
    assert task.connector_run.state == RunState.FAILED


def test_it_gives_up_on_an_endpoint_that_accepts_and_never_answers(courier, service, worked, settings):
    settings.DSAR_CONNECTOR_MAX_ATTEMPTS = 2
    courier("/hang", timeout=1)
    case = worked()
    task = Task.objects.get(case=case)
    assert task.state == "failed" and "did not answer within 1 s" in task.reason


def test_it_fails_a_run_whose_service_never_calls_back(courier, service, worked, analyst, manager, run,
                                                       time_machine, mailoutbox):
    courier("/async")
    case = worked(request_type="deletion", assignee=analyst)
    run_ = Run.objects.get(task__case=case)
    run(services.request_erasure, run_, analyst)
    run(services.approve_erasure, run_, manager)
    time_machine.move_to(timezone.now() + dt.timedelta(hours=25), tick=False)
    result = run(connectors_step, timezone.now())
    assert result["no_callback"] == 1 and result["alerted"] == 1
    task = Task.objects.get(case=case)
    assert task.state == "failed" and "did not call back" in task.reason
    assert run(connectors_step, timezone.now())["alerted"] == 0  # the owner is told once
    assert any("connector of Courier API failed" in m.subject for m in mailoutbox)


def test_it_retries_from_the_case_page(courier, service, worked, analyst, manager, settings, run, client):
    settings.DSAR_CONNECTOR_MAX_ATTEMPTS = 1
    connector = courier("/fail")
    case = worked(assignee=analyst)
    run_ = Run.objects.get(task__case=case)
    assert run_.state == RunState.FAILED
    client.force_login(analyst)
    page = client.get(f"/staff/cases/{case.pk}/")
    assert "the service answered HTTP 503" in page.content.decode() and f"/connectors/staff/runs/{run_.pk}/retry/" \
        in page.content.decode()
    connector.endpoint = service.url + "/sync"
    connector.save()
    with django_capture(run):
        response = client.post(f"/connectors/staff/runs/{run_.pk}/retry/")
    assert response.status_code == 302
    assert Task.objects.get(case=case).state == "done"


def django_capture(run):
    """The view's on-commit work (the queued run) executes inside the test's transaction."""
    class _Ctx:
        def __enter__(self):
            from django.test import TestCase

            self.cm = TestCase.captureOnCommitCallbacks(execute=True)
            return self.cm.__enter__()

        def __exit__(self, *exc):
            return self.cm.__exit__(*exc)
    return _Ctx()


def test_it_records_an_account_login_from_an_http_identity_source(courier, service, submit, run):
    connector = courier("/identity")
    connector.identity_source = True
    connector.save()
    case = submit("US-CA", "access", account_id="A-1001")
    from requests_app import services as core

    run(core.confirm_email, case)
    assert case.identity_match.level == "account_login"


def test_it_limits_callbacks_per_url(client):
    from django.core.cache import cache

    cache.clear()
    codes = [client.post("/connectors/callback/abc/", "{}", content_type="application/json").status_code
             for _ in range(61)]
    assert codes[:60] == [404] * 60 and codes[60] == 429
    cache.clear()
