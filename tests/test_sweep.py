"""The deadline sweep: thresholds, exactly-once alerts, escalation, digests and the timed steps."""
import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests_app import hooks, services, sweep
from requests_app.models import (
    AlertLevel,
    DataSubjectRequest,
    Deadline,
    DeadlineStatus,
    Event,
    Notification,
    State,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # Monday 09:00 in California
# A CCPA know request received at T0 must be answered by 2026-04-16, i.e. 2026-04-17 06:59:59 UTC.
RESPOND_DUE_AT = dt.datetime(2026, 4, 17, 6, 59, 59, 999999, tzinfo=UTC)


def digests(to=None):
    qs = Notification.objects.filter(kind=sweep.DIGEST_KIND).order_by("id")
    return [n for n in qs if to is None or to in n.to]


def alert_mails(to):
    return [m for m in mail.outbox if m.subject.startswith("[DSAR] Deadline alert") and to in m.to]


@pytest.fixture
def working_case(submit, run, manager, analyst):
    """A CCPA know request, confirmed, verified and assigned: only its respond clock runs."""

    def _make(**kw):
        with time_machine.travel(T0, tick=False):
            case = submit("US-CA", "access", **kw)
            case = run(services.confirm_email, case)
            run(services.verify_identity, case, manager, method="account login")
            run(services.assign, case, manager, analyst)
        case.refresh_from_db()
        return case

    return _make


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_thresholds():
    th = sweep.Thresholds.at(RESPOND_DUE_AT - dt.timedelta(days=10))
    assert th.level(RESPOND_DUE_AT) == AlertLevel.NONE
    assert th.level(th.soon_at) == AlertLevel.DUE_SOON  # "≤ 7 days" includes the 7th day
    assert th.level(th.urgent_at) == AlertLevel.URGENT
    assert th.level(th.now - dt.timedelta(microseconds=1)) == AlertLevel.OVERDUE


def test_each_threshold_alerts_exactly_once_on_time(working_case, run, manager, analyst):
    case = working_case()
    assert list(case.deadlines.filter(status="open").values_list("kind", flat=True)) == ["respond"]
    steps = [
        (RESPOND_DUE_AT - dt.timedelta(days=7, minutes=1), None),  # not yet due soon
        (RESPOND_DUE_AT - dt.timedelta(days=7), "due soon"),
        (RESPOND_DUE_AT - dt.timedelta(days=2, minutes=1), None),
        (RESPOND_DUE_AT - dt.timedelta(days=2), "urgent"),
        (RESPOND_DUE_AT, None),  # the last microsecond of the due date is still on time
        (RESPOND_DUE_AT + dt.timedelta(microseconds=1), "overdue"),
        (RESPOND_DUE_AT + dt.timedelta(days=3), None),
    ]
    expected = []
    for moment, label in steps:
        with at(moment):
            for _ in range(2):  # a repeated run never alerts twice
                run(sweep.run_sweep)
        if label:
            expected.append(label)
        subjects = [m.subject for m in alert_mails(analyst.email)]
        assert len(subjects) == len(expected), (moment, subjects)
        assert all(lbl in s for lbl, s in zip(expected, subjects))
    # Only the overdue alert went to the manager; the case was escalated once, with an audit event.
    assert [m.subject for m in alert_mails(manager.email)] == ["[DSAR] Deadline alert: 1 overdue"]
    case.refresh_from_db()
    assert case.escalation_level == 1
    assert case.escalated_at == RESPOND_DUE_AT + dt.timedelta(microseconds=1)
    escalated = Event.objects.filter(case=case, kind="escalated")
    assert escalated.count() == 1 and escalated[0].data["clock"] == "respond"
    assert "§1798.130" in escalated[0].reason
    assert Deadline.objects.get(case=case, kind="respond").alert_level == AlertLevel.OVERDUE


def test_a_clock_that_jumps_to_overdue_sends_only_the_overdue_alert(working_case, run, manager, analyst):
    case = working_case()
    with at(RESPOND_DUE_AT + dt.timedelta(days=30)):  # the sweep did not run for weeks
        result = run(sweep.run_sweep)
        run(sweep.run_sweep)
    assert result.by_level == {"due_soon": 0, "urgent": 0, "overdue": 1}
    assert [m.subject for m in alert_mails(analyst.email)] == ["[DSAR] Deadline alert: 1 overdue"]
    assert len(alert_mails(manager.email)) == 1
    case.refresh_from_db()
    assert case.escalation_level == 1


def test_one_digest_per_recipient_lists_the_cases_with_links(working_case, submit, run, manager, analyst):
    mine = [working_case(requester_email=f"p{i}@example.com") for i in range(3)]
    with at(T0):
        unassigned = submit("GB", "access", requester_email="uk@example.com")
        run(services.confirm_email, unassigned)
        run(services.verify_identity, unassigned, manager, method="passport")
    # Move one clock into the past, one to 1 day from now, one to 5 days from now.
    now = dt.datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    moves = {mine[0]: now - dt.timedelta(hours=5), mine[1]: now + dt.timedelta(days=1),
             mine[2]: now + dt.timedelta(days=5), unassigned: now - dt.timedelta(days=2)}
    for case, due_at in moves.items():
        Deadline.objects.filter(case=case, kind="respond").update(due_at=due_at)
    with at(now):
        result = run(sweep.run_sweep)
    assert result.claimed == 4 and result.escalated_cases == 2 and result.batches == 1
    team = "privacy-team@example.com"
    assert {tuple(n.to) for n in digests()} == {(analyst.email,), (team,), (manager.email,)}

    andy = alert_mails(analyst.email)
    assert len(andy) == 1
    msg = andy[0]
    assert msg.subject == "[DSAR] Deadline alert: 1 overdue, 1 urgent, 1 due soon"
    text = msg.body
    # Most urgent first; each line names reference, regime, clock, due date and time left.
    order = [text.index(c.reference) for c in mine]
    assert order == sorted(order)
    assert "[OVERDUE] " + mine[0].reference + " - CCPA - Respond" in text
    assert "overdue by 5 h" in text and "1 days left" not in text and "24 h left" in text
    assert "5 days left" in text
    assert f"http://testserver/staff/cases/{mine[0].pk}/" in text
    html, mime = msg.alternatives[0]
    assert mime == "text/html"
    assert f'<a href="http://testserver/staff/cases/{mine[1].pk}/">{mine[1].reference}</a>' in html
    assert "Urgent" in html and "America/Los_Angeles" in html

    # Unassigned: the team address. Managers: every overdue case, assigned or not.
    team_mail = alert_mails(team)
    assert len(team_mail) == 1 and unassigned.reference in team_mail[0].body
    assert "UK GDPR" in team_mail[0].body
    mia = alert_mails(manager.email)
    assert len(mia) == 1
    assert mine[0].reference in mia[0].body and unassigned.reference in mia[0].body
    assert mine[1].reference not in mia[0].body


def test_digest_lists_at_most_the_setting_and_counts_the_rest(working_case, run, analyst, settings):
    settings.DSAR_DIGEST_MAX_ITEMS = 2
    cases = [working_case(requester_email=f"q{i}@example.com") for i in range(3)]
    Deadline.objects.filter(case__in=cases, kind="respond").update(due_at=T0 + dt.timedelta(days=40))
    with at(T0 + dt.timedelta(days=35)):
        run(sweep.run_sweep)
    body = alert_mails(analyst.email)[0].body
    assert "3 case clocks crossed a threshold" in body and "… and 1 more" in body
    assert sum(c.reference in body for c in cases) == 2


def test_a_manager_who_is_the_assignee_gets_one_digest_listing_the_case_once(working_case, run, manager):
    case = working_case()
    run(services.assign, case, manager, manager)
    with at(RESPOND_DUE_AT + dt.timedelta(hours=2)):
        run(sweep.run_sweep)
    mia = alert_mails(manager.email)
    assert len(mia) == 1 and mia[0].body.count(case.reference) == 1


def test_an_inactive_assignees_alerts_go_to_the_team_with_the_case_reference(working_case, run, analyst):
    case = working_case()
    analyst.is_active = False
    analyst.save(update_fields=["is_active"])
    Deadline.objects.filter(case=case, kind="respond").update(due_at=T0 + dt.timedelta(days=30))
    with at(T0 + dt.timedelta(days=26)):  # due soon
        assert run(sweep.run_sweep).claimed == 1
    team = "privacy-team@example.com"
    assert [tuple(n.to) for n in digests()] == [(team,)]
    (msg,) = alert_mails(team)
    assert "[DUE SOON] " + case.reference + " - CCPA - Respond" in msg.body


def test_escalated_case_rises_to_the_top_of_the_queue(working_case, run):
    first, second = working_case(requester_email="a@example.com"), working_case(requester_email="b@example.com")
    Deadline.objects.filter(case=first, kind="respond").update(due_at=T0 + dt.timedelta(days=20))
    services.refresh_next_due(DataSubjectRequest.objects.get(pk=first.pk))
    assert list(services.open_cases().order_by("next_due_at"))[0] == first
    with at(RESPOND_DUE_AT + dt.timedelta(hours=1)):  # second (due 16 April) is overdue now
        Deadline.objects.filter(case=first, kind="respond").update(due_at=RESPOND_DUE_AT + dt.timedelta(days=20))
        services.refresh_next_due(DataSubjectRequest.objects.get(pk=first.pk))
        run(sweep.run_sweep)
    queue = list(services.open_cases().order_by("next_due_at"))
    assert queue[0] == second and queue[0].escalation_level == 1 and queue[1].escalation_level == 0


def test_paused_and_closed_clocks_are_left_alone(working_case, run, analyst):
    paused, met = working_case(requester_email="p@example.com"), working_case(requester_email="m@example.com")
    Deadline.objects.filter(case=paused).update(paused_since=dt.date(2026, 3, 10))
    Deadline.objects.filter(case=met).update(status=DeadlineStatus.MET)
    with at(RESPOND_DUE_AT + dt.timedelta(days=1)):
        assert run(sweep.run_sweep).claimed == 0
    assert not digests()


def test_an_extension_earns_fresh_alerts_for_the_new_date(working_case, run, manager, analyst):
    case = working_case()
    with at(RESPOND_DUE_AT - dt.timedelta(days=1)):
        run(sweep.run_sweep)  # urgent
        run(services.extend_deadline, case, manager, reason="Many systems to search")
    new_due = Deadline.objects.get(case=case, kind="respond", status="open")
    assert new_due.alert_level == 0 and new_due.due_date == dt.date(2026, 5, 31)
    with at(new_due.due_at - dt.timedelta(days=3)):
        run(sweep.run_sweep)
    assert [m.subject for m in alert_mails(analyst.email)] == [
        "[DSAR] Deadline alert: 1 urgent", "[DSAR] Deadline alert: 1 due soon"]


def test_ccpa_acknowledge_clock_alerts_like_the_others(submit, run):
    from requests_app import regimes as R

    with at(T0):
        case = submit("US-CA", "deletion")
        # The confirmation e-mail normally meets it at once; a clock left running (e.g. started
        # by staff for a request received by post) is swept like any obligation.
        Deadline.objects.filter(case=case, kind="acknowledge").delete()
        ack = services.start_clock(case, R.regime("ccpa").clock("acknowledge", "deletion"), T0.date())
    assert ack.is_obligation and ack.due_date == dt.date(2026, 3, 16)  # 10 business days, 11 CCR §7021(a)
    with at(ack.due_at - dt.timedelta(days=6)):
        run(sweep.run_sweep)
    team = alert_mails("privacy-team@example.com")
    assert len(team) == 1 and "Acknowledge receipt" in team[0].body and case.reference in team[0].body
    assert Deadline.objects.get(pk=ack.pk).alert_level == AlertLevel.DUE_SOON
    # Overdue (with the confirmation window still open, so the case is not closed as not filed).
    Deadline.objects.filter(case=case, kind="confirm_email").update(due_at=ack.due_at + dt.timedelta(days=9))
    with at(ack.due_at + dt.timedelta(minutes=1)):
        run(sweep.run_sweep)
    assert Event.objects.filter(case=case, kind="escalated", data__clock="acknowledge").count() == 1


# --- windows: the other timed steps ---------------------------------------------------------------

def test_unconfirmed_email_closes_the_request_as_not_filed(submit, run, settings):
    with at(T0):
        case = submit("US-CA", "deletion")  # an opt-out is never unconfirmed
    timer = Deadline.objects.get(case=case, kind="confirm_email")
    assert not timer.is_obligation and timer.due_date == dt.date(2026, 3, 16)  # 14 days, setting
    with at(timer.due_at - dt.timedelta(days=1)):
        run(sweep.run_sweep)  # a window is silent before it expires
    case.refresh_from_db()
    assert case.state == State.SUBMITTED and not digests()
    with at(timer.due_at + dt.timedelta(minutes=1)):
        result = run(sweep.run_sweep)
        run(sweep.run_sweep)
    assert result.windows_closed == 1
    case.refresh_from_db()
    assert case.state == State.NOT_FILED and case.next_due_at is None and case.closed_at
    assert Deadline.objects.get(pk=timer.pk).status == DeadlineStatus.LAPSED
    assert not case.deadlines.filter(status="open").exists()
    assert case.letters.filter(kind="not_filed").count() == 1
    ev = Event.objects.get(case=case, kind="close_not_filed")
    assert ev.actor_label == "system" and "14 days" in ev.reason
    # The requester was told (with the letter). Staff hear of its respond clock (due soon), never
    # of the window itself.
    assert case.notifications.filter(letter__kind="not_filed").count() == 1
    assert all("E-mail confirmation" not in n.body_text for n in digests())


def test_a_case_closed_as_not_filed_raises_no_alert_for_its_cancelled_clocks(submit, run):
    with at(T0):
        case = submit("US-CA", "deletion")  # an opt-out is never unconfirmed
    timer = Deadline.objects.get(case=case, kind="confirm_email")
    respond = Deadline.objects.get(case=case, kind="respond")
    Deadline.objects.filter(pk=respond.pk).update(due_at=timer.due_at + dt.timedelta(days=5))
    respond.refresh_from_db()
    with at(timer.due_at + dt.timedelta(minutes=1)):  # respond is now due soon, in the same batch
        assert sweep.Thresholds.at().level(respond.due_at) == AlertLevel.DUE_SOON
        result = run(sweep.run_sweep)
    case.refresh_from_db()
    assert case.state == State.NOT_FILED and result.claimed == 2 and result.digests == 0
    assert Deadline.objects.get(pk=respond.pk).status == DeadlineStatus.CANCELLED


def test_it_does_not_escalate_a_case_its_expired_window_closes_in_the_same_batch(submit, run):
    # On PostgreSQL the claim statement escalates; a case whose window expires in the same batch
    # is left to Python, after the window's step (here: closed as not filed, so no escalation).
    with at(T0):
        case = submit("US-CA", "deletion")
    timer = Deadline.objects.get(case=case, kind="confirm_email")
    Deadline.objects.filter(case=case, kind="respond").update(due_at=timer.due_at - dt.timedelta(hours=1))
    with at(timer.due_at + dt.timedelta(minutes=1)):
        result = run(sweep.run_sweep)
    case.refresh_from_db()
    assert case.state == State.NOT_FILED and result.windows_closed == 1
    assert result.escalated_cases == 0 and result.digests == 0
    assert case.escalation_level == 0 and case.escalated_at is None
    assert not Event.objects.filter(case=case, kind="escalated").exists()


def test_it_escalates_once_a_case_whose_expired_window_leaves_it_open(submit, run, manager):
    t = dt.datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
    with at(t):
        case = submit("MX", "access")
    window = Deadline.objects.get(case=case, kind="request_information")
    determination = Deadline.objects.get(case=case, kind="determination")
    Deadline.objects.filter(pk=determination.pk).update(due_at=window.due_at - dt.timedelta(hours=1))
    with at(window.due_at + dt.timedelta(hours=1)):
        result = run(sweep.run_sweep)
        again = run(sweep.run_sweep)
    case.refresh_from_db()
    assert case.state == State.SUBMITTED and result.windows_closed == 1  # only the window lapsed
    assert result.escalated_cases == 1 and again.claimed == 0
    assert case.escalation_level == 1 and case.escalated_at == window.due_at + dt.timedelta(hours=1)
    escalated = Event.objects.filter(case=case, kind="escalated")
    assert [e.data["clock"] for e in escalated] == ["determination"] and escalated[0].data["deadline"] == determination.pk
    assert case.reference in alert_mails(manager.email)[0].body


def test_it_escalates_a_case_once_per_expired_clock_with_one_event_each(submit, run):
    from requests_app import regimes as R

    with at(T0):
        case = submit("US-CA", "deletion")
        Deadline.objects.filter(case=case, kind="acknowledge").delete()  # met by the confirmation e-mail
        ack = services.start_clock(case, R.regime("ccpa").clock("acknowledge", "deletion"), T0.date())
    Deadline.objects.filter(case=case, kind="confirm_email").update(due_at=ack.due_at + dt.timedelta(days=30))
    Deadline.objects.filter(case=case, kind="respond").update(due_at=ack.due_at - dt.timedelta(hours=2))
    moment = ack.due_at + dt.timedelta(minutes=1)
    with at(moment):
        result = run(sweep.run_sweep)
    case.refresh_from_db()
    assert result.escalated_cases == 1 and case.escalation_level == 2 and case.escalated_at == moment
    escalated = Event.objects.filter(case=case, kind="escalated").order_by("id")
    # In due order, each naming its clock, its due date and its source, by the system.
    assert [e.data["clock"] for e in escalated] == ["respond", "acknowledge"]
    assert all(e.actor_id is None and e.actor_label == "system" and not e.public and e.created_at == moment
               for e in escalated)
    respond = Deadline.objects.get(case=case, kind="respond")
    assert escalated[0].data == {"clock": "respond", "due": respond.due_date.isoformat(), "deadline": respond.pk,
                                 "source": respond.source}
    assert escalated[0].reason == (f"The respond clock expired at the end of {respond.due_date.isoformat()}"
                                   f" ({respond.source}); managers were alerted.")


def test_confirmed_request_is_not_closed_by_its_old_timer(submit, run):
    with at(T0):
        case = submit("US-CA", "deletion")  # an opt-out is never unconfirmed
        run(services.confirm_email, case)
    with at(T0 + dt.timedelta(days=30)):
        run(sweep.run_sweep)
    case.refresh_from_db()
    assert case.state != State.NOT_FILED


def _mexican_case_awaiting_reply(submit, run, manager):
    t = dt.datetime(2026, 9, 1, 15, 0, tzinfo=UTC)  # Tuesday 09:00 in Mexico City
    with at(t):
        case = submit("MX", "access")
        run(services.confirm_email, case)
        case.refresh_from_db()
        run(services.verify_identity, case, manager, method="account login")
        run(services.request_information, case, manager, what="information", message="Which account?")
    return DataSubjectRequest.objects.get(pk=case.pk)


def test_lfpdppp_requester_reply_lapsing_closes_as_not_filed_with_its_letter(submit, run, manager):
    case = _mexican_case_awaiting_reply(submit, run, manager)
    reply = Deadline.objects.get(case=case, kind="requester_reply", status="open")
    assert not reply.is_obligation and reply.due_date == dt.date(2026, 9, 15)  # 10 business days
    with at(reply.due_at + dt.timedelta(seconds=1)):
        run(sweep.run_sweep)
    case.refresh_from_db()
    assert case.state == State.NOT_FILED
    assert Deadline.objects.get(pk=reply.pk).status == DeadlineStatus.LAPSED
    letter = case.letters.get(kind="not_filed")
    assert "10 business days" in letter.context["reason"]


def test_lfpdppp_window_to_ask_for_information_lapses(submit, run, manager):
    t = dt.datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
    with at(t):
        case = submit("MX", "access")
    window = Deadline.objects.get(case=case, kind="request_information")
    assert window.due_date == dt.date(2026, 9, 8)
    with at(window.due_at + dt.timedelta(hours=1)):
        result = run(sweep.run_sweep)
    assert result.windows_closed == 1
    assert Deadline.objects.get(pk=window.pk).status == DeadlineStatus.LAPSED
    case.refresh_from_db()
    assert case.state == State.SUBMITTED  # only the window lapsed
    assert Event.objects.filter(case=case, kind="clock_closed", data__status="lapsed").count() == 1


def test_appeal_window_closing_is_recorded(submit, run, manager):
    with at(T0):
        case = submit("US-CO", "access")
        run(services.confirm_email, case)
        run(services.verify_identity, case, manager, method="account login")
        run(services.deny, case, manager, reasons="We could not find any data about you.")
    window = Deadline.objects.get(case=case, kind="appeal_window")
    with at(window.due_at + dt.timedelta(minutes=5)):
        run(sweep.run_sweep)
        run(sweep.run_sweep)
    assert Deadline.objects.get(pk=window.pk).status == DeadlineStatus.LAPSED
    closed = Event.objects.filter(case=case, kind="appeal_window_closed")
    assert closed.count() == 1 and closed[0].data["due"] == window.due_date.isoformat()
    with pytest.raises(services.AppealWindowClosed):
        services.file_appeal(case, statement="Too late")


def test_a_failing_timed_step_is_reported_and_the_rest_still_commits(working_case, submit, run, analyst,
                                                                     monkeypatch):
    working_case()  # an overdue case whose alert must still go out
    with at(T0):
        stuck = submit("US-CA", "deletion", requester_email="s@example.com")

    def broken(*a, **kw):
        raise RuntimeError("letter store unavailable")

    monkeypatch.setattr(services, "close_not_filed", broken)
    with at(RESPOND_DUE_AT + dt.timedelta(hours=1)):
        result = run(sweep.run_sweep)
    # Both respond clocks are overdue (45 days each) and escalate.
    assert result.window_errors == 1 and result.escalated_cases == 2
    assert len(alert_mails(analyst.email)) == 1  # the obligation alert went out regardless
    team = alert_mails("privacy-team@example.com")[0]
    assert stuck.reference in team.body and "letter store unavailable" in team.body
    assert team.subject == "[DSAR] Deadline alert: 1 overdue, 1 timed step failed"
    # The failed step rolled back to its savepoint: the case is untouched, the window stays claimed.
    stuck.refresh_from_db()
    assert stuck.state == State.SUBMITTED
    assert Deadline.objects.get(case=stuck, kind="confirm_email").alert_level == AlertLevel.OVERDUE


# --- the query ---------------------------------------------------------------------------------------

def test_a_sweep_that_finds_nothing_is_one_query(working_case, run, monkeypatch):
    """The core's own work; the capabilities' steps and the heartbeat are counted by their apps."""
    monkeypatch.setattr(hooks, "_SWEEP_STEPS", {})
    monkeypatch.setattr(hooks.sweep_completed, "receivers", [])
    working_case()
    with at(T0 + dt.timedelta(days=1)), CaptureQueriesContext(connection) as queries:
        result = sweep.run_sweep()
    assert result.claimed == 0
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN"))]
    assert len(statements) == 1 and statements[0].startswith("WITH ") and " UPDATE " in statements[0]


def test_claim_uses_the_partial_index(on_postgres, working_case):
    if not on_postgres:
        pytest.skip("planner check on PostgreSQL")
    working_case()
    th = sweep.Thresholds.at(T0)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned; ask what it can use
        cur.execute("EXPLAIN " + sweep._claim_sql(), {"now": adapt(th.now), "urgent": adapt(th.urgent_at),
                                                      "soon": adapt(th.soon_at), "limit": 100})
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "deadline_open_due" in plan, plan


def test_pending_count_matches_what_the_sweep_claims(working_case, run):
    for i in range(3):
        working_case(requester_email=f"c{i}@example.com")
    moment = RESPOND_DUE_AT - dt.timedelta(days=1)
    assert sweep.pending_count(moment) == 3
    with at(moment):
        assert run(sweep.run_sweep).claimed == 3
    assert sweep.pending_count(moment) == 0


def test_time_left_wording():
    now = T0
    assert sweep.time_left(now + dt.timedelta(days=6, hours=23), now) == "6 days left"
    assert sweep.time_left(now + dt.timedelta(hours=30), now) == "30 h left"
    assert sweep.time_left(now - dt.timedelta(minutes=10), now) == "overdue by 10 min"
    assert sweep.time_left(now - dt.timedelta(days=3), now) == "overdue by 3 days"


def test_it_claims_a_backlog_of_exactly_one_batch_in_one_round(working_case, run):
    # The claim looks one row past the batch: a batch that empties the backlog needs no second,
    # empty, claim (on PostgreSQL it would find again every index entry the first just made dead).
    cases = [working_case(requester_email=f"b{i}@example.com") for i in range(3)]
    with at(RESPOND_DUE_AT + dt.timedelta(hours=1)), CaptureQueriesContext(connection) as queries:
        result = run(sweep.run_sweep, batch_size=3)
    assert result.claimed == 3 and result.batches == 1 and result.escalated_cases == 3
    if connection.vendor == "postgresql":
        assert sum("pg_try_advisory_xact_lock" in q["sql"] for q in queries.captured_queries) == 1
    assert set(Deadline.objects.filter(case__in=cases, kind="respond").values_list("alert_level", flat=True)) == {3}


def test_it_claims_each_clock_with_its_exact_due_moment(working_case):
    from django.db import transaction

    case = working_case()
    with at(RESPOND_DUE_AT + dt.timedelta(hours=1)), transaction.atomic():
        claims, _ = sweep.claim_batch(sweep.Thresholds.at(), 100)
    # To the microsecond (the end of the due date is 23:59:59.999999 local), timezone-aware.
    assert [(c.case_id, c.due_at) for c in claims] == [(case.pk, RESPOND_DUE_AT)]
    assert claims[0].due_at.utcoffset() == dt.timedelta(0)
