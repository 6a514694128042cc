"""Every due date carries its derivation (issue 17): the steps replay to the date, for every regime
and clock, and a step that is dropped, reordered or altered never replays to the same date."""
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app import regimes as R
from requests_app.clocks import (
    Pause,
    ReplayError,
    end_of_day,
    replay,
)
from requests_app.deadlines import Extension, Restart, calculate, compute_due, derive, explain_text

PROPERTY = settings(max_examples=200, deadline=None)
D = dt.date

# Each regime through one or more of its jurisdictions (different calendars and zones).
JURISDICTIONS = ["DE", "FR", "IE", "NO", "GB", "US-CA", "US-CO", "US-CT", "US-VA", "US-UT", "US-NV", "BR", "MX",
                 "US-TX", "JP", "CH"]


def _every_clock():
    pairs = []
    for code in JURISDICTIONS:
        regime = R.jurisdiction(code).regime
        rules = {}
        for rt in regime.request_types:
            for rule in regime.clocks_for(rt.code) + regime.appeal_clocks():
                rules[(rule.name, rule.period, rule.request_types)] = rule
        pairs += [(code, rule) for rule in rules.values()]
    return pairs


CLOCKS = _every_clock()


def test_it_covers_every_regime_and_every_clock_of_the_registry():
    covered = {(R.jurisdiction(code).regime.code, rule.name) for code, rule in CLOCKS}
    expected = {(r.code, c.name) for r in R.REGIMES.values() for c in r.clocks + r.appeal_clocks()}
    assert covered == expected


starts = st.dates(min_value=D(2024, 1, 1), max_value=D(2031, 12, 31))


@st.composite
def derivations(draw, *, with_history=True):
    """A clock of any regime, started on any day, with any restarts, pauses and extension."""
    code, rule = draw(st.sampled_from(CLOCKS))
    jur = R.jurisdiction(code)
    start = draw(starts)
    moment = None
    if draw(st.booleans()):
        # any moment of the start's local day, given in UTC
        local = dt.datetime.combine(start, dt.time(draw(st.integers(0, 23)), draw(st.integers(0, 59))))
        from zoneinfo import ZoneInfo
        moment = local.replace(tzinfo=ZoneInfo(jur.timezone)).astimezone(dt.timezone.utc)
        if end_of_day(start, jur.timezone) < moment or moment.astimezone(ZoneInfo(jur.timezone)).date() != start:
            moment = None  # a local time skipped by a DST change
    restarts, current = [], start
    for gap in (draw(st.lists(st.integers(0, 40), max_size=2)) if with_history else []):
        current += dt.timedelta(days=gap)
        restarts.append(Restart(current, why=draw(st.sampled_from(["identity", "fee"])),
                                stopped_since=current - dt.timedelta(days=gap // 2)))
    pauses = []
    for days in (draw(st.lists(st.integers(1, 30), max_size=3)) if with_history else []):
        since = current + dt.timedelta(days=draw(st.integers(0, 20)))
        pauses.append(Pause(since, since + dt.timedelta(days=days), days, "clarification"))
    extension = None
    if rule.extended is not None and draw(st.booleans()):
        extension = Extension(by="manager", at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), reason="complex")
    derivation = derive(rule, jur, start, moment=moment, restarts=tuple(restarts), extension=extension,
                        pauses=tuple(pauses))
    return rule, jur, current, extension is not None, sum(p.days for p in pauses), derivation


@PROPERTY
@given(derivations())
def test_it_replays_every_derivation_to_the_engines_due_date(case):
    rule, jur, start, extended, paused, derivation = case
    engine = compute_due(rule, start, jur, extended=extended, paused_days=paused)
    assert derivation.due == engine
    assert replay(derivation) == engine
    # the serialised form (what --json prints and the API carries) replays too
    assert replay(json.loads(json.dumps(derivation.as_dict()))) == engine


@PROPERTY
@given(derivations())
def test_it_names_each_skipped_or_rolled_day_truthfully(case):
    rule, jur, start, extended, paused, derivation = case
    for step in derivation.of_kind("skip") + derivation.of_kind("roll"):
        day = step.date if step.kind == "skip" else dt.date.fromisoformat(step.details["from"])
        assert not jur.calendar.is_working_day(day)
        if step.reason == "weekend":
            assert day.weekday() >= 5 and not jur.calendar.is_holiday(day)
        else:
            assert step.reason == jur.calendar.holiday_name(day)
    counted = derivation.step("count")
    if counted:  # every working day in the count is counted, every other day is listed
        first = dt.date.fromisoformat(counted.details["from"])
        span = [first + dt.timedelta(days=i) for i in range(1, (counted.date - first).days + 1)]
        assert [d for d in span if not jur.calendar.is_working_day(d)] == [s.date for s in derivation.of_kind("skip")]


def _mutations(steps):
    for i, step in enumerate(steps):
        # A zero-day pause, or a restart on the day the clock started, moves nothing: dropping it cannot show.
        no_op = (step.kind == "pause" and step.details["days"] == 0
                 or step.kind == "restart" and step.details["previous_start"] == step.date.isoformat())
        if not no_op:
            yield f"drop {i} {step.kind}", steps[:i] + steps[i + 1:]
    for i in range(len(steps) - 1):
        if steps[i] != steps[i + 1]:
            yield f"swap {i} {steps[i].kind}/{steps[i + 1].kind}", steps[:i] + [steps[i + 1], steps[i]] + steps[i + 2:]


def _replays_differently(derivation, steps) -> bool:
    data = derivation.as_dict()
    data["steps"] = [s.as_dict() for s in steps]
    try:
        return replay(data) != derivation.due
    except ReplayError:
        return True


@settings(max_examples=80, deadline=None)
@given(derivations())
def test_it_never_replays_to_the_same_date_when_a_step_is_dropped_or_misordered(case):
    derivation = case[-1]
    for label, steps in _mutations(list(derivation.steps)):
        assert _replays_differently(derivation, steps), label


def test_it_refuses_a_skip_that_says_weekend_on_a_weekday():
    derivation = calculate("US-CA", "opt_out_sale_sharing", "2026-03-20")["clocks"]["respond"].derivation
    data = derivation.as_dict()
    holiday = next(s for s in data["steps"] if s["kind"] == "skip" and s["reason"] != "weekend")
    holiday["reason"] = "weekend"
    with pytest.raises(ReplayError, match="2026-03-31 is not a weekend day"):
        replay(data)


def test_it_refuses_a_changed_due_date_or_expiry():
    data = calculate("DE", "access", "2026-01-31")["clocks"]["respond"].derivation.as_dict()
    data["due"] = "2026-03-03"
    with pytest.raises(ReplayError, match="the steps end on 2026-03-02"):
        replay(data)
    data = calculate("DE", "access", "2026-01-31")["clocks"]["respond"].derivation.as_dict()
    data["steps"][-1]["expires_at"] = "2026-03-02T23:59:59.999999+00:00"  # UTC, not Berlin
    with pytest.raises(ReplayError, match="end of its due date"):
        replay(data)


def test_it_refuses_a_start_moment_that_is_another_local_day():
    data = calculate("US-CA", "access", "2026-03-03T05:30:00+00:00")["clocks"]["respond"].derivation.as_dict()
    assert data["steps"][0]["date"] == "2026-03-02" and data["steps"][0]["utc_offset"] == "-08:00"
    data["steps"][0]["timezone"] = "UTC"
    with pytest.raises(ReplayError, match="is not 2026-03-02 in UTC"):
        replay(data)


# --- the worked examples, explained --------------------------------------------------------------

def kinds(derivation):
    return [(s.kind, s.date.isoformat() if s.date else None, s.reason) for s in derivation.steps]


def test_it_explains_the_german_month_end_clamp_and_weekend_roll():
    d = calculate("DE", "access", "2026-01-31")["clocks"]["respond"].derivation
    assert kinds(d) == [
        ("start", "2026-01-31", ""), ("rule", None, ""), ("add_months", None, ""), ("clamp", "2026-02-28", ""),
        ("roll", "2026-03-01", "weekend"), ("roll", "2026-03-02", "weekend"), ("due", "2026-03-02", "")]
    assert d.step("rule").details["source"].startswith("GDPR Art. 12(3)")
    assert d.calendar == {"country": "DE", "subdivision": None, "holidays_version": __import__("holidays").__version__}


def test_it_explains_the_english_christmas_roll_with_holiday_names():
    d = calculate("GB", "access", "2026-11-25")["clocks"]["respond"].derivation
    assert [(s.date.isoformat(), s.reason) for s in d.of_kind("roll")] == [
        ("2026-12-26", "Christmas Day"), ("2026-12-27", "Boxing Day"), ("2026-12-28", "weekend"),
        ("2026-12-29", "Boxing Day (observed)")]
    assert d.calendar["subdivision"] == "ENG"


def test_it_lists_each_californian_day_not_counted():
    d = calculate("US-CA", "opt_out_sale_sharing", "2026-03-20")["clocks"]["respond"].derivation
    skipped = [(s.date.isoformat(), s.reason) for s in d.of_kind("skip")]
    assert ("2026-03-31", "Cesar Chavez Day") in skipped
    assert len(skipped) == 9 and d.due == D(2026, 4, 13)


def test_it_records_the_start_moment_zone_and_offset_of_a_datetime():
    d = calculate("GB", "access", "2026-03-30T23:30:00+00:00")["clocks"]["respond"].derivation
    start = d.steps[0]
    assert (start.date, start.details["moment"], start.details["timezone"], start.details["utc_offset"]) == (
        D(2026, 3, 31), "2026-03-30T23:30:00+00:00", "Europe/London", "+01:00")
    assert d.steps[-1].details["expires_at"] == "2026-04-30T22:59:59.999999+00:00"


def test_it_explains_restart_pause_and_extension_in_the_order_they_apply():
    rule = R.UK_GDPR.clock(R.RESPOND, "access")
    jur = R.jurisdiction("GB")
    at = dt.datetime(2026, 4, 20, 9, tzinfo=dt.timezone.utc)
    d = derive(rule, jur, D(2026, 3, 2), restarts=(Restart(D(2026, 3, 10), why="identity",
                                                            stopped_since=D(2026, 3, 4)),),
               pauses=(Pause(D(2026, 3, 12), D(2026, 3, 22), 10, "clarification"),),
               extension=Extension(by="mia", at=at, reason="Many systems"))
    assert [s.kind for s in d.steps] == ["start", "restart", "rule", "extension", "add_months", "pause", "roll",
                                         "roll", "due"]
    # 10 March + 3 months = Wed 10 June, + 10 paused days = Sat 20 June, rolled to Monday 22 June
    assert [s.date for s in d.steps[4:]] == [D(2026, 6, 10), D(2026, 6, 20), D(2026, 6, 21), D(2026, 6, 22),
                                             D(2026, 6, 22)]
    assert replay(d) == d.due == compute_due(rule, D(2026, 3, 10), jur, extended=True, paused_days=10)
    text = explain_text(d)
    assert "Restarted (identity received)" in text and "stopped since Wed 2026-03-04" in text
    assert "Extended by mia on 2026-04-20 09:00 UTC to 3 months from the same start: Many systems" in text
    assert "paused Thu 2026-03-12 to Sun 2026-03-22 awaiting clarification: + 10 calendar days" in text


# --- the command -----------------------------------------------------------------------------------

def test_it_prints_the_derivation_with_explain():
    out = StringIO()
    call_command("dsar_deadlines", jurisdiction="US-CA", request_type="opt_out_sale_sharing",
                 received="2026-03-20", explain=True, stdout=out)
    text = out.getvalue()
    assert "Counted 15 business days after Fri 2026-03-20" in text
    assert "not counted: Tue 2026-03-31, a public holiday (Cesar Chavez Day)" in text
    assert "11 CCR §7026(f), §7027(g)" in text and "Holiday calendar: US-CA, from the holidays library, release" in text
    assert text.index("1. Started when the request was received") < text.index("Due Mon 2026-04-13")


def test_it_includes_the_derivation_in_json():
    out = StringIO()
    call_command("dsar_deadlines", jurisdiction="MX", request_type="access", received="2026-09-01", json=True,
                 stdout=out)
    data = json.loads(out.getvalue())
    det = data["clocks"]["determination"]
    assert replay(det["derivation"]).isoformat() == det["due"] == "2026-09-30"
    assert replay(det["extended_derivation"]).isoformat() == det["extended_due"]
    assert {"date": "2026-09-16", "reason": "Independence Day"}.items() <= next(
        s for s in det["derivation"]["steps"] if s["date"] == "2026-09-16").items()
    assert data["calendar"]["country"] == "MX"


def test_it_says_when_a_clock_without_roll_forward_ends_on_a_weekend_or_holiday():
    sunday = calculate("US-CO", "access", "2026-03-05")["clocks"]["respond"].derivation
    assert sunday.steps[-1].details["non_working_day"] == "weekend"
    assert "a weekend day: this rule does not move the date" in explain_text(sunday)
    tiradentes = calculate("BR", "anonymisation_blocking_deletion", "2026-04-06")["clocks"]["respond"].derivation
    assert (tiradentes.due, tiradentes.steps[-1].details["non_working_day"]) == (D(2026, 4, 21), "Tiradentes' Day")
    rolled = calculate("DE", "access", "2026-01-31")["clocks"]["respond"].derivation
    assert rolled.steps[-1].details["non_working_day"] is None
