"""`voluntary` never tells a person that no law protects them: the laws this service covers do not
apply where they live, and the company's policy gives them these rights (spec section 5)."""
import datetime as dt

import pytest
from django.utils import translation

from requests_app import letters, services
from requests_app import regimes as R
from tests.public_helpers import fresh_cache, location_data  # noqa: F401 (autouse fixture)

FALSE_CLAIMS = ["No data protection law", "no data protection law", "No privacy law", "no statutory right",
                "Ninguna ley", "ninguna ley", "Nenhuma lei", "nenhuma lei"]
TRUE_CLAIM = {"en": "do not apply where you live", "es": "no se aplican", "pt-br": "não se aplicam"}


def assert_truthful(text, lang):
    assert not [claim for claim in FALSE_CLAIMS if claim in text]
    assert TRUE_CLAIM[lang] in text


@pytest.mark.parametrize("lang", ["en", "es", "pt-br"])
@pytest.mark.parametrize("jurisdiction", ["CH", "CA", "JP", "US-TX"])
def test_it_says_the_covered_laws_do_not_apply_in_the_rights_page(db, client, jurisdiction, lang):
    client.cookies["django_language"] = lang
    client.post("/", location_data(jurisdiction))
    assert_truthful(client.get("/request/rights/").content.decode(), lang)


@pytest.mark.parametrize("lang", ["en", "es", "pt-br"])
def test_it_says_the_covered_laws_do_not_apply_in_the_letters(submit, manager, now, lang):
    now(dt.datetime(2026, 3, 2, 17, tzinfo=dt.timezone.utc))
    case = services.confirm_email(submit("CH", "access", language=lang))
    services.verify_identity(case, manager, method="Account login")
    services.deny(case, manager, reasons="No account")
    for kind in (letters.ACKNOWLEDGEMENT, letters.DENIAL):
        letter = case.letters.get(kind=kind)
        with translation.override(lang):
            assert_truthful(letters.render_html(letter), lang)


def test_it_names_the_voluntary_law_without_denying_any_law():
    assert "no statutory" not in R.VOLUNTARY.law and "do not apply" in R.VOLUNTARY.law
