"""The optional one-time code before the web form stores a request: expiry, single use, rate
limits, brute force, stored hashed; blocked addresses told nothing more than anyone."""
import datetime as dt
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from requests_app.intake import services
from requests_app.intake.models import OneTimeCode
from requests_app.models import DataSubjectRequest
from tests.public_helpers import walk_to_review

T0 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc)
CODE_URL = reverse("intake_public:email_code")


@pytest.fixture(autouse=True)
def code_required(settings):
    settings.DSAR_EMAIL_CODE_REQUIRED = True
    cache.clear()
    yield
    cache.clear()


def mailed_code(run_commit, email="ana@example.com") -> str:
    with run_commit(execute=True):
        services.send_code(email)
    return re.search(r"code is (\d{6})", mail.outbox[-1].body).group(1)


def test_it_stores_only_a_hash_and_accepts_the_code_once(db, now, django_capture_on_commit_callbacks):
    code = mailed_code(django_capture_on_commit_callbacks)
    row = OneTimeCode.objects.get()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert services.check_code("ANA@example.com ", code) is True
    assert services.check_code("ana@example.com", code) is False  # single use


def test_it_refuses_an_expired_code(db, now, settings, django_capture_on_commit_callbacks):
    code = mailed_code(django_capture_on_commit_callbacks)
    now(T0 + dt.timedelta(minutes=settings.DSAR_EMAIL_CODE_MINUTES, seconds=1))
    assert services.check_code("ana@example.com", code) is False


def test_wrong_guesses_kill_the_code(db, now, settings, django_capture_on_commit_callbacks):
    code = mailed_code(django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(settings.DSAR_EMAIL_CODE_ATTEMPTS):
        assert services.check_code("ana@example.com", wrong) is False
    assert services.check_code("ana@example.com", code) is False  # brute force stops here


def test_a_new_code_replaces_the_old_one(db, now, django_capture_on_commit_callbacks):
    first = mailed_code(django_capture_on_commit_callbacks)
    second = mailed_code(django_capture_on_commit_callbacks)
    if first != second:
        assert services.check_code("ana@example.com", first) is False
    assert services.check_code("ana@example.com", second) is True


def test_the_form_stores_nothing_until_the_address_is_proven(client, db, now, django_capture_on_commit_callbacks):
    walk_to_review(client, "DE", ["access"])
    response = client.post("/request/review/", {"declaration": "on"})
    assert response.status_code == 302 and response.url.startswith(CODE_URL)
    assert not DataSubjectRequest.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(CODE_URL, {"action": "send"}).status_code == 200
    code = re.search(r"code is (\d{6})", mail.outbox[-1].body).group(1)
    assert mail.outbox[-1].to == ["ana@example.com"]
    bad = client.post(CODE_URL, {"action": "verify", "code": "000000" if code != "000000" else "111111"})
    assert bad.status_code == 400 and "wrong, used or expired" in bad.content.decode()
    good = client.post(CODE_URL, {"action": "verify", "code": code})
    assert good.status_code == 302 and good.url == "/request/review/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/request/review/", {"declaration": "on"})
    assert response.status_code == 302 and response.url.endswith("/request/thank-you/")
    assert DataSubjectRequest.objects.get().requester_email == "ana@example.com"


def test_codes_are_rate_limited_per_address(client, db, now, settings, django_capture_on_commit_callbacks):
    settings.DSAR_EMAIL_CODE_RATE = "2/h"
    walk_to_review(client, "DE", ["access"])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(CODE_URL, {"action": "send"}).status_code == 200
    response = client.post(CODE_URL, {"action": "send"})
    assert response.status_code == 429 and "Many codes" in response.content.decode()
    assert OneTimeCode.objects.count() == 2


def test_a_blocked_address_is_told_the_same_and_gets_no_mail(client, db, now, manager,
                                                             django_capture_on_commit_callbacks):
    walk_to_review(client, "DE", ["access"])
    with django_capture_on_commit_callbacks(execute=True):
        open_answer = client.post(CODE_URL, {"action": "send"}).content.decode()
    services.block_sender(manager, "ana@example.com", "mail bombing")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        blocked_answer = client.post(CODE_URL, {"action": "send"}).content.decode()
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", blocked_answer) == token.sub("", open_answer)
    assert "the code is on its way" in blocked_answer and "block" not in blocked_answer.lower()
    assert mail.outbox == []


def test_a_proven_address_with_an_open_request_of_the_type_is_told_before_sending(
        client, db, now, submit, django_capture_on_commit_callbacks):
    existing = submit("DE", "access", requester_email="ana@example.com")
    walk_to_review(client, "DE", ["access"])
    client.post("/request/review/", {"declaration": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CODE_URL, {"action": "send"})
    code = re.search(r"code is (\d{6})", mail.outbox[-1].body).group(1)
    page = client.post(CODE_URL, {"action": "verify", "code": code})
    assert page.status_code == 200
    html = page.content.decode()
    assert "already have an open request of this type" in html and existing.reference in html
    assert client.post("/request/review/", {"declaration": "on"}).url.startswith(CODE_URL)  # not stored yet
    assert DataSubjectRequest.objects.count() == 1
    assert client.post(CODE_URL, {"action": "send_anyway"}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/request/review/", {"declaration": "on"})
    second = DataSubjectRequest.objects.exclude(pk=existing.pk).get()
    assert second.events.get(kind="likely_duplicate").data["linked_case"] == existing.pk
