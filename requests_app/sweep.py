"""The deadline sweep: find clocks that crossed an alert threshold, claim each step once, act.

Plain functions: the Celery task (tasks.sweep), the tests and bench/sweep.py all run this code.

How it stays correct under several workers and crashes (the healthchecks.io way: state in the
database, claimed with conditional UPDATEs, no locks held between runs):
- One statement per batch finds and claims (see _claim_sql): the most urgent open, running clocks
  past a threshold they were not yet alerted for (on the partial index ``deadline_open_due``
  (due_at, alert_level) WHERE status='open'), ``FOR UPDATE SKIP LOCKED``, then ``UPDATE deadline
  SET alert_level = <level reached> … AND alert_level < <level reached> RETURNING …``. A step is
  claimed by exactly one sweep: sweeps take turns (below), a repeated sweep finds alert_level
  already raised, and a row someone else holds is skipped, not waited for.
- Lock order, so that a staff action never deadlocks with the sweep: services lock the case row,
  then write its clocks. A claim that will write its case (an overdue obligation escalates it, an
  expired window runs a service on it) first locks that case ``FOR UPDATE SKIP LOCKED``, then the
  clock: a case a service holds is skipped by this sweep and claimed by the next one, so the
  sweep never waits on a row a service holds. Due-soon and urgent claims only read their case.
- Sweeps take turns, one batch at a time (a transaction-level advisory lock, tried, never waited
  for: a sweep that finds another's batch open stops, and that one goes on to the end). A sweep
  whose claim had candidates but claimed none (its snapshot predated another's commit) claims
  once more with a fresh snapshot, so concurrent sweeps never all stop with steps left. Two
  sweeps at once could otherwise deadlock: a timed step's service writes every clock of its
  case, one of which the other sweep may hold as a due-soon claim while waiting on ours.
- A clock that jumped several thresholds at once (a sweep missed for days, a moved clock) is
  claimed at its highest level only: one overdue alert, not three.
- Everything a batch causes (claims, escalations, audit Events, window actions, the digest
  e-mails as outbox rows) commits in one transaction. A worker killed mid-batch rolls all of it
  back and the next sweep does it again: no alert is lost and none is sent twice.
- Obligations alert (assignee or team address; overdue also managers, and escalates the case);
  windows are silent and, once expired, run their timed step (close as not filed, lapse).
- E-mails are sent after commit by the outbox (retried with backoff; flush_outbox picks up what a
  dead broker or provider left behind).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import logging
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from html import escape
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe

from . import hooks, services
from . import regimes as R
from .models import AlertLevel, Appeal, DataSubjectRequest, Deadline, DeadlineStatus, Event, State
from .outbox import queue_emails
from .tokens import absolute_url

log = logging.getLogger(__name__)

DIGEST_KIND = "deadline_alert"
MANAGER_GROUP = "manager"

CLOCK_LABELS = {
    R.ACKNOWLEDGE: "Acknowledge receipt",
    R.RESPOND: "Respond",
    R.REQUEST_INFORMATION: "Ask for missing information",
    R.REQUESTER_REPLY: "Requester's reply",
    R.DETERMINATION: "Determination (admissibility)",
    R.EFFECTIVE: "Make effective",
    R.APPEAL_WINDOW: "Appeal window",
    R.APPEAL_RESPOND: "Decide the appeal",
    R.CONFIRM_EMAIL: "E-mail confirmation",
    R.APPEAL_ACTION: "Carry out the reversed appeal",
}
LEVEL_LABELS = {AlertLevel.DUE_SOON: "Due soon", AlertLevel.URGENT: "Urgent", AlertLevel.OVERDUE: "Overdue"}
LEVEL_COLORS = {AlertLevel.URGENT: "#b35c00", AlertLevel.OVERDUE: "#b00020", "error": "#b00020"}


# --- thresholds -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Thresholds:
    now: dt.datetime
    urgent_at: dt.datetime  # due at or before this: urgent
    soon_at: dt.datetime  # due at or before this: due soon

    @classmethod
    def at(cls, now: dt.datetime | None = None) -> Thresholds:
        now = now or timezone.now()
        return cls(now, now + dt.timedelta(days=settings.DSAR_URGENT_DAYS),
                   now + dt.timedelta(days=settings.DSAR_DUE_SOON_DAYS))

    def level(self, due_at: dt.datetime) -> int:
        """The alert level a clock due at `due_at` has reached (0: none yet)."""
        if due_at < self.now:
            return AlertLevel.OVERDUE
        if due_at <= self.urgent_at:
            return AlertLevel.URGENT
        if due_at <= self.soon_at:
            return AlertLevel.DUE_SOON
        return AlertLevel.NONE


# --- the claim ------------------------------------------------------------------------------------

class CaseInfo(NamedTuple):  # a tuple: a batch loads thousands
    reference: str
    regime: str
    jurisdiction: str
    assignee_email: str


class Claim(NamedTuple):  # a tuple: a batch builds thousands of them
    """One threshold step of one clock, claimed by this sweep."""
    deadline_id: int
    case_id: int
    appeal_id: int | None
    kind: str
    is_obligation: bool
    due_at: dt.datetime  # the end of the due date, local time (the due date is its local date)
    timezone: str
    level: int
    case: CaseInfo | None = None  # what the digests show of its case (PostgreSQL: read by the claim)


# The level a row has reached, as SQL; mirrors Thresholds.level.
_LEVEL_SQL = "CASE WHEN due_at < %(now)s THEN 3 WHEN due_at <= %(urgent)s THEN 2 ELSE 1 END"
# Three disjoint due_at ranges, each with its own alert_level bound: both columns of the index
# are index conditions, so rows already alerted are skipped inside the index.
_CROSSED_SQL = ("(due_at < %(now)s AND alert_level < 3)"
                " OR (due_at >= %(now)s AND due_at <= %(urgent)s AND alert_level < 2)"
                " OR (due_at > %(urgent)s AND due_at <= %(soon)s AND alert_level < 1)")
_OPEN_CROSSED_SQL = f"status = 'open' AND paused_since IS NULL AND ({_CROSSED_SQL})"
_RETURNING = "id, case_id, appeal_id, kind, is_obligation, due_at, timezone, alert_level"
_PG_RETURNING = {"due_at": "(EXTRACT(EPOCH FROM d.due_at) * 1000000)::bigint AS due_at"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
SWEEP_LOCK_KEY = 0x44534152_5357  # PostgreSQL advisory lock of the sweeps' turn ("DSAR", "SW")


def _claim_sql() -> str:
    deadlines = connection.ops.quote_name(Deadline._meta.db_table)
    if not connection.features.has_select_for_update_skip_locked:
        # SQLite: one writer at a time (IMMEDIATE transactions), so there is nothing to skip.
        return (f"WITH picked AS (SELECT id FROM {deadlines} WHERE {_OPEN_CROSSED_SQL}"
                " ORDER BY due_at LIMIT %(limit)s)"
                f" UPDATE {deadlines} SET alert_level = {_LEVEL_SQL} WHERE id IN (SELECT id FROM picked)"
                f" AND status = 'open' AND alert_level < {_LEVEL_SQL} RETURNING {_RETURNING}")
    cases = connection.ops.quote_name(DataSubjectRequest._meta.db_table)
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    # 0. the sweeps' turn (an InitPlan, evaluated once): none while another sweep's batch is open.
    # 1. candidates, most urgent first, not locked yet; `acts`: an overdue step writes its case.
    #    `seen` looks one row further than a batch takes: whether more wait, without another round.
    # 2. `info`: what the digests show of each candidate's case (none of these fields is written
    #    by a batch), read by primary key in the same statement rather than in a second round
    #    trip, and read first: read after the writes, its 10,000 case pages evicted the pages the
    #    claim had just dirtied, each eviction a WAL flush (bench/sweep.py). `held` waits for it.
    # 3. `held`: the acting candidates' cases, locked the way services lock them, skipping any a
    #    service (or another sweep) holds. Cases come before clocks, as in services.
    # 4. `picked`: the clocks, locked (SKIP LOCKED: a clock a service holds is left for the next
    #    sweep), minus the acting ones whose case was skipped; re-checked against the row as it is
    #    now. Found again by ctid, not by a second descent of the primary key: a row updated
    #    since the candidates' snapshot fails the ctid re-check and is left for the next sweep.
    # 5. `over`, `esc`, `ev`: the escalation (see escalate()) of the cases whose obligation is now
    #    overdue, here rather than in two more statements: their case pages were just locked and
    #    are still in memory (after the claim's writes, the two statements read ~6,000 pages back,
    #    ~90 ms at 3,000 cases, bench/sweep.py). Not a case whose window also expired in this
    #    batch: its timed step may close it (escalate() sees to it after the step).
    # 6. the claim itself, conditional again, on the rows `picked` holds (so their ctids cannot
    #    change); an overdue step only with its case held. Its InitPlan on `esc` and `ev` runs the
    #    escalation before the clocks are written.
    # The CTEs are evaluated once each (PostgreSQL), and `= ANY(ARRAY(…))` keeps every lookup on a
    # primary key or a ctid, whatever the planner estimates.
    return (
        f"WITH seen AS MATERIALIZED (SELECT id, ctid AS tid, case_id, due_at, due_at < %(now)s AS acts FROM {deadlines}"
        f" WHERE (SELECT pg_try_advisory_xact_lock({SWEEP_LOCK_KEY})) AND {_OPEN_CROSSED_SQL}"
        " ORDER BY due_at LIMIT %(limit)s + 1),"
        " cand AS MATERIALIZED (SELECT * FROM seen ORDER BY due_at LIMIT %(limit)s),"
        " info AS MATERIALIZED (SELECT c.id, c.reference, c.regime, c.jurisdiction, u.email, u.is_active"
        f" FROM {cases} c LEFT JOIN {users} u ON u.id = c.assignee_id"
        " WHERE c.id = ANY(ARRAY(SELECT case_id FROM cand))),"
        f" held AS (SELECT id FROM {cases} WHERE id = ANY(ARRAY(SELECT case_id FROM cand WHERE acts))"
        " AND (SELECT count(*) FROM info) >= 0 FOR UPDATE SKIP LOCKED),"
        f" picked AS MATERIALIZED (SELECT ctid AS tid, id, case_id, appeal_id, kind, is_obligation, due_at, due_date,"
        f" source FROM {deadlines}"
        " WHERE ctid = ANY(ARRAY(SELECT tid FROM cand WHERE NOT acts OR case_id IN (SELECT id FROM held)))"
        f" AND {_OPEN_CROSSED_SQL} FOR UPDATE SKIP LOCKED),"
        # (A window function and a join driven by the few escalated cases: the planner expects a
        # row or two from these CTEs, so a NOT EXISTS or = ANY(…) here became a nested loop over
        # every pair, 10 s at 3,000 cases.)
        " over AS MATERIALIZED (SELECT * FROM (SELECT p.*, bool_or(NOT p.is_obligation) OVER (PARTITION BY p.case_id)"
        " AS window_expired FROM picked p WHERE p.due_at < %(now)s) o WHERE is_obligation AND NOT window_expired),"
        " per_case AS MATERIALIZED (SELECT case_id, count(*) AS n FROM over GROUP BY case_id),"
        f" esc AS (UPDATE {cases} c SET escalation_level = c.escalation_level + per_case.n, escalated_at = %(now)s"
        " FROM per_case WHERE c.id = per_case.case_id RETURNING 1),"
        f" ev AS (INSERT INTO {connection.ops.quote_name(Event._meta.db_table)} {_EVENT_COLUMNS}"
        f" SELECT {_event_values('over.')} FROM over ORDER BY due_at, id RETURNING 1),"
        f" claimed AS (UPDATE {deadlines} d SET alert_level = {_LEVEL_SQL}"
        " WHERE d.ctid = ANY(ARRAY(SELECT tid FROM picked))"
        f" AND status = 'open' AND alert_level < {_LEVEL_SQL}"
        " AND (due_at >= %(now)s OR case_id IN (SELECT id FROM held))"
        " AND (SELECT count(*) FROM esc) + (SELECT count(*) FROM ev) >= 0"
        # How many candidates there were, one more than a batch takes: more than a batch means more
        # wait (a batch that exactly empties the backlog needs no second, empty, round: ~50 ms at
        # 10,000 claims, spent finding again the index entries this batch just made dead).
        # due_at as whole microseconds since the epoch (exact): Django's timestamptz loader is Python,
        # ~5 us a value, 50 ms a batch (bench/sweep.py); a bigint is loaded in C.
        f" RETURNING {', '.join(_PG_RETURNING.get(c, 'd.' + c) for c in _RETURNING.split(', '))},"
        " (SELECT count(*) FROM seen) AS n)"
        " SELECT claimed.*, info.reference, info.regime, info.jurisdiction, info.email, info.is_active"
        " FROM claimed LEFT JOIN info ON info.id = claimed.case_id"
        # 7. nothing claimed although there were candidates (held by others, or seen in a snapshot
        #    taken just before another sweep's batch committed): say so, in the same statement.
        " UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, (SELECT count(*) FROM seen),"
        " NULL, NULL, NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM claimed)"
    )


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, str):  # SQLite returns text from RETURNING
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.timezone.utc)


def claim_batch(th: Thresholds, limit: int) -> tuple[list[Claim], bool]:
    """Claim up to `limit` threshold steps, most urgent first. Call inside a transaction.
    Returns the claims and whether more steps may be waiting (more candidates than a batch takes,
    or candidates of which none could be claimed)."""
    adapt = connection.ops.adapt_datetimefield_value
    params = {"now": adapt(th.now), "urgent": adapt(th.urgent_at), "soon": adapt(th.soon_at), "limit": limit}
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), params)
        rows = cursor.fetchall()
    if connection.features.has_select_for_update_skip_locked:  # PostgreSQL: typed values already
        if rows and rows[0][0] is None:  # nothing claimed: were there candidates all the same?
            return [], rows[0][8] > 0
        cases: dict[int, CaseInfo] = {}
        # A batch is thousands of rows: no per-value work beyond one CaseInfo per case, and tuples
        # built by _make (tuple.__new__, no keyword handling: 18 -> 13 ms a batch, bench/sweep.py).
        claims = []
        make_claim, td = Claim._make, dt.timedelta
        for r in rows:
            case = cases.get(r[1])
            if case is None:
                case = cases[r[1]] = _case_info(r[1], r[9], r[10], r[11], r[12], r[13])
            claims.append(make_claim((r[0], r[1], r[2], r[3], r[4], _EPOCH + td(microseconds=r[5]), r[6], r[7], case)))
        more = bool(rows) and rows[0][8] > limit
    else:  # SQLite: text datetimes, integer booleans; every candidate is claimed
        claims = [Claim(r[0], r[1], r[2], r[3], bool(r[4]), _as_datetime(r[5]), r[6], r[7]) for r in rows]
        more = len(rows) >= limit
    claims.sort(key=attrgetter("due_at", "deadline_id"))
    return claims, more


def crossed_q(th: Thresholds) -> Q:
    """The claim's WHERE clause as a Q (for counting and tests)."""
    return (Q(due_at__lt=th.now, alert_level__lt=3)
            | Q(due_at__gte=th.now, due_at__lte=th.urgent_at, alert_level__lt=2)
            | Q(due_at__gt=th.urgent_at, due_at__lte=th.soon_at, alert_level__lt=1))


def pending_count(now: dt.datetime | None = None) -> int:
    """How many threshold steps are waiting to be claimed (monitoring; not used by the sweep)."""
    return Deadline.objects.filter(crossed_q(Thresholds.at(now)), status=DeadlineStatus.OPEN,
                                   paused_since__isnull=True).count()


# --- the sweep --------------------------------------------------------------------------------------

@dataclass
class SweepResult:
    run: str
    batches: int = 0
    claimed: int = 0
    by_level: dict = field(default_factory=lambda: {"due_soon": 0, "urgent": 0, "overdue": 0})
    escalated_cases: int = 0
    windows_closed: int = 0
    window_errors: int = 0
    digests: int = 0
    steps: dict = field(default_factory=dict)  # what the capabilities' sweep steps did (hooks.sweep_step)
    ms: dict = field(default_factory=dict)  # where the time went, per phase (logged; the bench prints it)

    def timed(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.ms[phase] = round(self.ms.get(phase, 0) + (now - since) * 1000, 1)
        return now

    def as_dict(self) -> dict:
        return asdict(self)


def run_sweep(*, now: dt.datetime | None = None, batch_size: int | None = None,
              run_id: str | None = None) -> SweepResult:
    """Claim and act on every clock that crossed a threshold, batch by batch, each batch atomic."""
    now = now or timezone.now()
    th = Thresholds.at(now)
    batch_size = batch_size or settings.DSAR_SWEEP_BATCH_SIZE
    result = SweepResult(run=run_id or uuid.uuid4().hex)
    managers = None
    while True:
        t = time.perf_counter()
        with _no_gc(), transaction.atomic():
            claims, more = claim_batch(th, batch_size)
            if not claims and more:
                # Candidates, none claimed: our statement's snapshot may predate the batch another
                # sweep just committed (it saw only steps that sweep had claimed, while others are
                # left). Once more, with a fresh snapshot, rather than leave them to a later sweep;
                # what is still held then (a service's case) is the next sweep's.
                claims, more = claim_batch(th, batch_size)
            t = result.timed("claim", t)
            if not claims:  # nothing left, or all that is left is held by others: the next sweep
                break
            if managers is None:
                managers = manager_emails()
            result.batches += 1
            t = _process_batch(claims, th, result, managers, t)
            hooks.send_on_commit(hooks.clocks_alerted, claims=claims)
        result.timed("commit", t)  # includes publishing the digests' send tasks (on_commit)
        if not more:
            break
    result.steps = hooks.run_sweep_steps(now)
    for receiver, error in hooks.sweep_completed.send_robust(sender=None, result=result, started=now):
        if isinstance(error, Exception):
            log.error("sweep_completed receiver %r failed", receiver, exc_info=error)
    if result.claimed:
        log.info("deadline sweep %s: %s", result.run, result.as_dict())
    return result


@contextlib.contextmanager
def _no_gc():
    """No cyclic garbage collection while a batch builds its thousands of short-lived objects
    (collections walking the worker's heap mid-batch: the digests took 106-375 ms with it, 79-232
    ms without, in bench/sweep.py; the claim's 10,000 rows were paying for them too). Reference
    counting still frees them; the collector runs again after the batch, its commit included."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def manager_emails() -> list[str]:
    User = get_user_model()
    return sorted(set(User.objects.filter(groups__name=MANAGER_GROUP, is_active=True).exclude(email="")
                      .values_list("email", flat=True)))


def _load_cases(ids) -> dict[int, CaseInfo]:
    """Reference, regime and the assignee's address of each case (inactive or no assignee: '')."""
    cases = connection.ops.quote_name(DataSubjectRequest._meta.db_table)
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    in_ids, ids_param = _id_set(ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.id, c.reference, c.regime, c.jurisdiction, u.email, u.is_active FROM {cases} c"
                       f" LEFT JOIN {users} u ON u.id = c.assignee_id WHERE c.id {in_ids}", [ids_param])
        rows = cursor.fetchall()
    return {row[0]: _case_info(*row) for row in rows}


def _case_info(pk, reference, regime, jurisdiction, email, active) -> CaseInfo:
    """Inactive or no assignee: ''."""
    return CaseInfo._make((reference or f"#{pk}", regime, jurisdiction, email if email and active else ""))


def _process_batch(claims: list[Claim], th: Thresholds, result: SweepResult, managers: list[str],
                   t: float) -> float:
    result.claimed += len(claims)
    # Windows (the requester's or ours) are silent until they expire; then their timed step runs.
    failures, closed = [], set()
    for c in claims:
        if not c.is_obligation and c.level == AlertLevel.OVERDUE:
            error, closed_case = expire_window(c)
            if error:
                failures.append((c, error))
                result.window_errors += 1
            else:
                result.windows_closed += 1
                if closed_case:
                    closed.add(c.case_id)
    t = result.timed("windows", t)
    # A case just closed as not filed has no obligations left (its clocks were cancelled): no alert.
    obligations = [c for c in claims if c.is_obligation and c.case_id not in closed]
    for c in obligations:
        result.by_level[{1: "due_soon", 2: "urgent", 3: "overdue"}[c.level]] += 1
    # PostgreSQL: the claim statement read the cases and escalated them, but for those whose window
    # expired in this batch (they may have just been closed: escalate() sees to the others).
    by_claim = claims[0].case is not None
    left = ({c.case_id for c in claims if not c.is_obligation and c.level == AlertLevel.OVERDUE}
            if by_claim else None)
    result.escalated_cases += escalate([c for c in obligations if c.level == AlertLevel.OVERDUE], th.now,
                                       left_by_claim=left)
    t = result.timed("escalate", t)
    if obligations or failures:
        if by_claim:
            cases = {c.case_id: c.case for c in claims}
        else:
            cases = _load_cases({c.case_id for c in obligations} | {c.case_id for c, _ in failures})
        t = result.timed("load_cases", t)
        result.digests += queue_digests(obligations, failures, cases, th.now, managers,
                                        batch_key=f"{result.run}:{result.batches}")
        t = result.timed("digests", t)
    return t


# --- escalation ----------------------------------------------------------------------------------------

def escalate(overdue: list[Claim], now: dt.datetime, *, left_by_claim: set[int] | None = None) -> int:
    """Flag cases whose legal clock expired: escalation_level counts their expired clocks (the
    queue shows it as a badge; the case is already at the top because the queue sorts on
    next_due_at, now in the past), escalated_at is the latest escalation, one audit Event each.
    left_by_claim: the claim statement (PostgreSQL) escalated every case but these (those with a
    window that expired in the same batch, see _claim_sql); only theirs are left here. Returns how
    many cases were escalated."""
    if not overdue:
        return 0
    todo = overdue if left_by_claim is None else [c for c in overdue if c.case_id in left_by_claim]
    per_case = Counter(c.case_id for c in todo)
    by_count = defaultdict(list)
    for case_id, n in per_case.items():
        by_count[n].append(case_id)
    cases = connection.ops.quote_name(DataSubjectRequest._meta.db_table)
    with connection.cursor() as cursor:
        for n, ids in by_count.items():
            in_ids, ids_param = _id_set(ids)
            cursor.execute(f"UPDATE {cases} SET escalation_level = escalation_level + %s, escalated_at = %s"
                           f" WHERE id {in_ids}", [n, connection.ops.adapt_datetimefield_value(now), ids_param])
    appeals = Counter(c.appeal_id for c in overdue if c.appeal_id)
    for appeal_id, n in appeals.items():
        Appeal.objects.filter(pk=appeal_id).update(escalation_level=F("escalation_level") + n)
    if todo:
        _escalation_events([c.deadline_id for c in todo], now)
    return len({c.case_id for c in overdue})


def _id_set(ids) -> tuple[str, object]:
    """`IN <ids>` as SQL with a single parameter, however many ids (an array on PostgreSQL, a
    JSON list on SQLite): thousands of bound parameters cost more than the query itself."""
    text = ",".join(str(int(i)) for i in ids)
    if connection.vendor == "postgresql":
        # One array literal, not a list: psycopg quotes a list of thousands of ints item by item
        # in Python (~10 ms per 3,000, bench/sweep.py).
        return "= ANY(%s::bigint[])", "{" + text + "}"
    return "IN (SELECT value FROM json_each(%s))", "[" + text + "]"


_EVENT_COLUMNS = ("(case_id, appeal_id, actor_id, actor_label, kind, from_state, to_state, reason, data, public,"
                  " created_at)")


def _event_values(prefix: str = "") -> str:
    """The 'escalated' Event of an expired clock, as the SELECT list of an INSERT from its row."""
    json_object = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    p = prefix
    due = f"CAST({p}due_date AS text)"
    return (f"{p}case_id, {p}appeal_id, NULL, 'system', 'escalated', '', '',"
            f" 'The ' || {p}kind || ' clock expired at the end of ' || {due} || ' (' || {p}source || '); managers were"
            " alerted.',"
            f" {json_object}('clock', {p}kind, 'due', {due}, 'deadline', {p}id, 'source', {p}source), false, %(now)s")


def _escalation_events(deadline_ids: list[int], now: dt.datetime) -> None:
    """One 'escalated' audit Event per expired clock, written by the database from the clock rows
    (INSERT … SELECT), so a backlog of thousands costs one statement."""
    events = connection.ops.quote_name(Event._meta.db_table)
    deadlines = connection.ops.quote_name(Deadline._meta.db_table)
    in_ids, ids_param = _id_set(deadline_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events} {_EVENT_COLUMNS} SELECT {_event_values()} FROM {deadlines}"
            f" WHERE id {in_ids.replace('%s', '%(ids)s')} ORDER BY due_at, id",
            {"now": connection.ops.adapt_datetimefield_value(now), "ids": ids_param})


# --- windows: the timed steps that are not obligations ------------------------------------------------

def expire_window(claim: Claim) -> tuple[str, bool]:
    """Run the step that follows an expired window. Returns (error, whether the case was closed).
    An error is rolled back to a savepoint so the rest of the batch (and its alerts) still
    commits, and the team is told in its digest."""
    try:
        with transaction.atomic():
            deadline = Deadline.objects.select_related("case").get(pk=claim.deadline_id)
            if deadline.status != DeadlineStatus.OPEN:
                return "", False
            case = deadline.case
            if claim.kind == R.CONFIRM_EMAIL and case.state == State.SUBMITTED and case.request_type_info.is_opt_out:
                services.accept_waiting_opt_out(case.pk)  # it needs no confirmation (11 CCR §7026(d))
                return "", False
            if claim.kind == R.CONFIRM_EMAIL and case.state == State.SUBMITTED:
                services.close_not_filed(case, reason=(
                    f"The e-mail address was not confirmed within {settings.DSAR_CONFIRMATION_DAYS} days "
                    "(setting DSAR_CONFIRMATION_DAYS)."))
                return "", True
            if claim.kind == R.REQUESTER_REPLY and case.state == State.AWAITING_REQUESTER:
                # LFPDPPP (2025): no reply within 10 business days ⇒ the request is deemed not filed.
                services.close_not_filed(case, reason=(
                    "The requested information did not arrive within 10 business days; under the LFPDPPP "
                    "the request is deemed not filed."))
                return "", True
            services.close_deadline(deadline, DeadlineStatus.LAPSED)
            if claim.kind == R.APPEAL_WINDOW:
                services.record(case, "appeal_window_closed", actor_label=services.SYSTEM,
                                data={"clock": claim.kind, "due": deadline.due_date.isoformat(),
                                      "source": deadline.source})
            services.refresh_next_due(case)
        return "", False
    except Exception as exc:  # noqa: BLE001 - one bad case must not hold back every other alert
        log.exception("timed step %s of deadline %s failed", claim.kind, claim.deadline_id)
        return f"{type(exc).__name__}: {exc}", False


# --- digests --------------------------------------------------------------------------------------

def case_url_format() -> str:
    """The absolute URL of a staff case page with a `{pk}` hole, resolved once per batch."""
    try:
        path = reverse("staff:case", args=[987654321]).replace("987654321", "{pk}")
    except NoReverseMatch:  # the staff case page is not wired yet: its documented address
        path = "/staff/cases/{pk}/"
    return absolute_url(path)


def time_left(due_at: dt.datetime, now: dt.datetime) -> str:
    seconds = int((due_at - now).total_seconds())
    span = abs(seconds)
    if span >= 2 * 86400:
        text = f"{span // 86400} days"
    elif span >= 3600:
        text = f"{span // 3600} h"
    else:
        text = f"{max(span // 60, 1)} min"
    return f"overdue by {text}" if seconds < 0 else f"{text} left"


def _item(claim: Claim, case: CaseInfo, now: dt.datetime, url_format: str, error: str = "") -> tuple[str, str]:
    """What a digest shows of one clock: its row in the text body and in the HTML one, ready. A
    batch lists thousands of clocks, and one formatted string per row costs a fraction of a
    template loop over a dozen variables (bench/sweep.py)."""
    stamp = claim.due_at.astimezone(ZoneInfo(claim.timezone)).isoformat(" ", "minutes")[:16]  # local
    due_date, due_local = stamp[:10], f"{stamp} {claim.timezone}"
    label = "Needs a person" if error else LEVEL_LABELS[claim.level]
    regime = R.REGIMES[case.regime].name if case.regime in R.REGIMES else case.regime
    clock = CLOCK_LABELS.get(claim.kind, claim.kind) + (" (appeal)" if claim.appeal_id else "")
    url = url_format.format(pk=claim.case_id)
    left = time_left(claim.due_at, now)
    text = (f"[{label.upper()}] {case.reference} - {regime} - {clock}\n"
            f"    Due: {due_date} (ends {due_local}) - {left}\n    {url}" + (f"\n    Error: {error}" if error else ""))
    # Every value from data escaped as the templates' autoescape would (the few recurring
    # labels once per batch); the date and the time left are digits and words of ours.
    e = _escaped
    html = (f'<tr><td style="color: {LEVEL_COLORS.get("error" if error else claim.level, "#1a1a1a")};"><b>{e(label)}'
            f'</b></td><td><a href="{escape(url)}">{escape(case.reference)}</a></td><td>{e(regime)}</td><td>{e(clock)}'
            + (f"<br><small>{escape(error)}</small>" if error else "")
            + f"</td><td>{due_date}<br><small>ends {stamp} {e(claim.timezone)}</small></td><td>{left}</td></tr>")
    return text, html


@functools.lru_cache(maxsize=1024)
def _escaped(value: str) -> str:
    return escape(value)


def _recipient_key(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()[:20]


def queue_digests(obligations: list[Claim], failures: list[tuple[Claim, str]], cases: dict[int, CaseInfo],
                  now: dt.datetime, managers: list[str], *, batch_key: str) -> int:
    """One digest per recipient for this batch: the assignee (or the team address when the case
    is unassigned) hears of every threshold; managers also hear of every overdue clock. A digest
    lists the most pressing DSAR_DIGEST_MAX_ITEMS clocks and counts the rest. The claims come in
    due order, as claim_batch returns them."""
    # Each digest lists its clocks most pressing first: failed timed steps, then overdue, urgent and
    # due soon, each in due order. Entered in that order (the claims come in due order), so no
    # digest is sorted; each clock once per recipient (a manager may also be the assignee).
    inbox: dict[str, dict[int, tuple[Claim, str]]] = defaultdict(dict)  # recipient → deadline → entry
    counts: dict[str, Counter] = defaultdict(Counter)
    team = settings.DSAR_TEAM_EMAIL
    for c, error in failures:  # a timed step that failed needs a person
        inbox[team][c.deadline_id] = (c, error)
        counts[team][0] += 1
    for level in (AlertLevel.OVERDUE, AlertLevel.URGENT, AlertLevel.DUE_SOON):
        for c in obligations:
            if c.level != level:
                continue
            entry = (c, "")
            # An appeal's clock never goes to the case's assignee, who may not decide it (spec section 5).
            to = [(cases[c.case_id].assignee_email if c.appeal_id is None else "") or team]
            if level == AlertLevel.OVERDUE:
                to += managers
            for address in to:
                digest = inbox[address]
                if c.deadline_id not in digest:
                    digest[c.deadline_id] = entry
                    counts[address][level] += 1
    limit = settings.DSAR_DIGEST_MAX_ITEMS
    url_format = case_url_format()
    queue_url = absolute_url(_queue_path())
    messages = []
    formatted: dict[tuple[int, str], tuple[str, str]] = {}  # a clock listed in several digests is formatted once
    for address, by_deadline in sorted(inbox.items()):
        entries = list(by_deadline.values())
        rows = []
        for c, error in entries[:limit]:
            row = formatted.get((c.deadline_id, error))
            if row is None:
                row = formatted[c.deadline_id, error] = _item(c, cases[c.case_id], now, url_format, error)
            rows.append(row)
        n = counts[address]
        context = {
            # The rows joined here, not looped over in the templates: a template loop costs ~10 us
            # a row and a batch's digests list thousands (bench/sweep.py). Each html row is escaped.
            "rows_html": mark_safe("".join(html + "\n" for _, html in rows)),  # noqa: S308
            "rows_text": "".join(text + "\n\n" for text, _ in rows),
            "more": max(len(entries) - limit, 0), "total": len(entries),
            "overdue": n[AlertLevel.OVERDUE], "urgent": n[AlertLevel.URGENT],
            "due_soon": n[AlertLevel.DUE_SOON], "failed": n[0],
            "queue_url": queue_url, "now": now, "recipient": address,
            "due_soon_days": settings.DSAR_DUE_SOON_DAYS, "urgent_days": settings.DSAR_URGENT_DAYS,
        }
        messages.append({"kind": DIGEST_KIND, "to": [address], "context": context, "language": "en",
                         "dedupe_key": f"{DIGEST_KIND}:{batch_key}:{_recipient_key(address)}"})
    return len(queue_emails(messages))


def _queue_path() -> str:
    try:
        return reverse("staff:queue")
    except NoReverseMatch:
        return "/staff/"
