"""Rate limits: a fixed window that means the same with every cache backend, every address we write
to (the agent's too), and the client address a trusted proxy reports."""
import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import RequestFactory

from requests_app import ratelimit
from requests_app.models import DataSubjectRequest

from .public_helpers import PDF, identity_data, location_data, upload

T0 = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.timezone.utc)

BACKENDS = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl-test"},
    "file": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"},
    "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "rl_cache_table"},
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, settings, tmp_path, db):
    config = dict(BACKENDS[request.param])
    if request.param == "file":
        config["LOCATION"] = str(tmp_path / "cache")
    settings.CACHES = {"default": config}
    if request.param == "db":
        from django.core.management import call_command
        call_command("createcachetable", verbosity=0)
    cache.clear()
    return request.param


def test_it_counts_a_fixed_window_the_same_with_every_cache_backend(backend):
    with time_machine.travel(T0, tick=False) as t:
        assert ratelimit.hit("w", "k", "2/m")
        t.shift(dt.timedelta(seconds=50))
        assert ratelimit.hit("w", "k", "2/m")
        assert not ratelimit.hit("w", "k", "2/m")  # third in the window
        # The window started at 12:00:00 and ends at 12:01:00, however often it was hit.
        t.shift(dt.timedelta(seconds=11))
        assert ratelimit.hit("w", "k", "2/m") and ratelimit.hit("w", "k", "2/m")
        assert not ratelimit.hit("w", "k", "2/m")


def test_it_keeps_an_hour_window_counted_after_five_quiet_minutes(backend):
    """The file cache's incr re-sets a key with the default 5-minute expiry: a window longer than
    that must not forget its count."""
    with time_machine.travel(T0, tick=False) as t:
        assert ratelimit.hit("h", "k", "2/h") and ratelimit.hit("h", "k", "2/h")
        t.shift(dt.timedelta(minutes=20))
        assert not ratelimit.hit("h", "k", "2/h")


def test_it_reads_the_client_address_from_the_trusted_header(settings):
    rf = RequestFactory()
    behind_proxy = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert ratelimit.client_ip(behind_proxy) == "10.0.0.2"  # not trusted unless configured
    settings.DSAR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    # One trusted proxy: the address it appended, not what the client wrote in front of it.
    assert ratelimit.client_ip(behind_proxy) == "198.51.100.7"
    settings.DSAR_TRUSTED_PROXY_COUNT = 2
    assert ratelimit.client_ip(behind_proxy) == "6.6.6.6"
    settings.DSAR_CLIENT_IP_HEADER, settings.DSAR_TRUSTED_PROXY_COUNT = "HTTP_X_REAL_IP", 1
    assert ratelimit.client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="203.0.113.9")) == "203.0.113.9"


def test_it_reads_the_trusted_header_setting_from_the_environment(monkeypatch):
    from .outage_helpers import production_settings

    real = production_settings(monkeypatch, DSAR_CLIENT_IP_HEADER="HTTP_X_REAL_IP", DSAR_TRUSTED_PROXY_COUNT="2")
    assert (real.DSAR_CLIENT_IP_HEADER, real.DSAR_TRUSTED_PROXY_COUNT) == ("HTTP_X_REAL_IP", 2)


@pytest.mark.django_db
def test_it_limits_the_agents_address_too(client, settings, django_capture_on_commit_callbacks):
    """Three requesters naming one victim as their agent: the victim's address has its own budget."""
    settings.DSAR_RATE_LIMIT_PER_EMAIL, settings.DSAR_RATE_LIMIT_PER_IP = "2/h", "100/h"
    cache.clear()
    codes = []
    for n in range(3):
        client.post("/", location_data("US-CA"))
        client.post("/request/what/", {"request_types": ["access"]})
        r = client.post("/request/about-you/", {
            **identity_data(filer="agent", requester_email=f"p{n}@example.com"), "agent_name": "Vic",
            "agent_email": "victim@example.com", "authorisation": upload("permission.pdf", PDF)})
        assert r.status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            codes.append(client.post("/request/review/", {"declaration": "on"}).status_code)
    assert codes == [302, 302, 429]
    assert DataSubjectRequest.objects.count() == 2
