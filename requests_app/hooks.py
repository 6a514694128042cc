"""How the capabilities (intake, api, drp, fulfilment, connectors) hear from the core, without the
core importing them: the core sends, the apps subscribe in their AppConfig.ready().

- ``event_recorded`` (kwargs ``event``): sent once the transaction that recorded an audit Event
  through ``services.record`` has committed. Receivers queue their own work (an outbox row, a task);
  an exception in one is logged and never reaches the person whose action caused the event.
- ``clocks_alerted`` (kwargs ``claims``: the sweep's Claim tuples): sent after a sweep batch that
  claimed due-soon, urgent or overdue steps has committed.
- ``sweep_completed`` (kwargs ``result``: the SweepResult, ``started``: its start): sent when a sweep
  ran to its end (the operations app records it: the timers' dead man's switch).
- ``sweep_step``: registers ``fn(now) -> dict`` that the one deadline sweep runs after its own
  claims, each step isolated (one failing step never stops the others or the sweep): the
  capabilities' reminders and escalations ride the same loop instead of running their own.
- ``decision_step``: registers ``fn(case, user, transition, decision, reasons) -> dict | None``
  that ``services._decide`` runs inside its transaction, before the decision is checked and its
  letter issued: a step may refuse (raise ServiceError/PermissionDenied) or return the decision
  with what it adds (e.g. the fulfilment tasks' results). ``decision_gate`` registers
  ``fn(case) -> str``: a non-empty text keeps the case page from offering fulfil/partially fulfil.
- ``queue_flag``: registers ``fn(case_ids) -> {case_id: label}`` (one query for the page): short
  badges on the staff queue's rows (e.g. a connector that failed).
- ``panel``: registers ``fn(request, case, **kw) -> str`` (safe HTML) for a page slot of the core's
  templates (``{% hook_panels "case" %}`` on the staff case page, ``"status"`` on the status page).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

event_recorded = Signal()
clocks_alerted = Signal()
sweep_completed = Signal()

_SWEEP_STEPS: dict[str, Callable] = {}
_SUBMISSION_GATES: dict[str, Callable] = {}
_DECISION_STEPS: dict[str, Callable] = {}
_DECISION_GATES: dict[str, Callable] = {}
_PANELS: dict[str, dict[str, Callable]] = {}


def send_on_commit(signal: Signal, **kwargs) -> None:
    def _send():
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                log.error("hook %r failed", receiver, exc_info=result)
    transaction.on_commit(_send)


def sweep_step(name: str):
    """Decorator: run ``fn(now)`` in every sweep, after the clock claims. Keyed by name, so a
    module imported twice registers its step once."""
    def register(fn):
        _SWEEP_STEPS[name] = fn
        return fn
    return register


def run_sweep_steps(now) -> dict:
    results = {}
    for name, fn in list(_SWEEP_STEPS.items()):
        try:
            results[name] = fn(now)
        except Exception:  # noqa: BLE001 - one capability's failure must not stop the sweep
            log.exception("sweep step %s failed", name)
            results[name] = "error"
    return results


def submission_gate(name: str):
    """Decorator: ``fn(request, email, request_types) -> str | None``, asked by the web form
    before it stores a request; a URL sends the person there first (e.g. to prove the address
    with a one-time code). The form's answers stay in the session meanwhile."""
    def register(fn):
        _SUBMISSION_GATES[name] = fn
        return fn
    return register


def decision_step(name: str):
    def register(fn):
        _DECISION_STEPS[name] = fn
        return fn
    return register


def submission_gate_url(request, email: str, request_types) -> str | None:
    for fn in list(_SUBMISSION_GATES.values()):
        url = fn(request, email, request_types)
        if url:
            return url
    return None


def prepare_decision(case, user, transition: str, decision: dict, reasons: str) -> dict:
    """Run the capabilities' decision steps; their refusals propagate to the caller."""
    for fn in list(_DECISION_STEPS.values()):
        decision = fn(case, user, transition, decision, reasons) or decision
    return decision


def decision_gate(name: str):
    def register(fn):
        _DECISION_GATES[name] = fn
        return fn
    return register


def decision_blocked(case) -> str:
    """Why fulfil/partially fulfil may not be offered yet ("" when nothing stands in the way)."""
    return " ".join(filter(None, (fn(case) for fn in list(_DECISION_GATES.values()))))


def panel(slot: str, name: str):
    def register(fn):
        _PANELS.setdefault(slot, {})[name] = fn
        return fn
    return register


def render_panels(slot: str, request, case, **kwargs) -> list[str]:
    out = []
    for name, fn in list(_PANELS.get(slot, {}).items()):
        try:
            out.append(fn(request, case, **kwargs))
        except Exception:  # noqa: BLE001 - one capability's panel must not break the page
            log.exception("panel %s/%s failed", slot, name)
    return out


_QUEUE_FLAGS: dict[str, Callable] = {}


def queue_flag(name: str):
    def register(fn):
        _QUEUE_FLAGS[name] = fn
        return fn
    return register


def queue_flags(case_ids: list[int]) -> dict[int, list[str]]:
    """The capabilities' badges for the queue page's cases (a query per capability, not per row)."""
    out: dict[int, list[str]] = {}
    for name, fn in list(_QUEUE_FLAGS.items()):
        try:
            for case_id, label in fn(case_ids).items():
                out.setdefault(case_id, []).append(label)
        except Exception:  # noqa: BLE001 - one capability's badge must not break the queue
            log.exception("queue flag %s failed", name)
    return out
