"""Each stored clock shows its derivation (issue 17): rebuilt from the Deadline row and the audit
trail, it adds up to the stored date; the case page opens it, the status page says it in one plain
line in the requester's language, the calculator shows it, and it serialises for the API."""
import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.clocks import replay
from requests_app.derivations import case_derivations, deadline_derivation, events_by_deadline
from requests_app.models import Awaiting, DataSubjectRequest, Deadline
from requests_app.tokens import STATUS, make_token

LONDON, LA, MEXICO = ZoneInfo("Europe/London"), ZoneInfo("America/Los_Angeles"), ZoneInfo("America/Mexico_City")
ID_SCAN = services.Upload("passport.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
CALC = reverse("staff:calculator")


def respond(case):
    return case.deadlines.filter(kind="respond").order_by("-id").first()


def explained(case):
    deadlines = list(case.deadlines.all())
    return deadlines, case_derivations(case, deadlines, list(case.events.all()))


def uk_case_with_history(submit, manager, now):
    """Restarted on ID, then paused for a clarification, then extended."""
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LONDON))
    case = services.confirm_email(submit("GB", "access", received_at=dt.datetime(2026, 3, 2, 10, tzinfo=LONDON)))
    now(dt.datetime(2026, 3, 5, 10, tzinfo=LONDON))
    case = services.request_information(case, manager, what=Awaiting.IDENTITY, message="Your ID, please")
    now(dt.datetime(2026, 3, 20, 18, tzinfo=LONDON))
    case = services.receive_reply(case, message="Here it is", upload=ID_SCAN)
    case = services.verify_identity(case, manager, method="Passport")
    now(dt.datetime(2026, 3, 24, 9, tzinfo=LONDON))
    case = services.request_information(case, manager, what=Awaiting.CLARIFICATION, message="Which account?")
    now(dt.datetime(2026, 3, 31, 9, tzinfo=LONDON))
    case = services.receive_reply(case, message="The shop one")
    now(dt.datetime(2026, 4, 2, 9, tzinfo=LONDON))
    services.extend_deadline(case, manager, reason="Twelve systems to search")
    case.refresh_from_db()
    return case


def test_it_rebuilds_a_restarted_paused_and_extended_clock_from_its_history(submit, manager, now):
    case = uk_case_with_history(submit, manager, now)
    clock = respond(case)
    # restarted 20 March; + 3 months = 20 June; + 7 paused days = Sat 27 June → Monday 29 June
    assert clock.due_date == dt.date(2026, 6, 29)
    deadlines, found = explained(case)
    x = found[clock.pk]
    assert x.consistent and replay(x.derivation) == clock.due_date
    steps = x.derivation.steps
    assert [s.kind for s in steps] == ["start", "restart", "rule", "extension", "add_months", "pause", "roll",
                                       "roll", "due"]
    start, restart, extension, pause = steps[0], steps[1], steps[3], steps[5]
    assert (start.date, start.details["moment"], start.details["utc_offset"]) == (
        dt.date(2026, 3, 2), "2026-03-02T10:00:00+00:00", "+00:00")
    assert (restart.date, restart.reason, restart.details["stopped_since"], restart.details["moment"]) == (
        dt.date(2026, 3, 20), "identity", "2026-03-05", "2026-03-20T18:00:00+00:00")
    assert (extension.details["by"], extension.reason) == ("mia", "Twelve systems to search")
    assert (pause.details["from"], pause.details["to"], pause.details["days"]) == ("2026-03-24", "2026-03-31", 7)
    # the API's form: JSON, and it replays
    assert replay(json.loads(json.dumps(x.as_dict()))) == clock.due_date


def test_it_shows_each_clocks_derivation_and_the_calendar_on_the_case_page(client, submit, manager, now):
    case = uk_case_with_history(submit, manager, now)
    client.force_login(manager)
    html = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert html.count('<details class="derivation">') == case.deadlines.count()
    assert "How this date was reached" in html
    assert "Restarted (identity received)" in html and "stopped since Thu 2026-03-05" in html
    assert "Extended by mia on 2026-04-02 08:00 UTC to 3 months from the same start: Twelve systems to search" in html
    assert "Clock paused Tue 2026-03-24 to Tue 2026-03-31 awaiting clarification: + 7 calendar days" in html
    assert "Sat 2026-06-27 is a weekend day: rolled forward to Sun 2026-06-28" in html
    assert re.search(r"Holiday calendar: <b>GB-ENG</b>, holidays library [\d.]+", html)


def test_it_matches_each_row_to_its_own_events_when_a_clock_kind_starts_twice(submit, manager, now):
    """Mexico: asking for information cancels the determination clock; the complete request
    starts a new one. Each row explains its own start."""
    now(dt.datetime(2026, 9, 1, 10, tzinfo=MEXICO))
    case = services.confirm_email(submit("MX", "access"))
    now(dt.datetime(2026, 9, 3, 10, tzinfo=MEXICO))
    case = services.request_information(case, manager, what=Awaiting.INFORMATION, message="Your account ID")
    now(dt.datetime(2026, 9, 10, 10, tzinfo=MEXICO))
    case = services.receive_reply(case, message="ACME-123")
    deadlines, found = explained(case)
    first, second = sorted((d for d in deadlines if d.kind == "determination"), key=lambda d: d.pk)
    assert [e.kind for e in events_by_deadline(deadlines, list(case.events.all()))[first.pk]] == [
        "clock_started", "clock_closed"]
    assert found[first.pk].derivation.steps[0].date == dt.date(2026, 9, 1)
    assert found[second.pk].derivation.steps[0].date == dt.date(2026, 9, 10)
    assert found[second.pk].derivation.steps[0].details["moment"] == "2026-09-10T16:00:00+00:00"
    for d in deadlines:
        assert found[d.pk].consistent and replay(found[d.pk].derivation) == d.due_date, d.kind


def test_it_says_so_when_the_stored_date_no_longer_adds_up(client, submit, manager, now):
    now(dt.datetime(2026, 3, 2, 10, tzinfo=LA))
    case = submit("US-CA", "access")
    Deadline.objects.filter(case=case, kind="respond").update(due_date=dt.date(2026, 4, 17))  # edited by hand
    x = deadline_derivation(respond(case), [])
    assert not x.consistent and x.derivation.due == dt.date(2026, 4, 16)
    client.force_login(manager)
    html = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    assert "these steps give Thu 16 Apr 2026; the date stored when the clock was set is Fri 17 Apr 2026" in html


# --- the requester's one line --------------------------------------------------------------------

def status_html(client, case, language=None):
    if language:
        DataSubjectRequest.objects.filter(pk=case.pk).update(language=language)
    return client.get(f"/status/{make_token(case, STATUS)}/").content.decode()


@pytest.mark.parametrize("language, line", [
    ("en", "15 working days from March 20, not counting weekends and March 31 (Cesar Chavez Day)."),
    ("es", "15 días hábiles desde el 20 de marzo, sin contar los fines de semana ni el 31 de marzo "
           "(Cesar Chavez Day)."),
    ("pt-br", "15 dias úteis a partir de 20 de março, sem contar fins de semana e 31 de março (Cesar Chavez Day)."),
])
def test_it_gives_the_requester_one_plain_line_in_their_language(client, submit, run, now, language, line,
                                                                 compiled_catalogues):
    now(dt.datetime(2026, 3, 20, 10, tzinfo=LA))
    case = submit("US-CA", "opt_out_sale_sharing")
    run(services.confirm_email, case)
    assert line in status_html(client, case, language)


def test_it_tells_the_requester_about_the_clamp_the_roll_and_the_holiday_name_in_spanish(
        client, submit, run, now, compiled_catalogues):
    now(dt.datetime(2026, 1, 31, 12, tzinfo=ZoneInfo("Europe/Madrid")))
    case = submit("ES", "access")
    run(services.confirm_email, case)
    assert ("1 mes desde el 31 de enero, que termina el último día de ese mes, más corto: el 28 de febrero, "
            "trasladado al siguiente día hábil, el 2 de marzo, porque el 28 de febrero es fin de semana."
            ) in status_html(client, case, "es")
    now(dt.datetime(2026, 9, 1, 10, tzinfo=MEXICO))
    mx = submit("MX", "access", requester_email="mx@example.com")
    run(services.confirm_email, mx)
    assert "ni el 16 de septiembre (Día de la Independencia)" in status_html(client, mx, "es")


def test_it_tells_the_requester_about_a_restart_and_a_pause(client, submit, manager, now, compiled_catalogues):
    case = uk_case_with_history(submit, manager, now)
    html = status_html(client, case)
    assert ("3 months from March 20, when we received what we had asked you for, as extended, plus 7 days while "
            "we waited for your answer, moved to the next working day, June 29, because June 27 is a weekend day."
            ) in html


# --- the calculator ---------------------------------------------------------------------------------

def test_it_offers_jurisdictions_by_regime_and_then_the_chosen_ones_request_types(client, analyst):
    client.force_login(analyst)
    html = client.get(CALC).content.decode()
    jurisdiction = html[html.index('name="jurisdiction"'):html.index("</select>", html.index('name="jurisdiction"'))]
    assert '<optgroup label="UK GDPR">' in jurisdiction and '<option value="US-CA">California (US-CA)' in jurisdiction
    assert '<option value="US-TX">Texas (US-TX)' in jurisdiction.split('<optgroup label="Company policy">')[1]
    # without JavaScript: "Show its request types" narrows the request types to the chosen regime's
    html = client.get(CALC, {"jurisdiction": "US-UT", "choose": "1"}).content.decode()
    types = html[html.index('name="request_type"'):html.index("</select>", html.index('name="request_type"'))]
    assert re.findall(r'<option value="([a-z_]+)"', types) == ["access", "portability", "deletion", "opt_out"]
    assert "errorlist" not in html and '<option value="US-UT" selected>' in html
    # Enter in a complete form presses the first submit button, "choose": it still calculates
    html = client.get(CALC, {"jurisdiction": "US-UT", "request_type": "access", "received": "2026-03-02",
                             "choose": "1"}).content.decode()
    assert 'data-clock="respond" data-due="2026-04-16"' in html
    data = json.loads(re.search(r'<script id="calculator-data" type="application/json">(.*?)</script>', html,
                                re.S).group(1))
    assert data["regimes"]["US-UT"] == "ucpa" and [t[0] for t in data["types"]["ucpa"]] == [
        "access", "portability", "deletion", "opt_out"]


def test_it_shows_the_derivation_and_the_calendar_on_the_calculator(client, analyst):
    client.force_login(analyst)
    html = client.get(CALC, {"jurisdiction": "US-CA", "request_type": "opt_out_sale_sharing",
                             "received": "2026-03-20"}).content.decode()
    cell = html[html.index('data-derivation="respond"'):]
    assert "Counted 15 business days after Fri 2026-03-20" in cell
    assert "not counted: Tue 2026-03-31, a public holiday (Cesar Chavez Day)" in cell
    assert re.search(r"Holiday calendar: <b>US-CA</b>, holidays library [\d.]+", html)
    html = client.get(CALC, {"jurisdiction": "DE", "request_type": "access", "received": "2026-01-31"}).content.decode()
    assert "2026-02 has no day 31: its last day, Sat 2026-02-28." in html
    assert "If extended: 3 months from the same start" in html


def test_it_explains_the_appeal_clocks_from_the_decision_and_the_appeal(client, submit, run, manager, now,
                                                                        django_assert_max_num_queries):
    denver = ZoneInfo("America/Denver")
    now(dt.datetime(2026, 3, 2, 10, tzinfo=denver))
    case = services.verify_identity(services.confirm_email(submit("US-CO", "deletion")), manager, method="Login")
    now(dt.datetime(2026, 4, 10, 16, tzinfo=denver))
    case = run(services.deny, case, manager, reasons="We hold no data about you.")
    now(dt.datetime(2026, 5, 1, 20, 30, tzinfo=denver))  # 2 May in UTC, 1 May in Colorado
    appeal = run(services.file_appeal, case, statement="You do hold my data")
    deadlines, found = explained(case)
    by_kind = {d.kind: d for d in deadlines}
    window, decision = found[by_kind["appeal_window"].pk], found[by_kind["appeal_respond"].pk]
    assert window.derivation.steps[0].details["event"] == "decision_sent"
    assert window.derivation.steps[0].date == dt.date(2026, 4, 10)
    start = decision.derivation.steps[0]
    assert (start.date, start.details["moment"], start.details["utc_offset"]) == (
        dt.date(2026, 5, 1), appeal.received_at.isoformat(), "-06:00")
    assert decision.derivation.step("rule").details["source"] == "C.R.S. 6-1-1306(3)(b)"
    for d in deadlines:
        assert found[d.pk].consistent and replay(found[d.pk].derivation) == d.due_date, d.kind
    with django_assert_max_num_queries(7):  # the status page explains every clock without a query per clock
        assert "45 days from April 10" in client.get(f"/status/{make_token(case, STATUS)}/").content.decode()


# --- property: whatever happens to a case, each stored clock's derivation adds up ----------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FLOWS = {"GB": "access", "MX": "access", "US-CO": "deletion", "US-CA": "access"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(jurisdiction=st.sampled_from(["GB", "GB", "GB", "MX", "US-CO", "US-CA"]),  # UK: restarts and pauses
       received=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31),
                             timezones=st.just(dt.timezone.utc)),
       gaps=st.lists(st.integers(0, 20), min_size=6, max_size=6),
       asks=st.lists(st.sampled_from([Awaiting.IDENTITY, Awaiting.CLARIFICATION, Awaiting.FEE]), min_size=1,
                     max_size=2),
       extend=st.booleans())
def test_it_rebuilds_every_stored_clock_of_any_case_history(db, manager, jurisdiction, received, gaps, asks,
                                                           extend):
    import time_machine

    moment = received

    def later(days):
        nonlocal moment
        moment += dt.timedelta(days=days, hours=1)
        return time_machine.travel(moment, tick=False)

    with time_machine.travel(moment, tick=False):
        case = services.submit_request(jurisdiction=jurisdiction, request_types=[FLOWS[jurisdiction]],
                                       requester_name="Ana", requester_email=f"p{received.timestamp()}@example.com",
                                       data_description="Orders")[0]
        case = services.confirm_email(case)
    try:
        if jurisdiction == "MX":
            with later(gaps[0] % 4):
                case = services.request_information(case, manager, what=Awaiting.INFORMATION, message="ID?")
            with later(gaps[1] % 9):
                case = services.receive_reply(case, message="ACME-1")
            with later(gaps[2]):
                case = services.determine(case, manager, admissible=True)
        else:
            with later(0):
                case = services.verify_identity(case, manager, method="Login")
            for i, what in enumerate(asks if jurisdiction == "GB" else []):
                with later(gaps[2 * i]):
                    case = services.request_information(case, manager, what=what, message="Please")
                with later(gaps[2 * i + 1]):
                    case = services.receive_reply(case, message="Here")
        if extend:
            with later(gaps[4] % 10):
                services.extend_deadline(case, manager, reason="Many systems")
        if jurisdiction == "US-CO":
            with later(gaps[5]):
                case = services.deny(case, manager, reasons="No data")
            with later(gaps[0]):
                services.file_appeal(case, statement="You do")
    except services.ServiceError:
        pass  # a step the law refuses at that moment (e.g. an expired clock): the history so far stands
    case.refresh_from_db()
    deadlines, found = explained(case)
    for d in deadlines:
        x = found[d.pk]
        assert x.consistent, (d.kind, d.due_date, x.derivation and x.derivation.due)
        assert replay(x.as_dict()) == d.due_date
        kinds = [s.kind for s in x.derivation.steps]
        assert kinds.count("restart") == d.restarts and ("extension" in kinds) == d.extended
