"""`manage.py seed_demo`: a demo history replayed through the services, each step at its own moment.

Seeding renders about a hundred letters, so each seed takes seconds: one full check on Christmas
Eve, and the coherence checks again on two more awkward days (a new year's weekend, a leap day)."""
import datetime as dt
from collections import Counter
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from pypdf import PdfReader

from requests_app import regimes as R
from requests_app.clocks import end_of_day, local_date
from requests_app.deadlines import compute_due
from requests_app.management.commands.seed_demo import REQUESTER_STEPS, SCENARIOS, schedule
from requests_app.models import (
    Appeal,
    AppealState,
    Attachment,
    DataSubjectRequest,
    Deadline,
    DeadlineStatus,
    Letter,
    LetterStatus,
    Note,
    Notification,
    NotificationStatus,
    State,
)

UTC = dt.timezone.utc
CHRISTMAS_EVE = dt.datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
OTHER_DAYS = [dt.datetime(2027, 1, 2, 8, 30, tzinfo=UTC), dt.datetime(2028, 2, 29, 23, 30, tzinfo=UTC)]
CHANGES = ("deadline_extended", "clock_restarted", "clock_resumed")  # audited changes of a running clock


def seed(time_machine, now, *args) -> str:
    time_machine.move_to(now, tick=False)
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo(time_machine):
    """One seeding (it takes seconds), checked from every side."""
    output = seed(time_machine, CHRISTMAS_EVE)
    check_spread(output, CHRISTMAS_EVE)
    check_appeals_mexico_uk_pauses_repeats_and_agents(CHRISTMAS_EVE)
    check_clocks_follow_their_rules()
    check_audit_trail()
    check_history_is_coherent(CHRISTMAS_EVE)
    check_letters_and_outbox(CHRISTMAS_EVE)
    check_printed_letter_date(CHRISTMAS_EVE)
    check_users_and_if_empty(CHRISTMAS_EVE)


@pytest.mark.django_db
@pytest.mark.parametrize("now", OTHER_DAYS, ids=lambda d: d.date().isoformat())
def test_seed_is_coherent_on_any_day(time_machine, now):
    """The demo is seeded on whatever day someone tries the product."""
    output = seed(time_machine, now)
    check_spread(output, now)
    check_appeals_mexico_uk_pauses_repeats_and_agents(now)
    check_history_is_coherent(now)
    check_letters_and_outbox(now)


def test_schedule_on_many_days():
    """Without the database: on ~200 days over three years, at changing hours, every case's steps
    keep their order, lie in the past, and staff act in working hours on working days (a step
    squeezed between its neighbours around a weekend may stay where it is: at most a few)."""
    staff = off_days = 0
    for i in range(0, 3 * 365, 5):
        now = dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=i, hours=i * 7 % 24, minutes=i % 60)
        steps = schedule(SCENARIOS, now)
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        assert len({s.scenario for s in steps}) == len(SCENARIOS)
        assert all(s.at < now for s in steps)
        last = {}
        for s in steps:
            assert s.at > last.get(s.scenario, s.at - dt.timedelta(seconds=1))  # strictly later than the one before
            last[s.scenario] = s.at
            if s.action == "submit" or s.action in REQUESTER_STEPS:
                continue
            jur = R.jurisdiction(SCENARIOS[s.scenario].jurisdiction)
            local = s.at.astimezone(ZoneInfo(jur.timezone))
            staff += 1
            off_days += not jur.calendar.is_working_day(local.date())
        for n, scenario in enumerate(SCENARIOS):  # received `age` local days ago
            received = next(s.at for s in steps if s.scenario == n and s.action == "submit")
            tz = R.jurisdiction(scenario.jurisdiction).timezone
            assert (local_date(now, tz) - local_date(received, tz)).days == scenario.age
    assert off_days / staff < 0.03, (off_days, staff)


# --- checks -------------------------------------------------------------------------------------------

def check_spread(output, now):
    cases = DataSubjectRequest.objects.all()
    assert 60 <= cases.count() <= 80
    assert "cases" in output and "demo-pass-123" in output
    assert set(cases.values_list("regime", flat=True)) == set(R.REGIMES)
    assert set(cases.values_list("state", flat=True)) == set(State.values)
    open_cases = cases.filter(closed_at__isnull=True)
    assert open_cases.filter(next_due_at__lt=now).count() >= 6  # overdue, relative to the real now
    assert open_cases.filter(next_due_at__gte=now, next_due_at__lt=now + dt.timedelta(days=7)).count() >= 3
    assert open_cases.filter(next_due_at__gte=now + dt.timedelta(days=14)).count() >= 10  # plenty of time
    assert open_cases.filter(assignee__username="analyst").exists()
    assert cases.filter(escalation_level__gt=0).count() >= 6  # the sweep escalated them when they expired
    # References are numbered in the order requests arrived, across cases.
    received = list(cases.order_by("pk").values_list("received_at", flat=True))
    assert received == sorted(received)


def check_appeals_mexico_uk_pauses_repeats_and_agents(now):
    for regime in ("cpa", "ctdpa", "vcdpa"):
        assert Appeal.objects.filter(case__regime=regime).exists(), regime
    assert {AppealState.RECEIVED, AppealState.IN_REVIEW, AppealState.REVERSED} <= set(
        Appeal.objects.values_list("state", flat=True))
    assert Appeal.objects.filter(decided_at__isnull=True, next_due_at__lt=now).exists()  # an overdue appeal
    mx = DataSubjectRequest.objects.filter(regime="lfpdppp")
    phases = Counter(mx.values_list("state", flat=True))
    assert {"submitted", "awaiting_requester", "in_progress", "admissible", "inadmissible", "not_filed",
            "fulfilled"} <= set(phases)
    assert Deadline.objects.filter(case__regime="lfpdppp", kind="requester_reply", status="open").exists()
    assert Deadline.objects.filter(case__regime="lfpdppp", kind="requester_reply", status="lapsed").exists()
    assert Deadline.objects.filter(case__regime="lfpdppp", kind="effective", status="open").exists()
    # Timed closures were the sweep's, at their moment: an unconfirmed address, a Mexican non-reply.
    for case in DataSubjectRequest.objects.filter(state=State.NOT_FILED):
        closing = case.events.get(kind="close_not_filed")
        assert closing.actor_label == "system"
        lapsed = case.deadlines.get(status=DeadlineStatus.LAPSED, kind__in=("confirm_email", "requester_reply"))
        assert lapsed.due_at < closing.created_at <= lapsed.due_at + dt.timedelta(minutes=10)
    assert Deadline.objects.filter(case__regime="uk_gdpr", kind="respond", paused_since__isnull=False).exists()
    assert Deadline.objects.filter(case__regime="uk_gdpr", kind="respond", restarts=1).exists()
    assert Deadline.objects.filter(case__regime="uk_gdpr", kind="respond", paused_days__gt=0).exists()
    repeat = DataSubjectRequest.objects.get(is_repeat=True)
    assert repeat.events.filter(kind="flagged_repeat").exists() and repeat.is_open
    agents = DataSubjectRequest.objects.filter(filer="agent")
    assert agents.count() >= 2 and all(c.attachments.filter(kind="authorisation").exists() for c in agents)
    assert DataSubjectRequest.objects.filter(filer="legal_representative").exists()
    assert DataSubjectRequest.objects.filter(filer="parent").exists()
    assert DataSubjectRequest.objects.filter(via_gpc=True).exists()
    assert Deadline.objects.filter(extended=True).count() >= 4


def check_clocks_follow_their_rules():
    """Each due date is the one its rule gives from the start the services recorded."""
    for d in Deadline.objects.select_related("case"):
        case = d.case
        assert d.due_at == end_of_day(d.due_date, d.timezone)
        rule = case.regime_info.any_clock(d.kind, case.request_type)
        if rule is not None:
            assert d.due_date == compute_due(rule, d.start_date, case.jurisdiction_info, extended=d.extended,
                                             paused_days=d.paused_days), (case.reference, d.kind)
    for case in DataSubjectRequest.objects.all():
        assert case.reference.startswith(f"DSAR-{case.received_at.year}-")
        nearest = case.deadlines.filter(status=DeadlineStatus.OPEN, appeal__isnull=True, paused_since__isnull=True)
        if case.is_open and nearest.exists():
            assert case.next_due_at is not None
        if not case.is_open:
            assert case.next_due_at is None and case.closed_at is not None


def check_audit_trail():
    """Every transition and every deadline change of ~70 service-driven histories is audited."""
    for case in DataSubjectRequest.objects.all():
        steps = list(case.events.filter(appeal__isnull=True).exclude(to_state="").order_by("id"))
        assert steps[0].kind == "submitted" and steps[0].to_state == State.SUBMITTED
        for before, after in zip(steps, steps[1:]):
            assert after.from_state == before.to_state, (case.reference, before.kind, after.kind)
        assert steps[-1].to_state == case.state
        deadlines = list(case.deadlines.all())
        closed = Counter(e.data["clock"] for e in case.events.filter(kind="clock_closed"))
        assert closed == Counter(d.kind for d in deadlines if d.status != DeadlineStatus.OPEN), case.reference
        assert case.events.filter(kind="deadline_extended").count() == sum(d.extended for d in deadlines)
        assert case.events.filter(kind="clock_paused").count() >= sum(
            bool(d.paused_since) + d.restarts + bool(d.paused_days) for d in deadlines)
    for appeal in Appeal.objects.all():
        steps = list(appeal.events.exclude(to_state="").order_by("id"))
        assert [e.to_state for e in steps][-1:] in ([], [appeal.state])


def check_history_is_coherent(now):
    """What a privacy team sees when it opens a case: one timeline. Events follow each other and
    none is in the future; each clock started on the day its event was written, with the start
    and due date its Deadline row has (unless an audited extension or restart changed them);
    every timestamp of the case, its clocks, appeals, notes and attachments is an event's moment."""
    first = DataSubjectRequest.objects.order_by("received_at").first().received_at
    for case in DataSubjectRequest.objects.prefetch_related("events", "deadlines", "appeals"):
        ref = case.reference
        events = sorted(case.events.all(), key=lambda e: e.id)
        moments = {e.created_at for e in events}
        assert [e.created_at for e in events] == sorted(e.created_at for e in events), ref
        assert first <= events[0].created_at and events[-1].created_at <= now, ref
        assert events[0].kind == "submitted" and events[0].created_at == case.received_at == case.created_at, ref
        assert case.updated_at <= now
        for field, kind in (("email_confirmed_at", "confirm_email"), ("verified_at", "identity_verified"),
                            ("information_requested_at", "request_information")):
            value = getattr(case, field)
            assert value is None or value == next(e.created_at for e in events if e.kind == kind), (ref, field)
        for value in (case.decision_sent_at, case.closed_at, case.escalated_at):
            assert value is None or value in moments, ref
        if case.closed_at:
            assert case.closed_at == next(e.created_at for e in reversed(events) if e.to_state == case.state)

        deadlines = sorted(case.deadlines.all(), key=lambda d: d.id)
        started = [e for e in events if e.kind == "clock_started"]
        assert [(e.data["clock"], e.appeal_id) for e in started] == [(d.kind, d.appeal_id) for d in deadlines], ref
        for d, event in zip(deadlines, started):
            assert d.created_at == event.created_at, (ref, d.kind)
            assert event.data["start"] == local_date(event.created_at, d.timezone).isoformat(), (ref, d.kind)
            start, due = event.data["start"], event.data["due"]
            for later in events:
                if later.id <= event.id or later.appeal_id != d.appeal_id or later.data.get("clock") != d.kind:
                    continue
                if later.kind == "clock_started":
                    break  # a newer clock of the same kind
                if later.kind == "deadline_extended":
                    due = later.data["to"]
                    assert d.extended_at == later.created_at
                elif later.kind in CHANGES:
                    start, due = later.data["start"], later.data["due"]
            assert (d.start_date.isoformat(), d.due_date.isoformat()) == (start, due), (ref, d.kind)
            if d.closed_at:
                assert d.closed_at in moments and d.created_at <= d.closed_at <= now, (ref, d.kind)
            if d.status != DeadlineStatus.OPEN:
                assert d.closed_at is not None
        for event in events:
            if event.kind == "escalated":  # the sweep escalates a clock once it has expired
                expired = end_of_day(dt.date.fromisoformat(event.data["due"]), case.jurisdiction_info.timezone)
                assert expired < event.created_at <= expired + dt.timedelta(minutes=10), ref
        for appeal in case.appeals.all():
            assert appeal.received_at == appeal.created_at == next(
                e.created_at for e in events if e.kind == "appeal_filed"), ref
            assert appeal.decided_at is None or appeal.decided_at == next(
                e.created_at for e in events if e.kind == "appeal_decided"), ref
    for note in Note.objects.select_related("case"):
        assert note.created_at == note.case.events.get(kind="note_added", data__note=note.pk).created_at
    for attachment in Attachment.objects.select_related("case"):
        assert attachment.created_at == attachment.case.events.get(
            kind="attachment_added", data__attachment=attachment.pk).created_at


def check_letters_and_outbox(now):
    """Letters were rendered, and e-mails sent, at the moment of the step that caused them: a
    letter is dated the day of its decision, its PDF and its 'letter_issued' event are that
    moment's; the outbox holds the demo's history as sent, nothing is left for the worker."""
    letters = list(Letter.objects.select_related("case"))
    assert len(letters) >= 90
    for letter in letters:
        case = letter.case
        assert letter.status == LetterStatus.ISSUED and letter.sha256, letter.pk
        assert letter.context["facts"]["issued_on"] == local_date(letter.created_at,
                                                                  case.jurisdiction_info.timezone).isoformat()
        assert case.events.filter(created_at=letter.created_at).exclude(kind="letter_issued").exists()
        issued = case.events.get(kind="letter_issued", data__letter=letter.pk)
        assert letter.created_at <= letter.issued_at == issued.created_at <= now
    assert not Notification.objects.exclude(status=NotificationStatus.SENT).exists()
    notes = list(Notification.objects.select_related("case", "letter"))
    assert Counter(n.kind for n in notes)["deadline_alert"] >= 10  # the sweep's digests, at their moment
    for note in notes:
        assert note.created_at <= note.sent_at <= now and note.attempts == 1, note.pk
        if note.case_id:
            assert note.created_at >= note.case.received_at
        if note.letter_id:
            assert note.sent_at >= note.letter.issued_at


def check_printed_letter_date(now):
    """The PDF says the date the decision was taken, weeks ago, not the day the demo was seeded."""
    letter = Letter.objects.get(kind="denial", case__jurisdiction="PL")
    issued = dt.date.fromisoformat(letter.context["facts"]["issued_on"])
    assert issued < now.date() - dt.timedelta(days=7)
    with letter.file.open("rb") as fh:
        text = PdfReader(fh).pages[0].extract_text()
    assert f"{issued.day} {issued:%B %Y}" in text  # en_GB long date, as the letter prints it
    assert f"{now.day} {now:%B %Y}" not in text


def check_users_and_if_empty(now):
    for username, group in (("manager", "manager"), ("analyst", "analyst"), ("auditor", "auditor")):
        user = authenticate(username=username, password="demo-pass-123")
        assert user is not None and user.is_staff and user.groups.filter(name=group).exists()
    admin = authenticate(username="admin", password="demo-pass-123")
    assert admin is not None and admin.is_superuser
    # Who may see personal data is configuration: each role the seeder gave is in the trail.
    from requests_app.models import ConfigChange

    given = {(e.object_repr, tuple(e.data["roles"])) for e in ConfigChange.objects.filter(
        action="roles_changed", actor_label="seed_demo")}
    assert ("manager", ("manager",)) in given and ("auditor", ("auditor",)) in given
    assert len(given) == User.objects.filter(is_staff=True, is_superuser=False).count()
    first = DataSubjectRequest.objects.order_by("received_at").first().received_at
    assert all(u.date_joined < first for u in User.objects.all())  # the team was there before the requests
    count = DataSubjectRequest.objects.count()
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert DataSubjectRequest.objects.count() == count and "no demo data added" in out.getvalue()
    assert User.objects.filter(username="manager").count() == 1
