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
