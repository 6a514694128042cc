"""Spanish and Portuguese pages and e-mails: law names, Mexican citations and months in the
language's own form (issue 11)."""
import datetime as dt

import time_machine
from django.core import mail
from django.utils.html import strip_tags

from requests_app import services
from requests_app.outbox import render_email

from .public_helpers import fresh_cache, location_data  # noqa: F401 - fresh_cache is autouse


def rights_page(client, jurisdiction, language) -> str:
    client.cookies["django_language"] = language
    client.post("/", location_data(jurisdiction))
    return " ".join(strip_tags(client.get("/request/rights/").content.decode()).split())


def test_it_names_the_gdpr_in_spanish(client, db):
    page = rights_page(client, "ES", "es")
    assert "RGPD" in page and "Reglamento General de Protección de Datos" in page
    assert "GDPR" not in page and "la GDPR" not in page


def test_it_translates_the_mexican_citations(client, db):
    page = rights_page(client, "MX", "es")
    assert "derechos ARCO: acceso" in page and "respuesta sobre la procedencia en 20 días" in page
    assert "ARCO rights" not in page and "determination within" not in page


def test_it_translates_the_brazilian_law_number(client, db):
    page = rights_page(client, "BR", "pt-br")
    assert "Lei 13.709/2018" in page and "Law 13.709" not in page


def test_it_writes_portuguese_months_in_lower_case(submit, django_capture_on_commit_callbacks):
    with time_machine.travel(dt.datetime(2026, 12, 1, 15, tzinfo=dt.timezone.utc), tick=False):
        case = submit("BR", "access", language="pt-br")
        with django_capture_on_commit_callbacks(execute=True):
            services.confirm_email(case)
    body = mail.outbox[-1].body
    assert "de dezembro de 2026" in body and "Dezembro" not in body


def test_it_says_rgpd_in_spanish_emails(submit):
    case = submit("DE", "access", language="es")
    subject, text, html = render_email("status_link", services._email_context(case), "es")
    assert "RGPD" in text and "GDPR" not in text


def test_it_addresses_spanish_readers_as_usted_everywhere():
    """One register: every Spanish web and e-mail string uses "usted", as the letters do."""
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po
    from django.conf import settings

    familiar = re.compile(r"(?<![\wáéíóúñ])(tú|tu|tus|te|ti|contigo|puedes|tienes|quieres|vives|estás|eres|hiciste|"
                          r"pediste|perdiste|necesitas|elige|sube|escribe|confirma tu|[a-záéíóú]+telo)(?![\wáéíóúñ])", re.I)
    with open(Path(settings.BASE_DIR) / "locale/es/LC_MESSAGES/django.po", "rb") as fh:
        catalogue = read_po(fh)
    found = [m.string for m in catalogue if m.id and isinstance(m.string, str) and familiar.search(m.string)]
    assert not found, found[:5]


def test_it_uses_the_letters_words_for_request_types_on_pages():
    from babel.messages.pofile import read_po
    from django.conf import settings

    from requests_app import regimes as R

    def load(folder):
        with open(settings.BASE_DIR / folder / "es/LC_MESSAGES/django.po", "rb") as fh:
            return read_po(fh)

    web, letters = load("locale"), load("locale_letters")
    for label in {t.label for r in R.REGIMES.values() for t in r.request_types}:
        if web.get(label) and letters.get(label, context="letter"):
            assert web.get(label).string == letters.get(label, context="letter").string, label
