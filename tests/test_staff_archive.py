"""Closed cases stay findable: search looks at every state, and the archive lists closed cases."""
import re

import pytest
from django.urls import reverse

from requests_app import services
from tests.fixtures import submit_case as submit

QUEUE = reverse("staff:queue")


def refs(response) -> list[str]:
    body = response.content.decode()
    tbody = body[body.index("<tbody>"):body.index("</tbody>")]
    return re.findall(r">(DSAR-\d{4}-\d{6})</a>", tbody)


@pytest.fixture
def closed(db):
    case = submit("DE", requester_email="gone@example.com", requester_name="Greta Gone")
    return services.withdraw(case, reason="changed my mind")


@pytest.mark.parametrize("query", ["reference", "gone@example.com", "Greta"])
def test_it_finds_a_closed_case_by_search(client, manager, closed, query):
    open_case = submit("DE", requester_email="here@example.com")
    client.force_login(manager)
    q = closed.reference if query == "reference" else query
    assert refs(client.get(QUEUE, {"q": q})) == [closed.reference]
    assert refs(client.get(QUEUE)) == [open_case.reference]  # the queue itself stays open work only


def test_it_lists_closed_cases_in_the_archive_and_offers_closed_states(client, manager, closed):
    submit("DE", requester_email="here@example.com")
    client.force_login(manager)
    response = client.get(QUEUE, {"show": "closed"})
    assert refs(response) == [closed.reference]
    assert "Archive of closed cases" in response.content.decode()
    assert refs(client.get(QUEUE, {"state": "withdrawn"})) == [closed.reference]
    assert '<option value="withdrawn"' in client.get(QUEUE).content.decode()


def test_it_lists_the_archive_in_a_constant_number_of_queries(client, manager, django_assert_max_num_queries):
    for i in range(3):
        services.withdraw(submit("DE", requester_email=f"a{i}@example.com"), reason="changed my mind")
    client.force_login(manager)
    client.get(QUEUE, {"show": "closed"})  # warm the session and permission caches
    with django_assert_max_num_queries(12) as few:
        client.get(QUEUE, {"show": "closed"})
    for i in range(20):
        services.withdraw(submit("US-CA", requester_email=f"b{i}@example.com"), reason="changed my mind")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE, {"show": "closed"})
    assert len(refs(response)) == 23
