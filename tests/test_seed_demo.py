"""`manage.py seed_demo`: realistic demo data through the services, across every regime and state."""
import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

from requests_app import regimes as R
from requests_app.clocks import end_of_day
from requests_app.deadlines import compute_due
from requests_app.models import (
    Appeal,
    AppealState,
    DataSubjectRequest,
    Deadline,
    DeadlineStatus,
    Letter,
    Notification,
    State,
)

NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def seeded(db, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(NOW, tick=False)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("seed_demo", stdout=out)
    return out.getvalue(), callbacks


def test_seed_demo(seeded):
    """One seeding (it takes seconds), checked from several sides."""
    output, callbacks = seeded
    check_spread(output, callbacks)
    check_appeals_mexico_uk_pauses_repeats_and_agents()
    check_clocks_follow_their_rules()
    check_audit_trail()
    check_users_and_if_empty()


def check_spread(output, callbacks):
    cases = DataSubjectRequest.objects.all()
    assert 55 <= cases.count() <= 75
    assert "cases" in output and "demo-pass-123" in output
    assert set(cases.values_list("regime", flat=True)) == set(R.REGIMES)
    assert set(cases.values_list("state", flat=True)) == set(State.values)
    open_cases = cases.filter(closed_at__isnull=True)
    assert open_cases.filter(next_due_at__lt=NOW).count() >= 3  # overdue
    assert open_cases.filter(next_due_at__gte=NOW, next_due_at__lt=NOW + dt.timedelta(days=7)).count() >= 3
    assert open_cases.filter(assignee__username="analyst").exists()
    # letters and e-mails are queued in the outbox; the worker sends them after commit
    assert Notification.objects.filter(status="pending").count() > cases.count()
    assert Letter.objects.filter(status="pending").exists()
    assert callbacks  # publishing to the worker waits for the commit


def check_appeals_mexico_uk_pauses_repeats_and_agents():
    for regime in ("cpa", "ctdpa", "vcdpa"):
        assert Appeal.objects.filter(case__regime=regime).exists(), regime
    assert Appeal.objects.filter(state=AppealState.IN_REVIEW).exists()
    assert Appeal.objects.filter(decided_at__isnull=True, next_due_at__lt=NOW).exists()  # an overdue appeal
    mx = DataSubjectRequest.objects.filter(regime="lfpdppp")
    phases = Counter(mx.values_list("state", flat=True))
    assert {"submitted", "awaiting_requester", "in_progress", "admissible", "inadmissible", "not_filed"} <= set(phases)
    assert Deadline.objects.filter(case__regime="lfpdppp", kind="requester_reply", status="open").exists()
    assert Deadline.objects.filter(case__regime="lfpdppp", kind="requester_reply", status="lapsed").exists()
    assert Deadline.objects.filter(case__regime="lfpdppp", kind="effective", status="open").exists()
    assert Deadline.objects.filter(case__regime="uk_gdpr", kind="respond", paused_since__isnull=False).exists()
    assert Deadline.objects.filter(case__regime="uk_gdpr", kind="respond", restarts=1).exists()
    repeat = DataSubjectRequest.objects.get(is_repeat=True)
    assert repeat.events.filter(kind="flagged_repeat").exists() and repeat.is_open
    agents = DataSubjectRequest.objects.filter(filer="agent")
    assert agents.count() >= 2 and all(c.attachments.filter(kind="authorisation").exists() for c in agents)
    assert DataSubjectRequest.objects.filter(filer="legal_representative").exists()
    assert DataSubjectRequest.objects.filter(via_gpc=True).exists()
    assert Deadline.objects.filter(extended=True).count() >= 4


def check_clocks_follow_their_rules():
    """Aging moved every clock's start; each due date is still the one its rule gives."""
    for d in Deadline.objects.select_related("case"):
        case = d.case
        assert d.due_at == end_of_day(d.due_date, d.timezone)
        rule = case.regime_info.any_clock(d.kind, case.request_type)
        if rule is not None:
            assert d.due_date == compute_due(rule, d.start_date, case.jurisdiction_info, extended=d.extended,
                                             paused_days=d.paused_days), (case.reference, d.kind)
    for case in DataSubjectRequest.objects.all():
        assert case.reference.startswith(f"DSAR-{case.received_at.year}-")
        assert case.events.filter(kind="submitted").exists()
        nearest = case.deadlines.filter(status=DeadlineStatus.OPEN, appeal__isnull=True, paused_since__isnull=True)
        if case.is_open and nearest.exists():
            assert case.next_due_at is not None
        if not case.is_open:
            assert case.next_due_at is None and case.closed_at is not None


def check_audit_trail():
    """Every transition and every deadline change of ~65 service-driven histories is audited."""
    for case in DataSubjectRequest.objects.all():
        steps = list(case.events.filter(appeal__isnull=True).exclude(to_state="").order_by("id"))
        assert steps[0].kind == "submitted" and steps[0].to_state == State.SUBMITTED
        for before, after in zip(steps, steps[1:]):
            assert after.from_state == before.to_state, (case.reference, before.kind, after.kind)
        assert steps[-1].to_state == case.state
        deadlines = list(case.deadlines.all())
        started = Counter(e.data["clock"] for e in case.events.filter(kind="clock_started"))
        assert started == Counter(d.kind for d in deadlines), case.reference
        closed = Counter(e.data["clock"] for e in case.events.filter(kind="clock_closed"))
        assert closed == Counter(d.kind for d in deadlines if d.status != DeadlineStatus.OPEN), case.reference
        assert case.events.filter(kind="deadline_extended").count() == sum(d.extended for d in deadlines)
        assert case.events.filter(kind="clock_paused").count() >= sum(
            bool(d.paused_since) + d.restarts + bool(d.paused_days) for d in deadlines)
    for appeal in Appeal.objects.all():
        steps = list(appeal.events.exclude(to_state="").order_by("id"))
        assert [e.to_state for e in steps][-1:] in ([], [appeal.state])


def check_users_and_if_empty():
    for username, group in (("manager", "manager"), ("analyst", "analyst"), ("auditor", "auditor")):
        user = authenticate(username=username, password="demo-pass-123")
        assert user is not None and user.is_staff and user.groups.filter(name=group).exists()
    admin = authenticate(username="admin", password="demo-pass-123")
    assert admin is not None and admin.is_superuser
    count = DataSubjectRequest.objects.count()
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert DataSubjectRequest.objects.count() == count and "no demo data added" in out.getvalue()
    assert User.objects.filter(username="manager").count() == 1


@pytest.mark.django_db
def test_seed_runs_on_another_date(time_machine):
    """Past the year-end holidays the scripted steps still fit their legal windows."""
    time_machine.move_to(dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.timezone.utc), tick=False)
    call_command("seed_demo", "--if-empty", stdout=StringIO())
    assert DataSubjectRequest.objects.filter(state=State.NOT_FILED, regime="lfpdppp").exists()
    assert Appeal.objects.count() == 4
