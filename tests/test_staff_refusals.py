"""Each regime offers its own refusal grounds with their legal source (issue 11: the CCPA list
was offered everywhere), and the ground's source is cited in the letter."""
import re

import pytest
from django.urls import reverse

from requests_app import refusals, services
from requests_app.models import DataSubjectRequest
from tests.fixtures import submit_case as submit


def deny_options(client, case) -> str:
    html = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    select = re.search(r'<select name="basis".*?</select>', html, re.S)
    assert select, "the deny form offers a ground"
    return select.group(0)


@pytest.mark.parametrize("jurisdiction,offers,never", [
    ("DE", ["GDPR Art. 12(5)(b)", "GDPR Art. 15(4)", "GDPR Art. 17(3)(e)"], ["consumer"]),
    ("GB", ["UK GDPR Art. 12(5)(b)"], ["consumer"]),
    ("BR", ["LGPD Art. 18 §4 I", "LGPD Art. 16 I"], ["consumer", "GDPR"]),
    ("MX", ["not the data subject", "already carried out"], ["consumer", "GDPR"]),
    ("US-CA", ["Not made by a consumer", "§1798.145"], ["GDPR"]),
    ("US-CO", ["C.R.S. 6-1-1304"], ["GDPR", "Cal. Civ. Code"]),
])
def test_it_offers_the_regimes_own_refusal_grounds(client, manager, jurisdiction, offers, never):
    case = submit(jurisdiction, "access")
    services.confirm_email(case)
    client.force_login(manager)
    options = deny_options(client, case)
    for text in offers:
        assert text in options
    for text in never:
        assert text not in options


def test_it_cites_the_grounds_source_in_the_letter(client, manager, django_capture_on_commit_callbacks):
    case = submit("DE", "erasure")
    services.confirm_email(case)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("staff:case_action", args=[case.pk, "deny"]), {
            "version": DataSubjectRequest.objects.get(pk=case.pk).version, "reasons": "We must keep the invoices.",
            "basis": "legal_obligation"})
    assert r.status_code == 302
    letter = case.letters.get(kind="denial")
    assert letter.context["legal_basis"] == "GDPR Art. 17(3)(b)"


def test_every_regime_has_grounds_with_sources():
    from requests_app import regimes as R

    for code in R.REGIMES:
        grounds = refusals.grounds(code)
        assert grounds[-1].code == "other" and all(g.source for g in grounds if g.code != "other"), code
