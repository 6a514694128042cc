"""Letters: no page holds only the closing's footer lines, and transfers are listed relative to the
requester's country (issue 11)."""
import io

import pytest
from pypdf import PdfReader

from requests_app import letters, services


def pages(letter) -> list[str]:
    letter.refresh_from_db()
    assert letter.status == "issued", letter.error
    with letter.file.open("rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def fulfilled(submit, run, manager, jurisdiction, lang, actions):
    case = run(services.confirm_email, submit(jurisdiction, "access", language=lang))
    if case.state == "verifying":
        case = run(services.verify_identity, case, manager, method="Signed in to the account")
    return run(services.fulfil, case, manager, decision={"actions": actions, "categories": ["Identifiers"],
                                                         "sources": ["You"], "purposes": ["Orders"],
                                                         "recipients": ["Couriers"]})


@pytest.mark.parametrize("lines", range(10, 40, 3))
def test_it_never_leaves_the_footer_alone_on_the_last_page(submit, run, manager, lines):
    case = fulfilled(submit, run, manager, "DE", "en", [f"Step {i}: exported the records of system {i}."
                                                        for i in range(lines)])
    text = pages(case.letters.get(kind=letters.FULFILMENT))
    last = text[-1]
    assert "Yours sincerely" in last and "Applicable law" in last, (lines, len(text), last[:200])


@pytest.mark.parametrize("jurisdiction,lang,absent,present", [
    ("DE", "en", "Germany", "United States"),
    ("DE", "es", "Alemania", "Estados Unidos"),
    ("GB", "en", None, "Germany"),
])
def test_it_lists_transfers_outside_the_requesters_own_country(submit, run, manager, jurisdiction, lang, absent,
                                                                present):
    case = fulfilled(submit, run, manager, jurisdiction, lang, ["Sent your data."])
    text = " ".join(pages(case.letters.get(kind=letters.FULFILMENT)))
    transfers = text[text.index("Transfer"):][:400]
    assert present in transfers
    if absent:
        assert absent not in transfers, transfers


@pytest.mark.parametrize("jurisdiction,lang,present,absent", [
    ("MX", "es", ["Responsable: DataProtection", "N.º de registro mercantil 200720572D", "derechos ARCO: acceso"],
     ["Delegado de Protección de Datos", "Company Reg. No.", "ARCO rights"]),
    ("BR", "pt-br", ["Lei 13.709/2018", "Registro da empresa n.º 200720572D"], ["Law 13.709", "Company Reg. No."]),
    ("ES", "es", ["Reglamento General de Protección de Datos (UE) 2016/679", "Delegado de Protección de Datos"],
     ["General Data Protection Regulation"]),
])
def test_it_words_the_letterhead_and_the_law_in_the_letters_language(submit, run, manager, jurisdiction, lang,
                                                                       present, absent):
    case = run(services.confirm_email, submit(jurisdiction, "access", language=lang))
    text = " ".join(pages(case.letters.get(kind=letters.ACKNOWLEDGEMENT)))
    for phrase in present:
        assert phrase in text, phrase
    for phrase in absent:
        assert phrase not in text, phrase
