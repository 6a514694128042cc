"""The intake's public strings (one-time code page, reminder and code e-mails) in every language
of the form."""
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from requests_app import services as core
from requests_app.outbox import render_email

APP = Path(__file__).resolve().parent.parent
REMINDER = {"en": "not confirmed yet", "es": "aún no está confirmada", "pt-br": "ainda não foi confirmado"}
CODE = {"en": "Your code is 123456", "es": "Tu código es 123456", "pt-br": "Seu código é 123456"}


@pytest.mark.parametrize("language", ["en", "es", "pt-br"])
def test_the_reminder_and_code_emails_are_in_the_requesters_language(submit, language):
    case = submit("DE", "access", language=language)
    subject, text, _ = render_email("confirm_reminder", core._email_context(
        case, confirm_url=core.confirm_url(case), batch=[case], closes_on=None), language)
    assert REMINDER[language] in text and case.reference in subject and "/confirm/" in text
    _, text, _ = render_email("email_code", {"code": "123456", "minutes": 15}, language)
    assert CODE[language] in text


@pytest.mark.parametrize("locale", ["es", "pt_BR"])
def test_the_catalogue_translates_every_template_string(locale):
    with (APP / "locale" / locale / "LC_MESSAGES" / "django.po").open("rb") as fh:
        catalogue = {m.id: m.string for m in read_po(fh) if m.id}
    sources = [*APP.glob("templates/emails/*.txt"), APP / "templates/intake/email_code.html"]
    core_catalogue = Path(core.__file__).resolve().parent.parent / "locale" / locale / "LC_MESSAGES" / "django.po"
    with core_catalogue.open("rb") as fh:
        known = {m.id for m in read_po(fh) if m.id and m.string} | set(catalogue)
    wanted = set()
    for source in sources:
        text = source.read_text()
        wanted |= set(re.findall(r'{% translate "([^"]+)"', text))
        for block in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", text, re.S):
            wanted.add(re.sub(r"{{ (\w+)(\|[^}]*)? }}", r"%(\1)s", block))
    assert wanted - known == set()
    for msgid, msgstr in catalogue.items():
        assert msgstr and set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", msgstr)), msgid
