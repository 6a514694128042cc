"""The deadline calculator: the spec's worked examples (section 6) and a table of cases per regime,
through the pure engine and through `manage.py dsar_deadlines --json`. Expected dates were counted
by hand from the holiday lists of the pinned `holidays` release."""
import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from requests_app.clocks import replay
from requests_app.deadlines import calculate_json as engine_json


def dates_only(result: dict) -> dict:
    """The clocks' dates, after checking that each derivation replays to the date it explains."""
    for clock in result["clocks"].values():
        assert replay(clock.pop("derivation")) == dt.date.fromisoformat(clock["due"])
        extended = clock.pop("extended_derivation")
        assert (replay(extended).isoformat() if extended else None) == clock["extended_due"]
    result.pop("calendar", None)
    return result


def calculate_json(*args, **kwargs) -> dict:
    return dates_only(engine_json(*args, **kwargs))


def clocks(**named):
    """respond=("2026-04-16", "2026-05-31") → the command's JSON shape."""
    return {name: {"due": due, "extended_due": ext} for name, (due, ext) in named.items()}


# Spec section 6, verbatim.
WORKED_EXAMPLES = [
    ("DE", "access", {"received": "2026-01-31"}, "gdpr",
     clocks(respond=("2026-03-02", "2026-04-30"))),  # 28 Feb is a Saturday → Monday 2 March
    ("GB", "access", {"received": "2026-03-31"}, "uk_gdpr",
     clocks(respond=("2026-04-30", "2026-06-30"))),  # there is no 31 April
    ("GB", "access", {"received": "2026-11-25"}, "uk_gdpr",
     clocks(respond=("2026-12-29", "2027-02-25"))),  # Christmas, weekend, Boxing Day substitute
    ("US-CA", "access", {"received": "2026-03-02"}, "ccpa",
     clocks(acknowledge=("2026-03-16", None), respond=("2026-04-16", "2026-05-31"))),
    ("US-CA", "opt_out_sale_sharing", {"received": "2026-03-02"}, "ccpa",
     clocks(respond=("2026-03-23", None))),
    ("MX", "access", {"received": "2026-09-01"}, "lfpdppp",
     clocks(request_information=("2026-09-08", None), determination=("2026-09-30", "2026-10-28"))),
]

TABLE = [
    # gdpr: one month, three once extended, rolled forward over the requester country's holidays
    ("FR", "erasure", {"received": "2026-04-01"}, clocks(respond=("2026-05-04", "2026-07-01"))),  # 1 May
    ("IE", "access", {"received": "2026-02-17"}, clocks(respond=("2026-03-18", "2026-05-18"))),  # St Patrick's
    ("DE", "access", {"received": "2026-11-25"}, clocks(respond=("2026-12-28", "2027-02-25"))),  # no substitute
    # leap year; 30 April 2028 is a Sunday and 1 May Labour Day: the extended date rolls too
    ("DE", "portability", {"received": "2028-01-31"}, clocks(respond=("2028-02-29", "2028-05-02"))),
    ("NO", "objection", {"received": "2026-04-01"}, clocks(respond=("2026-05-04", "2026-07-01"))),
    ("DE", "access", {"received": "2028-02-29"}, clocks(respond=("2028-03-29", "2028-05-29"))),
    # uk_gdpr: England and Wales bank holidays
    ("GB", "rectification", {"received": "2026-03-03"}, clocks(respond=("2026-04-07", "2026-06-03"))),  # Easter
    ("GB", "erasure", {"received": "2026-07-31"}, clocks(respond=("2026-09-01", "2026-11-02"))),  # Aug bank hol
    # 29 April 2028 is a Saturday and 1 May the Early May bank holiday
    ("GB", "access", {"received": "2028-01-29"}, clocks(respond=("2028-02-29", "2028-05-02"))),
    # ccpa: acknowledge 10 business days, respond 45 (+45), opt-out and limit 15 business days, no roll
    ("US-CA", "deletion", {"received": "2026-11-20"},
     clocks(acknowledge=("2026-12-08", None), respond=("2027-01-04", "2027-02-18"))),  # Thanksgiving
    ("US-CA", "opt_out_sale_sharing", {"received": "2026-03-20"}, clocks(respond=("2026-04-13", None))),  # Chavez
    ("US-CA", "opt_out_sale_sharing", {"received": "2026-11-20"}, clocks(respond=("2026-12-15", None))),
    ("US-CA", "limit_sensitive", {"received": "2026-12-18"}, clocks(respond=("2027-01-12", None))),  # 25 Dec, 1 Jan
    ("US-CA", "correction", {"received": "2026-03-02", "decision_sent": "2026-04-01"},  # no appeals in ccpa
     clocks(acknowledge=("2026-03-16", None), respond=("2026-04-16", "2026-05-31"))),
    # cpa: 45 (+45); appeal window 45 days; appeal decision 45 days, extendable to 105
    ("US-CO", "access", {"received": "2026-03-05"}, clocks(respond=("2026-04-19", "2026-06-03"))),  # a Sunday stays
    ("US-CO", "deletion", {"received": "2026-03-02", "decision_sent": "2026-04-10", "appeal_received": "2026-05-01"},
     clocks(respond=("2026-04-16", "2026-05-31"), appeal_window=("2026-05-25", None),
            appeal_respond=("2026-06-15", "2026-08-14"))),
    ("US-CO", "opt_out", {"received": "2026-12-31", "appeal_received": "2027-02-20"},
     clocks(respond=("2027-02-14", "2027-03-31"), appeal_respond=("2027-04-06", "2027-06-05"))),
    # ctdpa: 45 (+45); appeal decision 60 days, no extension
    ("US-CT", "access", {"received": "2026-01-15"}, clocks(respond=("2026-03-01", "2026-04-15"))),
    ("US-CT", "correction", {"received": "2026-01-15", "decision_sent": "2026-03-01", "appeal_received": "2026-04-01"},
     clocks(respond=("2026-03-01", "2026-04-15"), appeal_window=("2026-04-15", None),
            appeal_respond=("2026-05-31", None))),
    ("US-CT", "opt_out", {"received": "2026-06-30"}, clocks(respond=("2026-08-14", "2026-09-28"))),
    # vcdpa: 45 (+45); appeal decision 60 days, no extension
    ("US-VA", "deletion", {"received": "2026-12-20"}, clocks(respond=("2027-02-03", "2027-03-20"))),
    ("US-VA", "access", {"received": "2026-01-01", "decision_sent": "2026-02-10", "appeal_received": "2026-03-27"},
     clocks(respond=("2026-02-15", "2026-04-01"), appeal_window=("2026-03-27", None),
            appeal_respond=("2026-05-26", None))),
    ("US-VA", "portability", {"received": "2028-02-29"}, clocks(respond=("2028-04-14", "2028-05-29"))),
    # ucpa: 45 (+45), never an appeal
    ("US-UT", "access", {"received": "2026-03-02", "decision_sent": "2026-04-01", "appeal_received": "2026-04-02"},
     clocks(respond=("2026-04-16", "2026-05-31"))),
    ("US-UT", "opt_out", {"received": "2026-07-01"}, clocks(respond=("2026-08-15", "2026-09-29"))),
    ("US-UT", "deletion", {"received": "2026-11-25"}, clocks(respond=("2027-01-09", "2027-02-23"))),
    # nrs603a: 60 (+30) from the verified request
    ("US-NV", "opt_out_sale", {"received": "2026-03-02"}, clocks(respond=("2026-05-01", "2026-05-31"))),
    ("US-NV", "opt_out_sale", {"received": "2026-12-31"}, clocks(respond=("2027-03-01", "2027-03-31"))),
    ("US-NV", "opt_out_sale", {"received": "2027-12-31"}, clocks(respond=("2028-02-29", "2028-03-30"))),
    # lgpd: 15 days, no extension, no roll forward
    ("BR", "access", {"received": "2026-03-02"}, clocks(respond=("2026-03-17", None))),
    ("BR", "confirmation", {"received": "2026-12-20"}, clocks(respond=("2027-01-04", None))),
    ("BR", "anonymisation_blocking_deletion", {"received": "2026-04-06"},
     clocks(respond=("2026-04-21", None))),  # Tiradentes: no roll forward
    # lfpdppp: 5 business days to ask once; determination 20 (+20); effective 15 (+15), Mexican holidays
    ("MX", "rectification", {"received": "2026-01-29"},
     clocks(request_information=("2026-02-06", None), determination=("2026-02-27", "2026-03-30"))),
    ("MX", "cancellation", {"received": "2026-03-12"},
     clocks(request_information=("2026-03-20", None), determination=("2026-04-10", "2026-05-11"))),
    ("MX", "access", {"received": "2026-09-01", "communicated": "2026-11-10"},
     clocks(request_information=("2026-09-08", None), determination=("2026-09-30", "2026-10-28"),
            effective=("2026-12-02", "2026-12-23"))),  # Revolution Day, 16 November
    # voluntary: 30 (+30) under company policy
    ("US-TX", "access", {"received": "2026-03-02", "decision_sent": "2026-04-01"},
     clocks(respond=("2026-04-01", "2026-05-01"))),
    ("JP", "deletion", {"received": "2026-12-15"}, clocks(respond=("2027-01-14", "2027-02-13"))),
    ("CH", "opt_out", {"received": "2026-01-31"}, clocks(respond=("2026-03-02", "2026-04-01"))),
]

# --received as an ISO datetime with an offset: converted to the jurisdiction's local date first.
DATETIMES = [
    # 05:30 UTC on 3 March is 21:30 on 2 March in California
    ("US-CA", "access", "2026-03-03T05:30:00+00:00", clocks(acknowledge=("2026-03-16", None),
                                                            respond=("2026-04-16", "2026-05-31"))),
    ("US-CA", "opt_out_sale_sharing", "2026-03-03T10:00:00+09:00", clocks(respond=("2026-03-23", None))),
    # 05:30 Z on 1 September is 23:30 on 31 August in Mexico City: one business day earlier
    ("MX", "access", "2026-09-01T05:30:00Z", clocks(request_information=("2026-09-07", None),
                                                    determination=("2026-09-29", "2026-10-27"))),
    # 23:30 at UTC-5 is 01:30 the next day in São Paulo
    ("BR", "access", "2026-03-02T23:30:00-05:00", clocks(respond=("2026-03-18", None))),
    # 23:30 UTC on 30 March is 00:30 on 31 March in London (BST)
    ("GB", "access", "2026-03-30T23:30:00+00:00", clocks(respond=("2026-04-30", "2026-06-30"))),
    # 23:30 UTC on 30 January is 00:30 on 31 January in Berlin
    ("DE", "access", "2026-01-30T23:30:00+00:00", clocks(respond=("2026-03-02", "2026-04-30"))),
]


def via_command(jurisdiction, request_type, args):
    out = StringIO()
    call_command("dsar_deadlines", jurisdiction=jurisdiction, request_type=request_type, json=True, stdout=out,
                 **args)
    return dates_only(json.loads(out.getvalue()))


@pytest.mark.parametrize("jurisdiction,request_type,args,regime,expected", WORKED_EXAMPLES)
def test_worked_examples_engine(jurisdiction, request_type, args, regime, expected):
    result = calculate_json(jurisdiction, request_type, **args)
    assert result == {"regime": regime, "request_type": request_type, "jurisdiction": jurisdiction,
                      "clocks": expected}


@pytest.mark.parametrize("jurisdiction,request_type,args,regime,expected", WORKED_EXAMPLES)
def test_worked_examples_command(jurisdiction, request_type, args, regime, expected):
    assert via_command(jurisdiction, request_type, args) == {
        "regime": regime, "request_type": request_type, "jurisdiction": jurisdiction, "clocks": expected}


@pytest.mark.parametrize("jurisdiction,request_type,args,expected", TABLE)
def test_table_engine(jurisdiction, request_type, args, expected):
    assert calculate_json(jurisdiction, request_type, **args)["clocks"] == expected


@pytest.mark.parametrize("jurisdiction,request_type,args,expected", TABLE)
def test_table_command(jurisdiction, request_type, args, expected):
    assert via_command(jurisdiction, request_type, args)["clocks"] == expected


@pytest.mark.parametrize("jurisdiction,request_type,received,expected", DATETIMES)
def test_received_as_datetime_with_offset(jurisdiction, request_type, received, expected):
    assert calculate_json(jurisdiction, request_type, received)["clocks"] == expected
    assert via_command(jurisdiction, request_type, {"received": received})["clocks"] == expected


def test_every_regime_has_at_least_three_table_cases():
    from requests_app import regimes as R

    seen = {}
    for jurisdiction, *_ in TABLE + [(w[0],) for w in WORKED_EXAMPLES]:
        code = R.jurisdiction(jurisdiction).regime.code
        seen[code] = seen.get(code, 0) + 1
    assert set(seen) == set(R.REGIMES)
    assert min(seen.values()) >= 3, seen


def test_human_output_lists_each_clock_with_its_source():
    out = StringIO()
    call_command("dsar_deadlines", jurisdiction="US-CO", request_type="access", received="2026-03-02",
                 decision_sent="2026-04-10", appeal_received="2026-05-01", stdout=out)
    text = out.getvalue()
    assert "US-CO → cpa" in text and "America/Denver" in text
    assert "appeal_respond" in text and "Mon 2026-06-15" in text and "extendable to Fri 2026-08-14" in text
    assert "C.R.S. 6-1-1306(3)(b)" in text


def test_human_output_without_any_clock():
    out = StringIO()
    call_command("dsar_deadlines", jurisdiction="MX", request_type="access", received="2026-09-01", stdout=out)
    assert "determination" in out.getvalue() and "effective" not in out.getvalue()


ERRORS = [
    (["--jurisdiction", "XY", "--type", "access", "--received", "2026-03-02"], "unknown jurisdiction 'XY'"),
    (["--jurisdiction", "US", "--type", "access", "--received", "2026-03-02"], "needs a state"),
    (["--jurisdiction", "US-ZZ", "--type", "access", "--received", "2026-03-02"], "unknown jurisdiction 'US-ZZ'"),
    (["--jurisdiction", "US-UT", "--type", "correction", "--received", "2026-03-02"],
     "ucpa does not offer request type 'correction'"),
    (["--jurisdiction", "DE", "--type", "deletion", "--received", "2026-03-02"],
     "gdpr does not offer request type 'deletion'"),
    (["--jurisdiction", "US-CA", "--type", "access", "--received", "2026-02-30"], "'2026-02-30' is not a valid date"),
    (["--jurisdiction", "US-CA", "--type", "access", "--received", "yesterday"], "'yesterday' is not a valid date"),
    (["--jurisdiction", "US-CA", "--type", "access", "--received", "2026-03-02T10:00:00"], "has no UTC offset"),
    (["--jurisdiction", "US-CO", "--type", "access", "--received", "2026-03-02", "--decision-sent", "2026-13-01"],
     "'2026-13-01' is not a valid date"),
]


@pytest.mark.parametrize("argv,message", ERRORS)
def test_errors_raise_a_command_error_naming_the_problem(argv, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("dsar_deadlines", *argv, "--json", stdout=StringIO())


@pytest.mark.parametrize("argv,message", [ERRORS[0], ERRORS[5]])  # a Django start-up each: keep few
def test_errors_exit_non_zero_with_one_line(argv, message):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dsar.settings_test"}
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "manage.py", "dsar_deadlines", *argv, "--json"], capture_output=True,
                          text=True, env=env, cwd=root, timeout=120)
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
