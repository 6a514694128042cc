"""The registry against shared/spec/regimes.md sections 1, 2, 4 and 5, line by line."""
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from requests_app import regimes as R
from requests_app.clocks import business_days as bd
from requests_app.clocks import days, months

# Spec section 1: EU member states, Iceland, Liechtenstein, Norway, each with its capital's zone.
EEA_CAPITAL_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "HR": "Europe/Zagreb",
    "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn",
    "FI": "Europe/Helsinki", "FR": "Europe/Paris", "DE": "Europe/Berlin", "GR": "Europe/Athens",
    "HU": "Europe/Budapest", "IE": "Europe/Dublin", "IT": "Europe/Rome", "LV": "Europe/Riga",
    "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg", "MT": "Europe/Malta", "NL": "Europe/Amsterdam",
    "PL": "Europe/Warsaw", "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SK": "Europe/Bratislava",
    "SI": "Europe/Ljubljana", "ES": "Europe/Madrid", "SE": "Europe/Stockholm",
    "IS": "Atlantic/Reykjavik", "LI": "Europe/Vaduz", "NO": "Europe/Oslo",
}

JURISDICTIONS = [
    # code, regime, time zone, holiday calendar (country, subdivision), complaint authority
    ("GB", "uk_gdpr", "Europe/London", ("GB", "ENG"), "Information Commissioner's Office"),
    ("US-CA", "ccpa", "America/Los_Angeles", ("US", "CA"), "California Privacy Protection Agency"),
    ("US-CO", "cpa", "America/Denver", ("US", "CO"), "Colorado Attorney General"),
    ("US-CT", "ctdpa", "America/New_York", ("US", "CT"), "Connecticut Attorney General"),
    ("US-VA", "vcdpa", "America/New_York", ("US", "VA"), "Virginia Attorney General"),
    ("US-UT", "ucpa", "America/Denver", ("US", "UT"), "Utah Division of Consumer Protection"),
    ("US-NV", "nrs603a", "America/Los_Angeles", ("US", "NV"), "Nevada Attorney General"),
    ("BR", "lgpd", "America/Sao_Paulo", ("BR", None), "Autoridade Nacional de Proteção de Dados (ANPD)"),
    ("MX", "lfpdppp", "America/Mexico_City", ("MX", None), "Secretaría Anticorrupción y Buen Gobierno"),
    ("US-TX", "voluntary", "America/Chicago", ("US", "TX"), None),
    ("US-NY", "voluntary", "America/New_York", ("US", "NY"), None),
    ("JP", "voluntary", "Asia/Tokyo", ("JP", None), None),
    ("CA", "voluntary", "America/Toronto", ("CA", None), None),
    ("CH", "voluntary", "Europe/Zurich", ("CH", None), None),
]

GDPR_TYPES = ("access", "rectification", "erasure", "restriction", "portability", "objection", "withdraw_consent",
              "automated_decision_review")
US_TYPES = ("access", "portability", "correction", "deletion", "opt_out")
REQUEST_TYPES = {  # spec section 2
    "gdpr": GDPR_TYPES,
    "uk_gdpr": GDPR_TYPES,
    "ccpa": ("access", "deletion", "correction", "opt_out_sale_sharing", "limit_sensitive"),
    "cpa": US_TYPES, "ctdpa": US_TYPES, "vcdpa": US_TYPES,
    "ucpa": ("access", "portability", "deletion", "opt_out"),
    "nrs603a": ("opt_out_sale",),
    "lgpd": ("confirmation", "access", "rectification", "anonymisation_blocking_deletion", "portability",
             "sharing_information", "withdraw_consent", "objection", "automated_decision_review"),
    "lfpdppp": ("access", "rectification", "cancellation", "opposition", "revoke_consent", "limit_use_disclosure"),
    "voluntary": ("access", "deletion", "correction", "opt_out"),
}

BASE = {R.SELF, R.PARENT}
FILERS = {  # spec section 2, "Who may file"
    "gdpr": BASE, "uk_gdpr": BASE, "nrs603a": BASE, "voluntary": BASE,
    "ccpa": BASE | {R.AGENT}, "cpa": BASE | {R.AGENT}, "ctdpa": BASE | {R.AGENT}, "vcdpa": BASE | {R.AGENT},
    "ucpa": BASE | {R.AGENT},
    "lgpd": BASE | {R.LEGAL_REPRESENTATIVE}, "lfpdppp": BASE | {R.LEGAL_REPRESENTATIVE},
}

KNOW = frozenset({"access", "deletion", "correction"})
OPT = frozenset({"opt_out_sale_sharing", "limit_sensitive"})
US45 = [("respond", R.RECEIVED, days(45), days(90), False, None)]
CLOCKS = {  # spec section 4: name, starts, period, extended period (from the same start), roll forward, types
    "gdpr": [("respond", R.RECEIVED, months(1), months(3), True, None)],
    "uk_gdpr": [("respond", R.RECEIVED, months(1), months(3), True, None)],
    "ccpa": [("acknowledge", R.RECEIVED, bd(10), None, False, KNOW),
             ("respond", R.RECEIVED, days(45), days(90), False, KNOW),
             ("respond", R.RECEIVED, bd(15), None, False, OPT)],
    "cpa": US45, "ctdpa": US45, "vcdpa": US45, "ucpa": US45,
    "nrs603a": [("respond", R.VERIFIED, days(60), days(90), False, None)],
    "lgpd": [("respond", R.RECEIVED, days(15), None, False, None)],
    "lfpdppp": [("request_information", R.RECEIVED, bd(5), None, False, None),
                ("requester_reply", R.INFORMATION_REQUESTED, bd(10), None, False, None),
                ("determination", R.COMPLETE_REQUEST, bd(20), bd(40), False, None),
                ("effective", R.COMMUNICATED, bd(15), bd(30), False, None)],
    "voluntary": [("respond", R.RECEIVED, days(30), days(60), False, None)],
}

APPEALS = {  # spec section 4, appeals: window, decision due, extended decision due
    "cpa": (days(45), days(45), days(105), "Colorado"),
    "ctdpa": (days(45), days(60), None, "Connecticut"),
    "vcdpa": (days(45), days(60), None, "Virginia"),
}


def test_the_eleven_regimes():
    assert set(R.REGIMES) == {"gdpr", "uk_gdpr", "ccpa", "cpa", "ctdpa", "vcdpa", "ucpa", "nrs603a", "lgpd",
                              "lfpdppp", "voluntary"}
    assert R.regime("ccpa") is R.CCPA
    with pytest.raises(R.RegimeError, match="unknown regime 'hipaa'"):
        R.regime("hipaa")


@pytest.mark.parametrize("code,zone", sorted(EEA_CAPITAL_ZONES.items()))
def test_every_eea_country_is_gdpr_with_its_capital_zone_holidays_and_authority(code, zone):
    jur = R.jurisdiction(code)
    assert jur.regime.code == "gdpr"
    assert jur.timezone == zone
    assert (jur.calendar.country, jur.calendar.subdiv) == (code, None)
    assert jur.complaint_authority  # the supervisory authority of their country
    assert jur.complaint_authority != R.jurisdiction("GB").complaint_authority


def test_gdpr_country_authorities():
    assert "CNIL" in R.jurisdiction("FR").complaint_authority
    assert R.jurisdiction("IE").complaint_authority == "Data Protection Commission"
    assert R.jurisdiction("de").regime.code == "gdpr"  # codes are case-insensitive


@pytest.mark.parametrize("code,regime,zone,calendar,authority", JURISDICTIONS)
def test_jurisdictions(code, regime, zone, calendar, authority):
    jur = R.jurisdiction(code)
    assert jur.regime.code == regime
    assert jur.timezone == zone
    assert (jur.calendar.country, jur.calendar.subdiv) == calendar
    assert jur.complaint_authority == authority


def test_every_country_resolves_to_a_real_time_zone():
    utc = []
    for code in R.all_country_codes():
        if code != "US":
            jur = R.jurisdiction(code)
            assert jur.regime.code in R.REGIMES
            ZoneInfo(jur.timezone)
            utc += [code] if jur.timezone == "UTC" else []
    assert set(utc) <= {"BV", "HM"}  # uninhabited islands without a zone of their own
    assert R.jurisdiction("PR").timezone == "America/Puerto_Rico"
    assert R.jurisdiction("EG").timezone == "Africa/Cairo"
    for code in R.us_state_codes():
        assert R.jurisdiction(code).timezone.startswith(("America/", "Pacific/"))


@pytest.mark.parametrize("code,message", [
    ("US", "jurisdiction 'US' needs a state"),
    ("US-XX", "unknown jurisdiction 'US-XX'"),
    ("ZZ", "unknown jurisdiction 'ZZ'"),
    ("", "unknown jurisdiction ''"),
    ("Germany", "unknown jurisdiction 'GERMANY'"),
])
def test_unknown_jurisdictions(code, message):
    with pytest.raises(R.UnknownJurisdiction, match=message):
        R.jurisdiction(code)


@pytest.mark.parametrize("regime", sorted(REQUEST_TYPES))
def test_request_types_per_regime(regime):
    reg = R.regime(regime)
    assert reg.request_type_codes == REQUEST_TYPES[regime]
    for rtype in reg.request_types:
        assert rtype.label and rtype.description and rtype.citation
        # opt-outs need no identity verification (11 CCR §7026(d)); everything else does
        assert rtype.needs_verification is (not rtype.code.startswith(("opt_out", "limit_sensitive")))


def test_a_type_the_regime_does_not_offer_names_what_it_offers():
    with pytest.raises(R.UnknownRequestType, match="ucpa does not offer request type 'correction'.*access"):
        R.regime("ucpa").request_type("correction")
    with pytest.raises(R.UnknownRequestType):
        R.regime("gdpr").request_type("deletion")  # GDPR calls it erasure


def test_ucpa_opt_out_has_no_profiling():
    assert "profiling" not in R.regime("ucpa").request_type("opt_out").description
    assert "profiling" in R.regime("cpa").request_type("opt_out").description


@pytest.mark.parametrize("regime", sorted(FILERS))
def test_who_may_file(regime):
    assert R.regime(regime).filers == FILERS[regime]


@pytest.mark.parametrize("regime", sorted(CLOCKS))
def test_clock_rules_per_regime(regime):
    reg = R.regime(regime)
    got = [(c.name, c.starts, c.period, c.extended, c.roll_forward, c.request_types) for c in reg.clocks]
    assert got == CLOCKS[regime]
    for c in reg.clocks:
        assert c.source  # every clock cites its source
        assert c.extended is None or c.extended.unit == c.period.unit and c.extended.amount > c.period.amount


def test_lfpdppp_windows_are_not_obligations():
    kinds = {c.name: c.kind for c in R.regime("lfpdppp").clocks}
    assert kinds == {"request_information": R.WINDOW, "requester_reply": R.WINDOW,
                     "determination": R.OBLIGATION, "effective": R.OBLIGATION}


def test_ccpa_clocks_depend_on_the_request_type():
    ccpa = R.regime("ccpa")
    assert [c.name for c in ccpa.clocks_for("access")] == ["acknowledge", "respond"]
    assert [(c.name, c.period) for c in ccpa.clocks_for("opt_out_sale_sharing")] == [("respond", bd(15))]
    assert ccpa.clock("respond", "limit_sensitive").extended is None
    assert ccpa.clock("acknowledge", "limit_sensitive") is None


@pytest.mark.parametrize("regime", sorted(R.REGIMES))
def test_appeals_only_in_cpa_ctdpa_vcdpa(regime):
    reg = R.regime(regime)
    if regime not in APPEALS:
        assert not reg.has_appeals and reg.appeal_clocks() == ()
        return
    window, respond, extended, state = APPEALS[regime]
    assert (reg.appeal.window, reg.appeal.respond, reg.appeal.respond_extended) == (window, respond, extended)
    assert state in reg.appeal.attorney_general  # the denied-appeal letter tells how to reach the AG
    win, resp = reg.appeal_clocks()
    assert (win.name, win.starts, win.kind, win.extended) == ("appeal_window", R.DECISION_SENT, R.WINDOW, None)
    assert (resp.name, resp.starts, resp.kind) == ("appeal_respond", R.APPEAL_RECEIVED, R.OBLIGATION)
    assert reg.any_clock("appeal_respond", "access") == resp


def test_restart_pause_and_request_information_flags():
    assert R.regime("uk_gdpr").restart_on_identity and R.regime("uk_gdpr").pause_on_clarification
    for code, reg in R.REGIMES.items():
        if code != "uk_gdpr":
            assert not reg.restart_on_identity and not reg.pause_on_clarification  # spec: uk_gdpr only
        assert reg.may_request_information_once is (code == "lfpdppp")


@pytest.mark.parametrize("code,limit", [
    ("US-CA", 2), ("US-CO", 2), ("US-CT", 2), ("US-VA", 2), ("US-UT", 2),
    ("US-TX", 2), ("US-NV", 2),  # company policy: every US state
    ("DE", None), ("GB", None), ("BR", None), ("MX", None), ("JP", None),
])
def test_repeat_access_limit(code, limit):
    assert R.jurisdiction(code).repeat_access_limit == limit


def test_refusals_name_the_authority_where_the_spec_says():
    names = {code for code, reg in R.REGIMES.items() if reg.names_authority_in_denials}
    assert {"gdpr", "uk_gdpr", "lgpd"} <= names


def test_the_engine_is_pure_python():
    """regimes, clocks and deadlines import nothing from Django."""
    code = ("import sys; import requests_app.regimes, requests_app.clocks, requests_app.deadlines; "
            "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')]; "
            "assert not bad, bad")
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(root)}, cwd=root, timeout=60)
