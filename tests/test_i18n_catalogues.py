"""A requester reading Spanish or Portuguese sees no English sentence of the page or e-mail they get.

The English sentences are taken from each template's own source (as makemessages reads it), so a
string added to a template without its es/pt_BR translation makes these tests fail."""
import ast
import datetime as dt
import html
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_python
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation.template import templatize

from requests_app import services
from requests_app.outbox import render_email
from requests_app.tokens import AGENT_PERMISSION, STATUS, make_token
from tests.public_helpers import fresh_cache, location_data  # noqa: F401 (autouse fixture)

LA = ZoneInfo("America/Los_Angeles")
LANGUAGES = ["es", "pt-br"]
KEYWORDS = {"gettext": None, "pgettext": ((1, "c"), 2), "ngettext": (1, 2), "npgettext": ((1, "c"), 2, 3)}
INCLUDE = re.compile(r"""{%\s*include\s+["']([^"']+)["']""")
# A fragment of a sentence between placeholders and tags: three words or more reads as English prose
# (shorter ones, like "E-mail" or a law's name, may rightly be the same in the other languages).
PROSE = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,]+[A-Za-z][A-Za-z'’-]*){2,}")


def _source(name: str, seen: set) -> str:
    """The template's source with the partials it includes by name (not the base it extends)."""
    if name in seen:
        return ""
    seen.add(name)
    text = Path(get_template(name).origin.name).read_text(encoding="utf-8")
    return text + "".join(_source(partial, seen) for partial in INCLUDE.findall(text))


def english_sentences(*names: str) -> set[str]:
    """The msgids of these templates, split at placeholders and HTML tags, whitespace collapsed."""
    seen: set = set()
    source = "".join(_source(name, seen) for name in names)
    found = set()
    python = io.BytesIO(templatize(source).encode())
    for _line, _func, ids, _comments in extract_python(python, KEYWORDS, [], {}):
        for msgid in ids if isinstance(ids, tuple) else (ids,):
            if not msgid:
                continue
            for piece in re.split(r"%\(\w+\)\w|<[^>]+>", msgid):
                piece = " ".join(piece.split())
                if PROSE.search(piece):
                    found.add(piece)
    return found


def english_left(sentences: set[str], rendered: str) -> set[str]:
    text = " ".join(html.unescape(rendered).split())
    return {sentence for sentence in sentences if sentence in text}


def agent_case(submit, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    auth = services.Upload("permission.pdf", b"%PDF-1.4 signed permission", "application/pdf")
    return submit("US-CA", "deletion", filer="agent", agent_name="Privacy Helpers",
                  agent_email="agent@helpers.example", authorisation=auth)


def page(client, language, url, **headers):
    client.cookies["django_language"] = language
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def assert_translated(template_names, render):
    """Rendered in English the page shows its template's sentences; in es and pt-BR, none of them."""
    sentences = english_sentences(*template_names)
    assert sentences
    shown = english_left(sentences, render("en"))
    assert shown, "the scenario renders none of the template's sentences: it proves nothing"
    for language in LANGUAGES:
        left = english_left(shown, render(language))
        assert not left, f"untranslated in {language}: {sorted(left)[:5]}"


def test_it_translates_the_status_page_of_an_agent_case_awaiting_permission(client, submit, now):
    case = services.confirm_email(agent_case(submit, now))
    assert case.awaits_consumer_permission
    url = reverse("public:status", args=[make_token(case, STATUS)])
    sentences = english_sentences("requests_app/public/status.html")
    assert any("permission to act for you" in s for s in sentences)
    assert_translated(["requests_app/public/status.html"], lambda language: page(client, language, url))
    assert "Privacy Helpers" in page(client, "es", url)


def test_it_translates_the_agent_permission_page(client, submit, now):
    case = services.confirm_email(agent_case(submit, now))
    url = reverse("public:agent_permission", args=[make_token(case, AGENT_PERMISSION)])
    assert_translated(["requests_app/public/agent_permission.html"], lambda language: page(client, language, url))


def test_it_translates_the_gpc_opt_out_page(db, client):
    gpc = {"HTTP_SEC_GPC": "1"}
    client.post("/", {**location_data("US-CA"), "gpc_opt_out": "1"}, **gpc)
    rendered = {}

    def render(language):
        rendered[language] = page(client, language, reverse("public:opt_out"), **gpc)
        return rendered[language]

    assert_translated(["requests_app/public/opt_out.html"], render)
    assert "Global Privacy Control signal" in rendered["en"]  # the page a GPC browser gets, not the plain form


def test_it_translates_the_lost_link_page(db, client):
    assert_translated(["requests_app/public/resend.html"],
                      lambda language: page(client, language, reverse("public:resend")))


def _email(kind):
    return [f"emails/{kind}-subject.txt", f"emails/{kind}-body.txt", f"emails/{kind}-body.html"]


def _rendered_email(kind, context, language):
    return "\n".join(render_email(kind, context, language))


def test_it_translates_the_agent_permission_e_mail(submit, now):
    case = agent_case(submit, now)
    context = {**services._email_context(case), "permission_url": "https://example.com/agent-permission/x/",
               "batch": [case]}
    assert_translated(_email("agent_permission"), lambda language: _rendered_email("agent_permission", context,
                                                                                   language))


def test_it_translates_the_confirmation_e_mail(submit, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit("US-CA", "access")
    context = services._email_context(case, confirm_url=services.confirm_url(case), batch=[case])
    assert_translated(_email("confirm_email"), lambda language: _rendered_email("confirm_email", context, language))


def test_it_finds_the_english_of_a_template_the_way_makemessages_does():
    sentences = english_sentences("emails/agent_permission-body.html")
    assert "has made a privacy request to us on your behalf, as your authorised agent:" in sentences
    assert not any("{%" in s or "<" in s for s in sentences)


# Every source a requester reads; staff pages and staff alerts stay in English (fulfilment's requester
# texts live in requests_app/fulfilment/texts.py, translated there).
REQUESTER_TEMPLATES = ["templates/requests_app/public/*.html", "templates/emails/*.txt", "templates/emails/*.html",
                       "requests_app/intake/templates/intake/email_code.html", "requests_app/intake/templates/emails/*",
                       "requests_app/drp/templates/drp/verify.html"]
STAFF_EMAILS = ("deadline_alert-", "password_reset-")
REQUESTER_PYTHON = ["requests_app/forms.py", "requests_app/public_display.py", "requests_app/views/public*.py",
                    "requests_app/notify.py", "requests_app/refusals.py"]
PY_KEYWORDS = {**KEYWORDS, "_": None, "gettext_lazy": None, "ngettext_lazy": (1, 2), "pgettext_lazy": ((1, "c"), 2)}


def requester_msgids():
    root = Path(__file__).resolve().parent.parent
    for pattern in REQUESTER_TEMPLATES:
        for path in sorted(root.glob(pattern)):
            if path.name.startswith(STAFF_EMAILS):
                continue
            python = io.BytesIO(templatize(path.read_text(encoding="utf-8")).encode())
            for _line, func, ids, _comments in extract_python(python, KEYWORDS, [], {}):
                yield path.relative_to(root), func, ids
    for pattern in REQUESTER_PYTHON:
        for path in sorted(root.glob(pattern)):
            # As xgettext reads Python: only calls whose arguments are literal strings (not _(label)).
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in PY_KEYWORDS:
                    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                    if args and isinstance(node.args[0], ast.Constant):
                        yield path.relative_to(root), node.func.id, tuple(args)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_every_requester_string_in_the_catalogues(language):
    from django.utils.translation import trans_real

    catalogue = trans_real.translation(language)._catalog
    missing = []
    count = 0
    for path, func, ids in requester_msgids():
        ids = ids if isinstance(ids, tuple) else (ids,)
        if not ids[0]:
            continue  # a variable, e.g. {% translate regime.name %}
        count += 1
        if func.startswith("np"):
            key = (f"{ids[0]}\x04{ids[1]}", 0)
        elif func.startswith("p"):
            key = f"{ids[0]}\x04{ids[1]}"
        elif func.startswith("n"):
            key = (ids[0], 0)
        else:
            key = ids[0]
        if key not in catalogue:
            missing.append(f"{path}: {ids}")
    assert count > 300
    assert not missing, f"{len(missing)} requester strings have no {language} translation: {missing[:5]}"
