"""An old confirmation link of a request that went on says what became of it (issue 11)."""
import datetime as dt
import re

import time_machine

from requests_app import services
from requests_app.tokens import CONFIRM, make_token

from .public_helpers import fresh_cache  # noqa: F401 - fresh_cache is autouse

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)


def test_it_says_an_expired_confirmation_link_was_used_and_links_to_the_status(client, submit, manager, run):
    with time_machine.travel(T0, tick=False):
        case = submit("DE", "access", language="es")
        link = f"/confirm/{make_token(case, CONFIRM)}/"
        case = run(services.confirm_email, case)
        case = run(services.verify_identity, case, manager, method="Account login")
        case = run(services.fulfil, case, manager, decision={"data": {"profile": {"name": "Ana"}}})
    with time_machine.travel(T0 + dt.timedelta(days=40), tick=False):
        page = client.get(link)
        body = page.content.decode()
        assert page.status_code == 410
        assert case.reference in body and "make it again" not in body and "Ya confirmó su solicitud" in body
        status = re.search(r'href="https?://[^/"]+(/status/[^"]+/)"', body).group(1)
        assert client.get(status).status_code == 200


def test_it_still_says_an_unconfirmed_expired_link_closed_the_request(client, submit):
    with time_machine.travel(T0, tick=False):
        case = submit("US-CA", "access")
        link = f"/confirm/{make_token(case, CONFIRM)}/"
    with time_machine.travel(T0 + dt.timedelta(days=40), tick=False):
        body = client.get(link).content.decode()
        assert "please make it again" in body and "/status/" not in body


def test_it_does_not_claim_a_withdrawn_unconfirmed_request_was_confirmed(client, submit):
    with time_machine.travel(T0, tick=False):
        case = submit("US-CA", "access")
        link = f"/confirm/{make_token(case, CONFIRM)}/"
        services.withdraw(case, reason="Changed my mind")
    with time_machine.travel(T0 + dt.timedelta(days=40), tick=False):
        body = client.get(link).content.decode()
        assert "already confirmed" not in body and "/status/" not in body
