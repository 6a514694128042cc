"""Connector use cases: plan a case's connector runs, execute one (claimed, idempotent), record
its result on the fulfilment task, dry-run, request and approve erasure, enter corrections, retry,
look the requester up in the identity source, and the test button. Each writes audit Events."""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from requests_app import configaudit
from requests_app import services as core
from requests_app.fulfilment import exports
from requests_app.fulfilment import services as fulfil
from requests_app.fulfilment.models import Action, DataSystem, ReasonCode, Task, TaskState
from requests_app.models import DataSubjectRequest
from requests_app.tokens import absolute_url

from . import crypto, engine, enqueue, http, matching, sqlcheck
from .models import Connector, IdentityMatch, MatchLevel, Run, RunState, Statement

ServiceError = core.ServiceError
CALLBACK_SALT = "dsar.connectors.callback"
AUTOMATIC = (Action.COLLECT, Action.SUPPRESS)  # run as soon as the task exists
WRITES = (Action.ERASE, Action.CORRECT, Action.SUPPRESS)


def identity_params(case) -> dict:
    return {"email": case.requester_email, "account_id": case.account_id or None, "phone": case.phone or None}


def steps_for(connector: Connector, action: str) -> list[engine.Step]:
    return [engine.Step(str(s.pk), s.label, s.sql) for s in connector.statements.all() if s.action == action]


def _label(connector: Connector) -> str:
    return f"connector:{connector.system.name}"[:150]


# --- planning -------------------------------------------------------------------------------------

@transaction.atomic
def plan_case(case) -> list[Run]:
    """A Run per open task of a connector-worked system. Collect and suppress are queued at once;
    an erasure gets its dry run and waits for staff; a correction waits for the corrected values."""
    tasks = (Task.objects.select_for_update(of=("self",))
             .filter(case=case, state=TaskState.OPEN, connector_run__isnull=True,
                     system__work_mode=DataSystem.WorkMode.CONNECTOR, system__connector__enabled=True)
             .select_related("system__connector"))
    runs = []
    for task in tasks:
        connector = task.system.connector
        automatic = task.action in AUTOMATIC
        run = Run.objects.create(task=task, connector=connector,
                                 state=RunState.QUEUED if automatic else RunState.PENDING)
        runs.append(run)
        if automatic:
            enqueue.execute(run.pk)
        elif task.action == Action.ERASE and connector.kind == Connector.Kind.SQL:
            enqueue.dry_run(run.pk)
    if runs:
        core.record(case, "connector_runs_planned", actor_label=core.SYSTEM,
                    data={"runs": [{"task": r.task_id, "system": r.task.system.name, "action": r.task.action,
                                    "state": r.state} for r in runs]})
    return runs


# --- execution ------------------------------------------------------------------------------------

def claim(run_id: int, now=None) -> str | None:
    """One conditional UPDATE: a queued run, or a running one whose worker's lease ran out (killed)."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    stale = now - dt.timedelta(seconds=settings.DSAR_CONNECTOR_LEASE_SECONDS)
    n = (Run.objects.filter(pk=run_id)
         .filter(Q(state=RunState.QUEUED) | Q(state=RunState.RUNNING, claimed_at__lt=stale))
         .update(state=RunState.RUNNING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1))
    return token if n else None


def execute(run_id: int) -> str:
    token = claim(run_id)
    if token is None:
        return "not claimed"
    run = Run.objects.select_related("task__case", "task__system", "connector__system").get(pk=run_id)
    task, connector = run.task, run.connector
    if not task.is_open:
        _finish(run, token, {"outcome": "already"})
        return "already answered"
    try:
        if task.action == Action.ERASE and task.case.verified_at is None:
            raise engine.ConnectorError("the case's identity is not verified: no erasure by connector")
        if connector.kind == Connector.Kind.SQL:
            result = _run_sql(run, task, connector)
        else:
            status, result = http.call(connector.endpoint, connector.secret, f"dsar-task-{task.pk}",
                                       _payload(run, task), timeout=connector.timeout_seconds, now=timezone.now())
            if status == "accepted":
                return _await_callback(run, token)
            result = _from_service(result)
    except engine.ConnectorError as exc:
        return _failed(run, token, exc)
    except ValueError as exc:  # a secret that cannot be read: no retry fixes it
        return _failed(run, token, engine.ConnectorError(str(exc)))
    try:
        return _finish(run, token, result)
    except ServiceError as exc:  # the result cannot be recorded as given: say so on the task
        return _failed(run, token, engine.ConnectorError(f"the result could not be recorded: {exc}"))


def _corrections(run: Run) -> dict:
    return json.loads(crypto.decrypt(run.corrections_encrypted) or "{}")


def _run_sql(run: Run, task: Task, connector: Connector) -> dict:
    steps = steps_for(connector, task.action)
    if not steps:
        raise engine.ConnectorError(f"the connector has no {task.action} statement")
    params = {**identity_params(task.case), **_corrections(run)}
    if task.action == Action.COLLECT:
        outcome = engine.run(connector.url, steps, params, mode="read", timeout=connector.timeout_seconds,
                             max_rows=connector.max_rows)
        data = {r.label: r.data for r in outcome.results}
        return {"outcome": "done" if outcome.total else "no_data", "data": data if outcome.total else None,
                "statements": outcome.summary()}
    outcome = engine.run(connector.url, steps, params, mode="write", timeout=connector.timeout_seconds,
                         ledger_key=run.ledger_key)
    return {"outcome": "done" if outcome.total else "no_data", "records_affected": outcome.total,
            "statements": outcome.summary(), "replayed": outcome.replayed}


def _payload(run: Run, task: Task) -> dict:
    token = signing.dumps({"r": run.pk}, salt=CALLBACK_SALT, compress=False)
    payload = {"type": f"dsar.{task.action}", "task": task.pk, "case": task.case.reference, "action": task.action,
               "identity": identity_params(task.case),
               "callback_url": absolute_url(reverse("connectors:callback", args=[token]))}
    if task.action == Action.CORRECT:
        payload["corrections"] = _corrections(run)
    return payload


def _from_service(result: dict) -> dict:
    """A service's answer (synchronous or callback): {"status": done|no_data|failed,
    "records_affected": n, "data": {...}, "error": "..."}."""
    status = result.get("status")
    if status not in ("done", "no_data", "failed"):
        raise engine.ConnectorError(f"the service's answer has no valid status ({str(status)[:40]!r})")
    if status == "failed":
        raise engine.ConnectorError(f"the service could not do it: {str(result.get('error', ''))[:500]}")
    n = result.get("records_affected")
    if n is not None and (not isinstance(n, int) or n < 0):
        raise engine.ConnectorError("records_affected must be a whole number")
    return {"outcome": status, "records_affected": n, "data": result.get("data"),
            "statements": [{"label": "service", "rows": n}]}


def _answer_for(task: Task, result: dict) -> fulfil.Answer:
    extra = {"connector": True, "statements": result.get("statements", []), "replayed": result.get("replayed", False)}
    if result["outcome"] == "no_data":
        return fulfil.Answer("no_data", records_affected=0 if task.action != Action.COLLECT else None,
                             note="The connector found no matching records.", extra=extra)
    if task.action == Action.COLLECT:
        name = re.sub(r"[^a-z0-9]+", "-", task.system.name.lower()).strip("-") or "system"
        content = json.dumps(result["data"], ensure_ascii=False, indent=2, sort_keys=True).encode()
        return fulfil.Answer("done", export=exports.Export(f"{name}.json", "json", content), extra=extra)
    n = result.get("records_affected")
    return fulfil.Answer("done", records_affected=n if n is not None else 0, extra=extra)


def _finish(run: Run, token: str, result: dict) -> str:
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.claim_token != token:
            return "lost claim"  # a later execution took over (our lease ran out)
        task = Task.objects.select_for_update().select_related("case", "system").get(pk=run.task_id)
        if task.is_open and result["outcome"] != "already":
            fulfil.answer_task(task, _answer_for(task, result), actor_label=_label(run.connector), via="connector")
        locked.state, locked.error, locked.claim_token = RunState.SUCCEEDED, "", ""
        locked.results = result.get("statements", locked.results)
        locked.save()
    return "done"


def _await_callback(run: Run, token: str) -> str:
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.claim_token != token:
            return "lost claim"
        locked.state = RunState.WAITING
        locked.callback_deadline = timezone.now() + dt.timedelta(hours=settings.DSAR_CONNECTOR_CALLBACK_HOURS)
        locked.save()
        core.record(run.task.case, "connector_waiting", actor_label=_label(run.connector),
                    data={"task": run.task_id, "until": locked.callback_deadline.isoformat()})
    return "waiting"


def backoff(attempts: int) -> int:
    return min(settings.DSAR_CONNECTOR_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), 3600)


def _failed(run: Run, token: str, exc: engine.ConnectorError) -> str:
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.claim_token != token:
            return "lost claim"
        locked.error = str(exc)[:2000]
        if exc.transient and locked.attempts < settings.DSAR_CONNECTOR_MAX_ATTEMPTS:
            delay = backoff(locked.attempts)
            locked.state, locked.claim_token = RunState.QUEUED, ""
            locked.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
            locked.save()
            enqueue.execute(locked.pk, countdown=delay)
            return "retry"
        _fail_task(locked, f"Connector: {locked.error}")
    return "failed"


def _fail_task(run: Run, reason: str) -> None:
    """Inside a transaction, the run locked: the task fails with the error; the case's clock runs on."""
    run.state, run.claim_token = RunState.FAILED, ""
    run.save()
    task = Task.objects.select_for_update().select_related("case", "system").get(pk=run.task_id)
    if task.is_open:
        fulfil.answer_task(task, fulfil.Answer("failed", reason_code=ReasonCode.TECHNICAL, reason=reason,
                                               extra={"connector": True, "attempts": run.attempts}),
                           actor_label=_label(run.connector), via="connector")


class CallbackError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def receive_callback(token: str, body: bytes, headers) -> str:
    """The service's asynchronous answer: signed URL (which run) and signed body (which service)."""
    try:
        data = signing.loads(token, salt=CALLBACK_SALT)
    except signing.BadSignature:
        raise CallbackError("unknown callback URL", 404) from None
    run = Run.objects.select_related("connector__system", "task").filter(pk=data.get("r")).first()
    if run is None:
        raise CallbackError("unknown callback URL", 404)
    try:
        payload = http.verify(run.connector.secret, body, headers)
    except engine.ConnectorError as exc:
        raise CallbackError(str(exc), 401) from None
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state != RunState.WAITING:
            return "already recorded"  # a repeated callback attaches nothing twice
        locked.claim_token = token = secrets.token_hex(16)
        locked.save(update_fields=["claim_token"])
    try:
        result = _from_service(payload if isinstance(payload, dict) else {})
    except engine.ConnectorError as exc:
        with transaction.atomic():
            locked = Run.objects.select_for_update().get(pk=run.pk)
            locked.error = str(exc)
            _fail_task(locked, f"Connector: {exc}")
        return "failed"
    return _finish(run, token, result)


# --- dry run, erasure approval, corrections, retry ------------------------------------------------

def dry_run(run_id: int) -> str:
    run = Run.objects.select_related("task__case", "connector__system").get(pk=run_id)
    task, connector = run.task, run.connector
    if connector.kind != Connector.Kind.SQL or task.action not in WRITES:
        return "not applicable"
    try:
        params = {**identity_params(task.case), **_corrections(run)}
        outcome = engine.run(connector.url, steps_for(connector, task.action), params, mode="dry",
                             timeout=connector.timeout_seconds)
    except (engine.ConnectorError, ValueError) as exc:
        Run.objects.filter(pk=run.pk).update(error=f"Dry run failed: {exc}"[:2000])
        core.record(task.case, "connector_dry_run_failed", actor_label=_label(connector),
                    data={"task": task.pk, "error": str(exc)[:500]})
        return "failed"
    with transaction.atomic():
        Run.objects.filter(pk=run.pk).update(dry_run=outcome.summary(), dry_run_at=timezone.now(), error="")
        core.record(task.case, "connector_dry_run", actor_label=_label(connector),
                    data={"task": task.pk, "statements": outcome.summary(), "rows": outcome.total})
    return "done"


def _staff_run(run: Run, user, what: str) -> Run:
    if not fulfil.may_answer(run.task, user):
        fulfil.deny_audited(run.task, user, what)
    return Run.objects.select_for_update().select_related("task__case", "connector").get(pk=run.pk)


@transaction.atomic
def request_dry_run(run: Run, user) -> None:
    run = _staff_run(run, user, "dry-run")
    if run.connector.kind != Connector.Kind.SQL or run.task.action not in WRITES:
        raise ServiceError("A dry run is for SQL erase, correct and suppress statements.")
    enqueue.dry_run(run.pk)


@transaction.atomic
def request_erasure(run: Run, user) -> Run:
    """Erasure by connector: a verified case, the dry run seen, and (a setting) a second person."""
    run = _staff_run(run, user, "request the erasure of")
    task = run.task
    if task.action != Action.ERASE or run.state != RunState.PENDING or not task.is_open:
        raise ServiceError("This erasure is not waiting to be requested.")
    if task.case.verified_at is None:
        raise ServiceError("Erasure by connector needs a verified identity.")
    if run.connector.kind == Connector.Kind.SQL and run.dry_run is None:
        raise ServiceError("Run the dry run first: it shows how many rows each statement would touch.")
    if run.requested_by_id:
        raise ServiceError("The erasure is already requested and waits for a second person's approval.")
    run.requested_by = user
    if settings.DSAR_CONNECTOR_ERASE_APPROVAL:
        run.save()
        core.record(task.case, "connector_erasure_requested", user=user,
                    data={"task": task.pk, "system": task.system.name, "dry_run": run.dry_run})
        return run
    _queue(run)
    core.record(task.case, "connector_erasure_requested", user=user,
                data={"task": task.pk, "system": task.system.name, "dry_run": run.dry_run, "approval": "not required"})
    return run


def approve_erasure(run: Run, user) -> Run:
    run.refresh_from_db(fields=["requested_by"])
    if run.requested_by_id == user.pk:  # refused before the transaction: the refusal stays on the record
        core.record(run.task.case, "connector_approval_refused", user=user,
                    data={"task": run.task_id, "why": "same person"})
        raise PermissionDenied("A second person must approve the erasure you requested.")
    with transaction.atomic():
        return _approve(run, user)


def _approve(run: Run, user) -> Run:
    run = _staff_run(run, user, "approve the erasure of")
    if run.state != RunState.PENDING or not run.requested_by_id or run.requested_by_id == user.pk:
        raise ServiceError("No erasure waits for your approval here.")
    run.approved_by = user
    _queue(run)
    core.record(run.task.case, "connector_erasure_approved", user=user,
                data={"task": run.task_id, "system": run.task.system.name,
                      "requested_by": run.requested_by.get_username()})
    return run


@transaction.atomic
def request_correction(run: Run, user, values: dict) -> Run:
    run = _staff_run(run, user, "correct")
    if run.task.action != Action.CORRECT or run.state != RunState.PENDING:
        raise ServiceError("This correction is not waiting for values.")
    values = {k: v.strip() for k, v in values.items() if k in sqlcheck.CORRECTION_PARAMS and v and v.strip()}
    if not values:
        raise ServiceError("Give at least one corrected value.")
    run.corrections_encrypted = crypto.encrypt(json.dumps(values))
    run.requested_by = user
    _queue(run)
    core.record(run.task.case, "connector_correction_requested", user=user,
                data={"task": run.task_id, "fields": sorted(values)})  # names only: the values are personal data
    return run


def _queue(run: Run) -> None:
    run.state, run.attempts, run.error, run.failure_alerted_at = RunState.QUEUED, 0, "", None
    run.save()
    enqueue.execute(run.pk)


def retry(run: Run, user, reason: str = "") -> Run:
    """From the case page: reopen the failed task and queue the connector again."""
    if not fulfil.may_answer(run.task, user):
        fulfil.deny_audited(run.task, user, "retry")
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("task__case", "connector").get(pk=run.pk)
        if run.state != RunState.FAILED:
            raise ServiceError("Only a failed connector run can be retried.")
        if run.task.state == TaskState.FAILED:
            fulfil.reopen_task(run.task, user, reason or "Retry the connector")
        _queue(run)
        core.record(run.task.case, "connector_retried", user=user, data={"task": run.task_id})
    return run


# --- identity source ------------------------------------------------------------------------------

def lookup_identity(case_id: int) -> str | None:
    case = DataSubjectRequest.objects.get(pk=case_id)
    sources = list(Connector.objects.filter(identity_source=True, enabled=True).select_related("system"))
    if not sources or IdentityMatch.objects.filter(case=case).exists():
        return None
    given = identity_params(case)
    mexico = case.regime == "lfpdppp"
    best = (MatchLevel.NONE, [], "No identity source could be read.", "", None)
    errors = []
    for connector in sources:
        try:
            rows, login = _identity_rows(connector, case, given)
        except (engine.ConnectorError, ValueError) as exc:
            errors.append(f"{connector.system.name}: {exc}")
            continue
        level, matched, note = matching.match_level(given, rows, email_must_match=mexico, login=login)
        if best[4] is None or _rank(level) > _rank(best[0]):
            best = (level, matched, note, "", connector)
    level, matched, note, _, connector = best
    with transaction.atomic():
        match, created = IdentityMatch.objects.get_or_create(case=case, defaults=dict(
            connector=connector, level=level, matched=matched, note=note, error="; ".join(errors)[:2000],
            checked_at=timezone.now()))
        if created:
            core.record(case, "identity_matched", actor_label=core.SYSTEM, reason=note,
                        data={"level": level, "matched": matched, "source": connector.system.name if connector else "",
                              "ccpa_reasonable_degree": two_points_met(match), "errors": len(errors)})
    return level


def _rank(level: str) -> int:
    from .models import LEVEL_RANK

    return LEVEL_RANK[level]


def two_points_met(match: IdentityMatch) -> bool:
    """11 CCR §7062(b): two data points matched reach a reasonable degree of certainty."""
    return match.level in (MatchLevel.TWO_POINTS, MatchLevel.LOGIN) and len(match.matched) >= 2


def _identity_rows(connector: Connector, case, given: dict) -> tuple[list[dict], bool]:
    if connector.kind == Connector.Kind.SQL:
        steps = steps_for(connector, "identity")
        if not steps:
            raise engine.ConnectorError("no identity statement")
        outcome = engine.run(connector.url, steps, given, mode="read", timeout=connector.timeout_seconds,
                             max_rows=50)
        return [row for r in outcome.results for row in r.data], False
    status, result = http.call(connector.endpoint, connector.secret, f"dsar-identity-{case.public_id}",
                               {"type": "dsar.identity", "case": case.reference, "identity": given},
                               timeout=connector.timeout_seconds, now=timezone.now())
    if status != "done":
        raise engine.ConnectorError("an identity look-up must be answered at once")
    flags = result.get("match") or {}
    return [{f: given[f] for f in matching.FIELDS if flags.get(f)}], bool(flags.get("login"))


# --- the test button ------------------------------------------------------------------------------

def test_connector(connector: Connector, sample: dict, user) -> list[dict]:
    """Run the collect (and identity) statements for a sample identity, read-only, rolled back.
    Shows counts and column names, never the rows (a sample identity is a real person's).
    The run is audited whatever its outcome: it reached the production database. The audit
    names the identity fields given, never their values."""
    if not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only managers test connectors.")
    if connector.kind != Connector.Kind.SQL:
        raise ServiceError("The test runs SQL statements; an HTTP connector is tested by its service.")
    params = {f: (sample.get(f) or None) for f in sqlcheck.IDENTITY_PARAMS}
    steps = steps_for(connector, Action.COLLECT) + steps_for(connector, "identity")
    if not steps:
        raise ServiceError("Add a collect statement first.")
    audit = {"identity_fields": sorted(f for f, v in params.items() if v), "statements": [s.label for s in steps]}
    try:
        outcome = engine.run(connector.url, steps, params, mode="read", timeout=connector.timeout_seconds,
                             max_rows=connector.max_rows)
    except (engine.ConnectorError, ValueError) as exc:
        _record_test(connector, user, {**audit, "outcome": "failed"})
        raise ServiceError(f"The test failed: {exc}") from None
    _record_test(connector, user, {**audit, "outcome": "ran"})
    return [{"label": r.label, "rows": r.rows, "columns": r.columns} for r in outcome.results]


def _record_test(connector: Connector, user, data: dict) -> None:
    with transaction.atomic():
        configaudit.record(connector, "tested", user=user, data=data)


# --- configuration (managers) -----------------------------------------------------------------------

CONNECTOR_FIELDS = ("kind", "url_env", "url_encrypted", "endpoint", "secret_encrypted", "timeout_seconds",
                    "max_rows", "identity_source", "enabled")
# The audit names a replaced secret by what it is, never by its stored (encrypted) column's value.
SECRET_FIELDS = {"url_encrypted": "url", "secret_encrypted": "secret"}


@transaction.atomic
def save_connector(connector: Connector, user, *, actor: str | None = None) -> Connector:
    """Save a connector edited by a manager (its form already applied), and put its system in
    connector mode. The audit lists the fields that changed; for the URL and the signing secret
    only that they were replaced."""
    _require_manager(user)
    created = connector.pk is None
    before = {} if created else configaudit.snapshot(
        Connector.objects.select_for_update().get(pk=connector.pk), CONNECTOR_FIELDS)
    connector.save()  # validated by the ConnectorForm (Connector.clean)
    if created:
        changed = [f for f in CONNECTOR_FIELDS if getattr(connector, f) not in ("", None)]
    else:
        changed = configaudit.changed(before, connector)
    fields = [SECRET_FIELDS.get(f, f) for f in changed]
    if created or fields:
        configaudit.record(connector, "created" if created else "updated", user=user, actor=actor, fields=fields,
                           data={"system": connector.system.name, "kind": connector.kind,
                                 "url_env": connector.url_env or None})
    system = connector.system
    if system.work_mode != DataSystem.WorkMode.CONNECTOR:
        was = system.work_mode
        system.work_mode = DataSystem.WorkMode.CONNECTOR
        system.save(update_fields=["work_mode", "updated_at"])
        configaudit.record(system, "updated", user=user, actor=actor, fields=["work_mode"],
                           data={"work_mode": [was, system.work_mode]})
    return connector


def _require_manager(user) -> None:
    if user is not None and not user.has_perm("requests_app.assign_case"):
        raise PermissionDenied("Only managers configure connectors.")


def _statement_data(statement: Statement) -> dict:
    # SQL text is configuration (it names tables and columns, binds identities as parameters).
    return {"system": statement.connector.system.name, "action": statement.action, "label": statement.label,
            "position": statement.position, "sql": statement.sql}


@transaction.atomic
def save_statement(connector: Connector, *, action: str, label: str, sql: str, position: int = 0, user=None,
                   actor: str | None = None) -> Statement:
    _require_manager(user)
    statement = Statement(connector=connector, action=action, label=label, sql=sql, position=position)
    statement.save()  # refuses formatted identities (sqlcheck) with a ValidationError
    configaudit.record(statement, "created", user=user, actor=actor, fields=["action", "label", "sql", "position"],
                       data=_statement_data(statement))
    return statement


@transaction.atomic
def delete_statement(statement: Statement, user, *, actor: str | None = None) -> int:
    """Remove a statement; the audit keeps what it was. Returns its system's id."""
    _require_manager(user)
    statement = Statement.objects.select_for_update().select_related("connector__system").get(pk=statement.pk)
    configaudit.record(statement, "deleted", user=user, actor=actor, data=_statement_data(statement))
    statement.delete()
    return statement.connector.system_id
