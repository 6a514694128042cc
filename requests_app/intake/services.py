"""Intake use cases: record a request that came by e-mail, post, phone or in person; store inbound
mail; triage it (turn into a case, attach to a case, dismiss); block senders; one-time codes.

Every case is created by the core's one ``services.submit_request``: clocks, the repeat flag,
letters and e-mails are those of the web form."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from requests_app import configaudit
from requests_app import services as core
from requests_app import uploads
from requests_app.uploads import Record
from requests_app.models import OPEN_STATES, SELF_SERVICE_CHANNELS, Attachment, Channel, DataSubjectRequest
from requests_app.outbox import queue_email

from .models import BlockedSender, Flag, InboundAttachment, InboundMessage, InboxEvent, InboxState, OneTimeCode

log = logging.getLogger(__name__)

REFERENCE = re.compile(r"DSAR-\d{4}-\d{6}", re.IGNORECASE)
STAFF_CHANNELS = (Channel.EMAIL, Channel.POST, Channel.PHONE, Channel.IN_PERSON)
# A provider retries a failed webhook for hours; a Date header older than this is not trusted as
# the arrival time (a sender could backdate it), nor one in the future.
DATE_HEADER_TRUST = dt.timedelta(hours=72)
MX_SOURCE = "company privacy policy, section M (requests by e-mail must come from the registered address)"


class IntakeError(core.ServiceError):
    pass


# --- staff intake ---------------------------------------------------------------------------------

def check_arrival(received_at: dt.datetime, now: dt.datetime | None = None) -> None:
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": ["Give the arrival time with its time zone."]})
    if received_at > (now or timezone.now()):
        # shared/spec/regimes.md §3: the moment it arrived, never in the future.
        raise ValidationError({"received_at": ["The request cannot have arrived in the future."]})


@transaction.atomic
def record_request(user, *, channel: str, received_at: dt.datetime, request_types: list[str],
                   jurisdiction: str, requester_name: str, requester_email: str = "",
                   documents: list[core.Upload] = (), message: InboundMessage | None = None,
                   **fields) -> list[DataSubjectRequest]:
    """A request the team received by e-mail, post, phone or in person, typed in by staff."""
    if channel not in STAFF_CHANNELS:
        raise ValidationError({"channel": [f"Staff record requests received by e-mail, post, phone or in "
                                           f"person, not '{channel}'."]})
    check_arrival(received_at)
    if message is not None:
        message = InboundMessage.objects.select_for_update().get(pk=message.pk)
        if not message.is_open:
            raise IntakeError(f"This message was already handled ({message.get_state_display()}).")
    cases = core.submit_request(jurisdiction=jurisdiction, request_types=request_types,
                                requester_name=requester_name, requester_email=requester_email,
                                received_at=received_at, channel=channel, recorded_by=user, **fields)
    for case in cases:
        for doc in documents:
            core.add_attachment(case, Attachment.Kind.STAFF, doc, user=user)
        if message is not None:
            _note_refused(case, user, _copy_message(message, case, user))
    if message is not None:
        _flag_mx_sender(message, cases)
        _handle(message, user, InboxState.CONVERTED)
        message.cases.add(*cases)
    return cases


def open_duplicates(email: str, request_type: str | None = None, *, exclude_batch=None):
    """Open cases of the same person (same address) and, if given, the same request type."""
    if not email:
        return DataSubjectRequest.objects.none()
    qs = DataSubjectRequest.objects.filter(requester_email__iexact=email.strip(), state__in=OPEN_STATES)
    if request_type:
        qs = qs.filter(request_type=request_type)
    if exclude_batch:
        qs = qs.exclude(batch_id=exclude_batch)
    return qs.order_by("received_at")


def on_event(sender, event, **kwargs) -> None:
    """Every new case, whatever its channel: link it with the same person's open cases of the
    same type (both case pages show the link)."""
    if event.kind == "submitted":
        with transaction.atomic():
            _link_duplicates(event.case)


def _link_duplicates(case) -> None:
    others = list(open_duplicates(case.requester_email, case.request_type, exclude_batch=case.batch_id))
    for other in others:
        reason = "The same person has another open request of the same type."
        core.record(case, "likely_duplicate", actor_label=core.SYSTEM, reason=reason,
                    data={"linked_case": other.pk, "linked_reference": other.reference})
        core.record(other, "likely_duplicate", actor_label=core.SYSTEM, reason=reason,
                    data={"linked_case": case.pk, "linked_reference": case.reference})
    if others and case.channel in SELF_SERVICE_CHANNELS:
        # Told by e-mail, to the address on file only: the form must not tell whoever types an
        # address that its owner has open requests (with DSAR_EMAIL_CODE_REQUIRED, the proven
        # address is also told on the form, views_public).
        queue_email("duplicate_notice", core._recipients(case), language=case.language, case=case,
                    context=core._email_context(case, others=others),
                    dedupe_key=f"duplicate_notice:{case.batch_id}")


def _flag_mx_sender(message: InboundMessage, cases) -> None:
    for case in cases:
        if case.regime == "lfpdppp" and message.from_email.lower() != case.requester_email.lower():
            core.record(case, "flagged_unverifiable_email", actor_label=core.SYSTEM,
                        reason="E-mailed from an address other than the account's registered one: the "
                               "request cannot be verified by e-mail.",
                        data={"source": MX_SOURCE})
            if Flag.MX_UNREGISTERED not in message.flags:
                message.flags = [*message.flags, Flag.MX_UNREGISTERED]
                message.save(update_fields=["flags"])


def _note_refused(case, user, refused: list[str]) -> None:
    if refused:
        core.record(case, "attachments_refused", user=user, data={"refused": refused},
                    reason="Not kept on the case (still inside the original message): " + "; ".join(refused))


def _copy_message(message: InboundMessage, case, user, skip=None) -> list[str]:
    """Keep the original message on the case, and each attachment that passes the upload checks
    (type by content, size); the names of the refused ones are returned (they stay in the .eml)."""
    if message.eml:
        message.eml.open("rb")
        with message.eml:
            content = message.eml.read()
        core.add_attachment(case, Attachment.Kind.INFORMATION,
                            Record(f"message-{message.public_id.hex[:8]}.eml", content, "message/rfc822"),
                            user=user)
    refused = []
    for att, upload in _checked_attachments(message):
        if att == skip:
            continue
        if isinstance(upload, ValidationError):
            refused.append(f"{att.name}: {' '.join(upload.messages)}")
        else:
            core.add_attachment(case, Attachment.Kind.INFORMATION, upload, user=user)
    return refused


def _checked_attachments(message: InboundMessage):
    for att in message.attachments.all():
        att.file.open("rb")
        with att.file:
            try:
                checked = uploads.check_upload(att.file, "attachment")
                yield att, core.Upload(att.name, checked.content, checked.content_type)
            except ValidationError as exc:
                yield att, exc


def record_view(message: InboundMessage, user) -> None:
    """Opening a message shows it unmasked: audited like a reveal on a case."""
    InboxEvent.objects.create(message=message, actor=user, kind="opened")


def _handle(message: InboundMessage, user, state: str, reason: str = "") -> None:
    message.state, message.handled_by, message.handled_at = state, user, timezone.now()
    message.dismiss_reason = reason
    message.save(update_fields=["state", "handled_by", "handled_at", "dismiss_reason"])
    InboxEvent.objects.create(message=message, actor=user, kind=state, reason=reason)


def _lock_open(message: InboundMessage) -> InboundMessage:
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if not message.is_open:
        raise IntakeError(f"This message was already handled ({message.get_state_display()}).")
    return message


@transaction.atomic
def attach_to_case(message: InboundMessage, case, user) -> InboundMessage:
    """File a message on a case it belongs to (a reply, a document), with its arrival time."""
    message = _lock_open(message)
    if not core.can_work(case, user):
        raise IntakeError(f"{case.reference} is not yours to work on: ask a manager to assign it to you.")
    _note_refused(case, user, _copy_message(message, case, user))
    core.record(case, "inbound_message_attached", user=user,
                reason=f"E-mail from the requester's side: {message.subject[:200]}",
                data={"received_at": message.received_at.isoformat(), "message": str(message.public_id)})
    _flag_mx_sender(message, [case])
    _handle(message, user, InboxState.ATTACHED)
    message.cases.add(case)
    return message


@transaction.atomic
def record_reply(message: InboundMessage, case, user) -> InboundMessage:
    """The message answers what we asked for: record it as the requester's reply."""
    message = _lock_open(message)
    first = next(((a, u) for a, u in _checked_attachments(message) if not isinstance(u, ValidationError)),
                 (None, None))
    # shared/spec/regimes.md §3: the reply counts from when it arrived, not when it is filed.
    core.receive_reply(case, message=message.text or message.subject or "(reply by e-mail)", upload=first[1],
                       user=user, received_at=message.received_at)
    _note_refused(case, user, _copy_message(message, case, user, skip=first[0]))
    core.record(case, "inbound_message_attached", user=user, reason="Recorded as the requester's reply",
                data={"received_at": message.received_at.isoformat(), "message": str(message.public_id)})
    _flag_mx_sender(message, [case])
    _handle(message, user, InboxState.ATTACHED)
    message.cases.add(case)
    return message


@transaction.atomic
def dismiss(message: InboundMessage, user, reason: str) -> InboundMessage:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why it is not a request (e.g. spam, a newsletter)."]})
    message = _lock_open(message)
    _handle(message, user, InboxState.DISMISSED, reason.strip())
    log.info("inbound message %s dismissed by %s", message.public_id, user.get_username())
    return message


# --- inbound mail -----------------------------------------------------------------------------------

def arrival_time(event, now: dt.datetime) -> dt.datetime:
    """When the message reached us: the provider's timestamp; else the Date header when plausible
    (a webhook retried after an outage arrives late); else now."""
    if getattr(event, "timestamp", None):
        return min(event.timestamp, now)
    sent = getattr(event.message, "date", None) if event.message is not None else None
    if sent is not None and timezone.is_aware(sent) and now - DATE_HEADER_TRUST <= sent <= now:
        return sent
    return now


def find_thread(subject: str, recipients: list[str]) -> DataSubjectRequest | None:
    """Our e-mails carry the reference in the subject; a reply keeps it (or a plus address has it)."""
    for text in [subject, *recipients]:
        match = REFERENCE.search(text or "")
        if match:
            return DataSubjectRequest.objects.filter(reference__iexact=match.group(0)).first()
    return None


def is_blocked(address: str) -> bool:
    address = (address or "").strip().lower()
    if not address:
        return False
    domain = address.rpartition("@")[2]
    return BlockedSender.objects.active().filter(value__in=[address, domain]).exists()


def on_inbound(sender, event, esp_name, **kwargs) -> None:
    """anymail's inbound signal, for whichever provider delivered it."""
    store_message(event, esp_name)


@transaction.atomic
def store_message(event, esp_name: str) -> InboundMessage | None:
    event_id = getattr(event, "event_id", None) or None
    if event_id and InboundMessage.objects.filter(event_id=event_id).exists():
        return None  # the provider retried a delivery we already stored
    now = timezone.now()
    msg = event.message
    sender = msg.from_email
    to = [str(a.addr_spec) for a in (msg.to or [])]
    if getattr(msg, "envelope_recipient", None):
        to.append(msg.envelope_recipient)
    item = InboundMessage(
        esp=esp_name, event_id=event_id, received_at=arrival_time(event, now),
        from_email=sender.addr_spec if sender else "", from_name=(sender.display_name if sender else "")[:200],
        to=to, subject=(msg.subject or "")[:500], text=msg.text or _strip_html(msg.html or ""),
        message_id=(msg.get("Message-ID") or "")[:500], sent_date=(msg.get("Date") or "")[:100],
    )
    if getattr(msg, "spam_detected", False):
        item.flags = [Flag.SPAM]
    item.thread_case = find_thread(item.subject, to)
    if item.thread_case and item.thread_case.regime == "lfpdppp" and \
            item.from_email.lower() != item.thread_case.requester_email.lower():
        item.flags = [*item.flags, Flag.MX_UNREGISTERED]
    if is_blocked(item.from_email):
        item.state = InboxState.BLOCKED
    item.eml.save(f"{item.public_id.hex}.eml", ContentFile(msg.as_bytes()), save=False)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        return None  # a concurrent retry of the same delivery won
    # Every named part: anymail counts a part with a Content-ID as inline, but it is still a document.
    attachments = []
    for part in (p for p in msg.walk() if not p.is_multipart() and p.get_filename()):
        content = part.get_content_bytes() or b""
        att = InboundAttachment(message=item, name=(part.get_filename() or "attachment")[:255],
                                content_type=part.get_content_type()[:100], size=len(content),
                                sha256=hashlib.sha256(content).hexdigest())
        att.file.save(f"{item.public_id.hex}-{secrets.token_hex(4)}", ContentFile(content), save=False)
        attachments.append(att)
    InboundAttachment.objects.bulk_create(attachments)
    log.info("inbound message %s from %s stored (%s)", item.public_id, esp_name, item.state)
    return item


def store_unparseable(esp_name: str, raw: str, error: str) -> InboundMessage:
    """A delivery that could not be read is kept raw in the inbox with the error, never dropped."""
    item = InboundMessage.objects.create(esp=esp_name, received_at=timezone.now(), raw=raw, parse_error=error,
                                         flags=[Flag.UNPARSEABLE], subject="(could not be read)")
    log.warning("inbound message %s kept raw: %s", item.public_id, error)
    return item


def _strip_html(html: str) -> str:
    from django.utils.html import strip_tags

    return strip_tags(html)


# --- blocked senders -----------------------------------------------------------------------------------

def normalise_block(value: str) -> str:
    value = (value or "").strip().lower()
    if "@" in value:
        _, address = parseaddr(value)
        if not address or "@" not in address or address.startswith("@"):
            raise ValidationError({"value": ["Give an e-mail address or a domain."]})
        return address
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value):
        raise ValidationError({"value": ["Give an e-mail address or a domain."]})
    return value


@transaction.atomic
def block_sender(user, value: str, reason: str) -> BlockedSender:
    value = normalise_block(value)
    if not reason.strip():
        raise ValidationError({"reason": ["Say why this sender is blocked."]})
    if BlockedSender.objects.active().filter(value=value).exists():
        raise ValidationError({"value": [f"{value} is already blocked."]})
    block = BlockedSender.objects.create(value=value, reason=reason.strip(), created_by=user)
    configaudit.record(block, "blocked", user=user, fields=["value", "reason"], data={"reason": block.reason})
    log.warning("sender %s blocked by %s: %s", value, user.get_username(), reason)
    return block


@transaction.atomic
def lift_block(user, block: BlockedSender, reason: str = "") -> BlockedSender:
    block = BlockedSender.objects.select_for_update().get(pk=block.pk)
    if block.lifted_at is not None:
        raise IntakeError(f"The block on {block.value} was already lifted.")
    block.lifted_by, block.lifted_at, block.lift_reason = user, timezone.now(), reason.strip()
    block.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    # Reversible: what the block kept out of the inbox comes back to it (unless still blocked).
    held = InboundMessage.objects.filter(state=InboxState.BLOCKED)
    held = held.filter(from_email__iendswith=f"@{block.value}") if block.is_domain \
        else held.filter(from_email__iexact=block.value)
    back = [m.pk for m in held if not is_blocked(m.from_email)]
    InboundMessage.objects.filter(pk__in=back).update(state=InboxState.NEW)
    configaudit.record(block, "unblocked", user=user, fields=["lifted_at", "lifted_by", "lift_reason"],
                       data={"reason": block.lift_reason, "messages_back_in_inbox": len(back)})
    log.warning("block on %s lifted by %s; %d message(s) back in the inbox", block.value, user.get_username(),
                len(back))
    return block


# --- one-time codes ------------------------------------------------------------------------------------

CODE_DIGITS = 6


def _hash_code(email: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{email.strip().lower()}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def send_code(email: str, language: str = "en") -> None:
    """Mail a fresh 6-digit code. A blocked address gets the same answer and no e-mail."""
    email = email.strip().lower()
    if is_blocked(email):
        log.info("one-time code not sent: %s is blocked", email)
        return
    now = timezone.now()
    # A new code replaces any earlier one: only the latest can be used.
    OneTimeCode.objects.filter(email=email, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    OneTimeCode.objects.create(email=email, code_hash=_hash_code(email, code), created_at=now,
                               expires_at=now + dt.timedelta(minutes=settings.DSAR_EMAIL_CODE_MINUTES))
    queue_email("email_code", [email], context={"code": code, "minutes": settings.DSAR_EMAIL_CODE_MINUTES},
                language=language)


def check_code(email: str, code: str) -> bool:
    """True once for the right, unexpired code; each wrong try counts, and after
    DSAR_EMAIL_CODE_ATTEMPTS wrong tries the code is dead (brute force of 10^6 is out of reach)."""
    email = email.strip().lower()
    code = (code or "").strip()
    with transaction.atomic():
        otp = (OneTimeCode.objects.select_for_update().filter(email=email, used_at__isnull=True)
               .order_by("-created_at").first())
        now = timezone.now()
        if otp is None or now > otp.expires_at or otp.attempts >= settings.DSAR_EMAIL_CODE_ATTEMPTS:
            return False
        if not (len(code) == CODE_DIGITS and code.isdigit()
                and hmac.compare_digest(otp.code_hash, _hash_code(email, code))):
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            return False
        otp.used_at = now
        otp.save(update_fields=["used_at"])
        return True
