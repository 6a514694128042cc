"""Submitting requests through the services: validation, clocks per regime, repeat access, audit."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from requests_app import services
from requests_app.models import Attachment, DataSubjectRequest, Deadline, DeadlineStatus, State

PDF = services.Upload("authorisation.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")


def local(tz, *args):
    return dt.datetime(*args, tzinfo=ZoneInfo(tz))


def open_clocks(case):
    return {d.kind: (d.start_date.isoformat(), d.due_date.isoformat(),
                     d.extended_due_date.isoformat() if d.extended_due_date else None)
            for d in case.deadlines.filter(status=DeadlineStatus.OPEN)}


def kinds(case):
    return list(case.events.values_list("kind", flat=True))


# Received Monday 2 March 2026 at 10:00 local time, every regime.
INTAKE = [
    ("DE", "access", "Europe/Berlin", {"respond": ("2026-04-02", "2026-06-02")}, "respond"),
    ("GB", "access", "Europe/London", {"respond": ("2026-04-02", "2026-06-02")}, "respond"),
    # the acknowledge clock (2026-03-16) is met at once by the confirmation e-mail: see below
    ("US-CA", "access", "America/Los_Angeles", {"respond": ("2026-04-16", "2026-05-31")}, "respond"),
    ("US-CA", "opt_out_sale_sharing", "America/Los_Angeles", {"respond": ("2026-03-23", None)}, "respond"),
    ("US-CA", "limit_sensitive", "America/Los_Angeles", {"respond": ("2026-03-23", None)}, "respond"),
    ("US-CO", "deletion", "America/Denver", {"respond": ("2026-04-16", "2026-05-31")}, "respond"),
    ("US-CT", "correction", "America/New_York", {"respond": ("2026-04-16", "2026-05-31")}, "respond"),
    ("US-VA", "portability", "America/New_York", {"respond": ("2026-04-16", "2026-05-31")}, "respond"),
    ("US-UT", "opt_out", "America/Denver", {"respond": ("2026-04-16", "2026-05-31")}, "respond"),
    # an opt-out needs no verification: the verified request is the request received
    ("US-NV", "opt_out_sale", "America/Los_Angeles", {"respond": ("2026-05-01", "2026-05-31")}, "respond"),
    ("BR", "access", "America/Sao_Paulo", {"respond": ("2026-03-17", None)}, "respond"),
    ("MX", "access", "America/Mexico_City",
     {"request_information": ("2026-03-09", None), "determination": ("2026-03-31", "2026-04-28")}, "determination"),
    ("US-TX", "access", "America/Chicago", {"respond": ("2026-04-01", "2026-05-01")}, "respond"),
]


@pytest.mark.parametrize("jurisdiction,request_type,tz,expected,next_kind", INTAKE)
def test_submission_starts_the_regime_clocks(submit, jurisdiction, request_type, tz, expected, next_kind):
    case = submit(jurisdiction, request_type, received_at=local(tz, 2026, 3, 2, 10))
    assert re.fullmatch(r"DSAR-2026-\d{6}", case.reference)
    clocks = open_clocks(case)
    if case.request_type_info.is_opt_out:  # no confirmation, never closed as not filed (11 CCR §7026(d))
        assert case.state == State.IN_PROGRESS and "confirm_email" not in clocks
    else:
        assert case.state == State.SUBMITTED
        # an internal window closes an unconfirmed request as not filed (setting DSAR_CONFIRMATION_DAYS)
        assert clocks.pop("confirm_email") == ("2026-03-02", "2026-03-16", None)
    assert clocks == {kind: ("2026-03-02", due, ext) for kind, (due, ext) in expected.items()}
    for d in case.deadlines.all():
        assert d.timezone == tz and d.source
        assert d.due_at.astimezone(ZoneInfo(tz)).time() == dt.time(23, 59, 59, 999999)
        assert d.due_at.astimezone(ZoneInfo(tz)).date() == d.due_date
    assert case.next_due_kind == next_kind
    assert case.next_due_at == case.deadlines.get(kind=next_kind).due_at
    # audited: the submission and every clock it started
    ack = [] if (jurisdiction, request_type) != ("US-CA", "access") else ["acknowledge"]
    started = [e.data["clock"] for e in case.events.filter(kind="clock_started")]
    if case.request_type_info.is_opt_out:  # accepted at once and acknowledged (letter), no confirmation timer
        assert kinds(case)[0] == "submitted" and "accept_opt_out" in kinds(case)
        assert sorted(started) == sorted(expected)
        return
    assert kinds(case) == ["submitted"] + ["clock_started"] * (len(expected) + 1 + len(ack)) + \
        ["clock_closed"] * len(ack)
    assert sorted(started) == sorted([*expected, "confirm_email", *ack])


def test_ccpa_acknowledge_clock_is_met_by_the_confirmation_email(submit):
    # 11 CCR §7021(a): confirm receipt within 10 business days; the confirmation e-mail does so at once.
    case = submit("US-CA", "deletion", received_at=local("America/Los_Angeles", 2026, 3, 2, 10))
    ack = case.deadlines.get(kind="acknowledge")
    assert (ack.due_date, ack.status) == (dt.date(2026, 3, 16), "met")
    assert case.notifications.filter(kind="confirm_email").exists()


def test_the_received_moment_is_converted_to_the_local_date(submit):
    # 06:30 UTC on 3 March is still 2 March in California
    case = submit("US-CA", "access", received_at=dt.datetime(2026, 3, 3, 6, 30, tzinfo=dt.timezone.utc))
    assert case.deadlines.get(kind="respond").due_date == dt.date(2026, 4, 16)


def test_one_case_per_request_type_filed_together(db):
    cases = services.submit_request(jurisdiction="DE", request_types=["access", "erasure", "access"],
                                    requester_name="Jana", requester_email="jana@example.de")
    assert [c.request_type for c in cases] == ["access", "erasure"]
    assert cases[0].batch_id == cases[1].batch_id
    assert all(c.deadlines.filter(kind="respond").count() == 1 for c in cases)


@pytest.mark.parametrize("kwargs,field,message", [
    ({"jurisdiction": "ZZ"}, "jurisdiction", "unknown jurisdiction 'ZZ'"),
    ({"jurisdiction": "US"}, "jurisdiction", "needs a state"),
    ({"jurisdiction": "DE", "request_types": ["deletion"]}, "request_types", "does not give the right 'deletion'"),
    ({"jurisdiction": "US-UT", "request_types": ["correction"]}, "request_types", "'correction'"),
    ({"jurisdiction": "US-NV", "request_types": ["access"]}, "request_types", "'access'"),
    ({"jurisdiction": "DE", "request_types": []}, "request_types", "at least one"),
    # spec section 2: agents only under ccpa, cpa, ctdpa, vcdpa, ucpa; legal representatives in lgpd, lfpdppp
    ({"jurisdiction": "DE", "filer": "agent"}, "filer", "cannot be filed by: agent"),
    ({"jurisdiction": "US-TX", "filer": "agent"}, "filer", "cannot be filed by: agent"),
    ({"jurisdiction": "US-NV", "request_types": ["opt_out_sale"], "filer": "agent"}, "filer", "agent"),
    ({"jurisdiction": "US-CA", "filer": "legal_representative"}, "filer", "legal_representative"),
    ({"jurisdiction": "US-CA", "filer": "agent"}, "authorisation", "signed authorisation"),
    ({"jurisdiction": "US-CA", "filer": "agent", "authorisation": PDF}, "agent_name", "your own name"),
    ({"jurisdiction": "MX", "data_description": " "}, "data_description", "required in Mexico"),
])
def test_refused_submissions_name_the_field(db, kwargs, field, message):
    args = {"request_types": ["access"], "requester_name": "Ana", "requester_email": "ana@example.com",
            "filer": "self", **kwargs}
    with pytest.raises(ValidationError) as exc:
        services.submit_request(**args)
    assert field in exc.value.message_dict
    assert any(message in m for m in exc.value.message_dict[field])
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize("jurisdiction,filer,request_type", [
    ("US-CA", "agent", "access"), ("US-CO", "agent", "opt_out"), ("US-CT", "agent", "deletion"),
    ("US-VA", "agent", "access"), ("US-UT", "agent", "portability"),
    ("BR", "legal_representative", "access"), ("MX", "legal_representative", "cancellation"),
    ("DE", "parent", "erasure"), ("US-NV", "parent", "opt_out_sale"), ("JP", "parent", "access"),
])
def test_authorised_filers_with_their_signed_permission(submit, jurisdiction, filer, request_type):
    case = submit(jurisdiction, request_type, filer=filer, agent_name="Pat Agent", agent_email="pat@agents.example",
                  authorisation=PDF)
    assert case.filer == filer
    att = case.attachments.get()
    assert att.kind == Attachment.Kind.AUTHORISATION and att.size == len(PDF.content)
    assert "attachment_added" in kinds(case)
    assert services._recipients(case) == ["ana@example.com", "pat@agents.example"]


# --- repeat access requests (spec section 5) ------------------------------------------------------

def test_third_access_request_in_12_months_is_flagged_not_dropped(submit):
    first = submit("US-CA", "access", received_at=local("America/Los_Angeles", 2026, 1, 10, 9))
    second = submit("US-CA", "access", received_at=local("America/Los_Angeles", 2026, 5, 10, 9))
    third = submit("US-CA", "access", requester_email="ANA@Example.com",
                   received_at=local("America/Los_Angeles", 2026, 11, 10, 9))
    assert (first.is_repeat, second.is_repeat, third.is_repeat) == (False, False, True)
    # kept, with its clocks running, and audited for staff
    assert third.state == State.SUBMITTED
    assert third.deadlines.filter(kind="respond", status=DeadlineStatus.OPEN).exists()
    flag = third.events.get(kind="flagged_repeat")
    assert flag.actor_label == "system" and "§1798.130(b)" in flag.reason and flag.data["limit"] == 2
    # 12 rolling months later the first one no longer counts … but the second and third do
    fourth = submit("US-CA", "access", received_at=local("America/Los_Angeles", 2027, 1, 11, 9))
    assert fourth.is_repeat
    fifth = submit("US-CA", "access", received_at=local("America/Los_Angeles", 2027, 11, 11, 9))
    assert not fifth.is_repeat  # only the January 2027 request lies within 12 months


def test_repeat_counts_across_us_states_under_company_policy(submit):
    submit("US-CO", "access", received_at=local("America/Denver", 2026, 2, 1, 9))
    submit("US-VA", "access", received_at=local("America/New_York", 2026, 3, 1, 9))
    texan = submit("US-TX", "access", received_at=local("America/Chicago", 2026, 4, 1, 9))
    assert texan.is_repeat
    assert "company privacy policy" in texan.events.get(kind="flagged_repeat").reason


def test_what_does_not_count_as_a_repeat(submit, manager):
    submit("US-CA", "deletion", received_at=local("America/Los_Angeles", 2026, 1, 1, 9))
    withdrawn = submit("US-CA", "access", received_at=local("America/Los_Angeles", 2026, 1, 2, 9))
    services.withdraw(withdrawn)
    submit("US-CA", "access", received_at=local("America/Los_Angeles", 2026, 1, 3, 9))
    submit("US-CA", "access", requester_email="someone.else@example.com",
           received_at=local("America/Los_Angeles", 2026, 1, 4, 9))
    assert not submit("US-CA", "access", received_at=local("America/Los_Angeles", 2026, 1, 5, 9)).is_repeat
    assert not submit("US-CA", "deletion", received_at=local("America/Los_Angeles", 2026, 1, 6, 9)).is_repeat
    # outside the US there is no such limit
    assert not submit("DE", "access", received_at=local("Europe/Berlin", 2026, 1, 7, 9)).is_repeat


def test_deadline_rows_are_indexed_by_open_due_at(db):
    names = {i.name for i in Deadline._meta.indexes}
    assert "deadline_open_due" in names
