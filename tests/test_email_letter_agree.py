"""Every letter e-mail says what its letter says, for every outcome (issue 11: an upheld appeal's
e-mail said the decision was partly reversed)."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from django.utils.html import strip_tags

from requests_app import letters, services
from requests_app.models import Notification, State
from tests.fixtures import make_user

DENVER = ZoneInfo("America/Denver")

# outcome -> (a sentence only its e-mail may say, a sentence only its letter may say)
APPEAL = {
    "upheld": ("our decision stands", "We uphold our original decision."),
    "reversed": ("reversed our decision", "We reverse our original decision."),
    "partially_reversed": ("partly reversed our decision", "We partially reverse our original decision."),
}


@pytest.fixture
def appealed(submit, manager, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=DENVER), tick=False)
    case = submit("US-CO", "deletion")
    case = services.confirm_email(case)
    if case.state == State.VERIFYING:
        case = services.verify_identity(case, manager, method="Account login")
    case = services.deny(case, manager, reasons="The data is needed to complete your open order")
    return services.file_appeal(case, statement="I closed my orders last month")


@pytest.mark.parametrize("outcome", list(APPEAL))
def test_it_sends_an_appeal_decision_email_that_agrees_with_its_letter(appealed, outcome, run):
    reviewer = make_user("rita", "manager")  # not the manager who decided the request (spec section 5)
    run(services.decide_appeal, appealed, reviewer, outcome=outcome, reasons="We looked again")
    letter = appealed.case.letters.get(kind=letters.APPEAL_DECISION)
    note = Notification.objects.get(letter=letter)
    letter_text = strip_tags(letters.render_html(letter))
    for other, (email_says, letter_says) in APPEAL.items():
        if other == outcome:
            assert email_says in note.body_text and email_says in note.body_html
            assert letter_says in letter_text
        else:
            assert letter_says not in letter_text
            if email_says not in APPEAL[outcome][0]:  # "reversed our decision" is inside "partly reversed …"
                assert email_says not in note.body_text, (outcome, note.body_text)


# Every other letter e-mail, per outcome: (how to get there, a phrase of the e-mail, a phrase of its letter)
def _verified(submit, manager, jurisdiction, request_type):
    case = services.confirm_email(submit(jurisdiction, request_type))
    if case.state == State.VERIFYING:
        case = services.verify_identity(case, manager, method="Account login")
    return case


def _fulfil(submit, manager):
    return services.fulfil(_verified(submit, manager, "DE", "erasure"), manager)


def _partial(submit, manager):
    return services.partially_fulfil(_verified(submit, manager, "DE", "erasure"), manager,
                                     reasons="Invoices must be kept.")


def _deny(submit, manager):
    return services.deny(_verified(submit, manager, "DE", "erasure"), manager, reasons="Invoices must be kept.")


def _mexican(submit, manager):
    case = services.confirm_email(submit("MX", "access", account_id="A-1", data_description="Mis pedidos"))
    if case.state == State.VERIFYING:
        case = services.verify_identity(case, manager, method="Account login")
    return case


def _admissible(submit, manager):
    case = _mexican(submit, manager)
    return services.determine(case, manager, admissible=True)


def _inadmissible(submit, manager):
    case = _mexican(submit, manager)
    return services.determine(case, manager, admissible=False, reasons="No data of yours is in our records.")


def _extended(submit, manager):
    case = _verified(submit, manager, "US-CA", "deletion")
    services.extend_deadline(case, manager, reason="Many systems")
    return case


def _not_filed(submit, manager):
    return services.close_not_filed(submit("DE", "access"), reason="Never confirmed")


OUTCOMES = {
    "fulfil": (_fulfil, letters.FULFILMENT, "We have done what you asked.", "We have completed your request of"),
    "partially_fulfil": (_partial, letters.FULFILMENT, "We have done part of what you asked.",
                         "in part. This letter sets out what we did, what we could not do"),
    "deny": (_deny, letters.DENIAL, "We could not act on your request.", "We are unable to act on it"),
    "admissible": (_admissible, letters.DETERMINATION, "Your request is admissible.",
                   "determined that it is admissible"),
    "inadmissible": (_inadmissible, letters.DETERMINATION, "We found your request inadmissible.",
                     "determined that it is not admissible"),
    "extension": (_extended, letters.EXTENSION_NOTICE, "we have extended the time to answer until", "Extension"),
    "not_filed": (_not_filed, letters.NOT_FILED, "Your request was closed without action",
                  "it was not confirmed within"),
}


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_it_sends_each_letters_email_agreeing_with_its_letter(submit, manager, now, outcome):
    now(dt.datetime(2026, 3, 2, 9, tzinfo=DENVER))
    make, kind, email_says, letter_says = OUTCOMES[outcome]
    case = make(submit, manager)
    letter = case.letters.filter(kind=kind).latest("pk")
    note = Notification.objects.get(letter=letter)
    letter_text = " ".join(strip_tags(letters.render_html(letter)).split())
    assert email_says in " ".join(note.body_text.split()), note.body_text
    assert letter_says in letter_text, letter_text[:600]
    for other, (_make, other_kind, other_email, _letter) in OUTCOMES.items():
        if other_kind == kind and other != outcome and other_email not in email_says:
            assert other_email not in note.body_text, (outcome, other)
