"""Fulfilment use cases: fan a workable case out into tasks, keep their due dates inside the legal
clock, record answers (staff, vendors, later connectors), gate and enrich the decision, and build,
deliver and expire the access package. Each writes the core's audit Events via services.record; an
event about tasks names them (``task`` or ``task_ids``, with the states they left where several
move at once), so listeners of hooks.event_recorded can follow every task without asking this app."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from requests_app import configaudit, letters
from requests_app import regimes as R
from requests_app import services as core
from requests_app.clocks import local_date
from requests_app.models import DataSubjectRequest, DeadlineStatus, can_work
from requests_app.outbox import queue_email
from requests_app.tokens import absolute_url

from . import exports, texts
from .duedates import internal_due
from .models import (
    ACTION_FOR_KIND,
    REFUSAL_CODES,
    AccessPackage,
    Action,
    DataSystem,
    DownloadCode,
    ReasonCode,
    Task,
    TaskFile,
    TaskState,
)

log = logging.getLogger(__name__)
ServiceError = core.ServiceError
VENDOR_SALT = "dsar.fulfilment.vendor"
OVERRIDE_EVENT = "decision_with_open_tasks"
OPENING_EVENTS = ("tasks_created", "tasks_resumed", "task_reopened")


# --- due dates ------------------------------------------------------------------------------------

# The clock the work must fit in: Mexico's effective clock once admissibility is communicated,
# else its determination clock (the earlier, safe reading while admissibility is open), else respond.
# A reversed appeal's action (once the core has it) comes first: it is what the reopened case owes.
APPEAL_ACTION = getattr(R, "APPEAL_ACTION", "appeal_action")
GOVERNING_CLOCKS = (APPEAL_ACTION, R.EFFECTIVE, R.DETERMINATION, R.RESPOND)


def governing_deadline(case):
    open_ = {d.kind: d for d in case.deadlines.filter(status=DeadlineStatus.OPEN, appeal__isnull=True,
                                                      kind__in=GOVERNING_CLOCKS, is_obligation=True)}
    return next((open_[k] for k in GOVERNING_CLOCKS if k in open_), None)


def _due_for(case, now) -> tuple[dt.datetime, dt.datetime | None]:
    deadline = governing_deadline(case)
    margin = dt.timedelta(days=settings.DSAR_TASK_REVIEW_MARGIN_DAYS)
    if deadline is None:  # no legal clock (e.g. voluntary after it closed): a week, as a working target
        return now + dt.timedelta(days=7), None
    return internal_due(now, deadline.due_at, settings.DSAR_TASK_DUE_SHARE, margin), deadline.due_at


@transaction.atomic
def recompute_due(case, cause: str) -> int:
    """The legal clock moved (extended, resumed after a pause, restarted, a new Mexican phase):
    move the open tasks' internal due dates with it."""
    now = timezone.now()
    deadline = governing_deadline(case)
    if deadline is None or deadline.paused_since is not None:
        return 0  # a paused clock has no end yet: keep the dates until it runs again
    changed = []
    due, legal = _due_for(case, now)
    for task in Task.objects.select_for_update().filter(case=case, state=TaskState.OPEN):
        if task.legal_due_at == deadline.due_at:
            continue
        old = task.due_at
        task.due_at, task.legal_due_at = due, legal
        fields = ["due_at", "legal_due_at"]
        if due > old:
            task.reminder_level = 0  # a later date deserves fresh reminders
            fields.append("reminder_level")
        task.save(update_fields=fields)
        changed.append(task.pk)
    if changed:
        core.record(case, "task_due_recomputed", actor_label=core.SYSTEM,
                    data={"cause": cause, "clock": deadline.kind, "legal_due": deadline.due_at.isoformat(),
                          "tasks": len(changed), "task_ids": changed})
    return len(changed)


# --- fan-out --------------------------------------------------------------------------------------

def systems_for(case) -> list[DataSystem]:
    kind = case.request_type_info.kind
    return [s for s in DataSystem.objects.filter(active=True).select_related("owner") if s.concerns(kind)]


@transaction.atomic
def fan_out(case) -> list[Task]:
    """One task per active system that concerns the case's request kind. Idempotent."""
    case = DataSubjectRequest.objects.select_for_update().get(pk=case.pk)
    action = ACTION_FOR_KIND.get(case.request_type_info.kind)
    if action is None or not case.is_open:
        return []
    existing = set(Task.objects.filter(case=case).values_list("system_id", flat=True))
    now = timezone.now()
    due, legal = _due_for(case, now)
    created = []
    for system in systems_for(case):
        if system.pk in existing:
            continue
        assignee = system.owner if system.work_mode == DataSystem.WorkMode.MANUAL else None
        created.append(Task.objects.create(case=case, system=system, action=action, assignee=assignee,
                                           due_at=due, legal_due_at=legal))
    if not created:
        return []
    core.record(case, "tasks_created", actor_label=core.SYSTEM,
                data={"action": action, "tasks": len(created), "systems": [t.system.name for t in created],
                      "task_ids": [t.pk for t in created], "due": due.isoformat()})
    _notify_owners(created)
    return created


def _notify_owners(tasks: list[Task]) -> None:
    by_owner: dict[str, list[Task]] = {}
    for task in tasks:
        if task.system.work_mode == DataSystem.WorkMode.VENDOR:
            send_vendor_link(task)
        elif task.system.owner_address:
            by_owner.setdefault(task.system.owner_address, []).append(task)
    for address, items in by_owner.items():
        queue_email("fulfilment_tasks_assigned", [address], context={
            "items": [_item(t) for t in items], "tasks_url": absolute_url(reverse("fulfilment:my_tasks"))})


def _item(task: Task, level: str = "") -> dict:
    return {"reference": task.case.reference, "system": task.system.label, "action": task.get_action_display(),
            "due": task.due_at, "level": level,
            "url": absolute_url(reverse("fulfilment:task", args=[task.pk]))}


# --- vendor links (signed, expiring, single-use) --------------------------------------------------

class VendorLinkError(Exception):
    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason  # invalid | expired | used


def make_vendor_token(task: Task) -> str:
    """A new link for the vendor; the previous one stops working (single-use nonce)."""
    task.vendor_nonce = secrets.token_hex(16)
    task.vendor_link_sent_at = timezone.now()
    task.save(update_fields=["vendor_nonce", "vendor_link_sent_at"])
    return signing.dumps({"t": task.pk, "n": task.vendor_nonce}, salt=VENDOR_SALT, compress=False)


def read_vendor_token(token: str) -> Task:
    try:
        data = signing.loads(token, salt=VENDOR_SALT, max_age=dt.timedelta(days=settings.DSAR_VENDOR_LINK_DAYS))
    except signing.SignatureExpired:
        raise VendorLinkError("This link has expired.", "expired") from None
    except signing.BadSignature:
        raise VendorLinkError("This link is not valid.", "invalid") from None
    task = Task.objects.select_related("case", "system").filter(pk=data.get("t")).first()
    if task is None:
        raise VendorLinkError("This link is not valid.", "invalid")
    if not task.vendor_nonce or not hmac.compare_digest(task.vendor_nonce, str(data.get("n", ""))) \
            or not task.is_open:
        raise VendorLinkError("This link was already used.", "used")
    return task


def send_vendor_link(task: Task, user=None) -> None:
    token = make_vendor_token(task)
    queue_email("fulfilment_vendor_request", [task.system.vendor_email], context={
        "task": task, "reference": task.case.reference, "vendor": task.system.vendor_name,
        "system": task.system.name, "action": task.get_action_display(), "due": task.due_at,
        "days": settings.DSAR_VENDOR_LINK_DAYS,
        "url": absolute_url(reverse("fulfilment:vendor", args=[token]))})
    core.record(task.case, "vendor_link_sent", user=user, actor_label=None if user else core.SYSTEM,
                data={"task": task.pk, "system": task.system.name, "vendor": task.system.vendor_name})


# --- the data map (managers) ------------------------------------------------------------------------

SYSTEM_FIELDS = ("name", "description", "kind", "vendor_name", "vendor_email", "owner_id", "owner_email",
                 "work_mode", "categories", "request_kinds", "sources", "purposes", "recipients", "active")
SYSTEM_VALUES_SHOWN = ("kind", "work_mode", "active", "categories", "request_kinds", "owner_id")  # short, no secret


@transaction.atomic
def save_system(system: DataSystem, user, *, actor: str | None = None) -> DataSystem:
    """Save a data system edited by a manager (the form already validated it), or by a command
    (`user` None, `actor` its name); audited with the fields that changed and, for the ones that
    route work, their old and new values."""
    if user is not None and not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only managers keep the data map.")
    created = system.pk is None
    before = {} if created else configaudit.snapshot(DataSystem.objects.select_for_update().get(pk=system.pk),
                                                     SYSTEM_FIELDS)
    system.save()
    if created:
        changed = [f for f in SYSTEM_FIELDS if getattr(system, f) not in ("", None, [])]
    else:
        changed = configaudit.changed(before, system)
    if created or changed:
        values = {f.removesuffix("_id"): ([before[f], getattr(system, f)] if not created else getattr(system, f))
                  for f in changed if f in SYSTEM_VALUES_SHOWN}
        configaudit.record(system, "created" if created else "updated", user=user, actor=actor,
                           fields=[f.removesuffix("_id") for f in changed], data=values)
    return system


# --- answers --------------------------------------------------------------------------------------

def may_answer(task: Task, user) -> bool:
    """The task's owner; where it has none, whoever works the case; managers always."""
    if user.has_perm("requests_app.assign_case"):
        return True
    if task.assignee_id is not None:
        return task.assignee_id == user.pk
    return can_work(task.case, user)


OUTCOMES = {"done": "complete", "no_data": "no_data", "failed": "fail", "not_applicable": "not_applicable"}


@dataclass
class Answer:
    outcome: str  # done | no_data | failed | not_applicable
    export: exports.Export | None = None
    records_affected: int | None = None
    note: str = ""
    reason_code: str = ""
    reason: str = ""
    extra: dict = field(default_factory=dict)


def _check_answer(task: Task, a: Answer) -> None:
    if a.outcome not in OUTCOMES:
        raise ServiceError(f"Unknown outcome '{a.outcome}'.")
    if a.outcome in ("failed", "not_applicable") and not a.reason.strip():
        raise ServiceError("Say why: the reason is recorded, and stated in the letter where it refuses in part.")
    if a.outcome == "failed" and a.reason_code not in ReasonCode.values:
        raise ServiceError("Choose the kind of reason.")
    if a.outcome == "done" and task.action == Action.COLLECT and a.export is None \
            and not task.files.exists():
        raise ServiceError("Upload the data export (JSON, CSV or ZIP), or say that the system holds no data.")
    if a.outcome == "done" and task.action in (Action.ERASE, Action.CORRECT) and a.records_affected is None:
        raise ServiceError("Give the number of records erased or corrected.")


def answer_task(task: Task, answer: Answer, *, user=None, actor_label: str = "", via: str = "staff") -> Task:
    """Record what a system's owner, vendor or connector did. Staff must own the task (403, audited)."""
    if user is not None and not may_answer(task, user):
        deny_audited(task, user, "record the result of")
    written: list[TaskFile] = []
    try:
        return _answer(task, answer, user=user, actor_label=actor_label, via=via, written=written)
    except Exception:
        for stored in written:  # the transaction rolled the row back; the file must go with it
            stored.file.delete(save=False)
        raise


@transaction.atomic
def _answer(task: Task, answer: Answer, *, user, actor_label: str, via: str, written: list) -> Task:
    task = Task.objects.select_for_update().select_related("case", "system").get(pk=task.pk)
    if not task.is_open:
        raise ServiceError(f"This task is already {task.get_state_display().lower()}.")
    _check_answer(task, answer)
    stored = None
    if answer.export is not None:
        e = answer.export
        stored = TaskFile(task=task, original_name=e.name, kind=e.kind, size=len(e.content), sha256=e.sha256,
                          uploaded_label=actor_label or (user.get_username() if user else via))
        stored.file.save(e.name, ContentFile(e.content), save=False)
        written.append(stored)
        stored.save()
    before = task.state
    getattr(task, OUTCOMES[answer.outcome])()
    now = timezone.now()
    task.records_affected = answer.records_affected
    task.note, task.reason_code, task.reason = answer.note, answer.reason_code, answer.reason
    task.completed_at, task.completed_by = now, user
    task.completed_label = actor_label or (user.get_username() if user else via)
    task.vendor_nonce = ""  # the vendor link is single-use
    task.save()
    core.record(task.case, "task_answered", user=user, actor_label=None if user else task.completed_label,
                from_state=before, to_state=task.state, reason=answer.reason,
                data={"task": task.pk, "system": task.system.name, "action": task.action, "via": via,
                      "records_affected": answer.records_affected, "reason_code": answer.reason_code,
                      "file_sha256": stored.sha256 if stored else None, **answer.extra})
    return task


def deny_audited(task: Task, user, what: str):
    """Record the refused attempt, then refuse (403). Callers check before their transaction
    opens, so the refusal's audit event is committed, not rolled back with the request."""
    core.record(task.case, "task_action_denied", user=user,
                data={"task": task.pk, "system": task.system.name, "attempted": what})
    owner = task.assignee.get_username() if task.assignee else "the case's assignee"
    raise PermissionDenied(f"This task belongs to {owner}; only its owner or a manager may {what} it.")


def reopen_task(task: Task, user, reason: str) -> Task:
    if not may_answer(task, user):
        deny_audited(task, user, "reopen")
    with transaction.atomic():
        return _reopen(task, user, reason)


def _reopen(task: Task, user, reason: str) -> Task:
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.state != TaskState.FAILED:
        raise ServiceError("Only a task that could not be done can be reopened.")
    before = task.state
    task.reopen()
    task.reminder_level = 0
    task.save()
    core.record(task.case, "task_reopened", user=user, reason=reason, from_state=before, to_state=task.state,
                data={"task": task.pk})
    return task


@transaction.atomic
def close_open_tasks(case, why: str) -> int:
    """The case closed without needing the work (denied, withdrawn, not filed, inadmissible)."""
    closed = []
    for task in Task.objects.select_for_update().filter(case=case, state=TaskState.OPEN):
        task.not_applicable()
        task.reason, task.completed_at, task.completed_label = why, timezone.now(), core.SYSTEM
        task.vendor_nonce = ""
        task.save()
        closed.append(task.pk)
    if closed:
        core.record(case, "tasks_closed", actor_label=core.SYSTEM, reason=why,
                    data={"tasks": len(closed), "task_ids": closed})
    return len(closed)


@transaction.atomic
def reassign_task(task: Task, user, assignee) -> Task:
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only a manager may reassign a task.")
    task = Task.objects.select_for_update().get(pk=task.pk)
    before = task.assignee.get_username() if task.assignee_id else ""
    task.assignee = assignee
    task.reminder_level = 0  # the new owner hears of it in time
    task.save(update_fields=["assignee", "reminder_level"])
    core.record(task.case, "task_reassigned", user=user,
                data={"task": task.pk, "from": before, "to": assignee.get_username() if assignee else ""})
    if assignee is not None and assignee.email:
        queue_email("fulfilment_tasks_assigned", [assignee.email], context={
            "items": [_item(task)], "tasks_url": absolute_url(reverse("fulfilment:my_tasks"))})
    return task


@transaction.atomic
def resume_tasks(case, why: str) -> int:
    """A reopened case (a reversed appeal): tasks closed with the case, or refused, are open again,
    due inside the clock the case now owes; systems added to the map since get their task too."""
    now = timezone.now()
    due, legal = _due_for(case, now)
    resumed = {}  # task id → the state it left, so every task's change is on the record
    for task in Task.objects.select_for_update().filter(case=case, state__in=[TaskState.FAILED,
                                                                              TaskState.NOT_APPLICABLE]):
        resumed[task.pk] = task.state
        task.resume()
        task.due_at, task.legal_due_at, task.reminder_level = due, legal, 0
        task.completed_at = task.completed_by = None
        task.save()
    if resumed:
        core.record(case, "tasks_resumed", actor_label=core.SYSTEM, reason=why,
                    data={"tasks": len(resumed), "task_ids": list(resumed),
                          "from_states": {str(pk): state for pk, state in resumed.items()}})
    fan_out(case)
    return len(resumed)


def reveal_for_task(task: Task, user) -> dict:
    if not may_answer(task, user):
        deny_audited(task, user, "see the requester of")
    case = task.case
    core.record(case, "requester_revealed", user=user, data={"task": task.pk, "system": task.system.name})
    return {"name": case.requester_name, "email": case.requester_email, "account_id": case.account_id,
            "phone": case.phone}


# --- the decision ---------------------------------------------------------------------------------

def open_tasks_text(case) -> str:
    tasks = list(Task.objects.filter(case=case, state=TaskState.OPEN).select_related("system"))
    if not tasks:
        return ""
    # A manager's written allowance covers the tasks open when it was given, not work opened since.
    opened = case.events.filter(kind__in=OPENING_EVENTS).order_by("-id").values_list("id", flat=True).first()
    if case.events.filter(kind=OVERRIDE_EVENT, id__gt=opened or 0).exists():
        return ""
    names = ", ".join(t.system.name for t in tasks[:5]) + ("…" if len(tasks) > 5 else "")
    return (f"{len(tasks)} fulfilment task(s) still open ({names}). The decision is offered once every task "
            "is resolved; a manager may allow it earlier with a written reason.")


@transaction.atomic
def allow_decision_with_open_tasks(case, user, reason: str) -> None:
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only a manager may allow a decision while tasks are open.")
    if not reason.strip():
        raise ServiceError("Write why the decision cannot wait for the open tasks.")
    open_ = list(Task.objects.filter(case=case, state=TaskState.OPEN).values_list("system__name", flat=True))
    if not open_:
        raise ServiceError("No task is open.")
    core.record(case, OVERRIDE_EVENT, user=user, reason=reason, data={"open_tasks": open_})


def _result_line(task: Task, t: dict) -> str:
    """What was done in one system, as the letter states it (in the requester's language)."""
    name = task.system.label
    if task.state == TaskState.NO_DATA:
        return t["result_none"].format(system=name)
    if task.state == TaskState.NOT_APPLICABLE:
        return t["result_na"].format(system=name, reason=task.reason)
    if task.state == TaskState.FAILED:
        return t["result_not_done"].format(system=name, reason=task.reason)
    if task.records_affected is not None and task.action != Action.COLLECT:
        return t[f"result_{task.action}"].format(system=name, n=task.records_affected)
    return t["result_collect" if task.action == Action.COLLECT else "result_done"].format(system=name)


def _kept_line(task: Task, t: dict) -> str:
    return t["kept"].format(system=task.system.label, reason=task.reason, basis=t[f"basis_{task.reason_code}"])


def _merge(decision: dict, key: str, lines: list[str]) -> None:
    if lines:
        current = decision.get(key) or []
        current = current if isinstance(current, list) else [current]
        decision[key] = current + [line for line in lines if line not in current]


def prepare_decision(case, user, transition: str, decision: dict, reasons: str) -> dict:
    """hooks.decision_step: runs inside services._decide's transaction, the case row locked."""
    if transition not in ("fulfil", "partially_fulfil"):
        return decision
    tasks = list(Task.objects.filter(case=case).select_related("system").order_by("system__name"))
    if not tasks:
        return decision
    blocked = open_tasks_text(case)
    if blocked:
        raise ServiceError(blocked)
    refused = [t for t in tasks if t.state == TaskState.FAILED and t.action in (Action.ERASE, Action.CORRECT)]
    if refused and transition == "fulfil":
        en = texts.for_language("en")
        raise ServiceError("Some systems could not do it (" + "; ".join(_result_line(t, en) for t in refused) + "). "
                           "Issue a partial fulfilment: the letter states these reasons as the refusal in part.")
    if case.request_type_info.kind != "access":
        words = texts.for_language(case.language)
        _merge(decision, "actions", [_result_line(task, words) for task in tasks
                                     if task.state != TaskState.NOT_APPLICABLE])
        _merge(decision, "retained", [_kept_line(task, words) for task in refused if task.reason_code in REFUSAL_CODES])
        return decision
    # Access (know, portability): the data map gives the disclosures; the results give the package.
    done = [t for t in tasks if t.state == TaskState.DONE and t.action == Action.COLLECT]
    # Systems that gave data, and those still open under a manager's override (they may hold some).
    held = [t.system for t in tasks if t.state in (TaskState.DONE, TaskState.OPEN)]
    words = texts.for_language(case.language)
    for key, values in (("categories", [words[f"cat_{c}"] for s in held for c in s.categories]),
                        ("sources", [line for s in held for line in s.lines("sources")]),
                        ("purposes", [line for s in held for line in s.lines("purposes")]),
                        ("recipients", [line for s in held for line in s.lines("recipients")])):
        if not decision.get(key):
            decision[key] = list(dict.fromkeys(values))
    if done:
        core._check_know_response(case, decision)  # refuse before any file is written, not after
        package = issue_package(case, done)
        expires_on = local_date(package.expires_at, case.jurisdiction_info.timezone).isoformat()
        systems = [s["name"] for s in package.manifest["systems"]]
        # Frozen, in the requester's language, like every letter context (the letter states it as is).
        decision["package"] = {
            "sha256": package.sha256, "size": package.size, "filename": package.filename,
            "expires_on": expires_on, "systems": systems, "files": len(package.manifest["files"]),
            "portable": package.portable, "heading": words["letter_heading"],
            "text": words["letter_text"].format(systems=", ".join(systems), date=letters.format_letter_date(
                expires_on, case.language, letters.controller_key(case))),
        }
    return decision


# --- the access package ---------------------------------------------------------------------------

def _system_data(task: Task):
    files = [f for f in task.files.all() if f.file]  # an expired package took its exports with it
    parts = {}
    for f in files:
        with f.file.open("rb") as fh:
            parts[f.original_name] = exports.export_data(f.kind, fh.read())
    return next(iter(parts.values())) if len(parts) == 1 else parts  # none left: {}


def build_package(case, tasks: list[Task] | None = None) -> tuple[bytes, dict]:
    if tasks is None:
        tasks = list(Task.objects.filter(case=case, state=TaskState.DONE, action=Action.COLLECT)
                     .select_related("system").order_by("system__name"))
    t = texts.for_language(case.language)
    systems = [exports.SystemData(
        name=task.system.name, kind=task.system.kind, vendor=task.system.vendor_name,
        categories=list(task.system.categories), category_labels=[t[f"cat_{c}"] for c in task.system.categories],
        data=_system_data(task), sources=task.system.lines("sources")) for task in tasks]
    portable = case.request_type == "portability"
    summary = render_to_string("fulfilment/package_summary.html", {
        "case": case, "t": t, "systems": systems, "portable": portable,
        "lang": "pt-BR" if case.language.lower().startswith("pt") else case.language})
    return exports.build_zip(reference=case.reference, regime=case.regime, request_type=case.request_type,
                             language=case.language, systems=systems, summary_html=summary, portable=portable,
                             generated_on=local_date(timezone.now(), case.jurisdiction_info.timezone).isoformat())


def issue_package(case, tasks: list[Task]) -> AccessPackage:
    content, manifest = build_package(case, tasks)
    package = AccessPackage(case=case, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                            manifest=manifest, portable=manifest["portable"],
                            expires_at=timezone.now() + dt.timedelta(days=settings.DSAR_PACKAGE_DAYS))
    package.file.save(f"{case.reference}-data.zip", ContentFile(content), save=False)
    package.save()
    core.record(case, "package_issued", actor_label=core.SYSTEM,
                data={"sha256": package.sha256, "size": package.size, "files": len(manifest["files"]),
                      "expires": package.expires_at.isoformat()})
    t = texts.for_language(case.language)
    core.notify_requester(case, "fulfilment_package_ready", dedupe=f"package{package.pk}", t=t,
                          ready_text=t["ready"].format(date=local_day(package.expires_at, case)))
    return package


def local_day(moment, case) -> str:
    """A moment as the requester reads a date: their jurisdiction's day, their language's format."""
    with translation.override(case.language):
        return formats.date_format(local_date(moment, case.jurisdiction_info.timezone), "DATE_FORMAT")


class PackageUnavailable(ServiceError):
    pass


def read_package(package: AccessPackage) -> bytes:
    if package.deleted_at is not None or not package.file:
        raise PackageUnavailable("The package has expired and its file was deleted.")
    with package.file.open("rb") as fh:
        content = fh.read()
    if hashlib.sha256(content).hexdigest() != package.sha256:
        core.record(package.case, "package_integrity_failed", actor_label=core.SYSTEM,
                    data={"sha256": package.sha256})
        raise PackageUnavailable("The stored package failed its integrity check; it was not served.")
    return content


def _hash_code(package: AccessPackage, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{package.pk}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def send_code(package: AccessPackage) -> None:
    """A one-time code to the requester's address; a new code replaces any earlier one."""
    if package.deleted_at or timezone.now() > package.expires_at:
        raise PackageUnavailable("The package has expired.")
    now = timezone.now()
    package.codes.filter(used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    DownloadCode.objects.create(package=package, code_hash=_hash_code(package, code),
                                expires_at=now + dt.timedelta(minutes=settings.DSAR_PACKAGE_CODE_MINUTES))
    case = package.case
    t = texts.for_language(case.language)
    queue_email("fulfilment_package_code", [case.requester_email], language=case.language, case=case,
                context=core._email_context(case, code=code, t=t, valid_text=t["code_valid"].format(
                    minutes=settings.DSAR_PACKAGE_CODE_MINUTES)))
    core.record(case, "package_code_sent", actor_label=core.REQUESTER)


MAX_CODE_ATTEMPTS = 5


@transaction.atomic
def check_code(package: AccessPackage, code: str) -> bool:
    now = timezone.now()
    current = (package.codes.select_for_update().filter(used_at__isnull=True, expires_at__gte=now)
               .order_by("-id").first())
    if current is None:
        core.record(package.case, "package_code_failed", actor_label=core.REQUESTER, data={"why": "none"})
        return False
    current.attempts += 1
    ok = hmac.compare_digest(current.code_hash, _hash_code(package, code.strip()))
    if ok or current.attempts >= MAX_CODE_ATTEMPTS:
        current.used_at = now  # one use; or burnt after too many wrong tries
    current.save(update_fields=["attempts", "used_at"])
    if not ok:
        core.record(package.case, "package_code_failed", actor_label=core.REQUESTER,
                    data={"attempts": current.attempts})
    return ok


@transaction.atomic
def download_package(package: AccessPackage) -> bytes:
    if timezone.now() > package.expires_at:
        raise PackageUnavailable("The package has expired.")
    content = read_package(package)
    AccessPackage.objects.filter(pk=package.pk).update(download_count=F("download_count") + 1,
                                                       last_downloaded_at=timezone.now())
    package.refresh_from_db(fields=["download_count"])
    core.record(package.case, "package_downloaded", actor_label=core.REQUESTER, public=True,
                data={"sha256": package.sha256, "count": package.download_count})
    return content


def expire_packages(now) -> int:
    n = 0
    for package in AccessPackage.objects.filter(expires_at__lt=now, deleted_at__isnull=True).select_related("case"):
        with transaction.atomic():
            locked = AccessPackage.objects.select_for_update().get(pk=package.pk)
            if locked.deleted_at is not None:
                continue
            if locked.file:
                locked.file.delete(save=False)
            locked.deleted_at = now
            locked.save(update_fields=["file", "deleted_at"])
            # The exports it was built from hold the same data: only their hashes stay (minimisation).
            for export in TaskFile.objects.filter(task__case_id=locked.case_id).exclude(file=""):
                export.file.delete(save=False)
                export.save(update_fields=["file"])
            core.record(locked.case, "package_expired", actor_label=core.SYSTEM, public=True,
                        data={"sha256": locked.sha256, "downloads": locked.download_count})
            n += 1
    return n
