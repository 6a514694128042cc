"""The public request form: every regime's path, validation, accessibility hooks, GPC, honeypot."""
import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from requests_app import regimes as R
from requests_app.models import Attachment, DataSubjectRequest, Event, Notification, State

from .public_helpers import (
    PDF,
    REGIME_PATHS,
    file_request,
    fresh_cache,  # noqa: F401 - autouse fixture
    identity_data,
    link_from,
    location_data,
    upload,
    walk_to_review,
)

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday 09:00 in California
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("travel")]


@pytest.fixture
def travel():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.mark.parametrize("jurisdiction", list(REGIME_PATHS))
def test_each_regime_path_files_a_case_with_its_clocks(client, capture, jurisdiction):
    regime_code, request_type = REGIME_PATHS[jurisdiction]
    walk_to_review(client, jurisdiction, [request_type])

    review = client.get("/request/review/").content.decode()
    assert R.regime(regime_code).name in review

    with capture(execute=True):
        r = client.post("/request/review/", {"declaration": "on"})
    assert r.status_code == 302
    case = DataSubjectRequest.objects.get()
    assert (case.jurisdiction, case.regime, case.request_type) == (jurisdiction, regime_code, request_type)
    opt_out = case.request_type_info.is_opt_out  # acted on without confirmation (11 CCR §7026(d))
    assert case.state == (State.IN_PROGRESS if opt_out else State.SUBMITTED) and case.language == "en"
    assert case.requester_email == "ana@example.com"
    clocks = set(case.deadlines.values_list("kind", flat=True))
    assert (R.CONFIRM_EMAIL in clocks) is not opt_out
    expected = {rule.name for rule in R.regime(regime_code).clocks_for(request_type) if rule.starts == R.RECEIVED}
    assert expected <= clocks
    assert Event.objects.filter(case=case, kind="submitted").exists()
    if jurisdiction == "MX":
        assert case.data_description == "My order history" and case.account_id == "MX-123"

    thanks = client.get(r.url).content.decode()
    assert case.reference in thanks and "ana@example.com" in thanks
    assert len(mail.outbox) == 1 and case.reference in mail.outbox[0].subject
    assert link_from(mail.outbox[0], "status" if opt_out else "confirm").startswith("/")


def test_rights_page_names_the_law_and_lists_its_rights_in_plain_language(client):
    client.post("/", location_data("US-CO"))
    page = client.get("/request/rights/").content.decode()
    assert "Colorado Privacy Act" in page and "C.R.S. 6-1-1301" in page
    assert "Opt out of targeted advertising, sale of your data and profiling." in page
    assert "45 days" in page and "90 days" in page  # how long we have, with the extension
    assert "An authorised agent" in page
    client.post("/", location_data("MX"))
    page = client.get("/request/rights/").content.decode()
    assert "Access (ARCO)" in page and "20 business days" in page and "A legal representative" in page
    assert "An authorised agent" not in page


def test_us_needs_a_state_and_other_states_fall_to_company_policy(client):
    r = client.post("/", {"country": "US"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "Choose the US state where you live." in page
    assert 'aria-invalid="true"' in page and 'id="error-summary"' in page and 'href="#id_us_state"' in page
    r = client.post("/", {"country": "US", "us_state": "US-TX"})
    assert r.status_code == 302
    assert "Company policy" in client.get("/request/rights/").content.decode()


def test_unknown_country_is_refused_with_an_error_on_the_field(client):
    r = client.post("/", {"country": "XX"})
    page = r.content.decode()
    assert r.status_code == 200 and "Select a valid choice" in page
    assert 'aria-describedby="id_country_error"' in page


def test_steps_cannot_be_skipped(client):
    assert client.get("/request/review/").url == "/"
    client.post("/", location_data("DE"))
    assert client.get("/request/review/").url == "/request/what/"
    assert client.get("/request/about-you/").url == "/request/what/"


def test_several_request_types_create_linked_cases_confirmed_by_one_link(client, capture):
    file_request(client, capture, "US-CA", ["access", "deletion", "opt_out_sale_sharing"])
    cases = list(DataSubjectRequest.objects.order_by("pk"))
    assert [c.request_type for c in cases] == ["access", "deletion", "opt_out_sale_sharing"]
    assert len({c.batch_id for c in cases}) == 1
    confirmation = [m for m in mail.outbox if "/confirm/" in m.body]
    assert len(confirmation) == 1  # one confirmation for the batch, listing every reference but the opt-out's
    assert all(c.reference in confirmation[0].body for c in cases[:2])
    assert cases[2].reference not in confirmation[0].body  # an opt-out needs no confirmation
    with capture(execute=True):
        page = client.post(link_from(confirmation[0])).content.decode()
    for c in cases[:2]:
        c.refresh_from_db()
        assert c.email_confirmed_at is not None and c.reference in page
    cases[2].refresh_from_db()
    assert {c.state for c in cases} == {State.VERIFYING, State.IN_PROGRESS}  # the opt-out needs no ID


def test_request_types_the_law_does_not_give_are_refused(client):
    client.post("/", location_data("US-UT"))
    r = client.post("/request/what/", {"request_types": ["correction"]})  # UCPA has no correction right
    assert r.status_code == 200 and "This law does not give that right" in r.content.decode()
    r = client.post("/request/what/", {})
    assert "Choose at least one request." in r.content.decode()


def test_identity_errors_are_specific_and_keep_what_was_typed(client):
    client.post("/", location_data("GB"))
    client.post("/request/what/", {"request_types": ["access"]})
    r = client.post("/request/about-you/", identity_data(requester_name="Zoë O'Brien", requester_email="not-an-email",
                                                         account_id="ACC-77", phone="+44 20 7946 0000"))
    page = r.content.decode()
    assert r.status_code == 200
    assert "Enter an e-mail address like name@example.com." in page
    assert 'value="Zoë O&#x27;Brien"' in page and 'value="ACC-77"' in page and 'value="not-an-email"' in page
    assert 'aria-describedby="id_requester_email_helptext id_requester_email_error"' in page
    assert 'href="#id_requester_email"' in page  # the summary links to the field


def test_mexico_requires_data_description_and_an_account_identifier(client, capture):
    client.post("/", location_data("MX"))
    page = client.post("/request/what/", {"request_types": ["access"]}).content.decode()
    assert "Describe the personal data your request concerns (required in Mexico)." in page
    client.post("/request/what/", {"request_types": ["access"], "details": "Mis pedidos"})
    page = client.post("/request/about-you/", identity_data()).content.decode()
    assert "Give your account ID or registered phone number" in page
    assert "Which personal data does your request concern?" not in page  # asked once, in step 3
    r = client.post("/request/about-you/", identity_data(registered_email="on"))
    assert r.status_code == 302
    with capture(execute=True):
        client.post("/request/review/", {"declaration": "on"})
    assert DataSubjectRequest.objects.get().data_description == "Mis pedidos"


def test_mexico_fields_are_not_asked_elsewhere(client):
    client.post("/", location_data("DE"))
    client.post("/request/what/", {"request_types": ["access"]})
    page = client.get("/request/about-you/").content.decode()
    assert "data_description" not in page and "registered_email" not in page


@pytest.mark.parametrize("jurisdiction,filer", [("US-CA", "agent"), ("BR", "legal_representative"),
                                                ("DE", "parent")])
def test_someone_acting_for_another_gives_own_details_and_authorisation(client, capture, jurisdiction, filer):
    client.post("/", location_data(jurisdiction))
    client.post("/request/what/", {"request_types": ["access"]})
    page = client.post("/request/about-you/", identity_data(filer=filer)).content.decode()
    assert "Enter your own full name" in page and "Enter your own e-mail address" in page
    assert "Upload the signed authorisation or proof of your role" in page
    r = client.post("/request/about-you/", {
        **identity_data(filer=filer), "agent_name": "Bea Agent", "agent_email": "bea@agency.example",
        "agent_organisation": "Agency Ltd", "authorisation": upload("permission.pdf", PDF)})
    assert r.status_code == 302
    review = client.get("/request/review/").content.decode()
    assert "permission.pdf" in review and "Bea Agent" in review
    with capture(execute=True):
        client.post("/request/review/", {"declaration": "on"})
    case = DataSubjectRequest.objects.get()
    assert (case.filer, case.agent_name, case.agent_email) == (filer, "Bea Agent", "bea@agency.example")
    att = case.attachments.get()
    assert att.kind == Attachment.Kind.AUTHORISATION and att.content_type == "application/pdf"
    assert att.original_name == "authorisation.pdf" and att.file.read() == PDF
    assert set(mail.outbox[0].to) == {"ana@example.com", "bea@agency.example"}


def test_filers_the_law_does_not_allow_are_not_offered_and_refused(client):
    client.post("/", location_data("GB"))
    client.post("/request/what/", {"request_types": ["access"]})
    page = client.get("/request/about-you/").content.decode()
    assert 'value="agent"' not in page and 'value="parent"' in page
    r = client.post("/request/about-you/", identity_data(filer="agent"))
    assert "Select a valid choice" in r.content.decode()


def test_authorisation_is_kept_across_steps_and_replaced_only_when_a_new_one_comes(client, capture):
    client.post("/", location_data("US-CO"))
    client.post("/request/what/", {"request_types": ["access"]})
    agent = {**identity_data(filer="agent"), "agent_name": "Bea", "agent_email": "bea@agency.example"}
    client.post("/request/about-you/", {**agent, "authorisation": upload("a.pdf", PDF)})
    page = client.get("/request/about-you/").content.decode()
    assert "You uploaded “a.pdf”" in page
    assert client.post("/request/about-you/", agent).status_code == 302  # no new file: the first is kept
    with capture(execute=True):
        client.post("/request/review/", {"declaration": "on"})
    assert DataSubjectRequest.objects.get().attachments.count() == 1


def test_review_needs_the_declaration(client):
    walk_to_review(client, "DE", ["access"])
    r = client.post("/request/review/", {})
    assert r.status_code == 200 and "Confirm the declaration to send your request." in r.content.decode()
    assert DataSubjectRequest.objects.count() == 0


def test_changing_the_place_drops_rights_the_new_law_does_not_give(client):
    walk_to_review(client, "US-CA", ["opt_out_sale_sharing"])
    client.post("/", location_data("DE"))
    assert client.get("/request/review/").url == "/request/what/"


def test_honeypot_pretends_success_and_stores_nothing(client):
    walk_to_review(client, "DE", ["access"])
    client.post("/", location_data("DE"))
    client.post("/request/what/", {"request_types": ["access"]})
    r = client.post("/request/about-you/", identity_data(website="http://spam.example"))
    assert r.url == "/request/thank-you/"
    assert client.get(r.url).status_code == 200
    assert DataSubjectRequest.objects.count() == 0 and Notification.objects.count() == 0


def test_the_language_of_the_form_is_stored_on_the_case(client, capture):
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="es"' in page and "Haga una solicitud de privacidad" in page
    file_request(client, capture, "MX", ["access"])
    assert DataSubjectRequest.objects.get().language == "es"
    assert "Confirme su solicitud de privacidad" in mail.outbox[0].subject


def test_browser_language_is_used_without_a_switch(client, capture):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9").content.decode()
    assert "Faça uma solicitação de privacidade" in page
    client.post("/", location_data("BR"), HTTP_ACCEPT_LANGUAGE="pt-BR")
    client.post("/request/what/", {"request_types": ["access"]}, HTTP_ACCEPT_LANGUAGE="pt-BR")
    client.post("/request/about-you/", identity_data(), HTTP_ACCEPT_LANGUAGE="pt-BR")
    with capture(execute=True):
        client.post("/request/review/", {"declaration": "on"}, HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert DataSubjectRequest.objects.get().language == "pt-br"


def test_country_names_are_shown_in_the_visitor_language(client):
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = client.get("/").content.decode()
    assert ">Alemania<" in page and ">Estados Unidos<" in page


# --- Global Privacy Control ------------------------------------------------------------------------

GPC = {"HTTP_SEC_GPC": "1"}


def test_gpc_offers_one_click_opt_out_recorded_with_via_gpc(client, capture):
    page = client.get("/", **GPC).content.decode()
    assert "Global Privacy Control" in page and 'name="gpc_opt_out"' in page
    assert 'name="gpc_opt_out"' not in client.get("/").content.decode()
    r = client.post("/", {**location_data("US-CA"), "gpc_opt_out": "1"}, **GPC)
    assert r.url == "/opt-out/"
    page = client.get("/opt-out/", **GPC).content.decode()
    assert "Opt out of sale or sharing" in page
    assert set(re.findall(r'name="(\w+)"', page)) >= {"requester_email"}
    assert "filer" not in page and "account_id" not in page  # an optional e-mail at most (11 CCR §7025)
    with capture(execute=True):
        r = client.post("/opt-out/", {"requester_email": "gus@example.com"}, **GPC)
    assert r.url == "/request/thank-you/"
    case = DataSubjectRequest.objects.get()
    assert (case.regime, case.request_type, case.via_gpc) == ("ccpa", "opt_out_sale_sharing", True)
    assert case.state == State.IN_PROGRESS and "/confirm/" not in mail.outbox[0].body  # no confirmation


@pytest.mark.parametrize("jurisdiction,request_type", [("US-CO", "opt_out"), ("US-CT", "opt_out"),
                                                       ("US-VA", "opt_out"), ("US-UT", "opt_out"),
                                                       ("US-NV", "opt_out_sale"), ("JP", "opt_out")])
def test_gpc_opt_out_uses_the_right_the_law_gives(client, capture, jurisdiction, request_type):
    client.post("/", {**location_data(jurisdiction), "gpc_opt_out": "1"}, **GPC)
    with capture(execute=True):
        client.post("/opt-out/", {"requester_name": "Gus", "requester_email": "gus@example.com"}, **GPC)
    case = DataSubjectRequest.objects.get()
    assert case.request_type == request_type and case.via_gpc


@pytest.mark.parametrize("jurisdiction", ["DE", "GB", "BR", "MX"])
def test_gpc_where_the_law_gives_no_opt_out_explains_and_continues(client, jurisdiction):
    r = client.post("/", {**location_data(jurisdiction), "gpc_opt_out": "1"}, **GPC, follow=True)
    assert r.redirect_chain[-1][0] == "/request/rights/"
    assert "gives no right to opt out of the sale" in r.content.decode()
    assert client.get("/opt-out/").url == "/"


def test_opt_out_form_errors(client):
    client.post("/", {**location_data("US-CA"), "gpc_opt_out": "1"}, **GPC)
    page = client.post("/opt-out/", {"requester_email": "x"}, **GPC).content.decode()
    assert "Enter an e-mail address like name@example.com." in page


# --- cost per page ---------------------------------------------------------------------------------------

def test_form_steps_use_a_constant_small_number_of_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        client.get("/")
    with django_assert_max_num_queries(4):
        client.post("/", location_data("US-CA"))
    with django_assert_max_num_queries(3):
        client.get("/request/rights/")
    with django_assert_max_num_queries(4):
        client.post("/request/what/", {"request_types": ["access", "deletion"]})
    with django_assert_max_num_queries(4):
        client.post("/request/about-you/", identity_data())
    with django_assert_max_num_queries(3):
        client.get("/request/review/")


def test_a_double_click_on_send_stores_one_request(client, capture):
    walk_to_review(client, "DE", ["access"])
    with capture(execute=True):
        first = client.post("/request/review/", {"declaration": "on"})
        second = client.post("/request/review/", {"declaration": "on"})
    assert first.url == second.url == "/request/thank-you/"
    assert DataSubjectRequest.objects.count() == 1


def test_a_parallel_click_with_the_same_answers_is_not_stored_twice(client, capture):
    from django.core.cache import cache
    from django.test import RequestFactory

    from requests_app.views.public import _submission_key

    walk_to_review(client, "DE", ["access"])
    parallel = RequestFactory().post("/request/review/")
    parallel.session = client.session  # the other click read the same session
    cache.add(_submission_key(parallel), 1, timeout=10)  # … and is storing the request right now
    r = client.post("/request/review/", {"declaration": "on"})
    assert r.url == "/request/thank-you/" and DataSubjectRequest.objects.count() == 0
