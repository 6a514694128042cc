"""When a task is due inside its case's legal clock: pure arithmetic, no Django.

A task is due after `share` of the time left on the legal clock, and never later than the
legal due moment minus `margin` (the time staff need to review the results and issue the
decision). Where the margin no longer fits, the task is due at once: it is late already.
"""
from __future__ import annotations

import datetime as dt


def internal_due(now: dt.datetime, legal_due: dt.datetime, share: float, margin: dt.timedelta) -> dt.datetime:
    if not 0 < share <= 1:
        raise ValueError("the share of the time left must be in (0, 1]")
    left = legal_due - now
    if left <= dt.timedelta(0):
        return legal_due  # the clock has run out; the task is overdue with it
    return max(min(now + left * share, legal_due - margin), min(now, legal_due))
