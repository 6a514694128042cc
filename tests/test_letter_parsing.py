"""Letters are parsed with expat when their HTML is well-formed XML (letters.parse_html), which is
much cheaper than WeasyPrint's pure-Python HTML5 parser. The letter must not change by a byte: each
issued letter below is parsed again the ordinary way and must give the PDF whose SHA-256 was stored."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.conf import settings
from pypdf import PdfReader

from requests_app import letters, services
from requests_app.models import DataSubjectRequest
from tests.fixtures import make_user

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday
KNOW = {"categories": ["Identifiers"], "sources": ["You"], "purposes": ["Fulfilling orders"],
        "recipients": ["Couriers"], "data": {"account": {"name": "Ana Example", "email": "ana@example.com"}}}



def html5_pdf(letter) -> bytes:
    """The letter rendered with WeasyPrint's own HTML5 parser, as before the fast path."""
    fonts, css, letter_html = letters._weasy()
    document = letter_html(string=letters.render_html(letter), base_url=str(settings.BASE_DIR))
    return document.write_pdf(stylesheets=[css], font_config=fonts)


def assert_same_as_html5(case) -> list[str]:
    issued = list(case.letters.filter(status="issued"))
    assert issued
    for letter in issued:
        html = letters.render_html(letter)
        letters._weasy()[2].from_xhtml(html, "/")  # the fast path is taken (no ParseError)
        assert hashlib.sha256(html5_pdf(letter)).hexdigest() == letter.sha256, letter.kind
    return [letter.kind for letter in issued]


def verified(submit, run, manager, jurisdiction, request_type="access", **kw):
    case = run(services.confirm_email, submit(jurisdiction, request_type, **kw))
    if case.state == "verifying":
        case = run(services.verify_identity, case, manager, method="Signed in to the account")
    return case


@time_machine.travel(T0, tick=False)
def test_english_us_denial_appeal_and_extension(submit, run, manager):
    case = verified(submit, run, manager, "US-CO")
    run(services.extend_deadline, case, manager, reason="Data held in several systems & archives.")
    case = DataSubjectRequest.objects.get(pk=case.pk)  # extend_deadline returns the clock
    case = run(services.deny, case, manager, reasons="No account under <this> address.")
    appeal = run(services.file_appeal, case, statement="I do have an account.")
    run(services.decide_appeal, appeal, make_user("dan", "manager"),  # an independent reviewer
        outcome="upheld", reasons="No account matches.")
    kinds = assert_same_as_html5(case)
    assert {"acknowledgement", "extension_notice", "denial", "appeal_decision"} <= set(kinds)


@time_machine.travel(T0, tick=False)
def test_spanish_mexico_information_determination(submit, run, manager):
    case = run(services.confirm_email, submit("MX", "access", language="es"))
    case = run(services.request_information, case, manager, what="information", message="¿Qué cuenta?")
    kinds = assert_same_as_html5(case)
    assert {"acknowledgement", "request_information"} <= set(kinds)
    other = verified(submit, run, manager, "MX", language="es", requester_email="b@example.com")
    run(services.determine, other, manager, admissible=False, reasons="La cuenta se cerró en 2019.")
    assert "determination" in assert_same_as_html5(other)


@time_machine.travel(T0, tick=False)
def test_portuguese_access_response_with_data(submit, run, manager):
    case = verified(submit, run, manager, "BR", language="pt-br", requester_name="Ana & <Filhos>")
    run(services.fulfil, case, manager, decision=KNOW)
    assert "fulfilment" in assert_same_as_html5(case)
    closed = run(services.close_not_filed, submit("BR", "access", language="pt-br", requester_email="c@example.com"),
                 reason="E-mail address never confirmed")
    assert "not_filed" in assert_same_as_html5(closed)


@time_machine.travel(T0, tick=False)
def test_text_that_is_not_well_formed_xml_still_renders_through_the_html5_parser(submit, run):
    case = run(services.confirm_email, submit("DE", "access", requester_name="Ana\x0bExample"))
    letter = case.letters.get(kind="acknowledgement")
    html = letters.render_html(letter)
    with pytest.raises(letters.ElementTree.ParseError):
        letters._weasy()[2].from_xhtml(html, "/")
    assert letter.status == "issued" and hashlib.sha256(html5_pdf(letter)).hexdigest() == letter.sha256


def test_footer_label_escapes_what_would_break_the_xml():
    css = letters._css_string('A<b> & "c"\\')
    assert "<" not in css and "&" not in css
    assert css == '"A\\3c b> \\26  \\"c\\"\\\\"'


def pdf_lines(letter) -> list[str]:
    with letter.file.open("rb") as fh:
        return [line.strip() for line in PdfReader(fh).pages[0].extract_text().splitlines()]


@time_machine.travel(T0, tick=False)
def test_stacked_lines_stay_separate_lines(submit, run):
    """Letterhead, reference and dates, addressee and signature are one pre-line block each: still
    one line per item in the PDF."""
    case = run(services.confirm_email, submit(
        "US-CA", "access", filer="agent", agent_name="Agent Smith", agent_organisation="Smith LLP",
        agent_email="agent@example.com", authorisation=services.Upload("signed.pdf", b"%PDF-1.4 x", "application/pdf")))
    lines = pdf_lines(case.letters.get(kind="acknowledgement"))
    for line in (f"Our reference: {case.reference}", "Date: March 2, 2026", "Your request received: March 2, 2026",
                 "Ana Example", "c/o Agent Smith, Smith LLP", "By e-mail: ana@example.com", "Privacy Office",
                 "AliExpress E-Commerce One Pte. Ltd.", "DataProtection.AE@aliexpress.com"):
        assert line in lines, line
    intl = run(services.confirm_email, submit("DE", "access", requester_email="b@example.com"))
    controller = settings.DSAR_CONTROLLERS["intl"]
    lines = pdf_lines(intl.letters.get(kind="acknowledgement"))
    assert f"{controller['address']} · {controller['registration']}" in lines
    assert f"Data Protection Officer: {controller['email']} · {controller['web']}" in lines
