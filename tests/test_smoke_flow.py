import datetime as dt

import time_machine
from django.core import mail

from requests_app import services
from requests_app.models import State

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)  # Monday 09:00 in California


@time_machine.travel(T0, tick=False)
def test_ccpa_know_request_end_to_end(submit, run, manager):
    case = submit("US-CA", "access")
    assert case.reference.startswith("DSAR-2026-")
    clocks = {d.kind: d.due_date.isoformat() for d in case.deadlines.all()}
    assert clocks["acknowledge"] == "2026-03-16" and clocks["respond"] == "2026-04-16"
    assert len(mail.outbox) == 1 and "Confirm" in mail.outbox[0].subject
    case = run(services.confirm_email, case)
    assert case.state == State.VERIFYING
    assert case.letters.get(kind="acknowledgement").status == "issued"
    assert len(mail.outbox) == 2 and mail.outbox[1].attachments
    run(services.verify_identity, case, manager, method="account login")
    run(services.extend_deadline, case, manager, reason="Large volume of data")
    case.refresh_from_db()
    assert case.deadlines.get(kind="respond").due_date.isoformat() == "2026-05-31"
    case = run(services.fulfil, case, manager, decision={"categories": ["Identifiers"], "sources": ["You"],
                                                          "purposes": ["Orders"], "recipients": ["Couriers"]})
    assert case.state == State.FULFILLED and case.next_due_at is None
