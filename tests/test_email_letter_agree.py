"""Every letter e-mail says what its letter says, for every outcome (issue 11: an upheld appeal's
e-mail said the decision was partly reversed)."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils.html import strip_tags

from requests_app import letters, services
from requests_app.models import Notification, State

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
def test_it_sends_an_appeal_decision_email_that_agrees_with_its_letter(appealed, manager, outcome, run):
    run(services.decide_appeal, appealed, manager, outcome=outcome, reasons="We looked again")
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
