"""Every requester e-mail renders, in text and HTML, in the requester's language (en, es, pt-BR)."""
import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from babel.messages.pofile import read_po
from django.conf import settings
from django.core import mail

from requests_app import letters, services
from requests_app.models import Awaiting, Letter
from requests_app.outbox import render_email

from .public_helpers import fresh_cache, link_from  # noqa: F401 - fresh_cache is autouse

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
LANGS = ["en", "es", "pt-br"]
# A sentence of each e-mail's body, per language: proves the body (not only the subject) is translated.
GREETING = {"en": "Hello Ana Example,", "es": "Hola, Ana Example:", "pt-br": "Olá, Ana Example,"}
MONTH = {"en": "March", "es": "marzo", "pt-br": "março"}


@pytest.fixture
def case(submit):
    with time_machine.travel(T0, tick=False):
        yield submit("US-CO", "access")


def _letter(case, kind, context):
    return Letter.objects.create(case=case, kind=kind, language=case.language, context=context)


def email_contexts(case):
    """Each e-mail kind with the context the services give it."""
    ctx = services._email_context
    yield "confirm_email", ctx(case, confirm_url=services.confirm_url(case), batch=[case])
    yield "acknowledgement", ctx(case, letter=_letter(case, letters.ACKNOWLEDGEMENT, {}))
    info = _letter(case, letters.REQUEST_INFORMATION, {"what": Awaiting.IDENTITY, "message": "Send ID",
                                                      "reply_due": "2026-03-16"})
    yield "information_requested", ctx(case, letter=info)
    for kind, context in [
        (letters.EXTENSION_NOTICE, {"new_due": "2026-05-31", "old_due": "2026-04-16", "reason": "Volume"}),
        (letters.DETERMINATION, {"admissible": True, "effective_due": "2026-03-30"}),
        (letters.FULFILMENT, {"outcome": "fulfil", "data": {"profile": {"name": "Ana"}}}),
        (letters.FULFILMENT, {"outcome": "partially_fulfil", "appeal_window_due": "2026-04-16"}),
        (letters.DENIAL, {"outcome": "deny", "reasons": "x", "appeal_window_due": "2026-04-16"}),
        (letters.APPEAL_DECISION, {"outcome": "upheld"}),
        (letters.APPEAL_DECISION, {"outcome": "reversed"}),
        (letters.APPEAL_DECISION, {"outcome": "partially_reversed"}),
        (letters.NOT_FILED, {"reason": "never confirmed"}),
    ]:
        yield "letter", ctx(case, letter=_letter(case, kind, context), letter_kind=kind)
    yield "withdrawn", ctx(case)
    yield "appeal_received", ctx(case, appeal_due=dt.date(2026, 3, 31))
    yield "status_link", ctx(case)


@pytest.mark.parametrize("language", LANGS)
def test_every_requester_email_renders_in_the_language(case, language):
    case.language = language
    subjects = set()
    for kind, context in email_contexts(case):
        subject, text, html = render_email(kind, context, language)
        assert subject and "\n" not in subject and "{%" not in subject
        assert GREETING[language] in text and GREETING[language] in html, (kind, text)
        assert case.reference in text and html.startswith("<!doctype html>")
        assert "&#x27;" not in text and "&amp;" not in text  # plain text is not HTML-escaped
        assert "status/" in text or "confirm/" in text
        subjects.add(subject)
    assert len(subjects) >= 10  # each letter kind has its own subject


@pytest.mark.parametrize("language", ["es", "pt-br"])
def test_dates_and_words_are_those_of_the_language(case, language):
    context = services._email_context(case, letter=_letter(case, letters.REQUEST_INFORMATION,
                                                           {"what": Awaiting.INFORMATION, "reply_due": "2026-03-16"}))
    subject, text, html = render_email("information_requested", context, language)
    assert MONTH[language] in text.lower() and "March" not in text
    english = render_email("information_requested", context, "en")
    assert subject != english[0] and text != english[1]
    for phrase in ("Please answer", "Our letter is attached", "Hello"):
        assert phrase not in text


@pytest.mark.parametrize("language,subject,body", [
    ("es", "Confirme su solicitud de privacidad", "Confirme su correo electrónico abriendo este enlace"),
    ("pt-br", "Confirme a sua solicitação de privacidade", "Confirme o seu e-mail abrindo este link"),
])
def test_a_request_made_in_a_language_gets_all_its_emails_in_it(client, submit, run, manager, language, subject,
                                                                 body, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        case = submit("BR" if language == "pt-br" else "MX", "access", language=language)
        assert subject in mail.outbox[0].subject and body in mail.outbox[0].body
        with django_capture_on_commit_callbacks(execute=True):
            client.post(link_from(mail.outbox[0]))
        ack = mail.outbox[-1]
        assert MONTH[language] in ack.body.lower() and MONTH[language] in ack.alternatives[0][0].lower()
        case.refresh_from_db()
        run(services.withdraw, case)
    withdrawn = mail.outbox[-1]
    assert ("retirado" if language == "es" else "retirada") in withdrawn.subject
    assert re.search(r'<html lang="(es|pt-br)">', withdrawn.alternatives[0][0])


# Files whose strings a member of the public reads (the staff UI stays in English).
PUBLIC_SOURCES = ("templates/emails/", "templates/requests_app/public/", "requests_app/forms.py",
                  "requests_app/public_display.py", "requests_app/views/public", "requests_app/uploads.py",
                  "requests_app/regimes.py", "templates/base.html", "templates/403_csrf.html")


@pytest.mark.parametrize("locale", ["es", "pt_BR"])
def test_catalogue_translates_every_public_string(locale):
    path = Path(settings.BASE_DIR) / "locale" / locale / "LC_MESSAGES" / "django.po"
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    missing = []
    for message in catalogue:
        if not message.id or not any(loc.startswith(PUBLIC_SOURCES) for loc, _ in message.locations):
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            missing.append(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(re.findall(r"%\(\w+\)\w", " ".join(ids)))
        for s in strings:
            assert set(re.findall(r"%\(\w+\)\w", s)) == wanted, (message.id, s)
    assert not missing, f"{len(missing)} public strings untranslated in {locale}: {missing[:5]}"
