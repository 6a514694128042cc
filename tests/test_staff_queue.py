"""The queue page: order, columns, filters, search, "My cases", pagination, bulk assign, and a
constant number of SQL queries whatever the page size."""
import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from requests_app import services
from requests_app.models import DataSubjectRequest, Event
from tests.fixtures import submit_case as submit

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # Monday 09:00 in California
QUEUE = reverse("staff:queue")



def appeal_for(manager, jurisdiction="US-CO", email="appellant@example.com"):
    case = submit(jurisdiction, requester_email=email)
    services.confirm_email(case)
    services.verify_identity(case, manager, method="account login")
    services.deny(case, manager, reasons="We hold no data about you.")
    return services.file_appeal(case, statement="You do hold my data.")


def table_refs(response) -> list[str]:
    body = response.content.decode()
    tbody = body[body.index("<tbody>"):body.index("</tbody>")]
    return re.findall(r">(DSAR-\d{4}-\d{6})</a>", tbody)


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_queue_lists_open_cases_and_appeals_most_urgent_first_with_all_columns(frozen, client, manager, analyst):
    late = submit("DE", received_at=T0 - dt.timedelta(days=40), requester_email="late@example.com")
    optout = submit("US-CA", "opt_out_sale_sharing", requester_email="o@example.com")
    appeal = appeal_for(manager)
    services.assign(optout, manager, analyst)
    closed = submit("DE", requester_email="gone@example.com")
    services.withdraw(closed, reason="changed my mind")
    client.force_login(manager)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert table_refs(response) == [late.reference, optout.reference, appeal.case.reference]
    body = response.content.decode()
    assert closed.reference not in body
    row = body[body.index(optout.reference):]
    row = row[:row.index("</tr>")]
    # regime, type, state, assignee, next deadline (local date + clock), business days left, alert
    for text in ("CCPA", "Opt out of sale or sharing", "In progress", "andy", "Mon 23 Mar 2026",
                 "Respond", "15 bd"):
        assert text in row, text
    late_row = body[body.index(late.reference):]
    late_row = late_row[:late_row.index("</tr>")]
    assert "overdue" in late_row and "-" in late_row and " d<" in late_row
    appeal_row = body[body.index(f"#appeal-{appeal.pk}"):]
    appeal_row = appeal_row[:appeal_row.index("</tr>")]
    assert "appeal" in appeal_row and "Received" in appeal_row and "Decide the appeal" in appeal_row
    assert "Thu 16 Apr 2026" in appeal_row and "45 d" in appeal_row  # C.R.S. 6-1-1306(3): 45 days
    # The chips at a glance.
    assert re.search(r"Overdue <b>1</b>", body) and re.search(r"Appeals <b>1</b>", body)


def test_escalation_badge(frozen, client, manager):
    case = submit("DE", received_at=T0 - dt.timedelta(days=40))
    DataSubjectRequest.objects.filter(pk=case.pk).update(escalation_level=2)  # what the sweep records
    client.force_login(manager)
    assert "esc. 2" in client.get(QUEUE).content.decode()


def test_filters_and_search_through_the_page(frozen, client, manager, analyst):
    late = submit("DE", received_at=T0 - dt.timedelta(days=40), requester_email="late@example.com")
    know = submit("US-CA", "access", requester_name="Bea Bauer", requester_email="bea@example.org")
    optout = submit("US-CA", "opt_out_sale_sharing", requester_email="o@example.com")
    appeal = appeal_for(manager)
    services.assign(know, manager, analyst)
    client.force_login(manager)

    def get(**params):
        response = client.get(QUEUE, params)
        assert response.status_code == 200
        return table_refs(response)

    assert get(regime="gdpr") == [late.reference]
    assert get(request_type="opt_out_sale_sharing") == [optout.reference]
    assert get(state="submitted") == [late.reference, know.reference]  # an opt-out is in progress at once
    assert get(state="appeal:received") == [appeal.case.reference]
    assert get(show="appeals") == [appeal.case.reference]
    assert get(assignee=analyst.pk) == [know.reference]
    assert know.reference not in get(assignee="none")
    assert get(overdue="on") == [late.reference]
    assert get(due_within=22) == [late.reference, optout.reference]  # overdue included
    assert get(q="BEA@example.org") == [know.reference]
    assert get(q="bauer") == [know.reference]
    assert get(q=know.reference) == [know.reference]
    assert get(regime="ccpa", q="nobody") == []
    client.force_login(analyst)
    assert get(mine="on") == [know.reference]


def test_invalid_filter_values_are_reported_not_crashing(frozen, client, manager):
    submit("DE")
    client.force_login(manager)
    response = client.get(QUEUE, {"due_within": "-3", "regime": "nope", "per_page": "7"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_repeat_filter(frozen, client, manager):
    for i in range(3):
        submit("US-CA", "access", received_at=T0 - dt.timedelta(days=30 - i))
    client.force_login(manager)
    assert len(table_refs(client.get(QUEUE, {"repeat": "on"}))) == 1


def test_analyst_sees_own_and_unassigned_only(frozen, client, manager, analyst):
    from tests.fixtures import make_user

    other = make_user("olga", "analyst")
    mine, theirs, pool = (submit("DE", requester_email=f"{n}@example.com") for n in "mtp")
    services.assign(mine, manager, analyst)
    services.assign(theirs, manager, other)
    client.force_login(analyst)
    refs = table_refs(client.get(QUEUE))
    assert set(refs) == {mine.reference, pool.reference}
    assert 'name="items"' not in client.get(QUEUE).content.decode()  # no bulk assign for analysts


def test_pagination(frozen, client, manager):
    cases = [submit("DE", requester_email=f"p{i}@example.com", received_at=T0 - dt.timedelta(days=i))
             for i in range(12)]
    client.force_login(manager)
    first = client.get(QUEUE, {"per_page": 10})
    second = client.get(QUEUE, {"per_page": 10, "page": 2})
    # Most urgent first; GDPR due dates that roll to the same Monday are ordered by case.
    urgent_first = [c.reference for c in sorted(cases, key=lambda c: (c.next_due_at, c.pk))]
    assert table_refs(first) == urgent_first[:10] and table_refs(second) == urgent_first[10:]
    assert "1–10 of 12" in first.content.decode() and "page=2" in first.content.decode()
    assert "11–12 of 12" in second.content.decode()


def test_bulk_assign_skips_rows_changed_meanwhile(frozen, client, manager, analyst):
    a, b, c = (submit("DE", requester_email=f"{n}@example.com") for n in "abc")
    b_version = b.version
    services.assign(b, manager, manager)  # someone else changes b after the queue was loaded
    client.force_login(manager)
    response = client.post(reverse("staff:bulk_assign"), {
        "assignee": analyst.pk, "items": [f"{a.pk}:{a.version}", f"{b.pk}:{b_version}", f"{c.pk}:{c.version}"],
        "next": QUEUE + "?regime=gdpr"}, follow=True)
    assert response.redirect_chain[-1][0] == QUEUE + "?regime=gdpr"
    body = response.content.decode()
    assert "Assigned 2 case(s) to andy" in body and f"someone changed them after you loaded the queue: {b.reference}" \
        in body
    assignees = dict(DataSubjectRequest.objects.values_list("reference", "assignee__username"))
    assert assignees == {a.reference: "andy", b.reference: "mia", c.reference: "andy"}
    assert Event.objects.filter(kind="assigned", actor=manager).count() == 3  # b's own assignment + a, c


def test_bulk_assign_needs_a_selection_and_a_manager(frozen, client, manager, analyst):
    case = submit("DE")
    client.force_login(manager)
    response = client.post(reverse("staff:bulk_assign"), {"assignee": analyst.pk}, follow=True)
    assert "Select at least one row." in response.content.decode()
    client.force_login(analyst)
    response = client.post(reverse("staff:bulk_assign"), {"assignee": analyst.pk,
                                                          "items": [f"{case.pk}:{case.version}"]})
    assert response.status_code == 403 and b"Only a manager may assign cases." in response.content
    assert DataSubjectRequest.objects.get(pk=case.pk).assignee is None


def test_bulk_assign_refuses_foreign_redirects(frozen, client, manager, analyst):
    case = submit("DE")
    client.force_login(manager)
    response = client.post(reverse("staff:bulk_assign"), {"assignee": analyst.pk,
                                                          "items": [f"{case.pk}:{case.version}"],
                                                          "next": "https://evil.example/"})
    assert response["Location"] == QUEUE


@pytest.mark.parametrize("per_page", [10, 100])
def test_query_count_is_constant_whatever_the_page_size(frozen, client, manager, analyst,
                                                        django_assert_max_num_queries, per_page):
    jurisdictions = ["US-CA", "DE", "GB", "MX", "BR", "US-CO", "US-NY"]
    for i in range(104):
        case = submit(jurisdictions[i % len(jurisdictions)], requester_email=f"q{i}@example.com",
                      received_at=T0 - dt.timedelta(days=i % 50))
        if i % 3:
            services.assign(case, manager, analyst)
    appeal_for(manager)
    appeal_for(manager, "US-VA", "va@example.com")
    client.force_login(manager)
    client.get(QUEUE)  # the session and permission caches are per request; nothing else is warmed
    with django_assert_max_num_queries(12):
        response = client.get(QUEUE, {"per_page": per_page})
    assert len(table_refs(response)) == per_page
    with django_assert_max_num_queries(12):
        response = client.get(QUEUE, {"per_page": per_page, "page": 2, "regime": "ccpa", "q": "@example.com",
                                      "due_within": 400})
    assert response.status_code == 200
    client.force_login(analyst)
    with django_assert_max_num_queries(12):
        response = client.get(QUEUE, {"per_page": per_page, "mine": "on"})
    assert len(table_refs(response)) == min(per_page, 69)
