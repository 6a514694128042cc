"""What the fulfilment app does when the core records an event (hooks.event_recorded, after
commit), and its decision step and gate (hooks.decision_step / decision_gate)."""
from __future__ import annotations

import logging

from requests_app import hooks

from . import panels  # noqa: F401 - registers the case and status page panels
from . import services

log = logging.getLogger(__name__)

# The legal clock the tasks live in moved: recompute their internal due dates.
CLOCK_MOVES = {"deadline_extended", "clock_resumed", "clock_restarted", "clock_started", "clock_paused"}
# The case closed without the work: the open tasks no longer apply.
CLOSING = {"deny": "The request was denied.", "withdraw": "The request was withdrawn.",
           "close_not_filed": "The request was closed as not filed.",
           "determine_inadmissible": "The request was determined inadmissible."}


def on_event(sender, event, **kwargs):
    case = event.case
    kind = event.kind
    if kind == "identity_verified" or (kind == "submitted" and case.request_type_info.is_opt_out):
        # A case can be worked once verified; an opt-out at once, on receipt (11 CCR §7026(d)).
        services.fan_out(case)
    elif kind in CLOCK_MOVES and event.appeal_id is None and event.data.get("clock") in services.GOVERNING_CLOCKS:
        if case.fulfilment_tasks.exists():
            services.recompute_due(case, kind)
    elif kind in CLOSING:
        services.close_open_tasks(case, CLOSING[kind])
    elif kind == "reopen":  # a reversed appeal reopened the request (spec section 5)
        services.resume_tasks(case, event.reason or "The request was reopened.")


hooks.decision_step("fulfilment")(services.prepare_decision)
hooks.decision_gate("fulfilment")(services.open_tasks_text)
