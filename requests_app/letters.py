"""Response letters: the legal record of what we told the requester and when.

A letter is recorded in the decision's transaction with everything it will say frozen in its
context (the decision, and a snapshot of the case's dates taken at that moment), rendered to PDF
by the worker after commit with WeasyPrint, stored with its SHA-256 and never changed again:
a correction is a new letter that names the one it replaces. Every issue and download is audited.

Views use `open_for_download` (staff and the requester's status page); a correction is the use
case `services.issue_correction` (it e-mails the requester, which this module does not do).
"""
from __future__ import annotations

import atexit
import csv
import datetime as dt
import hashlib
import io
import json
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import strip_spaces_between_tags
from django.utils.translation import pgettext

from . import enqueue
from . import regimes as R
from .clocks import local_date
from .models import Deadline, DeadlineStatus, Event, Letter, LetterStatus

log = logging.getLogger(__name__)

ACKNOWLEDGEMENT = "acknowledgement"
REQUEST_INFORMATION = "request_information"
EXTENSION_NOTICE = "extension_notice"
DETERMINATION = "determination"
FULFILMENT = "fulfilment"
DENIAL = "denial"
APPEAL_DECISION = "appeal_decision"
NOT_FILED = "not_filed"
KINDS = (ACKNOWLEDGEMENT, REQUEST_INFORMATION, EXTENSION_NOTICE, DETERMINATION, FULFILMENT, DENIAL,
         APPEAL_DECISION, NOT_FILED)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
KNOW_FIELDS = ("categories", "sources", "purposes", "recipients")


class LetterError(Exception):
    pass


class LetterNotReady(LetterError):
    """The letter is still being rendered (or rendering failed): nothing to download yet."""


class LetterIntegrityError(LetterError):
    """The stored file no longer matches the SHA-256 recorded when it was issued."""


# --- issuing ---------------------------------------------------------------------------------------

def issue_letter(case, kind: str, context: dict | None = None, *, appeal=None, facts: dict | None = None) -> Letter:
    """Record a letter in the caller's transaction; the worker renders it after commit.

    The case's dates are frozen now, in `context["facts"]`: the letter says what was true when the
    decision was taken, even if the worker renders it later."""
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind '{kind}'")
    context = dict(context or {})
    context["facts"] = facts if facts is not None else case_facts(case, appeal)
    letter = Letter.objects.create(case=case, appeal=appeal, kind=kind, language=case.language, context=context)
    transaction.on_commit(lambda: publish(letter.pk))
    return letter


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def case_facts(case, appeal=None) -> dict:
    """The dates and circumstances a letter relies on, as JSON, in the jurisdiction's local time."""
    jur = case.jurisdiction_info
    tz = jur.timezone
    now = timezone.now()

    def local(moment):
        return local_date(moment, tz).isoformat() if moment else None

    deadlines = list(Deadline.objects.filter(case=case).order_by("id"))
    opened = {d.kind: d for d in deadlines if d.status == DeadlineStatus.OPEN and d.appeal_id is None}
    latest = {d.kind: d for d in deadlines}  # the last one of each kind, whatever its status
    respond = opened.get(R.RESPOND)
    reply = latest.get(R.REQUESTER_REPLY)
    facts = {
        "issued_on": local(now),
        "received_on": local(case.received_at),
        "requester_name": case.requester_name,
        "requester_email": case.requester_email,
        "postal_address": case.postal_address,
        "filer": case.filer,
        "agent_name": case.agent_name,
        "agent_organisation": case.agent_organisation,
        "via_gpc": case.via_gpc,
        "email_confirmed": case.email_confirmed_at is not None,
        "verified": case.verified_at is not None,
        "awaiting": case.awaiting,
        "information_requested_on": local(case.information_requested_at),
        "decision_sent_on": local(case.decision_sent_at),
        "respond_due": _iso(respond.due_date) if respond else None,
        "respond_source": respond.source if respond else "",
        "respond_paused": bool(respond and respond.paused_since),
        "respond_extended": bool(respond and respond.extended),
        "respond_extension_max": _iso(respond.extended_due_date) if respond and not respond.extended else None,
        "acknowledge_due": _iso(opened[R.ACKNOWLEDGE].due_date) if R.ACKNOWLEDGE in opened else None,
        "request_information_due": (_iso(opened[R.REQUEST_INFORMATION].due_date)
                                    if R.REQUEST_INFORMATION in opened else None),
        "determination_due": _iso(opened[R.DETERMINATION].due_date) if R.DETERMINATION in opened else None,
        "effective_due": _iso(opened[R.EFFECTIVE].due_date) if R.EFFECTIVE in opened else None,
        "reply_due": _iso(reply.due_date) if reply else None,
        "confirm_days": settings.DSAR_CONFIRMATION_DAYS,
        "controller": controller_key(case),
    }
    if appeal is not None:
        appeal_clock = next((d for d in reversed(deadlines)
                             if d.appeal_id == appeal.pk and d.kind == R.APPEAL_RESPOND), None)
        facts.update({
            "appeal_received_on": local(appeal.received_at),
            "appeal_due": _iso(appeal_clock.due_date) if appeal_clock else None,
            "appeal_late_accepted": bool(appeal.late_accepted_reason),
        })
    return facts


def not_filed_cause(case) -> str:
    """Why a case closes as not filed, read before the closing transition: the e-mail was never
    confirmed, the requester did not send what we asked for (LFPDPPP: deemed not filed after 10
    business days), or identity was never verified."""
    if case.email_confirmed_at is None:
        return "unconfirmed"
    if case.awaiting:
        return "no_reply"
    if case.verified_at is None and case.request_type_info.needs_verification:
        return "unverified"
    return "other"


def controller_key(case) -> str:
    """Whose letterhead: the regime's controller, except that every US buyer contracts with the US
    entity, including in states without a privacy law (privacy policy, top and section K)."""
    if case.jurisdiction.upper().startswith("US-"):
        return "us"
    return case.regime_info.controller


def publish(letter_id: int) -> None:
    # Broker down or silent: render_pending_letters renders it later (enqueue never raises).
    enqueue.render_letter(letter_id)


@transaction.atomic
def correct_letter(letter: Letter, reason: str, *, user=None, changes: dict | None = None) -> Letter:
    """Correct an issued letter: the original stays as it was sent; a new letter of the same kind
    says what it replaces and why. `services.issue_correction` also e-mails it to the requester."""
    if not reason.strip():
        raise ValueError("A correction must say what was wrong.")
    if user is not None and not user.has_perm("requests_app.work_case"):
        raise PermissionDenied("You may not correct letters.")
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    if letter.status != LetterStatus.ISSUED:
        raise LetterNotReady("Only an issued letter can be corrected; this one has not been sent yet.")
    case = letter.case
    context = {**letter.context, **(changes or {})}
    facts = dict(letter.context.get("facts") or case_facts(case, letter.appeal))
    facts["issued_on"] = local_date(timezone.now(), case.jurisdiction_info.timezone).isoformat()
    context["correction"] = {
        "of": letter.pk,
        "issued_on": (letter.context.get("facts") or {}).get("issued_on")
        or local_date(letter.issued_at, case.jurisdiction_info.timezone).isoformat(),
        "sha256": letter.sha256,
        "reason": reason,
    }
    new = issue_letter(case, letter.kind, context, appeal=letter.appeal, facts=facts)
    Event.objects.create(case=case, appeal=letter.appeal, actor=user,
                         actor_label=user.get_username() if user else "system", kind="letter_corrected",
                         reason=reason, public=True,
                         data={"letter": new.pk, "corrects": letter.pk, "kind": letter.kind,
                               "changed": sorted(changes or {})})
    return new


# --- rendering -------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _weasy():
    """One font configuration, one parsed stylesheet and one small user-agent stylesheet per
    process: loading the embedded fonts, parsing the CSS and cascading WeasyPrint's full HTML5
    sheet on every render was most of what separated a letter from WeasyPrint's floor."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    ua = CSS(string=render_to_string("letters/ua.css"), font_config=fonts)
    css = CSS(string=render_to_string("letters/letter.css", {"font_dir": FONT_DIR.as_uri()}), font_config=fonts)

    class LetterHTML(HTML):
        # weasyprint==70.0 (pinned) asks the document for its UA sheets here.
        def _ua_stylesheets(self, forms=False):
            return [ua]

        @classmethod
        def from_xhtml(cls, markup: str, base_url: str) -> LetterHTML:
            """The letter templates write well-formed XHTML-compatible HTML, so expat (C) can build
            the same tree that WeasyPrint's pure-Python HTML5 parser builds, in a fraction of the
            time. Sets what HTML.__init__ sets in weasyprint==70.0 (pinned). Raises ParseError
            for anything that is not well-formed XML; parse_html then parses it the usual way."""
            import cssselect2
            from weasyprint.urls import URLFetcher

            document = cls.__new__(cls)
            document.base_url = base_url
            document.url_fetcher = URLFetcher()
            document.media_type = "print"
            document.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                ElementTree.fromstring(markup), content_language=None)
            document.etree_element = document.wrapper_element.etree_element
            return document

    return fonts, css, LetterHTML


def _release_fonts() -> None:  # let WeasyPrint clean its font folder while the interpreter is whole
    _weasy.cache_clear()


atexit.register(_release_fonts)


def render_html(letter: Letter) -> str:
    with translation.override(letter.language):
        html = render_to_string(f"letters/{letter.kind}.html", letter_context(letter))
    # Whitespace between tags only makes WeasyPrint build and discard anonymous boxes.
    return strip_spaces_between_tags(html)


_RENDER_LOCK = threading.Lock()  # the shared font configuration (Pango font map) is not thread-safe


def parse_html(html: str):
    """The WeasyPrint document of a letter's HTML: through expat when the markup is well-formed
    XML (always, from our templates, unless a requester's text holds a control character), else
    through WeasyPrint's HTML5 parser. Both give the same tree (tests compare the PDFs' bytes)."""
    letter_html = _weasy()[2]
    base_url = str(settings.BASE_DIR)
    try:
        return letter_html.from_xhtml(html, base_url)
    except ElementTree.ParseError:
        return letter_html(string=html, base_url=base_url)


def render_pdf(letter: Letter) -> bytes:
    fonts, css, _letter_html = _weasy()
    html = render_html(letter)
    with _RENDER_LOCK:
        return parse_html(html).write_pdf(stylesheets=[css], font_config=fonts)


def render_letter(letter_id: int) -> str:
    """Render a pending letter once. Idempotent: an issued letter is left as it is. A failure is
    recorded on the letter and left pending, so flush_outbox tries again."""
    try:
        with transaction.atomic():
            letter = Letter.objects.select_for_update().filter(pk=letter_id).first()
            if letter is None or letter.status == LetterStatus.ISSUED:
                return "not-pending"
            pdf = render_pdf(letter)
            letter.sha256 = hashlib.sha256(pdf).hexdigest()
            letter.size = len(pdf)
            letter.file.save(f"{letter.case.reference}-{letter.kind}-{letter.pk}.pdf", ContentFile(pdf), save=False)
            letter.status = LetterStatus.ISSUED
            letter.issued_at = timezone.now()
            letter.error = ""
            super(Letter, letter).save()  # the one permitted write: pending → issued
            Event.objects.create(case=letter.case, appeal=letter.appeal, actor_label="system", kind="letter_issued",
                                 data={"letter": letter.pk, "kind": letter.kind, "language": letter.language,
                                       "sha256": letter.sha256, "size": letter.size,
                                       "corrects": (letter.context.get("correction") or {}).get("of")},
                                 public=True)
    except Exception as exc:
        _record_failure(letter_id, exc)
        raise
    return "issued"


RENDER_GIVE_UP = dt.timedelta(hours=1)  # flush_outbox retries every minute; then staff must look


def _record_failure(letter_id: int, exc: Exception) -> None:
    """Keep the error on the letter; retry (flush_outbox) for an hour, then mark it failed, which
    fails its e-mail too and shows on the case, so staff re-issue it after the fix."""
    log.exception("rendering letter %s failed", letter_id)
    error = f"{type(exc).__name__}: {exc}"[:2000]
    pending = Letter.objects.filter(pk=letter_id, status=LetterStatus.PENDING)
    pending.update(error=error)
    expired = pending.filter(created_at__lt=timezone.now() - RENDER_GIVE_UP).first()
    if expired is not None:
        pending.update(status=LetterStatus.FAILED)
        Event.objects.create(case=expired.case, appeal=expired.appeal, actor_label="system", kind="letter_failed",
                             reason=error, data={"letter": expired.pk, "kind": expired.kind})


# --- what a letter says ----------------------------------------------------------------------------

def _date(value: str | None, locale: str) -> str:
    if not value:
        return ""
    from babel.dates import format_date

    return format_date(dt.date.fromisoformat(value[:10]), format="long", locale=locale)


def babel_locale(language: str, controller: str) -> str:
    lang = language.replace("-", "_").lower()
    if lang.startswith("pt"):
        return "pt_BR"
    if lang.startswith("es"):
        return "es"
    return "en_US" if controller == "us" else "en_GB"  # "March 2, 2026" for US readers, "2 March 2026" elsewhere


def country_name(jur: R.Jurisdiction, language: str) -> str:
    """The requester's country in the letter's language (pycountry ships the ISO 3166 names)."""
    if "-" in jur.code or language.lower().startswith("en"):
        return jur.name
    import gettext

    import pycountry

    lang = "pt_BR" if language.lower().startswith("pt") else language.split("-")[0]
    try:
        names = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    except OSError:
        return jur.name
    return names.gettext(pycountry.countries.get(alpha_2=jur.code).name)


# Privacy policy, section N: where personal data is stored.
STORAGE_COUNTRIES = ("US", "RU", "DE", "KR", "CN", "SG")


def transfer_countries(jur: R.Jurisdiction, language: str) -> str:
    """The storage countries other than the requester's own, in the letter's language: a German
    requester is not told their data goes "outside your country" to Germany."""
    from babel import Locale
    from babel.lists import format_list

    locale = Locale.parse(babel_locale(language, "intl"))
    own = jur.code.split("-")[0]
    return format_list([locale.territories.get(code, code) for code in STORAGE_COUNTRIES if code != own],
                       locale=locale)


def format_letter_date(value: str | None, language: str, controller: str = "intl") -> str:
    """How a letter writes an ISO date: long form in the reader's language (tests use it too)."""
    return _date(value, babel_locale(language, controller))


def _as_list(value) -> list[str]:
    """Decision fields arrive as lists or as one item per line."""
    if not value:
        return []
    if isinstance(value, str):
        return [line.strip(" -•\t") for line in value.splitlines() if line.strip(" -•\t")]
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    return [str(v) for v in value if str(v).strip()]


def _sentence(items: list[str]) -> str:
    """Items as one sentence, 'a; b; c.': compact, and how legal letters list categories."""
    text = "; ".join(item.rstrip(" ;") for item in items)
    return text if not text or text.endswith(".") else text + "."


def _css_string(text: str) -> str:
    # "<" and "&" as CSS escapes: the string goes into the letter's <style>, which must stay
    # well-formed XML for the fast parser (parse_html).
    return '"' + (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
                  .replace("<", "\\3c ").replace("&", "\\26 ")) + '"'


def _page_label_css() -> str:
    """'Page X of Y' in the letter's language, as a CSS content value (translators may reorder)."""
    template = pgettext("letter", "Page %(page)s of %(pages)s")
    parts, rest = [], template
    while rest:
        cut = min((i for i in (rest.find("%(page)s"), rest.find("%(pages)s")) if i >= 0), default=-1)
        if cut < 0:
            parts.append(_css_string(rest))
            break
        if cut:
            parts.append(_css_string(rest[:cut]))
        if rest.startswith("%(pages)s", cut):
            parts.append("counter(pages)")
            rest = rest[cut + len("%(pages)s"):]
        else:
            parts.append("counter(page)")
            rest = rest[cut + len("%(page)s"):]
    return " ".join(parts)


REFUSING_APPEAL_OUTCOMES = ("upheld", "partially_reversed")  # AppealState values


def is_refusal(letter: Letter) -> bool:
    """Does the letter refuse action, in whole or in part? Then it must give reasons and the
    requester's route to a remedy (spec section 5)."""
    c = letter.context
    return (letter.kind == DENIAL
            or letter.kind == FULFILMENT and c.get("outcome") == "partially_fulfil"
            or letter.kind == DETERMINATION and not c.get("admissible")
            or letter.kind == APPEAL_DECISION and c.get("outcome") in REFUSING_APPEAL_OUTCOMES
            # cpa, ctdpa, vcdpa: closing without action is a refusal with an appeal (spec section 5).
            or letter.kind == NOT_FILED and bool(c.get("appeal_window_due")))


def remedy(regime: R.Regime, jur: R.Jurisdiction) -> dict:
    """Where a refused requester can turn, per regime (spec sections 1 and 5)."""
    if regime.appeal is not None:  # cpa, ctdpa, vcdpa: appeal to us first, then the Attorney General
        return {"route": "appeal", "authority": regime.authority, "contact": regime.authority_contact}
    if regime.code == "voluntary":
        return {"route": "none", "authority": None, "contact": ""}
    return {"route": "complaint", "authority": jur.complaint_authority, "contact": regime.authority_contact}


def spanish_gdpr(text: str) -> str:
    from .public_display import citation

    return citation(text) if (translation.get_language() or "").startswith("es") else text


def citations(letter: Letter, regime: R.Regime, request_type: R.RequestType) -> list[str]:
    """The legal sources the letter relies on, printed at its foot."""
    c, facts = letter.context, letter.context.get("facts") or {}
    out = [request_type.citation]
    code = regime.code
    if letter.kind == ACKNOWLEDGEMENT:
        if code == "ccpa" and facts.get("acknowledge_due") is not None:
            out.append("11 CCR §7021(a)")  # confirm receipt within 10 business days
        out.append(facts.get("respond_source") or "")
        if code == "lfpdppp":
            out.append("LFPDPPP (2025): determination within 20 days; effective within 15 days")
    elif letter.kind == REQUEST_INFORMATION:
        out.append({
            "gdpr": "GDPR Art. 12(6)",  # additional information to confirm identity
            "uk_gdpr": "UK GDPR Art. 12(6), Art. 12A",  # ID restarts, clarification pauses the clock
            "ccpa": "Cal. Civ. Code §1798.130(a)(7); 11 CCR §7060",  # verification data used only to verify
            "lfpdppp": "LFPDPPP (2025): request for missing information",
        }.get(code, ""))
    elif letter.kind == EXTENSION_NOTICE:
        out.append(c.get("source") or "")
    elif letter.kind == DETERMINATION:
        out.append("LFPDPPP (2025): determination within 20 days; effective within 15 days")
    elif letter.kind == NOT_FILED and code == "lfpdppp" and c.get("cause", "no_reply" if facts.get("awaiting")
                                                                 else "") == "no_reply":
        out.append("LFPDPPP (2025): requester's reply")
    elif letter.kind == FULFILMENT and code == "ccpa":
        out.append({
            "access": "11 CCR §7024",  # what a response to a request to know contains
            "deletion": "Cal. Civ. Code §1798.105(c); 11 CCR §7022",  # service providers, third parties told
            "correction": "11 CCR §7023",
            "opt_out_sale_sharing": "11 CCR §7026(f)",  # third parties told to stop
            "limit_sensitive": "11 CCR §7027",
        }.get(request_type.code, ""))
    elif letter.kind == FULFILMENT and code in ("gdpr", "uk_gdpr") and request_type.code in (
            "rectification", "erasure", "restriction"):
        out.append(f"{'UK ' if code == 'uk_gdpr' else ''}GDPR Art. 19")  # recipients told of the change
    if letter.kind == APPEAL_DECISION and regime.appeal:
        out.append(regime.appeal.respond_source)
    if is_refusal(letter) or (letter.kind == FULFILMENT and request_type.kind == "access"
                              and code in ("gdpr", "uk_gdpr")):
        out.extend({
            "gdpr": ["GDPR Art. 12(4), 77, 79"],  # reasons, complaint to a supervisory authority, courts
            "uk_gdpr": ["UK GDPR Art. 12(4), 77, 79", "DPA 2018 s.164A"],  # complaints to the controller first
            "ccpa": ["Cal. Civ. Code §1798.199.45"],  # the CPPA investigates complaints
            "lgpd": ["LGPD Art. 18 §1, Art. 18 §4"],  # petition the ANPD; reasons of fact or law
            "lfpdppp": ["LFPDPPP (2025) Art. 40"],  # rights-protection request within 15 days
        }.get(code, []))
        if regime.appeal and letter.kind != APPEAL_DECISION:
            out.append(regime.appeal.window_source)
            out.append(regime.appeal.respond_source)
    seen, result = set(), []
    for item in out:
        if item and item not in seen:
            seen.add(item)
            result.append(spanish_gdpr(pgettext("letter", item)))  # in the letter's language
    return result


def _title(letter: Letter) -> str:
    c = letter.context
    if letter.kind == REQUEST_INFORMATION and c.get("what") == "identity":
        return pgettext("letter", "Verification of your identity")
    if letter.kind == REQUEST_INFORMATION and c.get("what") == "clarification":
        return pgettext("letter", "Clarification of your request")
    return {
        ACKNOWLEDGEMENT: pgettext("letter", "Acknowledgement of your request"),
        REQUEST_INFORMATION: pgettext("letter", "Request for further information"),
        EXTENSION_NOTICE: pgettext("letter", "Extension of the time to respond"),
        DETERMINATION: pgettext("letter", "Determination on your request"),
        FULFILMENT: pgettext("letter", "Response to your request"),
        DENIAL: pgettext("letter", "Decision on your request"),
        APPEAL_DECISION: pgettext("letter", "Decision on your appeal"),
        NOT_FILED: pgettext("letter", "Closure of your request"),
    }[letter.kind]


def _controller(key: str) -> dict:
    """The letterhead's controller, its registration number in the letter's language."""
    controller = dict(settings.DSAR_CONTROLLERS[key])
    prefix = "Company Reg. No. "
    if controller.get("registration", "").startswith(prefix):
        controller["registration"] = pgettext("letter", "Company Reg. No. %(number)s") % {
            "number": controller["registration"][len(prefix):]}
    return controller


def letter_context(letter: Letter) -> dict:
    """Everything the templates need, computed here so that templates stay declarative.
    Call inside translation.override(letter.language)."""
    case = letter.case
    jur = case.jurisdiction_info
    regime = case.regime_info
    request_type = case.request_type_info
    c = letter.context
    facts = c.get("facts") or case_facts(case, letter.appeal)
    key = facts.get("controller") or controller_key(case)
    locale = babel_locale(letter.language, key)
    date_keys = ("issued_on", "received_on", "respond_due", "respond_extension_max", "acknowledge_due",
                 "request_information_due", "determination_due", "effective_due", "reply_due",
                 "information_requested_on", "decision_sent_on", "appeal_received_on", "appeal_due")
    dates = {k: _date(facts.get(k), locale) for k in date_keys}
    for k in ("old_due", "new_due", "appeal_window_due", "effective_due", "reply_due"):
        if c.get(k):
            dates[k] = _date(c[k], locale)
    correction = c.get("correction")
    if correction:
        dates["corrected_letter_on"] = _date(correction.get("issued_on"), locale)
    attachments = [{"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
                   for name, content, _mime in attachments_for(letter)]
    lang = translation.get_language() or "en"
    not_filed_cause = c.get("cause") or ""
    if letter.kind == NOT_FILED and not not_filed_cause:
        not_filed_cause = ("unconfirmed" if not facts.get("email_confirmed") else
                           "no_reply" if facts.get("awaiting") else
                           "unverified" if not facts.get("verified") else "other")
    know = {k: _as_list(c.get(k)) for k in KNOW_FIELDS + ("retention", "actions", "retained")}
    return {
        "letter": letter,
        "case": case,
        "regime": regime,
        "jurisdiction": jur,
        "request_type": request_type,
        "country_name": country_name(jur, lang),
        "transfer_countries": transfer_countries(jur, lang),
        "regime_name": pgettext("letter", regime.name),
        "request_type_label": pgettext("letter", request_type.label),
        "request_type_description": pgettext("letter", request_type.description),
        "controller": _controller(key),
        # LFPDPPP: the policy names the data controller ("responsable") as the contact, not an EU DPO.
        "contact_role": (pgettext("letter", "Data controller") if regime.code == "lfpdppp"
                         else pgettext("letter", "Data Protection Officer")),
        "c": c,
        "f": facts,
        "dates": dates,
        "appeal": letter.appeal,
        "appeal_rule": regime.appeal,
        "title": _title(letter),
        "html_lang": "pt-BR" if lang.lower().startswith("pt") else lang,
        "prevails": not lang.lower().startswith("en"),
        # One margin box (each costs a layout pass per page): "DSAR-2026-000001 · Page 1 of 2".
        "footer_css": f"{_css_string(case.reference + ' · ')} {_page_label_css()}",
        "refusal": is_refusal(letter),
        "remedy": remedy(regime, jur),
        "citations": citations(letter, regime, request_type),
        "law": pgettext("letter", regime.law).rstrip(".") + ".",
        "know": know,
        "know_text": {k: _sentence(v) for k, v in know.items()},
        "attachments": attachments,
        "correction": correction,
        "not_filed_cause": not_filed_cause,
        "is_agent": bool(facts.get("agent_name")) and facts.get("filer") != R.SELF,
        # UK GDPR Art. 12A(3): ID or a fee asked for restarts the clock; 12A(4): a clarification pauses it.
        "clock_effect": ("" if not (regime.pause_on_clarification or regime.restart_on_identity)
                         or not facts.get("respond_paused") else
                         "restart" if c.get("what") in ("identity", "fee") else "pause"),
        # GDPR Art. 15(1)(e)-(f): an access response names the rights and the complaint authority.
        "access_rights_notice": request_type.kind == "access" and regime.code in ("gdpr", "uk_gdpr"),
        "appeal_extra_days": (regime.appeal.respond_extended.amount - regime.appeal.respond.amount
                              if regime.appeal and regime.appeal.respond_extended else 0),
    }


# --- the data of an access response ---------------------------------------------------------------

def _cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    # Spreadsheets run cells that start like a formula: neutralise them (OWASP CSV injection);
    # the JSON file carries the exact values.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def attachments_for(letter: Letter) -> list[tuple[str, bytes, str]]:
    """An access response carries the data itself, as JSON (exact) and CSV (one row per field).
    Built from the frozen context, so the bytes are the same every time they are produced."""
    data = letter.context.get("data")
    if letter.kind != FULFILMENT or not data:
        return []
    ref = letter.case.reference
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["category", "field", "value"])
    for category, fields in data.items():
        if isinstance(fields, dict):
            rows = fields.items()
        elif isinstance(fields, list):
            rows = ((str(i + 1), v) for i, v in enumerate(fields))
        else:
            rows = [("value", fields)]
        for field, value in rows:
            writer.writerow([_cell(category), _cell(field), _cell(value)])
    return [
        (f"{ref}-data.json", json.dumps(data, indent=2, ensure_ascii=False).encode(), "application/json"),
        (f"{ref}-data.csv", ("\ufeff" + out.getvalue()).encode(), "text/csv"),  # BOM: Excel reads UTF-8
    ]


# --- downloads -------------------------------------------------------------------------------------

PARTS = ("pdf", "json", "csv")  # the letter itself; an access response's data (attachments_for)


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    content_type: str


def verify_file(letter: Letter) -> bytes:
    """The stored PDF, checked against the SHA-256 recorded when it was issued."""
    if letter.status != LetterStatus.ISSUED or not letter.file:
        raise LetterNotReady(f"Letter {letter.pk} has not been issued yet.")
    with letter.file.open("rb") as fh:
        content = fh.read()
    if hashlib.sha256(content).hexdigest() != letter.sha256:
        raise LetterIntegrityError(f"Letter {letter.pk}: the stored file does not match its SHA-256.")
    return content


def open_for_download(letter: Letter, *, actor_label: str, user=None, part: str = "pdf") -> Download:
    """Return an issued letter (part='pdf') or the data that came with it ('json', 'csv') and
    audit the download as Event 'letter_downloaded'. The caller checks who may download:
    staff views pass `user`; the status page passes actor_label='requester'.
    A file that no longer matches its SHA-256 is never served; that is audited too."""
    case = letter.case
    try:
        content = verify_file(letter)
    except LetterIntegrityError:
        Event.objects.create(case=case, appeal=letter.appeal, actor=user, actor_label=actor_label,
                             kind="letter_integrity_failed", data={"letter": letter.pk, "sha256": letter.sha256})
        log.error("letter %s failed its integrity check", letter.pk)
        raise
    if part == "pdf":
        download = Download(f"{case.reference}-{letter.kind}-{letter.pk}.pdf", content, "application/pdf")
    else:
        found = [a for a in attachments_for(letter) if a[0].endswith(f".{part}")]
        if not found:
            raise LetterNotReady(f"Letter {letter.pk} has no {part} attachment.")
        name, data, mime = found[0]
        # Served over HTTP the CSV names its charset (RFC 4180 s.3: text/csv defaults to US-ASCII).
        download = Download(name, data, f"{mime}; charset=utf-8" if mime.startswith("text/") else mime)
    Event.objects.create(case=case, appeal=letter.appeal, actor=user, actor_label=actor_label,
                         kind="letter_downloaded",
                         data={"letter": letter.pk, "kind": letter.kind, "part": part,
                               "sha256": hashlib.sha256(download.content).hexdigest()})
    return download


def pending_ids(limit: int = 200) -> list[int]:
    return list(Letter.objects.filter(status=LetterStatus.PENDING).values_list("pk", flat=True)[:limit])
