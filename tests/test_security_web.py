"""Web-layer guards (issue 10): sign-in lock-out, idle sign-out, headers, request size, bad query
parameters, the staff upload check, /status-link/ doing the same work either way, single-line
fields, password reset through the outbox."""
import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from requests_app import enqueue, services
from requests_app.models import Attachment, DataSubjectRequest, Notification, State

from .outage_helpers import production_settings
from .public_helpers import EXE, PDF, location_data

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
GPC = {"HTTP_SEC_GPC": "1"}


# --- brute force ------------------------------------------------------------------------------------

@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_it_locks_an_account_after_repeated_failures_whatever_the_address(client, manager, settings, login_url):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        client.post(login_url, {"username": "mia", "password": "wrong"}, REMOTE_ADDR=f"198.51.100.{n}")
    # The right password from yet another address: still locked, with a clear message.
    r = client.post(login_url, {"username": "mia", "password": "pw-123456789"}, REMOTE_ADDR="203.0.113.50")
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.content.decode() and "15 minutes" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_a_client_trying_many_accounts_and_lets_it_in_after_the_cool_off(client, manager, settings):
    settings.AXES_FAILURE_LIMIT = 3
    with time_machine.travel(T0, tick=False) as clock:
        for name in ("a", "b", "c"):
            client.post("/accounts/login/", {"username": name, "password": "x"}, REMOTE_ADDR="198.51.100.9")
        r = client.post("/accounts/login/", {"username": "mia", "password": "pw-123456789"}, REMOTE_ADDR="198.51.100.9")
        assert r.status_code == 429
        # Another client signs in to the same account: the lock is per client here, not per account.
        r = client.post("/accounts/login/", {"username": "mia", "password": "pw-123456789", "next": "/staff/"},
                        REMOTE_ADDR="203.0.113.7")
        assert r.status_code == 302
        client.logout()
        clock.shift(dt.timedelta(minutes=16))
        r = client.post("/accounts/login/", {"username": "mia", "password": "pw-123456789", "next": "/staff/"},
                        REMOTE_ADDR="198.51.100.9")
        assert r.status_code == 302 and r["Location"] == "/staff/"


def test_it_counts_failures_per_client_behind_the_trusted_proxy(client, manager, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.DSAR_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    for name in ("a", "b"):
        client.post("/accounts/login/", {"username": name, "password": "x"}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_REAL_IP="198.51.100.9")
    r = client.post("/accounts/login/", {"username": "mia", "password": "pw-123456789", "next": "/staff/"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.7")
    assert r.status_code == 302  # same proxy, another client: not locked out with the attacker


# --- idle sign-out ----------------------------------------------------------------------------------

def test_it_signs_out_a_staff_session_idle_longer_than_the_setting(client, manager, settings):
    settings.DSAR_STAFF_IDLE_MINUTES = 30
    with time_machine.travel(T0, tick=False) as clock:
        client.force_login(manager)
        assert client.get("/staff/").status_code == 200
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/staff/").status_code == 200  # activity restarts the idle clock
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/staff/").status_code == 200
        clock.shift(dt.timedelta(minutes=31))
        r = client.get("/staff/", follow=True)
    assert r.redirect_chain[0][0].startswith("/accounts/login/")
    assert "signed out after 30 minutes without activity" in r.content.decode()
    assert "_auth_user_id" not in client.session


# --- headers ----------------------------------------------------------------------------------------

def test_it_sends_a_content_security_policy_and_permissions_policy(client, db):
    r = client.get("/")
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "camera=()" in r["Permissions-Policy"] and "geolocation=()" in r["Permissions-Policy"]


def test_it_never_lets_case_pages_reveals_or_attachments_be_stored(client, manager):
    client.force_login(manager)
    case = services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com", filer="agent", agent_name="Al",
                                   agent_email="al@example.com",
                                   authorisation=services.Upload("a.pdf", PDF, "application/pdf"))[0]
    att = Attachment.objects.get(case=case)
    responses = [client.get(reverse("staff:case", args=[case.pk])),
                 client.post(reverse("staff:reveal", args=[case.pk]), {"version": case.version}),
                 client.get(reverse("staff:attachment", args=[att.pk])),
                 client.get("/staff/")]
    for r in responses:
        assert r.status_code == 200
        assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"], r.request["PATH_INFO"]


def test_it_answers_a_bad_year_with_the_default_not_500(client, manager):
    client.force_login(manager)
    for year in ("-1", "0", "10000", "abc"):
        assert client.get(f"/staff/metrics/?year={year}").status_code == 200


def test_it_trusts_x_forwarded_proto_only_when_told(monkeypatch):
    base = {"DJANGO_ENV": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "a.example.com"}
    assert getattr(production_settings(monkeypatch, **base), "SECURE_PROXY_SSL_HEADER", None) is None
    real = production_settings(monkeypatch, **base, DSAR_TRUST_X_FORWARDED_PROTO="true")
    assert real.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


# --- request size -----------------------------------------------------------------------------------

def test_it_refuses_a_request_body_over_the_cap_before_reading_it(client, db, settings, tmp_path):
    settings.DSAR_MAX_REQUEST_BYTES = 2000
    files = {f"f{n}": SimpleUploadedFile(f"{n}.pdf", PDF + b"0" * 200) for n in range(20)}  # each small
    r = client.post("/request/about-you/", files)
    assert r.status_code == 413 and "larger than we accept" in r.content.decode()


# --- uploads: one check for every path ---------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (PDF + b"0" * (10 * 1024 * 1024), "larger than 10 MB"),
    (EXE, "not a PDF, PNG or JPEG"),
    (b"", "empty"),
])
def test_it_checks_a_staff_upload_like_a_public_one_and_changes_nothing_if_refused(client, manager, content, message):
    client.force_login(manager)
    case = services.submit_request(jurisdiction="GB", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    services.confirm_email(case)
    services.request_information(case, manager, what="identity", message="Please send a photo ID.")
    case.refresh_from_db()
    r = client.post(reverse("staff:case_action", args=[case.pk, "receive_reply"]), {
        "version": case.version, "message": "ID received by post",
        "upload": SimpleUploadedFile("id.pdf", content, content_type="application/pdf")})
    assert message in r.content.decode()
    case.refresh_from_db()
    assert case.state == State.AWAITING_REQUESTER and not case.attachments.exists()
    assert not case.events.filter(kind="clock_restarted").exists()


def test_it_checks_every_stored_file_in_the_service_too(db):
    from django.core.exceptions import ValidationError

    case = services.submit_request(jurisdiction="DE", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    for bad in (b"", EXE):
        with pytest.raises(ValidationError):
            services.add_attachment(case, Attachment.Kind.IDENTITY, services.Upload("x.pdf", bad, "application/pdf"))
    assert not Attachment.objects.exists()


# --- /status-link/ ----------------------------------------------------------------------------------

def test_it_does_the_same_work_for_a_status_link_whether_or_not_the_case_matches(client, db, monkeypatch):
    case = services.submit_request(jurisdiction="DE", request_types=["access"], requester_name="Ana",
                                   requester_email="ana@example.com")[0]
    handed = []
    monkeypatch.setattr(enqueue, "send_task", lambda name, *args, **kw: handed.append((name, args)) or True)
    work = []
    for reference, email in ((case.reference, "ana@example.com"), ("DSAR-2026-999999", "who@example.com")):
        with CaptureQueriesContext(connection) as queries:
            r = client.post("/status-link/", {"email": email, "reference": reference})
        assert r.status_code == 200
        work.append([q["sql"].split(" ")[0] for q in queries.captured_queries])
    assert work[0] == work[1]  # no look-up of the case in the request: its timing tells nothing
    assert [name for name, _ in handed] == [enqueue.SEND_STATUS_LINK] * 2
    # The worker then sends the link to the matching case only.
    from requests_app import tasks
    mail.outbox.clear()
    for _name, args in handed:
        tasks.send_status_link(*args)
    assert Notification.objects.filter(case=case, kind="confirm_email").count() == 2  # first + resent


# --- single-line fields -----------------------------------------------------------------------------

def test_it_keeps_single_line_fields_on_one_line(client, db, django_capture_on_commit_callbacks):
    client.post("/", {**location_data("US-CA"), "gpc_opt_out": "1"}, **GPC)
    with django_capture_on_commit_callbacks(execute=True):
        # Without the signal on this request the opt-out form asks for a name (with it: nothing).
        client.post("/opt-out/", {"requester_name": "Gus\r\nBcc: x@evil.example\r\n\r\nClick http://evil.example",
                                  "requester_email": "gus@example.com"})
    case = DataSubjectRequest.objects.get()
    assert case.requester_name == "Gus Bcc: x@evil.example Click http://evil.example"
    body = mail.outbox[-1].body
    assert "Gus Bcc: x@evil.example Click" in body and "\nClick http://evil.example" not in body


# --- password reset ---------------------------------------------------------------------------------

def test_it_sends_password_reset_e_mails_through_the_outbox_within_the_limits(client, manager, settings,
                                                                            django_capture_on_commit_callbacks):
    settings.DSAR_RATE_LIMIT_PER_EMAIL = "2/h"
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post("/accounts/password_reset/", {"email": manager.email})
        assert r.status_code == 302
    notes = Notification.objects.filter(kind="password_reset")
    assert notes.count() == 2 and notes.first().to == [manager.email]
    assert len(mail.outbox) == 2 and "/accounts/reset/" in mail.outbox[0].body


def test_it_refuses_a_nul_in_the_query_as_json_on_the_api(client, db):
    """The API promises JSON errors: the request guard keeps that promise before any view runs."""
    response = client.get("/api/v1/calculator/?jurisdiction=%00")
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    assert client.get("/?x=%00")["Content-Type"].startswith("text/plain")
