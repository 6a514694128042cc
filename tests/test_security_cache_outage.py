"""A Redis (cache) outage must degrade to "no rate limit, logged", never to a lost request.
Run with the real settings' Redis cache (socket timeouts included) pointed at a Redis that is down
and at one that accepts and never answers."""
import pytest
from django.core.cache import cache

from requests_app import ratelimit, services
from requests_app.models import DataSubjectRequest, Event, State
from requests_app.tokens import STATUS, make_token

from .outage_helpers import peer, production_settings
from .public_helpers import walk_to_review

GPC = {"HTTP_SEC_GPC": "1"}
pytestmark = pytest.mark.django_db


@pytest.fixture(params=["down", "hung"])
def redis_outage(request, settings, monkeypatch):
    with peer(request.param) as where:
        real = production_settings(monkeypatch, REDIS_URL=f"redis://{where}/0",
                                   REDIS_TIMEOUT="0.3", REDIS_CONNECT_TIMEOUT="0.3")
        assert real.CACHES["default"]["BACKEND"].endswith("RedisCache")
        settings.CACHES = real.CACHES  # resets django.core.cache.caches
        with pytest.raises(Exception):  # the outage is real
            cache.get("probe")
        yield request.param


def test_it_stores_the_final_post_of_the_form_when_redis_is_out(client, redis_outage, caplog,
                                                                django_capture_on_commit_callbacks):
    walk_to_review(client, "DE", ["access"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/request/review/", {"declaration": "on"})
    assert r.status_code == 302 and r.url.endswith("/request/thank-you/")
    assert DataSubjectRequest.objects.count() == 1
    assert "rate limit submit:ip skipped" in caplog.text


def test_it_stores_a_gpc_opt_out_when_redis_is_out(client, redis_outage, django_capture_on_commit_callbacks):
    client.post("/", {"country": "US", "us_state": "US-CA", "gpc_opt_out": "1"}, **GPC)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/opt-out/", {"requester_name": "Gus", "requester_email": "gus@example.com"}, **GPC)
    assert r.status_code == 302 and r.url == "/request/thank-you/"
    assert DataSubjectRequest.objects.get().via_gpc


def test_it_answers_status_link_and_status_actions_when_redis_is_out(client, submit, run, redis_outage,
                                                                      django_capture_on_commit_callbacks):
    case = submit("DE", "erasure")
    run(services.confirm_email, case)
    r = client.post("/status-link/", {"email": "ana@example.com", "reference": case.reference})
    assert r.status_code == 200
    path = f"/status/{make_token(case, STATUS)}/"
    assert client.get(path).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"{path}withdraw/", {"reason": "Sorted it out"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.WITHDRAWN and Event.objects.filter(case=case, kind="withdraw").exists()


def test_it_never_raises_from_the_rate_limiter_on_a_cache_error(redis_outage):
    assert ratelimit.hit("x", "k", "1/h") and ratelimit.hit("x", "k", "1/h")
