"""Every language the requester may read says everything the English says."""
import pytest

from requests_app.fulfilment.models import Category
from requests_app.fulfilment.texts import TEXTS, for_language


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_every_language_has_every_text_and_category(language):
    assert set(TEXTS[language]) == set(TEXTS["en"])
    assert {f"cat_{c}" for c in Category.values} <= set(TEXTS[language])


def test_it_falls_back_to_english_and_matches_regional_codes():
    assert for_language("pt-BR") is TEXTS["pt-br"]
    assert for_language("es-mx") is TEXTS["es"]
    assert for_language("fr") is TEXTS["en"]
