"""Rate limits per IP and per e-mail address (cache-backed) on the public forms."""
import datetime as dt

import pytest
import time_machine

from requests_app import ratelimit
from requests_app.models import DataSubjectRequest

from .public_helpers import fresh_cache, walk_to_review  # noqa: F401 - fresh_cache is autouse

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text,limit,seconds", [("10/h", 10, 3600), ("5/m", 5, 60), ("3/30m", 3, 1800),
                                                ("100/d", 100, 86400), (" 2 / s ", 2, 1)])
def test_rates_parse(text, limit, seconds):
    assert ratelimit.Rate.parse(text) == ratelimit.Rate(limit, seconds)


def test_bad_rate_is_refused():
    with pytest.raises(ValueError):
        ratelimit.Rate.parse("ten per hour")


def test_window_counts_and_expires():
    with time_machine.travel(T0, tick=False) as t:
        assert [ratelimit.hit("x", "k", "2/h") for _ in range(3)] == [True, True, False]
        assert ratelimit.hit("x", "other", "2/h")  # keys are separate
        t.shift(dt.timedelta(minutes=61))
        assert ratelimit.hit("x", "k", "2/h")


def test_email_key_is_case_insensitive_and_hashed():
    from django.core.cache import cache

    ratelimit.hit("e", "Ana@Example.com", "1/h")
    assert not ratelimit.hit("e", "ana@example.com", "1/h")
    assert not any("example" in str(k) for k in cache._cache)  # locmem: no address in clear


def _submit(client, capture, email, ip="203.0.113.5"):
    walk_to_review(client, "DE", ["access"], requester_email=email)
    with capture(execute=True):
        return client.post("/request/review/", {"declaration": "on"}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_submissions_are_limited_per_email(client, settings, django_capture_on_commit_callbacks):
    settings.DSAR_RATE_LIMIT_PER_EMAIL, settings.DSAR_RATE_LIMIT_PER_IP = "2/h", "100/h"
    with time_machine.travel(T0, tick=False) as t:
        assert _submit(client, django_capture_on_commit_callbacks, "ana@example.com").status_code == 302
        assert _submit(client, django_capture_on_commit_callbacks, "ANA@example.com").status_code == 302
        r = _submit(client, django_capture_on_commit_callbacks, "ana@example.com", ip="198.51.100.7")
        assert r.status_code == 429 and "many requests in a short time" in r.content.decode()
        assert DataSubjectRequest.objects.count() == 2
        assert client.get("/request/review/").status_code == 200  # the answers are kept for later
        t.shift(dt.timedelta(hours=1, minutes=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/request/review/", {"declaration": "on"}).status_code == 302
        assert DataSubjectRequest.objects.count() == 3


@pytest.mark.django_db
def test_submissions_are_limited_per_ip(client, settings, django_capture_on_commit_callbacks):
    settings.DSAR_RATE_LIMIT_PER_EMAIL, settings.DSAR_RATE_LIMIT_PER_IP = "100/h", "3/h"
    for n in range(3):
        assert _submit(client, django_capture_on_commit_callbacks, f"p{n}@example.com").status_code == 302
    assert _submit(client, django_capture_on_commit_callbacks, "p9@example.com").status_code == 429
    assert _submit(client, django_capture_on_commit_callbacks, "p9@example.com", ip="203.0.113.99").status_code == 302


@pytest.mark.django_db
def test_resend_link_is_limited(client, settings):
    settings.DSAR_RATE_LIMIT_PER_EMAIL, settings.DSAR_RATE_LIMIT_PER_IP = "2/h", "100/h"
    data = {"email": "ana@example.com", "reference": "DSAR-2026-000001"}
    assert [client.post("/status-link/", data).status_code for _ in range(3)] == [200, 200, 429]
    assert "Too many attempts" in client.post("/status-link/", data).content.decode()


@pytest.mark.django_db
def test_csrf_is_enforced_with_a_friendly_page(settings):
    from django.test import Client

    r = Client(enforce_csrf_checks=True).post("/", {"country": "DE"})
    assert r.status_code == 403 and "Please try again" in r.content.decode()
