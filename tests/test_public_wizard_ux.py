"""Changing the country mid-wizard says what changed and goes back to the step to answer again."""
from django.contrib.messages import get_messages

from requests_app import regimes as R

from .public_helpers import fresh_cache, location_data, walk_to_review  # noqa: F401 - fresh_cache is autouse


def test_it_tells_which_requests_a_new_country_dropped_and_goes_back_to_them(client, db):
    walk_to_review(client, "DE", ["access", "erasure"])
    r = client.post("/", location_data("US-CA"))
    assert r.status_code == 302 and r.url.endswith("/request/what/")
    told = " ".join(str(m) for m in get_messages(r.wsgi_request))
    erasure = R.regime("gdpr").request_type("erasure").label
    assert erasure in told and "CCPA" in told, told
    assert R.regime("gdpr").request_type("access").label not in told


def test_it_says_nothing_when_the_new_country_keeps_every_answer(client, db):
    walk_to_review(client, "DE", ["access"])
    r = client.post("/", location_data("FR"))
    assert r.status_code == 302 and r.url.endswith("/request/rights/")
    assert not list(get_messages(r.wsgi_request))


def test_it_goes_back_to_the_details_mexico_asks_for(client, db):
    walk_to_review(client, "ES", ["access"])
    r = client.post("/", location_data("MX"))
    assert r.status_code == 302 and r.url.endswith("/request/what/")  # the description of the data
    assert client.get("/request/review/").url.endswith("/request/what/")
    assert "asks for other details" in " ".join(str(m) for m in get_messages(r.wsgi_request))
