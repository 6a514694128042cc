"""Response letters, end to end: each decision a case can reach, taken through the services,
rendered by the (eager) Celery task, parsed back from the PDF with pypdf.

Every kind is rendered in en, es and pt-BR, each time under a regime whose legal content differs,
and the test asserts what the law needs the letter to say. Set DSAR_LETTER_DUMP=/some/dir to keep
the PDFs for a look."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from pypdf import PdfReader

from requests_app import letters, services
from requests_app.letters import format_letter_date
from tests.fixtures import make_user

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday 2 March 2026, daytime in the Americas

KNOW = {"categories": ["Identifiers", "Commercial information"], "sources": ["You", "Your device"],
        "purposes": ["Fulfilling orders", "Fraud prevention"], "recipients": ["Couriers", "Payment processors"],
        "data": {"account": {"name": "Ana Example", "email": "ana@example.com"},
                 "orders": {"count": 3, "last": "2026-02-01"}}}

PREVAILS = {"es": "prevalecerá la versión en inglés", "pt-br": "prevalece a versão em inglês"}
AG = {"cpa": "1300 Broadway, Denver, CO 80203", "ctdpa": "165 Capitol Avenue, Hartford, CT 06106",
      "vcdpa": "202 North Ninth Street, Richmond, VA 23219"}



def pdf_text(letter) -> str:
    letter.refresh_from_db()
    assert letter.status == "issued", letter.error
    with letter.file.open("rb") as fh:
        content = fh.read()
    dump = os.environ.get("DSAR_LETTER_DUMP")
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        Path(dump, f"{letter.kind}-{letter.language}-{letter.case.regime}-{letter.pk}.pdf").write_bytes(content)
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def d(iso: str, lang: str, controller: str = "intl") -> str:
    return format_letter_date(iso, lang, controller)


# --- getting a case to each decision, through the services ------------------------------------------

def confirmed(submit, run, jurisdiction, request_type="access", lang="en", **kw):
    case = submit(jurisdiction, request_type, language=lang, **kw)
    return run(services.confirm_email, case)


def in_progress(submit, run, manager, jurisdiction, request_type="access", lang="en", **kw):
    case = confirmed(submit, run, jurisdiction, request_type, lang, **kw)
    if case.state == "verifying":
        case = run(services.verify_identity, case, manager, method="Signed in to the account")
    return case


def denied(submit, run, manager, jurisdiction, lang, request_type="access", reasons="We hold no account under this address."):
    case = in_progress(submit, run, manager, jurisdiction, request_type, lang)
    if case.regime == "lfpdppp":
        case = run(services.determine, case, manager, admissible=True)
    return run(services.deny, case, manager, reasons=reasons)


def last_letter(case, kind):
    return case.letters.filter(kind=kind).order_by("-id").first()


# --- every kind in every language ---------------------------------------------------------------------

LANGS = ["en", "es", "pt-br"]


def make(kind, lang, submit, run, manager):
    """Reach `kind` in `lang`; returns (letter, facts to find in the PDF). Regimes vary by language so
    that each kind is seen under different laws."""
    expect = []
    if kind == "acknowledgement":
        jur = {"en": "US-CA", "es": "MX", "pt-br": "BR"}[lang]
        case = confirmed(submit, run, jur, lang=lang)
        letter = last_letter(case, kind)
        ctrl = "us" if jur.startswith("US") else "intl"
        if jur == "US-CA":
            expect += [d("2026-04-16", lang, ctrl), "45 days"]  # §1798.130(a)(2): respond within 45 days
        elif jur == "MX":
            expect += [d("2026-03-31", lang)]  # determination: 20 business days (16 March is a holiday)
        else:
            expect += [d("2026-03-17", lang)]  # LGPD Art. 19 II: 15 days
    elif kind == "request_information":
        jur, what = {"en": ("GB", "identity"), "es": ("MX", "information"), "pt-br": ("BR", "clarification")}[lang]
        case = confirmed(submit, run, jur, lang=lang)
        case = run(services.request_information, case, manager, what=what, message="Please send the order number.")
        letter = last_letter(case, kind)
        expect.append("Please send the order number.")
        if jur == "MX":
            reply = case.deadlines.get(kind="requester_reply").due_date.isoformat()
            expect.append(d(reply, lang))
        if jur == "GB":
            expect.append("Article 12A")
    elif kind == "extension_notice":
        jur = {"en": "US-CA", "es": "ES", "pt-br": "DE"}[lang]
        case = in_progress(submit, run, manager, jur, lang=lang)
        old = case.deadlines.get(kind="respond").due_date.isoformat()
        run(services.extend_deadline, case, manager, reason="Your account holds data in several systems.")
        new = case.deadlines.get(kind="respond").due_date.isoformat()
        letter = last_letter(case, kind)
        expect += ["Your account holds data in several systems.", d(old, lang, "us" if jur == "US-CA" else "intl"),
                   d(new, lang, "us" if jur == "US-CA" else "intl")]
        expect.append("1798.130(a)(2)" if jur == "US-CA" else "12(3)")
    elif kind == "determination":
        case = in_progress(submit, run, manager, "MX", lang=lang)
        if lang == "es":
            case = run(services.determine, case, manager, admissible=True)
            expect.append(d(case.deadlines.get(kind="effective").due_date.isoformat(), lang))
        else:
            case = run(services.determine, case, manager, admissible=False, reasons="The account was closed in 2019.")
            expect += ["The account was closed in 2019.", "Secretaría Anticorrupción y Buen Gobierno", "Art. 40"]
        letter = last_letter(case, kind)
    elif kind == "fulfilment":
        if lang == "en":
            case = in_progress(submit, run, manager, "US-CA", lang=lang)
            case = run(services.fulfil, case, manager, decision=KNOW)
            expect += ["Identifiers", "Your device", "Fraud prevention", "Payment processors", "-data.json",
                       "-data.csv", "12 months"]
        elif lang == "es":
            case = in_progress(submit, run, manager, "MX", "cancellation", lang=lang)
            case = run(services.determine, case, manager, admissible=True)
            case = run(services.partially_fulfil, case, manager, reasons="Invoices must be kept for five years.",
                       decision={"retained": ["Invoices"]})
            expect += ["Invoices must be kept for five years.", "Secretaría Anticorrupción y Buen Gobierno"]
        else:
            case = in_progress(submit, run, manager, "BR", lang=lang)
            case = run(services.fulfil, case, manager, decision=KNOW)
            expect += ["Couriers", "-data.json"]
        letter = last_letter(case, kind)
    elif kind == "denial":
        jur = {"en": "DE", "es": "US-CO", "pt-br": "BR"}[lang]
        case = denied(submit, run, manager, jur, lang)
        letter = last_letter(case, kind)
        expect.append("We hold no account under this address.")
        if jur == "DE":
            expect += ["Die Bundesbeauftragte für den Datenschutz", "edpb.europa.eu"]
        elif jur == "US-CO":
            window = case.deadlines.get(kind="appeal_window").due_date.isoformat()
            expect += [d(window, lang, "us"), "Colorado Attorney General"]
        else:
            expect += ["ANPD", "gov.br/anpd"]
    elif kind == "appeal_decision":
        jur, outcome = {"en": ("US-CO", "upheld"), "es": ("US-VA", "partially_reversed"),
                        "pt-br": ("US-CT", "upheld")}[lang]
        case = denied(submit, run, manager, jur, lang)
        appeal = run(services.file_appeal, case, statement="I do have an account.")
        run(services.decide_appeal, appeal, make_user("dan", "manager"), outcome=outcome, reasons="No account matches the details given.")
        letter = last_letter(case, kind)
        expect += ["No account matches the details given.", AG[case.regime]]
    elif kind == "not_filed":
        if lang == "es":
            case = confirmed(submit, run, "MX", lang=lang)
            case = run(services.request_information, case, manager, what="information", message="Which account?")
            reply = case.deadlines.get(kind="requester_reply").due_date.isoformat()
            with time_machine.travel(dt.datetime.fromisoformat(reply).replace(tzinfo=dt.timezone.utc)
                                     + dt.timedelta(days=2), tick=False):  # the 10 business days lapsed
                case = run(services.close_not_filed, case, reason="No reply within 10 business days (LFPDPPP)")
            expect += [d(reply, lang), "se tiene por no presentada"]
        else:
            jur = {"en": "US-CA", "pt-br": "BR"}[lang]
            case = submit(jur, "access", language=lang)
            case = run(services.close_not_filed, case, reason="E-mail address never confirmed")
            expect.append("14")  # DSAR_CONFIRMATION_DAYS
        letter = last_letter(case, kind)
    else:  # pragma: no cover
        raise AssertionError(kind)
    ctrl = letters.controller_key(case)
    expect += [case.reference, d(letter.context["facts"]["issued_on"], lang, ctrl),
               d(letter.context["facts"]["received_on"], lang, ctrl),
               {"us": "AliExpress E-Commerce One Pte. Ltd.",
                "intl": "Alibaba.com Singapore E-Commerce Private Limited"}[ctrl]]
    return letter, expect


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", letters.KINDS)
@time_machine.travel(T0, tick=False)
def test_every_kind_in_every_language(kind, lang, submit, run, manager):
    letter, expect = make(kind, lang, submit, run, manager)
    assert letter is not None, f"no {kind} letter was issued"
    assert letter.language == lang
    text = pdf_text(letter)
    for fragment in expect:
        assert fragment in text, f"{fragment!r} missing from the {kind}/{lang} letter:\n{text}"
    assert re.search(r"(Page|Página) 1 (of|de) \d", text)
    if lang in PREVAILS:
        assert PREVAILS[lang] in text
        assert "Dear " not in text and "Yours sincerely" not in text  # really translated
    else:
        assert "prevail" not in text
    assert "Legal basis" in text or "Fundamento legal" in text or "Base legal" in text


# --- what each law requires a refusal to say -----------------------------------------------------------

@pytest.mark.parametrize("jurisdiction,expected", [
    ("FR", ["Commission nationale de l'informatique et des libertés (CNIL)", "judicial remedy"]),
    ("GB", ["Information Commissioner's Office", "ico.org.uk", "complain to us first"]),
    ("US-CA", ["California Privacy Protection Agency", "cppa.ca.gov"]),
    ("US-CT", ["You may appeal", "Connecticut Attorney General", "within 60 days"]),
    ("US-VA", ["You may appeal", "Virginia Attorney General"]),
    ("US-CO", ["You may appeal", "within 45 days of receiving it", "extend this period by 60 days"]),
    ("US-UT", ["Utah Division of Consumer Protection"]),
    ("BR", ["Autoridade Nacional de Proteção de Dados (ANPD)"]),
    ("MX", ["Secretaría Anticorrupción y Buen Gobierno", "within 15 days"]),
    ("JP", ["the data protection laws this service covers do not apply where you live"]),
])
@time_machine.travel(T0, tick=False)
def test_denials_name_the_remedy_of_their_law(jurisdiction, expected, submit, run, manager):
    case = denied(submit, run, manager, jurisdiction, "en")
    letter = last_letter(case, "denial")
    html = " ".join(letters.render_html(letter).split())
    for fragment in expected:
        assert fragment.replace("'", "&#x27;") in html or fragment in html, f"{fragment!r} missing for {jurisdiction}"
    assert "We hold no account under this address." in html
    if case.regime_info.appeal:
        window = case.deadlines.get(kind="appeal_window").due_date
        assert window == dt.date(2026, 4, 16)  # 45 days after the decision (company policy, section K)
        assert format_letter_date(window.isoformat(), "en", "us") in html


@time_machine.travel(T0, tick=False)
def test_appeal_reversed_names_no_attorney_general(submit, run, manager):
    case = denied(submit, run, manager, "US-CO", "en")
    appeal = run(services.file_appeal, case, statement="I do have an account.")
    run(services.decide_appeal, appeal, make_user("dan", "manager"), outcome="reversed", reasons="We found your account.")
    html = letters.render_html(last_letter(case, "appeal_decision"))
    assert "We reverse our original decision." in html and "Attorney General" not in html


@time_machine.travel(T0, tick=False)
def test_gdpr_access_response_gives_article_15_information(submit, run, manager):
    case = in_progress(submit, run, manager, "IE")
    run(services.fulfil, case, manager, decision={**KNOW, "retention": ["Orders: 6 years after purchase"]})
    html = " ".join(letters.render_html(last_letter(case, "fulfilment")).split())
    for fragment in ("Categories of personal data we process", "Where the data comes from", "Why we process it",
                     "Who receives it", "Orders: 6 years after purchase", "Standard Contractual Clauses",
                     "Data Protection Commission", "rectify or erase"):
        assert fragment in html, fragment


@time_machine.travel(T0, tick=False)
def test_confirmations_for_deletion_correction_restriction_and_opt_out(submit, run, manager):
    expected = {("US-CA", "deletion"): "directed our service providers and contractors to delete it",
                ("US-CA", "correction"): "We have corrected your personal data",
                ("DE", "restriction"): "We have restricted the processing of your personal data",
                ("US-CA", "opt_out_sale_sharing"): "We have stopped selling and sharing your personal information",
                ("US-VA", "opt_out"): "profiling in furtherance of decisions",
                ("US-NV", "opt_out_sale"): "not to sell your covered information"}
    for (jur, rtype), fragment in expected.items():
        case = in_progress(submit, run, manager, jur, rtype, requester_email=f"{rtype}@example.com")
        run(services.fulfil, case, manager, decision={"actions": ["Done in all systems"]})
        html = " ".join(letters.render_html(last_letter(case, "fulfilment")).split())
        assert fragment in html and "Done in all systems" in html, (jur, rtype)


@time_machine.travel(T0, tick=False)
def test_us_buyers_in_states_without_a_privacy_law_get_the_us_controller(submit, run, manager):
    case = confirmed(submit, run, "US-TX")
    assert letters.controller_key(case) == "us"
    assert "AliExpress E-Commerce One Pte. Ltd." in letters.render_html(last_letter(case, "acknowledgement"))
    case = confirmed(submit, run, "JP", requester_email="jp@example.com")
    assert "Alibaba.com Singapore E-Commerce Private Limited" in letters.render_html(last_letter(case, "acknowledgement"))


# --- the life of a letter ----------------------------------------------------------------------------

@time_machine.travel(T0, tick=False)
def test_access_fulfilment_attaches_the_data_as_json_and_csv(submit, run, manager):
    import csv
    import json

    mail.outbox.clear()
    case = in_progress(submit, run, manager, "US-CA")
    mail.outbox.clear()
    run(services.fulfil, case, manager, decision={**KNOW, "data": {**KNOW["data"], "notes": "=HYPERLINK(\"x\")"}})
    letter = last_letter(case, "fulfilment")
    message = mail.outbox[-1]
    names = {name: (content, mime) for name, content, mime in message.attachments}
    assert set(names) == {f"{case.reference}-fulfilment.pdf", f"{case.reference}-data.json", f"{case.reference}-data.csv"}
    content, mime = names[f"{case.reference}-data.json"]
    assert mime == "application/json"
    assert json.loads(content)["account"] == {"name": "Ana Example", "email": "ana@example.com"}
    content, mime = names[f"{case.reference}-data.csv"]
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["category", "field", "value"]
    assert ["account", "email", "ana@example.com"] in rows and ["orders", "count", "3"] in rows
    assert ["notes", "value", "'=HYPERLINK(\"x\")"] in rows  # no formula runs in a spreadsheet
    pdf = names[f"{case.reference}-fulfilment.pdf"][0]
    assert hashlib.sha256(pdf).hexdigest() == letter.sha256
    # The letter prints the fingerprints of the files that travel with it.
    text = pdf_text(letter)
    for name, (content, _mime) in names.items():
        if not name.endswith(".pdf"):
            body = content if isinstance(content, bytes) else content.encode()
            assert hashlib.sha256(body).hexdigest() in text


@time_machine.travel(T0, tick=False)
def test_issued_letter_is_immutable_and_matches_its_hash(submit, run):
    case = confirmed(submit, run, "US-CA")
    letter = last_letter(case, "acknowledgement")
    with letter.file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == letter.sha256 and letter.size > 1000
    issued = case.events.filter(kind="letter_issued")
    assert issued.count() == 1 and issued.get().data["sha256"] == letter.sha256
    letter.context = {"reasons": "something else"}
    with pytest.raises(PermissionError):
        letter.save()
    with pytest.raises(PermissionError):
        letter.delete()
    assert letters.render_letter(letter.pk) == "not-pending"  # rendering twice changes nothing
    letter.refresh_from_db()
    assert letters.verify_file(letter)


@time_machine.travel(T0, tick=False)
def test_download_is_audited_and_refuses_a_tampered_file(submit, run, manager):
    case = confirmed(submit, run, "US-CA")
    letter = last_letter(case, "acknowledgement")
    download = letters.open_for_download(letter, actor_label=manager.username, user=manager)
    assert download.content_type == "application/pdf" and download.content.startswith(b"%PDF")
    letters.open_for_download(letter, actor_label="requester")
    events = list(case.events.filter(kind="letter_downloaded"))
    assert [(e.actor, e.actor_label) for e in events] == [(manager, manager.username), (None, "requester")]
    assert events[0].data["sha256"] == letter.sha256
    Path(letter.file.path).write_bytes(b"%PDF-1.7 tampered")
    with pytest.raises(letters.LetterIntegrityError):
        letters.open_for_download(letter, actor_label="requester")
    assert case.events.filter(kind="letter_integrity_failed").count() == 1
    assert case.events.filter(kind="letter_downloaded").count() == 2


@time_machine.travel(T0, tick=False)
def test_a_correction_is_a_new_letter_that_names_the_old_one(submit, run, manager):
    case = denied(submit, run, manager, "DE", "en")
    original = last_letter(case, "denial")
    mail.outbox.clear()
    corrected = run(services.issue_correction, original, "The reasons named the wrong account.", user=manager,
                    changes={"reasons": "We hold no account under ana@example.com."})
    assert corrected.pk != original.pk and corrected.kind == "denial"
    original.refresh_from_db()
    assert original.status == "issued" and original.context["reasons"] == "We hold no account under this address."
    text = pdf_text(corrected)
    assert "We hold no account under ana@example.com." in text
    assert "corrects and replaces our letter" in text and original.sha256[:16] in text
    assert "The reasons named the wrong account." in text
    assert mail.outbox and any(n.endswith("-denial.pdf") for n, _c, _m in mail.outbox[-1].attachments)
    assert case.events.filter(kind="letter_corrected", actor=manager).exists()


@time_machine.travel(T0, tick=False)
def test_a_rendered_page_is_not_blank(submit, run, manager, tmp_path):
    """Rasterise page 1 with poppler's pdftoppm and look at the ink."""
    import shutil
    import subprocess

    from PIL import Image

    if not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils not installed")
    case = denied(submit, run, manager, "BR", "pt-br")
    letter = last_letter(case, "denial")
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", letter.file.path, str(tmp_path / "p")],
                   check=True, timeout=60)
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")

    def ink(img) -> float:  # share of pixels darker than light grey
        histogram = img.histogram()
        return sum(histogram[:200]) / sum(histogram)

    assert 0.01 < ink(image) < 0.5, f"{ink(image):.3%} of page 1 is ink"
    # The ink is spread over the page (letterhead at the top, body in the middle), not one blot.
    assert ink(image.crop((0, 0, image.width, image.height // 8))) > 0.005
    assert ink(image.crop((0, image.height // 4, image.width, image.height // 2))) > 0.01


def test_embedded_fonts_cover_spanish_and_portuguese():
    from fontTools.ttLib import TTFont

    for path in letters.FONT_DIR.glob("*.ttf"):
        cmap = TTFont(path, lazy=True).getBestCmap()
        missing = [ch for ch in "áéíóúüñÑ¿¡ãõâêôçÇàÁÉÍÓÚÃÕ§ºª€“”–…·" if ord(ch) not in cmap]
        assert not missing, (path.name, missing)
    assert (letters.FONT_DIR / "LICENSE-DejaVu.txt").exists()


@time_machine.travel(T0, tick=False)
def test_pdf_embeds_its_fonts(submit, run):
    case = confirmed(submit, run, "MX", lang="es")
    letter = last_letter(case, "acknowledgement")
    with letter.file.open("rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert fonts and all(name.startswith("Letter-Serif") for name in fonts), fonts  # our @font-face, no system font


@time_machine.travel(T0, tick=False)
def test_render_failure_keeps_the_letter_pending_then_gives_up(submit):
    from requests_app.models import Letter

    case = submit("US-CA", "access")
    letter = Letter.objects.create(case=case, kind="no_such_kind", language="en", context={})  # no template
    with pytest.raises(Exception):
        letters.render_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == "pending" and "no_such_kind" in letter.error
    with time_machine.travel(T0 + letters.RENDER_GIVE_UP + dt.timedelta(minutes=1), tick=False):
        with pytest.raises(Exception):
            letters.render_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == "failed" and case.events.filter(kind="letter_failed").exists()


@pytest.mark.parametrize("lang", ["es", "pt_BR"])
def test_every_letter_string_is_translated(lang):
    """Every string of the letters has a real translation, with the same placeholders; only proper
    names of laws (which stay in their own language) may be left as they are."""
    from babel.messages.pofile import read_po

    from requests_app import regimes as R

    path = Path(__file__).resolve().parent.parent / "locale_letters" / lang / "LC_MESSAGES" / "django.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    law_names = {r.name for r in R.REGIMES.values()}
    untranslated = [m.id for m in catalog if m.id and not m.string and m.id not in law_names]
    assert not untranslated, untranslated
    placeholder = re.compile(r"%\(\w+\)s")
    for m in catalog:
        if m.id and m.string:
            assert sorted(placeholder.findall(m.id)) == sorted(placeholder.findall(m.string)), m.id
            assert m.context == "letter", m.id  # never shadowed by, nor shadowing, the web catalogue


@time_machine.travel(T0, tick=False)
def test_extension_of_an_appeal_and_uk_clock_pause_are_explained(submit, run, manager):
    case = denied(submit, run, manager, "US-CO", "en")
    appeal = run(services.file_appeal, case, statement="I do have an account.")
    run(services.extend_deadline, case, manager, reason="We must check three archives.", appeal=appeal)
    letter = last_letter(case, "extension_notice")
    assert letter.appeal_id == appeal.pk
    html = " ".join(letters.render_html(letter).split())
    assert "appeal we received from you on March 2, 2026" in html
    assert "60 additional days" in html and "C.R.S. 6-1-1306(3)(b)" in html
    assert format_letter_date(letter.context["new_due"], "en", "us") in html

    case = confirmed(submit, run, "GB", requester_email="uk@example.com")
    run(services.request_information, case, manager, what="clarification", message="Which orders?")
    html = " ".join(letters.render_html(last_letter(case, "request_information")).split())
    assert "is paused until we receive your answer" in html and "Clarification of your request" in html
