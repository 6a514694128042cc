"""One function per use case. Each runs in a transaction, locks the case row, checks the
transition, updates the clocks, writes the audit Event, and queues letters and e-mails on commit.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass  # noqa: F401
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min, Q
from django.urls import reverse  # noqa: F401
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed, has_transition_perm

from . import hooks, letters, uploads
from . import regimes as R
from .clocks import end_of_day, local_date
from .deadlines import compute_due
from .models import (
    Appeal,
    AppealState,
    Attachment,
    Awaiting,
    Channel,
    DataSubjectRequest,
    Deadline,
    DeadlineStatus,
    Event,
    Filer,
    Note,
    SELF_SERVICE_CHANNELS,
    State,
    can_work,
)
from .notify import (  # noqa: F401 - moved out of this module; still importable from here
    _email_context,
    _recipients,
    confirm_url,
    notify_requester,
    status_url,
    with_respond_due,
)
from .outbox import queue_email  # noqa: F401 - importable from here, as before
from .tokens import AGENT_PERMISSION, CONFIRM, STATUS, absolute_url, make_token  # noqa: F401
from .uploads import Upload  # noqa: F401 - moved to uploads.py; still importable from here

SYSTEM = "system"
REQUESTER = "requester"


class ServiceError(Exception):
    """A refusal the user must read: the message names what the law or the state refuses."""


class Conflict(ServiceError):
    """Someone else changed the case since the form was loaded."""


class AppealWindowClosed(ServiceError):
    pass


# --- helpers ------------------------------------------------------------------------------------

def _label(user) -> str:
    return user.get_username() if user is not None else REQUESTER


def record(case, kind: str, *, user=None, actor_label: str | None = None, from_state: str = "",
           to_state: str = "", reason: str = "", data: dict | None = None, public: bool = False,
           appeal=None) -> Event:
    return record_all([new_event(case, kind, user=user, actor_label=actor_label, from_state=from_state,
                                 to_state=to_state, reason=reason, data=data, public=public, appeal=appeal)])[0]


def new_event(case, kind: str, *, user=None, actor_label: str | None = None, from_state: str = "",
              to_state: str = "", reason: str = "", data: dict | None = None, public: bool = False,
              appeal=None) -> Event:
    """An audit event not saved yet: record_all stores several in one INSERT."""
    return Event(case=case, appeal=appeal, actor=user, actor_label=actor_label or _label(user), kind=kind,
                 from_state=from_state, to_state=to_state, reason=reason, data=data or {}, public=public)


def record_all(events: list[Event]) -> list[Event]:
    """Store events in the order given (one statement), each announced to the apps after commit."""
    if not events:
        return []
    if len(events) == 1:
        events[0].save()  # post_save receivers (webhooks' letter_issued) see single saves
    else:
        events = Event.objects.bulk_create(events)
    for event in events:
        hooks.send_on_commit(hooks.event_recorded, event=event)
    return events


def _lock(case, expected_version: int | None = None) -> DataSubjectRequest:
    locked = DataSubjectRequest.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"{locked.reference} was changed by someone else while you were editing "
            f"(now: {locked.get_state_display()}). Reload the case; what you typed is kept below."
        )
    return locked


def _transition(case, name: str, user, *, reason: str = "", data: dict | None = None,
                public: bool = True, check_perm: bool = True) -> None:
    method = getattr(case, name)
    # The state first: "already fulfilled" is what a second clicker must read, not "not allowed".
    if not can_proceed(method):
        raise ServiceError(
            f"{case.reference} cannot {name.replace('_', ' ')} while it is '{case.get_state_display()}'.")
    if check_perm and user is not None and not has_transition_perm(method, user):
        raise PermissionDenied(f"You may not {name.replace('_', ' ')} {case.reference}.")
    before = case.state
    try:
        method()
    except TransitionNotAllowed:
        raise ServiceError(
            f"{case.reference} cannot {name.replace('_', ' ')} while it is '{case.get_state_display()}'."
        ) from None
    case.version += 1
    case.save()
    record(case, name, user=user, actor_label=None if user else (REQUESTER if name in REQUESTER_ACTIONS else SYSTEM),
           from_state=before, to_state=case.state, reason=reason, data=data, public=public)
    if not case.is_open:
        delete_identity_documents(case, "the case was closed")


def delete_identity_documents(case, why: str) -> None:
    """Spec section 5: identity documents are deleted once the identity is verified or the case is
    closed, whichever comes first; the audit keeps that they were seen, by whom, and when deleted."""
    for att in case.attachments.filter(kind=Attachment.Kind.IDENTITY):
        seen_by = sorted(set(case.events.filter(kind="attachment_downloaded", data__attachment=att.pk)
                             .values_list("actor_label", flat=True)))
        record(case, "identity_document_deleted", actor_label=SYSTEM, reason=f"Deleted because {why}.",
               data={"attachment": att.pk, "sha256": att.sha256, "size": att.size,
                     "received_at": att.created_at.isoformat(),
                     "uploaded_by": att.uploaded_by.get_username() if att.uploaded_by else REQUESTER,
                     "seen_by": seen_by})
        storage, name = att.file.storage, att.file.name
        att.delete()
        transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))  # files are not transactional


REQUESTER_ACTIONS = {"confirm_email", "receive_reply", "withdraw"}


def _today(case) -> dt.date:
    return local_date(timezone.now(), case.jurisdiction_info.timezone)


def arrival(case, received_at: dt.datetime | None, user=None, *, not_before: dt.datetime | None = None,
            what: str = "it") -> tuple[dt.datetime, dict]:
    """The moment something that starts, restarts or ends a clock arrived (spec section 3: "when
    something arrived"), and the audit data of who typed it in and when. Default: now."""
    now = timezone.now()
    if received_at is None:
        return now, {"received_at": now.isoformat()}
    if timezone.is_naive(received_at):
        raise ServiceError("The arrival time needs a time zone (the requester's).")
    if received_at > now:
        raise ServiceError(f"The arrival time of {what} cannot be in the future.")
    earliest = max(filter(None, (case.received_at, not_before)))
    if received_at < earliest:
        local = earliest.astimezone(ZoneInfo(case.jurisdiction_info.timezone))
        raise ServiceError(f"{what.capitalize()} cannot have arrived before {local:%Y-%m-%d %H:%M} "
                           f"({case.jurisdiction_info.timezone}).")
    return received_at, {"received_at": received_at.isoformat(), "recorded_at": now.isoformat(),
                         "recorded_by": _label(user)}


def _open_deadline(case, kind: str, appeal=None) -> Deadline | None:
    qs = case.deadlines.filter(kind=kind, status=DeadlineStatus.OPEN)
    qs = qs.filter(appeal=appeal) if appeal is not None else qs.filter(appeal__isnull=True)
    return qs.order_by("-id").first()


def start_clock(case, rule: R.ClockRule, start: dt.date, *, appeal=None) -> Deadline:
    return start_clocks(case, [(rule, start)], appeal=appeal)[0]


def start_clocks(case, starts: list[tuple[R.ClockRule, dt.date]], *, appeal=None,
                 events: list[Event] | None = None) -> list[Deadline]:
    """Start several clocks: one INSERT for the clocks and one for their audit events (after
    ``events``, which are stored first in the same statement)."""
    jur = case.jurisdiction_info
    deadlines, events = [], list(events or [])
    for rule, start in starts:
        due = compute_due(rule, start, jur)
        ext = compute_due(rule, start, jur, extended=True) if rule.extended else None
        deadlines.append(Deadline(
            case=case, appeal=appeal, kind=rule.name, is_obligation=rule.kind == R.OBLIGATION,
            source=rule.source, timezone=jur.timezone, start_date=start, due_date=due,
            due_at=end_of_day(due, jur.timezone), extended_due_date=ext,
        ))
        events.append(new_event(case, "clock_started", actor_label=SYSTEM, appeal=appeal, data={
            "clock": rule.name, "start": start.isoformat(), "due": due.isoformat(), "source": rule.source}))
    deadlines = Deadline.objects.bulk_create(deadlines)
    record_all(events)
    return deadlines


def _start_rules(case, event: str, start: dt.date) -> list[Deadline]:
    return start_clocks(case, [(rule, start) for rule in case.regime_info.clocks_for(case.request_type)
                               if rule.starts == event])


def _rule(deadline: Deadline) -> R.ClockRule:
    rule = deadline.case.regime_info.any_clock(deadline.kind, deadline.case.request_type)
    if rule is None:
        raise ServiceError(f"no legal rule for the {deadline.kind} clock")
    return rule


def _recompute(deadline: Deadline) -> None:
    jur = deadline.case.jurisdiction_info
    deadline.due_date = compute_due(_rule(deadline), deadline.start_date, jur, extended=deadline.extended,
                                    paused_days=deadline.paused_days)
    deadline.due_at = end_of_day(deadline.due_date, jur.timezone)
    if deadline.extended_due_date is not None:  # a restart or pause moves what an extension can reach
        deadline.extended_due_date = compute_due(_rule(deadline), deadline.start_date, jur, extended=True,
                                                 paused_days=deadline.paused_days)
    deadline.alert_level = 0  # a new date deserves fresh alerts


def close_deadline(deadline: Deadline, status: str = DeadlineStatus.MET) -> None:
    now = timezone.now()
    deadline.status = status
    deadline.closed_at = now
    deadline.save(update_fields=["status", "closed_at"])
    late = status == DeadlineStatus.MET and deadline.is_obligation and now > deadline.due_at
    record(deadline.case, "clock_closed", actor_label=SYSTEM, appeal=deadline.appeal,
           data={"clock": deadline.kind, "status": status, "due": deadline.due_date.isoformat(), "late": late})


def _close_all(case, status: str = DeadlineStatus.CANCELLED, *, kinds: tuple[str, ...] | None = None,
               appeal=None) -> None:
    qs = case.deadlines.filter(status=DeadlineStatus.OPEN)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if appeal is not None:
        qs = qs.filter(appeal=appeal)
    for d in qs:
        close_deadline(d, status)


def refresh_next_due(case) -> None:
    """Keep the denormalised nearest open obligation that the queue sorts on."""
    open_qs = case.deadlines.filter(status=DeadlineStatus.OPEN, is_obligation=True, paused_since__isnull=True)
    nearest = open_qs.filter(appeal__isnull=True).order_by("due_at").first()
    if case.is_open and nearest:
        case.next_due_at, case.next_due_kind = nearest.due_at, nearest.kind
    else:
        any_open = case.deadlines.filter(status=DeadlineStatus.OPEN, appeal__isnull=True,
                                         paused_since__isnull=True).order_by("due_at").first()
        case.next_due_at = any_open.due_at if (case.is_open and any_open) else None
        case.next_due_kind = any_open.kind if (case.is_open and any_open) else ""
    if not case.is_open and case.closed_at is None:
        case.closed_at = timezone.now()
    case.save(update_fields=["next_due_at", "next_due_kind", "closed_at", "updated_at"])
    for appeal in case.appeals.filter(decided_at__isnull=True):
        appeal.next_due_at = open_qs.filter(appeal=appeal).aggregate(m=Min("due_at"))["m"]
        appeal.save(update_fields=["next_due_at"])


def _letter_and_email(case, kind: str, context: dict, *, appeal=None, email_kind: str = "letter") -> None:
    letter = letters.issue_letter(case, kind, context, appeal=appeal)
    notify_requester(case, email_kind, letter=letter, letter_kind=kind)


# --- intake -------------------------------------------------------------------------------------

def validate_submission(jurisdiction: str, request_types: list[str], filer: str, *, data_description: str = "",
                        account_id: str = "", phone: str = "", authorisation: Upload | None = None,
                        agent_name: str = "", agent_email: str = "", by_email: bool = True) -> R.Jurisdiction:
    errors: dict[str, list[str]] = {}
    try:
        jur = R.jurisdiction(jurisdiction)
    except R.UnknownJurisdiction as exc:
        raise ValidationError({"jurisdiction": [str(exc)]}) from None
    regime = jur.regime
    if not request_types:
        errors.setdefault("request_types", []).append("Choose at least one request.")
    for code in request_types:
        if code not in regime.request_type_codes:
            errors.setdefault("request_types", []).append(
                f"{regime.name} does not give the right '{code}'.")
    if filer not in regime.filers:
        errors.setdefault("filer", []).append(f"Under {regime.name} a request cannot be filed by: {filer}.")
    if filer in (Filer.AGENT, Filer.LEGAL_REPRESENTATIVE, Filer.PARENT):
        if not agent_name:
            errors.setdefault("agent_name", []).append("Give your own name as the person filing.")
        if not agent_email and by_email:  # an agent who wrote by post may have no e-mail address
            errors.setdefault("agent_email", []).append("Give your own e-mail address as the person filing.")
        if authorisation is None:
            errors.setdefault("authorisation", []).append(
                "Upload the signed authorisation (PDF, PNG or JPEG) that lets you act for this person.")
    if regime.code == "lfpdppp":
        # LFPDPPP (2025): the request names the data concerned and identifies the account.
        if not data_description.strip():
            errors.setdefault("data_description", []).append(
                "Describe the personal data your request concerns (required in Mexico).")
    if errors:
        raise ValidationError(errors)
    return jur


REPEAT_ACCESS_TYPE = "access"  # the access / right-to-know request type of every US regime


def _is_repeat(jur: R.Jurisdiction, request_type: R.RequestType, email: str, received_at: dt.datetime) -> bool:
    # Cal. Civ. Code §1798.130(b), and company policy (section K) for every US state: access/know
    # requests need not be answered more than twice per rolling 12 months; the third is flagged.
    limit = jur.repeat_access_limit
    if limit is None or request_type.code != REPEAT_ACCESS_TYPE or not email.strip():
        return False
    from dateutil.relativedelta import relativedelta

    since = received_at - relativedelta(months=12)
    earlier = DataSubjectRequest.objects.filter(
        requester_email__iexact=email.strip(), received_at__gte=since, received_at__lt=received_at,
        jurisdiction__startswith="US-", request_type=REPEAT_ACCESS_TYPE,
    ).exclude(state__in=[State.NOT_FILED, State.WITHDRAWN]).count()
    return earlier >= limit


@transaction.atomic
def submit_request(*, jurisdiction: str, request_types: list[str] | str, requester_name: str,
                   requester_email: str, language: str = "en", filer: str = Filer.SELF, account_id: str = "",
                   phone: str = "", data_description: str = "", details: str = "", agent_name: str = "",
                   agent_email: str = "", agent_organisation: str = "", via_gpc: bool = False,
                   authorisation: Upload | None = None, received_at: dt.datetime | None = None,
                   channel: str = Channel.WEB, recorded_by=None, postal_address: str = "",
                   power_of_attorney: bool = False,
                   ) -> list[DataSubjectRequest]:
    """Store a request (one case per request type, linked by batch_id) with its clocks, in one
    transaction, and queue the confirmation e-mail.

    ``channel`` says how it reached us and ``recorded_by`` which staff member typed it in; a request
    that came by e-mail, post, phone or in person is received as it stands (no confirmation link),
    and one without any e-mail address gets its letters printed instead of e-mailed."""
    if isinstance(request_types, str):
        request_types = [request_types]
    jur = validate_submission(jurisdiction, request_types, filer, data_description=data_description,
                              account_id=account_id, phone=phone, authorisation=authorisation,
                              agent_name=agent_name, agent_email=agent_email,
                              by_email=channel in SELF_SERVICE_CHANNELS)
    if channel not in Channel.values:
        raise ValidationError({"channel": [f"Unknown channel: {channel}"]})
    needs_confirmation = any(not jur.regime.request_type(code).is_opt_out for code in request_types)
    if channel in SELF_SERVICE_CHANNELS and needs_confirmation and not requester_email.strip():
        # Opt-outs need no confirmation (11 CCR §7026(d)): a GPC opt-out may come without an address.
        raise ValidationError({"requester_email": ["Give the e-mail address we confirm the request with."]})
    received_at = received_at or timezone.now()
    received_on = local_date(received_at, jur.timezone)
    cases = []
    started: dict[int, list[Deadline]] = {}
    batch = None
    for code in dict.fromkeys(request_types):
        rtype = jur.regime.request_type(code)
        case = DataSubjectRequest(
            jurisdiction=jur.code, regime=jur.regime.code, request_type=code, language=language,
            requester_name=requester_name.strip(), requester_email=requester_email.strip(),
            account_id=account_id, phone=phone, postal_address=postal_address.strip(),
            data_description=data_description, details=details,
            filer=filer, agent_name=agent_name, agent_email=agent_email, agent_organisation=agent_organisation,
            via_gpc=via_gpc, received_at=received_at, channel=channel, recorded_by=recorded_by,
            agent_power_of_attorney=filer == Filer.AGENT and power_of_attorney,
            is_repeat=_is_repeat(jur, rtype, requester_email, received_at),
        )
        if batch:
            case.batch_id = batch
        case.save()
        batch = case.batch_id
        case.reference = f"DSAR-{received_at.year}-{case.pk:06d}"
        case.save(update_fields=["reference"])
        events = [new_event(case, "submitted", user=recorded_by, actor_label=None if recorded_by else REQUESTER,
                            to_state=case.state, public=True,
                            data={"jurisdiction": jur.code, "regime": jur.regime.code, "request_type": code,
                                  "filer": filer, "via_gpc": via_gpc, "channel": channel,
                                  "received_at": received_at.isoformat(), "recorded_at": timezone.now().isoformat()})]
        if case.is_repeat:
            source = ("Cal. Civ. Code §1798.130(b)" if jur.regime.code == "ccpa"
                      else "company privacy policy, section K")
            events.append(new_event(
                case, "flagged_repeat", actor_label=SYSTEM,
                reason=f"More than {jur.repeat_access_limit} access requests in 12 months "
                       f"({source}); staff decide, the request is kept.",
                data={"limit": jur.repeat_access_limit, "source": source}))
        if authorisation is not None:
            record_all(events)  # the attachment's own event follows them
            events = []
            add_attachment(case, Attachment.Kind.AUTHORISATION, authorisation)
        rules = case.regime_info.clocks_for(code)
        starts = [(rule, received_on) for event in (R.RECEIVED, R.COMPLETE_REQUEST)
                  for rule in rules if rule.starts == event]
        if not rtype.is_opt_out and channel in SELF_SERVICE_CHANNELS:
            starts.append((_confirm_rule(), received_on))
        # The clocks and the events above in two INSERTs; the nearest due date is set once, below.
        started[case.pk] = start_clocks(case, starts, events=events)
        if rtype.is_opt_out:
            _accept_opt_out(case, received_on)
        cases.append(case)
    if channel not in SELF_SERVICE_CHANNELS:
        for case in cases:
            if case.state == State.SUBMITTED:  # opt-outs were accepted above
                _accept(case, email_confirmed=False)
        if cases[0].awaits_consumer_permission and cases[0].requester_email:
            _ask_consumer_permission(cases)
        return cases
    # One confirmation e-mail for the cases filed together (same address); its link confirms them
    # all (views/public.confirm), so the requester is not asked N times. Opt-outs need none.
    to_confirm = with_respond_due([c for c in cases if c.state == State.SUBMITTED], started)
    if to_confirm:
        notify_requester(to_confirm[0], "confirm_email", dedupe="first", confirm_url=confirm_url(to_confirm[0]),
                         batch=to_confirm)
    if cases[0].awaits_consumer_permission:
        _ask_consumer_permission(cases)
    for case in to_confirm:
        ack = next((d for d in reversed(started[case.pk]) if d.kind == R.ACKNOWLEDGE), None)
        if ack:
            # The confirmation e-mail confirms receipt and says what happens next (11 CCR §7021(a)),
            # so an unconfirmed address never leaves the acknowledge clock to go overdue.
            close_deadline(ack)
        refresh_next_due(case)
    return cases


def ask_consumer_permission_again(case) -> None:
    """The consumer lost the e-mail: send the permission link again, to their own address only."""
    cases = list(DataSubjectRequest.objects.filter(batch_id=case.batch_id).order_by("pk"))
    _ask_consumer_permission(cases, dedupe=None)


def _ask_consumer_permission(cases: list, dedupe: str | None = "first") -> None:
    """11 CCR §7063(a): ask the consumer alone (never the agent) to confirm that they gave the agent
    permission. One e-mail for the cases filed together; the clocks keep running meanwhile."""
    case = cases[0]
    url = absolute_url(reverse("public:agent_permission", args=[make_token(case, AGENT_PERMISSION)]))
    for item in cases:
        record(item, "agent_permission_requested", actor_label=SYSTEM, public=True,
               data={"agent": item.agent_name, "source": "11 CCR §7063(a)"})
    queue_email("agent_permission", [case.requester_email],
                context={**_email_context(case), "permission_url": url, "batch": cases},
                language=case.language, case=case,
                dedupe_key=f"agent_permission:{case.pk}" if dedupe else None)


@transaction.atomic
def confirm_agent_permission(case, *, received_at: dt.datetime | None = None) -> list[DataSubjectRequest]:
    """The consumer confirmed directly that they gave the agent permission (11 CCR §7063(a)), for
    every case filed together. Idempotent."""
    arrived, arrival_data = arrival(case, received_at, None, what="the consumer's confirmation")
    done = []
    for item in DataSubjectRequest.objects.select_for_update().filter(batch_id=case.batch_id).order_by("pk"):
        if not item.awaits_consumer_permission:
            continue
        item.agent_permission_confirmed_at = arrived
        item.version += 1
        item.save(update_fields=["agent_permission_confirmed_at", "version", "updated_at"])
        record(item, "agent_permission_confirmed", actor_label=REQUESTER, public=True,
               data={"agent": item.agent_name, "source": "11 CCR §7063(a)", **arrival_data})
        done.append(item)
    return done


def refuse_agent_permission(case) -> None:
    """The consumer says they gave the agent no permission: nothing is done on the agent's requests."""
    for item in DataSubjectRequest.objects.filter(batch_id=case.batch_id).order_by("pk"):
        if item.awaits_consumer_permission:
            withdraw(item, reason="The consumer says they did not give the agent permission (11 CCR §7063(a)).")


def _require_consumer_permission(case) -> None:
    if case.awaits_consumer_permission:
        raise ServiceError(f"{case.reference} awaits the consumer's own confirmation that they gave "
                           f"{case.agent_name} permission (11 CCR §7063(a)); the agent's confirmation does not "
                           "stand for it. Deny the request if it never comes.")


def _accept_opt_out(case, received_on: dt.date) -> None:
    """Spec section 5, 11 CCR §7026(d): an opt-out is acted on without e-mail confirmation or
    identity verification, so it is in progress at once and its clocks that count from a
    verified request (nrs603a) start at receipt. Never closed as not filed."""
    _transition(case, "accept_opt_out", None, check_perm=False,
                reason="An opt-out needs no e-mail confirmation and no identity verification (11 CCR §7026(d))")
    _start_rules(case, R.VERIFIED, received_on)
    _acknowledge(case)


def accept_waiting_opt_outs() -> int:
    """Beat, daily: accept every opt-out still waiting for its e-mail confirmation (filed before
    opt-outs were accepted at receipt). Returns how many were accepted; idempotent."""
    waiting = Q(pk__in=[])
    for regime in R.REGIMES.values():
        codes = [t.code for t in regime.request_types if t.is_opt_out]
        if codes:
            waiting |= Q(regime=regime.code, request_type__in=codes)
    pks = DataSubjectRequest.objects.filter(waiting, state=State.SUBMITTED).values_list("pk", flat=True)
    return sum(accept_waiting_opt_out(pk) for pk in pks)


@transaction.atomic
def accept_waiting_opt_out(pk: int) -> bool:
    """An opt-out needs no e-mail confirmation (11 CCR §7026(d)): one left waiting for it is
    accepted, its clocks counting from its receipt. False if it no longer waits."""
    case = DataSubjectRequest.objects.select_for_update().filter(pk=pk, state=State.SUBMITTED).first()
    if case is None or not case.request_type_info.is_opt_out:
        return False
    _close_all(case, kinds=(R.CONFIRM_EMAIL,))
    record(case, "opt_out_accepted_without_confirmation", actor_label=SYSTEM,
           reason="An opt-out needs no e-mail confirmation (11 CCR §7026(d)); its clocks count from its receipt.",
           data={"source": "11 CCR §7026(d)"})
    _accept_opt_out(case, local_date(case.received_at, case.jurisdiction_info.timezone))
    return True


def _acknowledge(case) -> None:
    ack = _open_deadline(case, R.ACKNOWLEDGE)
    letter = letters.issue_letter(case, letters.ACKNOWLEDGEMENT, {"received_on": case.received_at.isoformat()})
    if ack:
        close_deadline(ack)  # the acknowledgement confirms receipt and says what happens next (11 CCR §7021(a))
    refresh_next_due(case)
    notify_requester(case, "acknowledgement", letter=letter, dedupe="first")


def _confirm_rule() -> R.ClockRule:
    from .clocks import days

    return R.ClockRule(R.CONFIRM_EMAIL, R.RECEIVED, days(settings.DSAR_CONFIRMATION_DAYS), None, False,
                       "Setting DSAR_CONFIRMATION_DAYS (unconfirmed requests close as not filed)", kind=R.WINDOW)


def add_attachment(case, kind: str, upload: Upload, user=None, *, data: dict | None = None) -> Attachment:
    from django.core.files.base import ContentFile

    # Every path that stores a file passes the same check (ValidationError rolls the caller back).
    upload = uploads.check_stored(upload)
    att = Attachment(case=case, kind=kind, original_name=upload.name[:255], content_type=upload.content_type,
                     size=len(upload.content), sha256=hashlib.sha256(upload.content).hexdigest(), uploaded_by=user)
    att.file.save(upload.name, ContentFile(upload.content), save=False)
    att.save()
    record(case, "attachment_added", user=user, actor_label=None if user else REQUESTER,
           data={"attachment": att.pk, "kind": kind, "sha256": att.sha256, "size": att.size, **(data or {})})
    return att


@transaction.atomic
def confirm_email(case) -> DataSubjectRequest:
    """The requester followed the signed link. Idempotent: a second click changes nothing."""
    case = _lock(case)
    if case.state != State.SUBMITTED:
        return case
    return _accept(case, email_confirmed=True)


def _accept(case, *, email_confirmed: bool) -> DataSubjectRequest:
    """The request counts: by the confirmation link, or at once when it reached the team by
    e-mail, post, phone or in person."""
    if email_confirmed:
        case.email_confirmed_at = timezone.now()
    _transition(case, "confirm_email", None, check_perm=False, public=email_confirmed,
                data=None if email_confirmed else {"channel": case.channel})
    d = _open_deadline(case, R.CONFIRM_EMAIL)
    if d:
        close_deadline(d)
    _acknowledge(case)
    return case


def _mark_verified(case, user, how: str, on: dt.date | None = None) -> None:
    case.verified_at = timezone.now()
    case.save(update_fields=["verified_at"])
    record(case, "identity_verified", user=user, actor_label=None if user else SYSTEM, reason=how, public=True)
    delete_identity_documents(case, "the identity was verified")
    _start_rules(case, R.VERIFIED, on or _today(case))  # nrs603a: 60 days from the verified request


@transaction.atomic
def verify_identity(case, user, *, method: str, expected_version: int | None = None) -> DataSubjectRequest:
    case = _lock(case, expected_version)
    if not method.strip():
        raise ServiceError("Say how the identity was verified.")
    _require_consumer_permission(case)
    _transition(case, "verify", user, reason=method)
    _mark_verified(case, user, method)
    refresh_next_due(case)
    return case


# --- information, identity, clarification ------------------------------------------------------

@transaction.atomic
def request_information(case, user, *, what: str, message: str,
                        expected_version: int | None = None) -> DataSubjectRequest:
    """Ask the requester for missing information, ID or a clarification.

    lfpdppp: once, within 5 business days; starts the 10-day reply window and holds the
    determination clock until the complete request arrives. uk_gdpr: ID or fee restarts the
    clock on arrival (Art. 12A(3)), a clarification pauses it (Art. 12A(4)). Elsewhere the clock
    keeps running (e.g. CCPA counts from receipt regardless of verification, 11 CCR §7021(b))."""
    case = _lock(case, expected_version)
    if not message.strip():
        raise ServiceError("Write what you need from the requester.")
    if what not in (Awaiting.INFORMATION, Awaiting.IDENTITY, Awaiting.CLARIFICATION, Awaiting.FEE):
        raise ServiceError(f"Unknown kind of request for information: {what}")
    regime = case.regime_info
    today = _today(case)
    if regime.may_request_information_once:
        window = _open_deadline(case, R.REQUEST_INFORMATION)
        if case.information_requested_at is not None:
            raise ServiceError("Information may be requested only once under the LFPDPPP.")
        if window is None or timezone.now() > window.due_at:
            raise ServiceError("The 5 business days to request missing information have passed (LFPDPPP).")
    _transition(case, "request_information", user, reason=message, data={"what": what})
    case.awaiting = what
    case.information_requested_at = timezone.now()
    case.save(update_fields=["awaiting", "information_requested_at"])
    if regime.may_request_information_once:
        close_deadline(_open_deadline(case, R.REQUEST_INFORMATION))
        det = _open_deadline(case, R.DETERMINATION)
        if det:
            close_deadline(det, DeadlineStatus.CANCELLED)  # restarts from the complete request
        _start_rules(case, R.INFORMATION_REQUESTED, today)
    elif regime.restart_on_identity and what in RESTARTING or \
            regime.pauses_on_clarification(case.request_type) and what == Awaiting.CLARIFICATION:
        respond = _open_deadline(case, R.RESPOND)
        # Spec section 3: only a running clock pauses; an expired one stays expired (and overdue).
        if respond and timezone.now() <= respond.due_at:
            respond.paused_since = today
            respond.save(update_fields=["paused_since"])
            record(case, "clock_paused", user=user, reason=message,
                   data={"clock": R.RESPOND, "since": today.isoformat(), "why": what})
    refresh_next_due(case)
    _letter_and_email(case, letters.REQUEST_INFORMATION, {"what": what, "message": message,
                                                          "reply_due": _reply_due(case)},
                      email_kind="information_requested")
    return case


RESTARTING = (Awaiting.IDENTITY, Awaiting.FEE)  # UK GDPR Art. 12A(3): the clock restarts on their arrival


def _reply_due(case) -> str | None:
    d = _open_deadline(case, R.REQUESTER_REPLY)
    return d.due_date.isoformat() if d else None


@transaction.atomic
def receive_reply(case, *, message: str, upload: Upload | None = None, user=None,
                  received_at: dt.datetime | None = None) -> DataSubjectRequest:
    """The requester answered (status page), or staff record an answer that came another way;
    `received_at` is when it arrived (default now): the clocks count from that day."""
    case = _lock(case)
    if case.state != State.AWAITING_REQUESTER:
        raise ServiceError(f"{case.reference} is not waiting for an answer from you.")
    if not message.strip() and upload is None:
        raise ServiceError("Write your answer or attach a document.")
    what = case.awaiting
    arrived, arrival_data = arrival(case, received_at, user, not_before=case.information_requested_at,
                                    what="the answer")
    today = local_date(arrived, case.jurisdiction_info.timezone)
    late = _open_deadline(case, R.REQUESTER_REPLY)
    if late is not None and arrived > late.due_at:
        # LFPDPPP (2025): no reply within 10 business days means the request is deemed not filed.
        raise ServiceError(f"The time to send the missing information ended on {late.due_date}; the request "
                           "is deemed not filed. You may file a new request.")
    if upload is not None:
        kind = Attachment.Kind.IDENTITY if what == Awaiting.IDENTITY else Attachment.Kind.INFORMATION
        add_attachment(case, kind, upload, user=user, data=arrival_data)
    _transition(case, "receive_reply", user, reason=message, data={"what": what, **arrival_data},
                check_perm=False)
    case.awaiting = ""
    case.save(update_fields=["awaiting"])
    regime = case.regime_info
    if regime.may_request_information_once:
        reply = _open_deadline(case, R.REQUESTER_REPLY)
        if reply:
            close_deadline(reply)
        _start_rules(case, R.COMPLETE_REQUEST, today)  # determination counts from the complete request
    else:
        respond = _open_deadline(case, R.RESPOND)
        if respond and respond.paused_since:
            old_due = respond.due_date
            if regime.restart_on_identity and what in RESTARTING:
                # Art. 12A(3): the month starts again on the day the ID or fee arrives.
                respond.start_date, respond.paused_days, respond.restarts = today, 0, respond.restarts + 1
                event = "clock_restarted"
            else:
                # Art. 12A(4): the paused whole days are added to the period.
                respond.paused_days += (today - respond.paused_since).days
                event = "clock_resumed"
            respond.paused_since = None
            _recompute(respond)
            respond.save()
            record(case, event, user=user, actor_label=None if user else REQUESTER,
                   data={"clock": R.RESPOND, "from": old_due.isoformat(), "due": respond.due_date.isoformat(),
                         "start": respond.start_date.isoformat(), "paused_days": respond.paused_days,
                         **arrival_data})
    refresh_next_due(case)
    return case


# --- extensions ---------------------------------------------------------------------------------

@transaction.atomic
def extend_deadline(case, user, *, reason: str, kind: str | None = None, appeal=None,
                    expected_version: int | None = None) -> Deadline:
    """Extend a running clock once, with a written reason, before it expires (spec section 3)."""
    case = _lock(case, expected_version)
    # Managers extend any case; analysts (roles.py) only the cases they work.
    if user is not None and not (user.has_perm("requests_app.extend_deadline") and can_work(case, user)):
        raise PermissionDenied("You may extend deadlines only on cases you work, with the extend_deadline "
                               "permission (analysts: their own cases; managers: any case).")
    if not reason.strip():
        raise ServiceError("An extension needs a written reason; it is sent to the requester.")
    kind = kind or (R.APPEAL_RESPOND if appeal else
                    R.DETERMINATION if _open_deadline(case, R.DETERMINATION) else
                    R.EFFECTIVE if _open_deadline(case, R.EFFECTIVE) else R.RESPOND)
    deadline = _open_deadline(case, kind, appeal=appeal)
    if deadline is None:
        raise ServiceError(f"{case.reference} has no running {kind} clock to extend.")
    rule = _rule(deadline)
    if rule.extended is None:
        raise ServiceError(f"The {kind} clock of a {case.regime_info.name} {case.request_type} request cannot be "
                           f"extended ({rule.source}).")
    # Spec section 3: once per request and clock kind, even if the clock restarted since.
    earlier = case.deadlines.filter(kind=kind, appeal=appeal, extended=True).order_by("id").first()
    if earlier is not None:
        raise ServiceError(f"The {kind} clock was already extended on "
                           f"{local_date(earlier.extended_at, earlier.timezone)}; the law allows one extension.")
    if deadline.is_paused:
        raise ServiceError(f"The {kind} clock is stopped while we wait for the requester; extend it, if "
                           "needed, once it runs again.")
    if timezone.now() > deadline.due_at:
        raise ServiceError(f"The {kind} clock expired on {deadline.due_date}; an extension must be notified "
                           "before the original deadline.")
    old = deadline.due_date
    deadline.extended, deadline.extension_reason, deadline.extended_at = True, reason, timezone.now()
    _recompute(deadline)
    deadline.save()
    case.version += 1
    case.save(update_fields=["version"])
    record(case, "deadline_extended", user=user, reason=reason, appeal=appeal, public=True,
           data={"clock": kind, "from": old.isoformat(), "to": deadline.due_date.isoformat(),
                 "source": rule.source})
    refresh_next_due(case)
    _letter_and_email(case, letters.EXTENSION_NOTICE, {"clock": kind, "reason": reason, "old_due": old.isoformat(),
                                                       "new_due": deadline.due_date.isoformat(),
                                                       "source": rule.source}, appeal=appeal)
    return deadline


# --- decisions ----------------------------------------------------------------------------------

KNOW_FIELDS = ("categories", "sources", "purposes", "recipients")


def _check_know_response(case, decision: dict) -> None:
    # Cal. Civ. Code §1798.110(a), 11 CCR §7024: a know response gives categories, sources,
    # purposes and recipients.
    if case.regime == "ccpa" and case.request_type == "access":
        missing = [f for f in KNOW_FIELDS if not decision.get(f)]
        if missing:
            raise ValidationError({f: ["Required for a CCPA right-to-know response."] for f in missing})


def _close_response_clocks(case) -> None:
    for kind in (R.RESPOND, R.ACKNOWLEDGE, R.EFFECTIVE, R.DETERMINATION, R.APPEAL_ACTION):
        d = _open_deadline(case, kind)
        if d:
            close_deadline(d)
    _close_all(case, DeadlineStatus.CANCELLED)


@transaction.atomic
def _decide(case, user, transition: str, letter_kind: str, *, reasons: str = "", decision: dict | None = None,
            expected_version: int | None = None) -> DataSubjectRequest:
    case = _lock(case, expected_version)
    decision = decision or {}
    if transition in ("deny", "partially_fulfil") and not reasons.strip():
        raise ServiceError("A refusal, in whole or in part, must state its reasons.")
    decision = hooks.prepare_decision(case, user, transition, dict(decision), reasons)  # e.g. fulfilment tasks
    if transition in ("fulfil", "partially_fulfil"):
        _require_consumer_permission(case)
        _check_know_response(case, decision)
    case.decision, case.decision_reasons = decision, reasons
    _transition(case, transition, user, reason=reasons, data={"decision": list(decision)})
    now = timezone.now()
    case.decision_sent_at = now
    case.closed_at = now
    case.save(update_fields=["decision", "decision_reasons", "decision_sent_at", "closed_at"])
    _close_response_clocks(case)
    appeal = case.regime_info.appeal
    # One appeal per request: a decision taken after a reversed appeal opens no second window.
    if appeal and transition in ("deny", "partially_fulfil") and not case.appeals.exists():
        start_clock(case, case.regime_info.any_clock(R.APPEAL_WINDOW, case.request_type), _today(case))
    refresh_next_due(case)
    _letter_and_email(case, letter_kind, {"outcome": transition, "reasons": reasons, **decision,
                                          "appeal_window_due": _appeal_window_due(case)})
    return case


def _appeal_window_due(case) -> str | None:
    d = _open_deadline(case, R.APPEAL_WINDOW)
    return d.due_date.isoformat() if d else None


def fulfil(case, user, *, decision: dict | None = None, expected_version: int | None = None):
    return _decide(case, user, "fulfil", letters.FULFILMENT, decision=decision, expected_version=expected_version)


def partially_fulfil(case, user, *, reasons: str, decision: dict | None = None,
                     expected_version: int | None = None):
    return _decide(case, user, "partially_fulfil", letters.FULFILMENT, reasons=reasons, decision=decision,
                   expected_version=expected_version)


def deny(case, user, *, reasons: str, decision: dict | None = None, expected_version: int | None = None):
    return _decide(case, user, "deny", letters.DENIAL, reasons=reasons, decision=decision,
                   expected_version=expected_version)


@transaction.atomic
def determine(case, user, *, admissible: bool, reasons: str = "",
              expected_version: int | None = None) -> DataSubjectRequest:
    """LFPDPPP: communicate within 20 business days whether the request is admissible; if so,
    the 15 business days to make it effective start that day."""
    case = _lock(case, expected_version)
    if not admissible and not reasons.strip():
        raise ServiceError("An inadmissible determination must state its reasons.")
    _transition(case, "determine_admissible" if admissible else "determine_inadmissible", user, reason=reasons)
    det = _open_deadline(case, R.DETERMINATION)
    if det:
        close_deadline(det)
    case.decision_reasons = reasons
    case.save(update_fields=["decision_reasons"])
    if admissible:
        _start_rules(case, R.COMMUNICATED, _today(case))
    else:
        case.decision_sent_at = case.closed_at = timezone.now()
        case.save(update_fields=["decision_sent_at", "closed_at"])
        _close_all(case)
    refresh_next_due(case)
    _letter_and_email(case, letters.DETERMINATION, {"admissible": admissible, "reasons": reasons,
                                                    "effective_due": _effective_due(case)})
    return case


def _effective_due(case) -> str | None:
    d = _open_deadline(case, R.EFFECTIVE)
    return d.due_date.isoformat() if d else None


@transaction.atomic
def withdraw(case, user=None, *, reason: str = "") -> DataSubjectRequest:
    case = _lock(case)
    case.awaiting = ""  # a closed case waits for nothing
    _transition(case, "withdraw", user, reason=reason or "Withdrawn by the requester")
    _close_all(case)
    refresh_next_due(case)
    notify_requester(case, "withdrawn", dedupe="withdrawn")
    return case


@transaction.atomic
def close_not_filed(case, *, reason: str, user=None) -> DataSubjectRequest:
    """Never confirmed, never verified, or (LFPDPPP) no reply within 10 business days."""
    case = _lock(case)
    if case.request_type_info.is_opt_out:
        raise ServiceError("An opt-out is never closed as not filed: it needs no confirmation or verification "
                           "(11 CCR §7026(d)).")
    if case.state not in (State.SUBMITTED, State.AWAITING_REQUESTER, State.VERIFYING):
        return case  # the requester acted in time; nothing to close
    reply = _open_deadline(case, R.REQUESTER_REPLY)
    if reply is not None and timezone.now() <= reply.due_at:
        # LFPDPPP (2025): only a reply window that lapsed makes the request "not filed".
        raise ServiceError(f"The requester has until {reply.due_date} to send the missing information; "
                           "the request cannot be closed as not filed before then.")
    cause = letters.not_filed_cause(case)  # read before the transition clears what it waited for
    case.awaiting = ""  # a closed case waits for nothing
    _transition(case, "close_not_filed", user, reason=reason, check_perm=False)
    _close_all(case, DeadlineStatus.LAPSED, kinds=(R.REQUESTER_REPLY, R.CONFIRM_EMAIL))
    _close_all(case)
    context = {"reason": reason, "cause": cause}
    if case.regime_info.has_appeals:
        # Spec section 5: in cpa, ctdpa and vcdpa closing without action is a refusal to act; its
        # letter explains the appeal, and the window opens (C.R.S. 6-1-1306(3); 42-518(d); 59.1-577(C)).
        case.decision_sent_at = timezone.now()
        case.save(update_fields=["decision_sent_at"])
        start_clock(case, case.regime_info.any_clock(R.APPEAL_WINDOW, case.request_type), _today(case))
        context["appeal_window_due"] = _appeal_window_due(case)
    refresh_next_due(case)
    _letter_and_email(case, letters.NOT_FILED, context)
    return case


# --- appeals (cpa, ctdpa, vcdpa) -----------------------------------------------------------------

# Refusals to act, in whole or in part; closing as not filed is one (spec section 5).
APPEALABLE_STATES = (State.DENIED, State.PARTIALLY_FULFILLED, State.NOT_FILED)
DECIDING_EVENTS = ("deny", "partially_fulfil", "close_not_filed")


def took_part(appeal, user) -> bool:
    """Did this user decide the request appealed, or is it assigned to them? Then they may not
    decide its appeal: the letters promise an independent review (spec section 5)."""
    case = appeal.case
    if user.pk == case.assignee_id:
        return True
    return case.events.filter(kind__in=DECIDING_EVENTS, actor=user).exists()


def _require_independent(appeal, user) -> None:
    if took_part(appeal, user):
        raise PermissionDenied(f"You took part in the decision on {appeal.case.reference} (you decided it or it is "
                               "assigned to you): another manager must review and decide its appeal.")

@transaction.atomic
def file_appeal(case, *, statement: str, user=None, accept_late_reason: str = "",
                received_at: dt.datetime | None = None) -> Appeal:
    """`received_at`: when the appeal arrived (default now); the window and the decision clock
    are judged from that moment."""
    case = _lock(case)
    regime = case.regime_info
    if not regime.has_appeals:
        raise ServiceError(f"{regime.name} gives no right to appeal.")
    if case.state not in APPEALABLE_STATES:
        raise ServiceError("Only a decision that refused action, in whole or in part, can be appealed.")
    if case.appeals.exists():
        raise ServiceError(f"{case.reference} has already been appealed.")
    window = case.deadlines.filter(kind=R.APPEAL_WINDOW).order_by("-id").first()
    now, arrival_data = arrival(case, received_at, user, not_before=case.decision_sent_at, what="the appeal")
    late = window is None or now > window.due_at
    if late:
        closed_on = window.due_date if window else None
        if not accept_late_reason.strip() or user is None:
            raise AppealWindowClosed(
                f"The window to appeal closed on {closed_on}: appeals must be filed within "
                f"{regime.appeal.window.amount} days of the decision ({regime.appeal.window_source})."
            )
        if not user.has_perm("requests_app.decide_appeal"):
            raise PermissionDenied("Only a manager may accept a late appeal.")
    appeal = Appeal.objects.create(case=case, statement=statement, received_at=now,
                                   late_accepted_reason=accept_late_reason.strip() if late else "")
    if window and window.status == DeadlineStatus.OPEN:
        close_deadline(window, DeadlineStatus.LAPSED if late else DeadlineStatus.MET)
    record(case, "appeal_filed", user=user, appeal=appeal, public=True, reason=statement,
           data={"late_accepted": late, "late_accepted_reason": appeal.late_accepted_reason, **arrival_data})
    if late:
        record(case, "late_appeal_accepted", user=user, appeal=appeal, reason=appeal.late_accepted_reason,
               data={"window_closed_on": window.due_date.isoformat() if window else None})
    start_clock(case, regime.any_clock(R.APPEAL_RESPOND, case.request_type),
                local_date(now, case.jurisdiction_info.timezone), appeal=appeal)
    refresh_next_due(case)
    notify_requester(case, "appeal_received", dedupe=f"appeal{appeal.pk}", appeal=appeal,
                     appeal_due=_open_deadline(case, R.APPEAL_RESPOND, appeal=appeal).due_date)
    return appeal


def _lock_appeal(appeal, expected_version=None) -> Appeal:
    _lock(appeal.case)
    locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("The appeal was changed by someone else; reload it. What you typed is kept below.")
    return locked


@transaction.atomic
def start_appeal_review(appeal, user) -> Appeal:
    appeal = _lock_appeal(appeal)
    if not can_proceed(appeal.start_review):
        raise ServiceError(f"This appeal is already {appeal.get_state_display().lower()}.")
    if not has_transition_perm(appeal.start_review, user):
        raise PermissionDenied("Only a manager may review appeals.")
    _require_independent(appeal, user)
    before = appeal.state
    appeal.start_review()
    appeal.version += 1
    appeal.save()
    record(appeal.case, "appeal_review_started", user=user, appeal=appeal, from_state=before, to_state=appeal.state)
    return appeal


APPEAL_OUTCOMES = {AppealState.UPHELD: "uphold", AppealState.REVERSED: "reverse",
                   AppealState.PARTIALLY_REVERSED: "partially_reverse"}


@transaction.atomic
def decide_appeal(appeal, user, *, outcome: str, reasons: str, expected_version: int | None = None) -> Appeal:
    """A written decision; where the appeal is denied (in whole or in part) the letter tells the
    requester how to contact their Attorney General (C.R.S. 6-1-1306(3); 42-518(d); 59.1-577(C))."""
    appeal = _lock_appeal(appeal, expected_version)
    if outcome not in APPEAL_OUTCOMES:
        raise ServiceError(f"Unknown appeal outcome '{outcome}'.")
    if not reasons.strip():
        raise ServiceError("An appeal decision must give its reasons in writing.")
    method = getattr(appeal, APPEAL_OUTCOMES[outcome])
    if not can_proceed(method):
        raise ServiceError(f"This appeal was already decided ({appeal.get_state_display()}).")
    if not has_transition_perm(method, user):
        raise PermissionDenied("Only a manager may decide appeals.")
    _require_independent(appeal, user)
    before = appeal.state
    try:
        method()
    except TransitionNotAllowed:
        raise ServiceError(f"This appeal was already decided ({appeal.get_state_display()}).") from None
    appeal.decision_reasons, appeal.decided_at, appeal.decided_by = reasons, timezone.now(), user
    appeal.version += 1
    appeal.next_due_at = None
    appeal.save()
    case = appeal.case
    record(case, "appeal_decided", user=user, appeal=appeal, from_state=before, to_state=appeal.state,
           reason=reasons, public=True)
    appeal_clock = _open_deadline(case, R.APPEAL_RESPOND, appeal=appeal)
    _close_all(case, DeadlineStatus.MET, kinds=(R.APPEAL_RESPOND,), appeal=appeal)
    if outcome in (AppealState.REVERSED, AppealState.PARTIALLY_REVERSED):
        _reopen_for_appeal(case, appeal, user, appeal_clock)
    refresh_next_due(case)
    _letter_and_email(case, letters.APPEAL_DECISION,
                      {"outcome": outcome, "reasons": reasons,
                       "attorney_general": case.regime_info.appeal.attorney_general}, appeal=appeal)
    return appeal


def _reopen_for_appeal(case, appeal, user, appeal_clock) -> None:
    """Spec section 5: a reversed (or partly reversed) appeal reopens the request; what it promises
    is an obligation due by the appeal's own deadline, and a new decision (with its letter) closes it."""
    _transition(case, "reopen", user, reason=appeal.decision_reasons, check_perm=False,
                data={"appeal": appeal.pk, "outcome": appeal.state})
    case.closed_at = None
    case.save(update_fields=["closed_at"])
    jur = case.jurisdiction_info
    due = appeal_clock.due_date if appeal_clock else _today(case)
    source = f"{appeal_clock.source if appeal_clock else 'appeal'}: the reversed appeal's action, by the appeal's deadline"
    Deadline.objects.create(case=case, kind=R.APPEAL_ACTION, is_obligation=True, source=source[:200],
                            timezone=jur.timezone, start_date=_today(case), due_date=due,
                            due_at=end_of_day(due, jur.timezone))
    record(case, "clock_started", actor_label=SYSTEM,
           data={"clock": R.APPEAL_ACTION, "appeal": appeal.pk, "start": _today(case).isoformat(), "due": due.isoformat(), "source": source})


# --- staff housekeeping ---------------------------------------------------------------------------

@transaction.atomic
def assign(case, user, assignee, *, expected_version: int | None = None) -> DataSubjectRequest:
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only a manager may assign cases.")
    case = _lock(case, expected_version)
    before = case.assignee.get_username() if case.assignee else ""
    case.assignee = assignee
    case.version += 1
    case.save(update_fields=["assignee", "version", "updated_at"])
    record(case, "assigned", user=user, data={"from": before, "to": assignee.get_username() if assignee else ""})
    return case


@transaction.atomic
def add_note(case, user, text: str) -> Note:
    if not text.strip():
        raise ServiceError("A note cannot be empty.")
    note = Note.objects.create(case=case, author=user, text=text)
    record(case, "note_added", user=user, data={"note": note.pk})
    return note


@transaction.atomic
def reveal_requester(case, user) -> dict:
    if not user.has_perm("requests_app.reveal_requester"):
        raise PermissionDenied("You may not see requester details.")
    if not (can_work(case, user) or user.has_perm("requests_app.view_all_cases")):
        raise PermissionDenied("You may reveal requester details only on cases you work.")
    record(case, "requester_revealed", user=user)
    return {"name": case.requester_name, "email": case.requester_email, "account_id": case.account_id,
            "phone": case.phone, "postal_address": case.postal_address}


def open_cases():
    return DataSubjectRequest.objects.filter(closed_at__isnull=True)


def overdue_q(now=None) -> Q:
    return Q(next_due_at__lt=now or timezone.now())


def issue_correction(letter, reason: str, *, user=None, changes: dict | None = None):
    """Correct an issued letter (letters.correct_letter) and e-mail the new one to the requester
    like any other letter."""
    with transaction.atomic():
        new = letters.correct_letter(letter, reason, user=user, changes=changes)
        notify_requester(new.case, "letter", letter=new, letter_kind=letter.kind)
    return new
