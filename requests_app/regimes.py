"""The registry of shared/spec/regimes.md: jurisdictions, regimes, rights, clocks and appeals.

Pure Python, no Django imports. Every number cites its source in a one-line comment.
Labels are wrapped in `_` (a no-op here) so that makemessages extracts them; the Django
layer translates them at display time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

import pycountry

from .clocks import NO_HOLIDAYS, HolidayCalendar, Period, business_days, days, months


def _(text: str) -> str:  # marker for makemessages; translation happens in templates/views
    return text


# --- clock and event names -------------------------------------------------------------------

ACKNOWLEDGE = "acknowledge"
RESPOND = "respond"
REQUEST_INFORMATION = "request_information"
REQUESTER_REPLY = "requester_reply"
DETERMINATION = "determination"
EFFECTIVE = "effective"
APPEAL_WINDOW = "appeal_window"
APPEAL_RESPOND = "appeal_respond"
CONFIRM_EMAIL = "confirm_email"  # internal timer, not a legal clock
# What a reversed appeal promises, due by the appeal's own deadline (spec section 5).
APPEAL_ACTION = "appeal_action"

CALCULATOR_CLOCKS = (
    ACKNOWLEDGE, RESPOND, REQUEST_INFORMATION, DETERMINATION, EFFECTIVE, APPEAL_WINDOW, APPEAL_RESPOND,
)

# Events that start a clock.
RECEIVED = "received"
VERIFIED = "verified"
COMPLETE_REQUEST = "complete_request"
INFORMATION_REQUESTED = "information_requested"
COMMUNICATED = "communicated"
DECISION_SENT = "decision_sent"
APPEAL_RECEIVED = "appeal_received"

# What the clock means for the company.
OBLIGATION = "obligation"  # we must act before it expires; overdue escalates
WINDOW = "window"  # an opportunity that lapses (ours or the requester's)

# Who may file.
SELF = "self"
AGENT = "agent"
LEGAL_REPRESENTATIVE = "legal_representative"
PARENT = "parent"
FILER_LABELS = {
    SELF: _("The person the data is about"),
    AGENT: _("An authorised agent"),
    LEGAL_REPRESENTATIVE: _("A legal representative"),
    PARENT: _("A parent or guardian of a minor"),
}


@dataclass(frozen=True)
class RequestType:
    code: str
    label: str
    description: str
    citation: str
    kind: str  # access | deletion | correction | opt_out | other: drives letters and verification

    @property
    def is_opt_out(self) -> bool:
        return self.kind == "opt_out"

    @property
    def needs_verification(self) -> bool:
        # Opt-outs need no identity verification (11 CCR §7026(d); same practice elsewhere).
        return not self.is_opt_out


@dataclass(frozen=True)
class ClockRule:
    name: str
    starts: str
    period: Period
    extended: Period | None  # the whole period once extended, counted from the same start
    roll_forward: bool
    source: str
    kind: str = OBLIGATION
    request_types: frozenset[str] | None = None  # None: every request type of the regime

    def applies_to(self, request_type: str) -> bool:
        return self.request_types is None or request_type in self.request_types


@dataclass(frozen=True)
class AppealRule:
    window: Period
    window_source: str
    respond: Period
    respond_extended: Period | None
    respond_source: str
    attorney_general: str  # how to contact the AG, for denied appeal letters


@dataclass(frozen=True)
class Regime:
    code: str
    name: str
    law: str
    authority: str | None
    authority_contact: str
    request_types: tuple[RequestType, ...]
    filers: frozenset[str]
    clocks: tuple[ClockRule, ...]
    controller: str  # key of the letterhead configuration (settings.DSAR_CONTROLLERS)
    appeal: AppealRule | None = None
    restart_on_identity: bool = False
    pause_on_clarification: bool = False
    repeat_access_limit: int | None = None  # access requests per rolling 12 months
    may_request_information_once: bool = False
    names_authority_in_denials: bool = False

    def request_type(self, code: str) -> RequestType:
        for rt in self.request_types:
            if rt.code == code:
                return rt
        offered = ", ".join(rt.code for rt in self.request_types)
        raise UnknownRequestType(f"{self.code} does not offer request type '{code}' (offers: {offered})")

    @property
    def request_type_codes(self) -> tuple[str, ...]:
        return tuple(rt.code for rt in self.request_types)

    def clocks_for(self, request_type: str) -> tuple[ClockRule, ...]:
        return tuple(c for c in self.clocks if c.applies_to(request_type))

    def clock(self, name: str, request_type: str) -> ClockRule | None:
        for c in self.clocks_for(request_type):
            if c.name == name:
                return c
        return None

    def pauses_on_clarification(self, request_type: str) -> bool:
        # UK GDPR Art. 12A(4)-(5): the pause is for identifying the information a request under
        # Art. 15 (access) relates to; every other request's clock keeps running (spec section 3).
        return self.pause_on_clarification and request_type == "access"

    @property
    def has_appeals(self) -> bool:
        return self.appeal is not None

    def appeal_clocks(self) -> tuple[ClockRule, ...]:
        if self.appeal is None:
            return ()
        a = self.appeal
        return (
            ClockRule(APPEAL_WINDOW, DECISION_SENT, a.window, None, False, a.window_source, kind=WINDOW),
            ClockRule(APPEAL_RESPOND, APPEAL_RECEIVED, a.respond, a.respond_extended, False, a.respond_source),
        )

    def any_clock(self, name: str, request_type: str) -> ClockRule | None:
        """Every clock a case of this type can have, including the appeal's."""
        for c in self.clocks_for(request_type) + self.appeal_clocks():
            if c.name == name:
                return c
        return None


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    regime: Regime
    timezone: str
    calendar: HolidayCalendar = field(default=NO_HOLIDAYS)
    authority: str | None = None  # overrides the regime's (each EEA country has its own)

    @property
    def complaint_authority(self) -> str | None:
        return self.authority or self.regime.authority

    @property
    def is_us(self) -> bool:
        return self.code.startswith("US-")

    @property
    def repeat_access_limit(self) -> int | None:
        """Access requests answered per rolling 12 months: the regime's rule, and the company
        policy's for every other US state (spec section 5); the next one is flagged `repeat`."""
        if self.regime.repeat_access_limit is not None:
            return self.regime.repeat_access_limit
        return US_POLICY_REPEAT_ACCESS_LIMIT if self.is_us else None


class RegimeError(ValueError):
    pass


class UnknownJurisdiction(RegimeError):
    pass


class UnknownRequestType(RegimeError):
    pass


# --- request types -----------------------------------------------------------------------------

def rt(code, label, description, citation, kind="other"):
    return RequestType(code, label, description, citation, kind)


def gdpr_types(law: str) -> tuple[RequestType, ...]:
    """GDPR and UK GDPR give the same rights; only the citation's prefix differs."""
    return (
    rt("access", _("Access your personal data"), _("Get a copy of your data and how it is used."), f"{law} Art. 15", "access"),
    rt("rectification", _("Correct your data"), _("Have inaccurate data corrected or completed."), f"{law} Art. 16", "correction"),
    rt("erasure", _("Erase your data"), _("Have your data deleted (the right to be forgotten)."), f"{law} Art. 17", "deletion"),
    rt("restriction", _("Restrict processing"), _("Have us keep your data but stop using it."), f"{law} Art. 18"),
    rt("portability", _("Data portability"), _("Receive your data in a machine-readable format."), f"{law} Art. 20", "access"),
    rt("objection", _("Object to processing"), _("Object to our use of your data, including direct marketing."), f"{law} Art. 21"),
    rt("withdraw_consent", _("Withdraw consent"), _("Withdraw consent you gave us."), f"{law} Art. 7(3)"),
    rt("automated_decision_review", _("Review of an automated decision"), _("Obtain human review of a decision made only by automated means."), f"{law} Art. 22"),
    )

def us_state_types(law: str, correction: bool = True, profiling: bool = True) -> tuple[RequestType, ...]:
    """The rights of the Colorado-style US state laws (cpa, ctdpa, vcdpa, ucpa).
    UCPA gives neither correction nor an opt-out of profiling (Utah Code 13-61-201)."""
    opt_out = (_("Opt out of targeted advertising, sale of your data and profiling.") if profiling
               else _("Opt out of targeted advertising and sale of your data."))
    return tuple(t for t in (
        rt("access", _("Access your personal data"), _("Confirm whether we process your data and get a copy."), f"{law}", "access"),
        rt("portability", _("Data portability"), _("Get your data in a portable, readily usable format."), f"{law}", "access"),
        rt("correction", _("Correct your data"), _("Have inaccurate data corrected."), f"{law}", "correction"),
        rt("deletion", _("Delete your data"), _("Have your personal data deleted."), f"{law}", "deletion"),
        rt("opt_out", _("Opt out"), opt_out, f"{law}", "opt_out"),
    ) if correction or t.code != "correction")

CCPA_TYPES = (
    rt("access", _("Right to know"), _("Know the categories and specific pieces of personal information we collected about you in the last 12 months."), "Cal. Civ. Code §1798.110, §1798.115", "access"),
    rt("deletion", _("Right to delete"), _("Have personal information we collected from you deleted."), "Cal. Civ. Code §1798.105", "deletion"),
    rt("correction", _("Right to correct"), _("Have inaccurate personal information corrected."), "Cal. Civ. Code §1798.106", "correction"),
    rt("opt_out_sale_sharing", _("Opt out of sale or sharing"), _("Stop the sale or sharing of your personal information."), "Cal. Civ. Code §1798.120", "opt_out"),
    rt("limit_sensitive", _("Limit use of sensitive information"), _("Limit the use and disclosure of your sensitive personal information."), "Cal. Civ. Code §1798.121", "opt_out"),
)

LGPD_TYPES = (
    rt("confirmation", _("Confirmation of processing"), _("Confirm whether we process your data."), "LGPD Art. 18 I", "access"),
    rt("access", _("Access your personal data"), _("Get access to your data."), "LGPD Art. 18 II", "access"),
    rt("rectification", _("Correct your data"), _("Correct incomplete, inaccurate or outdated data."), "LGPD Art. 18 III", "correction"),
    rt("anonymisation_blocking_deletion", _("Anonymisation, blocking or deletion"), _("Anonymise, block or delete unnecessary or excessive data."), "LGPD Art. 18 IV and VI", "deletion"),
    rt("portability", _("Data portability"), _("Have your data transferred to another provider."), "LGPD Art. 18 V", "access"),
    rt("sharing_information", _("Information about sharing"), _("Learn which public and private entities we share your data with."), "LGPD Art. 18 VII"),
    rt("withdraw_consent", _("Withdraw consent"), _("Withdraw consent and learn the consequences of refusing it."), "LGPD Art. 18 VIII and IX"),
    rt("objection", _("Object to processing"), _("Object to processing carried out without consent where it breaks the law."), "LGPD Art. 18 §2"),
    rt("automated_decision_review", _("Review of an automated decision"), _("Request review of decisions made solely by automated processing."), "LGPD Art. 20"),
)

LFPDPPP_TYPES = (
    rt("access", _("Access (ARCO)"), _("Access your personal data we hold."), "LFPDPPP (2025) ARCO rights: access", "access"),
    rt("rectification", _("Rectification (ARCO)"), _("Correct inaccurate or incomplete data."), "LFPDPPP (2025) ARCO rights: rectification", "correction"),
    rt("cancellation", _("Cancellation (ARCO)"), _("Have your data removed from our records."), "LFPDPPP (2025) ARCO rights: cancellation", "deletion"),
    rt("opposition", _("Opposition (ARCO)"), _("Oppose processing of your data for specific purposes."), "LFPDPPP (2025) ARCO rights: opposition"),
    rt("revoke_consent", _("Revoke consent"), _("Revoke consent you gave for processing."), "LFPDPPP (2025) revocation of consent"),
    rt("limit_use_disclosure", _("Limit use or disclosure"), _("Limit the use or disclosure of your data."), "LFPDPPP (2025) limitation of use and disclosure"),
)

VOLUNTARY_TYPES = (
    rt("access", _("Access your personal data"), _("Get a copy of your data."), "Company privacy policy", "access"),
    rt("deletion", _("Delete your data"), _("Have your data deleted."), "Company privacy policy", "deletion"),
    rt("correction", _("Correct your data"), _("Have inaccurate data corrected."), "Company privacy policy", "correction"),
    rt("opt_out", _("Opt out"), _("Opt out of marketing and sale of your data."), "Company privacy policy", "opt_out"),
)

# Company policy (section K): no more than two access requests per rolling 12 months in any US state,
# following Cal. Civ. Code §1798.130(b); the third is flagged for staff, never dropped.
US_POLICY_REPEAT_ACCESS_LIMIT = 2

ALL_FILERS = frozenset({SELF, PARENT})  # a parent or guardian may file for a minor anywhere (spec §2)


def _respond(period, extended, source, *, roll=False, starts=RECEIVED, types=None):
    return ClockRule(RESPOND, starts, period, extended, roll, source, request_types=types)


def _us_appeal(respond: Period, extended: Period | None, source: str, ag: str) -> AppealRule:
    return AppealRule(
        window=days(45),  # 45 days after the decision was sent: the company's privacy policy, section K
        window_source="Company privacy policy, section K (45 days to appeal)",
        respond=respond,
        respond_extended=extended,
        respond_source=source,
        attorney_general=ag,
    )


GDPR = Regime(
    code="gdpr", name="GDPR", law="General Data Protection Regulation (EU) 2016/679",
    authority=None, authority_contact="edpb.europa.eu/about-edpb/about-edpb/members_en",
    request_types=gdpr_types("GDPR"), filers=ALL_FILERS, controller="intl",
    clocks=(
        # Art. 12(3): one month, extendable by two further months; Reg. 1182/71 Art. 3(4) rolls forward.
        _respond(months(1), months(3), "GDPR Art. 12(3); Reg. (EEC, Euratom) 1182/71 Art. 3(4)", roll=True),
    ),
    names_authority_in_denials=True,
)

UK_GDPR = Regime(
    code="uk_gdpr", name="UK GDPR",
    law="UK GDPR and Data Protection Act 2018, as amended by the Data (Use and Access) Act 2025",
    authority="Information Commissioner's Office", authority_contact="ico.org.uk/make-a-complaint, 0303 123 1113",
    request_types=gdpr_types("UK GDPR"), filers=ALL_FILERS, controller="intl",
    clocks=(
        # Art. 12(3) and 12A (DUAA 2025): one month, +2 months; ICO guidance rolls to the next working day.
        _respond(months(1), months(3), "UK GDPR Art. 12(3), Art. 12A; ICO right of access guidance", roll=True),
    ),
    restart_on_identity=True,  # Art. 12A(3): the clock starts when requested ID or fee is received
    pause_on_clarification=True,  # Art. 12A(4): the clock stops while awaiting clarification
    names_authority_in_denials=True,
)

CCPA = Regime(
    code="ccpa", name="CCPA", law="California Consumer Privacy Act as amended by the CPRA; 11 CCR §7000 ff.",
    authority="California Privacy Protection Agency", authority_contact="cppa.ca.gov",
    request_types=CCPA_TYPES, filers=ALL_FILERS | {AGENT}, controller="us",
    clocks=(
        # 11 CCR §7021(a): confirm receipt of know/delete/correct within 10 business days.
        ClockRule(ACKNOWLEDGE, RECEIVED, business_days(10), None, False, "11 CCR §7021(a)",
                  request_types=frozenset({"access", "deletion", "correction"})),
        # §1798.130(a)(2), 11 CCR §7021(b): 45 days from receipt regardless of verification, +45 with notice.
        _respond(days(45), days(90), "Cal. Civ. Code §1798.130(a)(2); 11 CCR §7021(b)",
                 types=frozenset({"access", "deletion", "correction"})),
        # 11 CCR §7026(f), §7027(g): opt-out and limit requests within 15 business days, no extension.
        _respond(business_days(15), None, "11 CCR §7026(f), §7027(g)",
                 types=frozenset({"opt_out_sale_sharing", "limit_sensitive"})),
    ),
    repeat_access_limit=2,  # §1798.130(b): need not answer know requests more than twice in 12 months
)

CPA = Regime(
    code="cpa", name="Colorado Privacy Act", law="Colorado Privacy Act, C.R.S. 6-1-1301 ff.; 4 CCR 904-3",
    authority="Colorado Attorney General", authority_contact="coag.gov/file-complaint",
    request_types=us_state_types("C.R.S. 6-1-1306(1)"), filers=ALL_FILERS | {AGENT}, controller="us",
    # C.R.S. 6-1-1306(2)(a): 45 days from receipt, extendable once by 45 (90 in all) with notice and reasons.
    clocks=(_respond(days(45), days(90), "C.R.S. 6-1-1306(2)(a): 45 days, +45 with notice"),),
    appeal=_us_appeal(
        days(45), days(105),  # C.R.S. 6-1-1306(3)(b): 45 days, extendable by 60 additional days (105)
        "C.R.S. 6-1-1306(3)(b)",
        "Colorado Attorney General, Consumer Protection Section, Ralph L. Carr Judicial Building, "
        "1300 Broadway, Denver, CO 80203; online: coag.gov/file-complaint",
    ),
    repeat_access_limit=2,  # company policy applies the twice-a-year rule to every US state (section K)
)

CTDPA = Regime(
    code="ctdpa", name="Connecticut Data Privacy Act", law="Connecticut Data Privacy Act, Conn. Gen. Stat. 42-515 ff.",
    authority="Connecticut Attorney General", authority_contact="portal.ct.gov/AG",
    request_types=us_state_types("Conn. Gen. Stat. 42-518(a)"), filers=ALL_FILERS | {AGENT}, controller="us",
    # Conn. Gen. Stat. 42-518(b)(1): 45 days from receipt, extendable once by 45 with notice and reasons.
    clocks=(_respond(days(45), days(90), "Conn. Gen. Stat. 42-518(b)(1): 45 days, +45 with notice"),),
    appeal=_us_appeal(
        days(60), None,  # Conn. Gen. Stat. 42-518(d): 60 days to decide an appeal, no extension
        "Conn. Gen. Stat. 42-518(d)",
        "Connecticut Office of the Attorney General, 165 Capitol Avenue, Hartford, CT 06106; "
        "online: portal.ct.gov/AG/Common/Complaint-Form-Landing-page",
    ),
    repeat_access_limit=2,  # company policy applies the twice-a-year rule to every US state (section K)
)

VCDPA = Regime(
    code="vcdpa", name="Virginia Consumer Data Protection Act", law="Virginia CDPA, Va. Code 59.1-575 ff.",
    authority="Virginia Attorney General", authority_contact="oag.state.va.us",
    request_types=us_state_types("Va. Code 59.1-577(A)"), filers=ALL_FILERS | {AGENT}, controller="us",
    # Va. Code 59.1-577(B)(1): 45 days from receipt, extendable once by 45 with notice and reasons.
    clocks=(_respond(days(45), days(90), "Va. Code 59.1-577(B)(1): 45 days, +45 with notice"),),
    appeal=_us_appeal(
        days(60), None,  # Va. Code 59.1-577(C): 60 days to decide an appeal, no extension
        "Va. Code 59.1-577(C)",
        "Office of the Attorney General of Virginia, Consumer Protection Section, 202 North Ninth Street, "
        "Richmond, VA 23219; online: oag.state.va.us/consumer-protection",
    ),
    repeat_access_limit=2,  # company policy applies the twice-a-year rule to every US state (section K)
)

UCPA = Regime(
    code="ucpa", name="Utah Consumer Privacy Act", law="Utah Consumer Privacy Act, Utah Code 13-61",
    authority="Utah Division of Consumer Protection", authority_contact="dcp.utah.gov",
    # Utah Code 13-61-201: no correction right, opt-out of targeted advertising and sale only.
    request_types=us_state_types("Utah Code 13-61-201", correction=False, profiling=False),
    filers=ALL_FILERS | {AGENT}, controller="us",
    # Utah Code 13-61-203(2)(a)-(c): 45 days from receipt, extendable once by 45 before the first expires.
    clocks=(_respond(days(45), days(90), "Utah Code 13-61-203(2): 45 days, +45 with notice"),),
    repeat_access_limit=2,  # company policy applies the twice-a-year rule to every US state (section K)
)

NRS603A = Regime(
    code="nrs603a", name="Nevada NRS 603A", law="NRS 603A.300–.360 (sale opt-out)",
    authority="Nevada Attorney General", authority_contact="ag.nv.gov",
    request_types=(
        rt("opt_out_sale", _("Opt out of sale"), _("Direct us not to sell your covered information (for people who bought goods or services)."), "NRS 603A.345", "opt_out"),
    ),
    filers=ALL_FILERS, controller="us",
    # NRS 603A.345(4): 60 days from receipt of a verified request, extendable by up to 30 (90) with notice.
    clocks=(_respond(days(60), days(90), "NRS 603A.345(4)", starts=VERIFIED),),
)

LGPD = Regime(
    code="lgpd", name="LGPD", law="Lei Geral de Proteção de Dados, Law 13.709/2018",
    authority="Autoridade Nacional de Proteção de Dados (ANPD)", authority_contact="gov.br/anpd",
    request_types=LGPD_TYPES, filers=ALL_FILERS | {LEGAL_REPRESENTATIVE}, controller="intl",
    # Art. 19 II: 15 days; used for every right until the ANPD sets other periods (spec reading).
    clocks=(_respond(days(15), None, "LGPD Art. 19 II"),),
    names_authority_in_denials=True,
)

LFPDPPP = Regime(
    code="lfpdppp", name="LFPDPPP", law="Ley Federal de Protección de Datos Personales en Posesión de los Particulares (2025)",
    authority="Secretaría Anticorrupción y Buen Gobierno", authority_contact="gob.mx/buengobierno",
    request_types=LFPDPPP_TYPES, filers=ALL_FILERS | {LEGAL_REPRESENTATIVE}, controller="intl",
    clocks=(
        # LFPDPPP (2025): 5 business days to ask, once, for missing information.
        ClockRule(REQUEST_INFORMATION, RECEIVED, business_days(5), None, False,
                  "LFPDPPP (2025): request for missing information", kind=WINDOW),
        # 10 business days to reply; no reply means the request is deemed not filed.
        ClockRule(REQUESTER_REPLY, INFORMATION_REQUESTED, business_days(10), None, False,
                  "LFPDPPP (2025): requester's reply", kind=WINDOW),
        # 20 business days from the complete request to communicate admissibility, once +20 justified.
        ClockRule(DETERMINATION, COMPLETE_REQUEST, business_days(20), business_days(40), False,
                  "LFPDPPP (2025): determination within 20 days"),
        # 15 business days from communicating admissibility to make it effective, once +15 justified.
        ClockRule(EFFECTIVE, COMMUNICATED, business_days(15), business_days(30), False,
                  "LFPDPPP (2025): effective within 15 days"),
    ),
    may_request_information_once=True,
    names_authority_in_denials=True,
)

VOLUNTARY_MAX_DAYS = 30  # spec section 4: "30 calendar days (setting)"; deployments may only shorten clocks


def _voluntary_days() -> int:
    """The company-policy period, from the DSAR_VOLUNTARY_DAYS environment setting (default 30)."""
    raw = os.environ.get("DSAR_VOLUNTARY_DAYS", str(VOLUNTARY_MAX_DAYS))
    try:
        value = int(raw)
    except ValueError:
        raise RegimeError(f"DSAR_VOLUNTARY_DAYS must be a whole number of days, not '{raw}'") from None
    if not 1 <= value <= VOLUNTARY_MAX_DAYS:
        raise RegimeError(f"DSAR_VOLUNTARY_DAYS={value}: a deployment may only shorten the 30-day clock (1-30)")
    return value


VOLUNTARY = Regime(
    code="voluntary", name="Company policy", law="Company privacy policy (the laws this product covers do not apply)",
    authority=None, authority_contact="",
    # Spec section 2: authorised agents only under ccpa, cpa, ctdpa, vcdpa and ucpa.
    request_types=VOLUNTARY_TYPES, filers=ALL_FILERS, controller="intl",
    # Company policy: 30 days, extendable by 30; a setting, not law, a deployment may only shorten it.
    clocks=(_respond(days(_voluntary_days()), days(_voluntary_days() + 30),
                     f"Company policy: {_voluntary_days()} days, +30"),),
)

REGIMES: dict[str, Regime] = {
    r.code: r for r in (GDPR, UK_GDPR, CCPA, CPA, CTDPA, VCDPA, UCPA, NRS603A, LGPD, LFPDPPP, VOLUNTARY)
}

# --- jurisdictions -------------------------------------------------------------------------------

# EEA: (capital's time zone, supervisory authority)
EEA = {
    "AT": ("Europe/Vienna", "Österreichische Datenschutzbehörde"),
    "BE": ("Europe/Brussels", "Autorité de protection des données / Gegevensbeschermingsautoriteit"),
    "BG": ("Europe/Sofia", "Commission for Personal Data Protection"),
    "HR": ("Europe/Zagreb", "Agencija za zaštitu osobnih podataka (AZOP)"),
    "CY": ("Asia/Nicosia", "Commissioner for Personal Data Protection"),
    "CZ": ("Europe/Prague", "Úřad pro ochranu osobních údajů"),
    "DK": ("Europe/Copenhagen", "Datatilsynet"),
    "EE": ("Europe/Tallinn", "Andmekaitse Inspektsioon"),
    "FI": ("Europe/Helsinki", "Office of the Data Protection Ombudsman"),
    "FR": ("Europe/Paris", "Commission nationale de l'informatique et des libertés (CNIL)"),
    "DE": ("Europe/Berlin", "Die Bundesbeauftragte für den Datenschutz und die Informationsfreiheit, or the authority of your Land"),
    "GR": ("Europe/Athens", "Hellenic Data Protection Authority"),
    "HU": ("Europe/Budapest", "Nemzeti Adatvédelmi és Információszabadság Hatóság (NAIH)"),
    "IE": ("Europe/Dublin", "Data Protection Commission"),
    "IT": ("Europe/Rome", "Garante per la protezione dei dati personali"),
    "LV": ("Europe/Riga", "Datu valsts inspekcija"),
    "LT": ("Europe/Vilnius", "Valstybinė duomenų apsaugos inspekcija"),
    "LU": ("Europe/Luxembourg", "Commission nationale pour la protection des données (CNPD)"),
    "MT": ("Europe/Malta", "Information and Data Protection Commissioner"),
    "NL": ("Europe/Amsterdam", "Autoriteit Persoonsgegevens"),
    "PL": ("Europe/Warsaw", "Prezes Urzędu Ochrony Danych Osobowych (UODO)"),
    "PT": ("Europe/Lisbon", "Comissão Nacional de Proteção de Dados (CNPD)"),
    "RO": ("Europe/Bucharest", "Autoritatea Națională de Supraveghere a Prelucrării Datelor cu Caracter Personal"),
    "SK": ("Europe/Bratislava", "Úrad na ochranu osobných údajov Slovenskej republiky"),
    "SI": ("Europe/Ljubljana", "Informacijski pooblaščenec"),
    "ES": ("Europe/Madrid", "Agencia Española de Protección de Datos (AEPD)"),
    "SE": ("Europe/Stockholm", "Integritetsskyddsmyndigheten (IMY)"),
    "IS": ("Atlantic/Reykjavik", "Persónuvernd"),
    "LI": ("Europe/Vaduz", "Datenschutzstelle Liechtenstein"),
    "NO": ("Europe/Oslo", "Datatilsynet"),
}

# EU outermost regions and Åland, which have ISO codes of their own: EU territory where the GDPR
# applies (TFEU Arts. 349, 355(1), 355(4)); each with its own zone and holiday calendar (spec section 1).
CNIL = EEA["FR"][1]
EU_REGIONS = {
    "RE": ("Indian/Reunion", CNIL),
    "GP": ("America/Guadeloupe", CNIL),
    "MQ": ("America/Martinique", CNIL),
    "GF": ("America/Cayenne", CNIL),
    "YT": ("Indian/Mayotte", CNIL),
    "MF": ("America/Marigot", CNIL),
    "AX": ("Europe/Mariehamn", EEA["FI"][1]),
}

US_STATE_REGIMES = {"CA": CCPA, "CO": CPA, "CT": CTDPA, "VA": VCDPA, "UT": UCPA, "NV": NRS603A}

US_STATE_TZ = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": "America/Chicago",
    "CA": "America/Los_Angeles", "CO": "America/Denver", "CT": "America/New_York", "DE": "America/New_York",
    "DC": "America/New_York", "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis", "IA": "America/Chicago",
    "KS": "America/Chicago", "KY": "America/New_York", "LA": "America/Chicago", "ME": "America/New_York",
    "MD": "America/New_York", "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver", "NE": "America/Chicago",
    "NV": "America/Los_Angeles", "NH": "America/New_York", "NJ": "America/New_York", "NM": "America/Denver",
    "NY": "America/New_York", "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York", "RI": "America/New_York",
    "SC": "America/New_York", "SD": "America/Chicago", "TN": "America/Chicago", "TX": "America/Chicago",
    "UT": "America/Denver", "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
    "AS": "Pacific/Pago_Pago", "GU": "Pacific/Guam", "MP": "Pacific/Saipan", "PR": "America/Puerto_Rico",
    "UM": "Pacific/Wake", "VI": "America/St_Thomas",
}

# Time zones of other countries (voluntary regime); anything unlisted takes the first zone the tz
# database lists for the country (zone.tab), and UTC only where there is none.
OTHER_TZ = {
    "BR": "America/Sao_Paulo", "MX": "America/Mexico_City", "GB": "Europe/London", "CA": "America/Toronto",
    "CH": "Europe/Zurich", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland", "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "SG": "Asia/Singapore", "IN": "Asia/Kolkata",
    "KR": "Asia/Seoul", "AR": "America/Argentina/Buenos_Aires", "CL": "America/Santiago",
    "CO": "America/Bogota", "PE": "America/Lima", "ZA": "Africa/Johannesburg", "TR": "Europe/Istanbul",
    "UA": "Europe/Kyiv", "IL": "Asia/Jerusalem", "AE": "Asia/Dubai", "SA": "Asia/Riyadh",
    "RU": "Europe/Moscow", "ID": "Asia/Jakarta", "TH": "Asia/Bangkok", "VN": "Asia/Ho_Chi_Minh",
    "PH": "Asia/Manila", "MY": "Asia/Kuala_Lumpur", "EG": "Africa/Cairo", "NG": "Africa/Lagos",
    "KE": "Africa/Nairobi", "MA": "Africa/Casablanca", "US": "America/New_York",
}


def _calendar(country: str, subdiv: str | None = None) -> HolidayCalendar:
    import holidays

    if country in holidays.list_supported_countries():
        return HolidayCalendar(country, subdiv)
    return HolidayCalendar(None)


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or country.name


@lru_cache(maxsize=None)
def jurisdiction(code: str) -> Jurisdiction:
    """Resolve an ISO 3166-1 alpha-2 country or an ISO 3166-2 US state to its regime."""
    code = (code or "").strip().upper()
    if code.startswith("US-"):
        sub = pycountry.subdivisions.get(code=code)
        if sub is None:
            raise UnknownJurisdiction(f"unknown jurisdiction '{code}': not an ISO 3166-2 US state code")
        state = code[3:]
        regime = US_STATE_REGIMES.get(state, VOLUNTARY)
        return Jurisdiction(code, sub.name, regime, US_STATE_TZ.get(state, "America/New_York"),
                            _calendar("US", state if state in _us_subdivs() else None))
    if code == "US":
        raise UnknownJurisdiction("jurisdiction 'US' needs a state: use ISO 3166-2, e.g. US-CA")
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise UnknownJurisdiction(f"unknown jurisdiction '{code}': not an ISO 3166-1 alpha-2 country code")
    name = _country_name(code)
    if code in EEA or code in EU_REGIONS:
        tz, authority = EEA.get(code) or EU_REGIONS[code]
        return Jurisdiction(code, name, GDPR, tz, _calendar(code), authority)
    if code == "GB":
        return Jurisdiction(code, name, UK_GDPR, "Europe/London", HolidayCalendar("GB", "ENG"))  # spec: England
    if code == "BR":
        return Jurisdiction(code, name, LGPD, "America/Sao_Paulo", _calendar("BR"))
    if code == "MX":
        return Jurisdiction(code, name, LFPDPPP, "America/Mexico_City", _calendar("MX"))
    return Jurisdiction(code, name, VOLUNTARY, OTHER_TZ.get(code) or _zone_tab().get(code, "UTC"), _calendar(code))


@lru_cache(maxsize=1)
def _zone_tab() -> dict[str, str]:
    """Country → first zone of the system tz database's zone.tab (its principal zone)."""
    import os
    from zoneinfo import TZPATH

    for base in TZPATH:
        path = os.path.join(base, "zone.tab")
        if os.path.exists(path):
            zones: dict[str, str] = {}
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip() and not line.startswith("#"):
                        country, _coordinates, zone = line.rstrip("\n").split("\t")[:3]
                        zones.setdefault(country, zone)
            return zones
    return {}


@lru_cache(maxsize=1)
def _us_subdivs() -> frozenset[str]:
    import holidays

    return frozenset(holidays.country_holidays("US").subdivisions)


def regime_for(code: str) -> Regime:
    return jurisdiction(code).regime


def all_country_codes() -> list[str]:
    return sorted(c.alpha_2 for c in pycountry.countries)


def us_state_codes() -> list[str]:
    return sorted(s.code for s in pycountry.subdivisions.get(country_code="US"))


def regime(code: str) -> Regime:
    try:
        return REGIMES[code]
    except KeyError:
        raise RegimeError(f"unknown regime '{code}'") from None
