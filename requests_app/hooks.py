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


def submission_gate_url(request, email: str, request_types) -> str | None:
    for fn in list(_SUBMISSION_GATES.values()):
        url = fn(request, email, request_types)
        if url:
            return url
    return None
