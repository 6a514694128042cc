"""Read queries for the staff UI: the queue, overdue lists and the CCPA metrics (11 CCR §7102).

The queue is one SQL statement: open cases and open appeals as a UNION ALL of two narrow
`values()` selects, each filtered on its own partial index (`case_open_next_due`,
`appeal_open_next_due`), ordered by the denormalised `next_due_at` and sliced by the paginator.
Rows come back as plain dicts and are decorated in Python (time left, alert level) without
touching the database again, so a page costs the same number of queries whatever its size.
"""
from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BigIntegerField, CharField, Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear
from django.utils import timezone

from . import regimes as R
from .clocks import BUSINESS_DAYS, local_date, working_days_between
from .models import (
    OPEN_STATES,
    Appeal,
    AppealState,
    ConfigChange,
    DataSubjectRequest,
    State,
)

CASE = "case"
APPEAL = "appeal"

# --- who sees what --------------------------------------------------------------------------------


def sees_all(user) -> bool:
    """Managers and auditors see every case."""
    return user.has_perm("requests_app.view_all_cases")


def case_scope(user, prefix: str = "") -> Q:
    """The cases a user may see: everything (managers, auditors), or their own cases plus the
    unassigned pool (analysts; the pool is read-only until a manager assigns a case)."""
    if sees_all(user):
        return Q()
    if user.has_perm("requests_app.work_case"):
        return Q(**{f"{prefix}assignee": user}) | Q(**{f"{prefix}assignee__isnull": True})
    return Q(pk__in=[])


def can_see(user, case) -> bool:
    return sees_all(user) or (user.has_perm("requests_app.work_case")
                              and case.assignee_id in (None, user.pk))


def visible_cases(user) -> QuerySet:
    return DataSubjectRequest.objects.filter(case_scope(user))


# --- the queue ------------------------------------------------------------------------------------


@dataclass
class QueueFilters:
    """What the queue form asks for; every field is optional."""

    q: str = ""
    regime: str = ""
    request_type: str = ""
    state: str = ""  # a case state, or "appeal:<appeal state>"
    assignee: str = ""  # a user id, or "none" for the unassigned pool
    due_within: int | None = None  # calendar days from now, overdue included
    overdue: bool = False
    show: str = ""  # "" (cases and appeals), "cases", "appeals", "closed" (the archive)
    repeat: bool = False
    mine: bool = False


REFERENCE_RE = re.compile(r"^(?:(?P<prefix>DSAR-[\d-]*)|(?:(?P<year>\d{4})-)?(?P<number>\d+))$", re.IGNORECASE)


def _search_q(text: str, prefix: str = "") -> Q:
    """Search by the shape of what was typed, so each kind of search can use an index:
    an e-mail address (exact, case-insensitive), an e-mail domain ('@example.com'), a reference
    or its number, otherwise a part of the requester's name."""
    text = text.strip()
    p = prefix
    if text.startswith("@"):
        return Q(**{f"{p}requester_email__iendswith": text})
    if "@" in text:
        return Q(**{f"{p}requester_email__iexact": text})
    m = REFERENCE_RE.match(text)
    if m:
        if m["prefix"]:
            return Q(**{f"{p}reference__startswith": text.upper()})
        number = int(m["number"])
        if m["year"]:
            return Q(**{f"{p}reference": f"DSAR-{m['year']}-{number:06d}"})
        # The number part of a reference (DSAR-YYYY-<pk, 6 digits>): look it up by key.
        return Q(**{f"{p}pk": number}) & Q(**{f"{p}reference__endswith": f"-{number:06d}"})
    return Q(**{f"{p}requester_name__icontains": text})


def _common_filters(f: QueueFilters, user, now: dt.datetime, p: str) -> Q:
    """Filters on case attributes; `p` is '' for case rows and 'case__' for appeal rows."""
    q = Q()
    if f.regime:
        q &= Q(**{f"{p}regime": f.regime})
    if f.request_type:
        q &= Q(**{f"{p}request_type": f.request_type})
    if f.assignee == "none":
        q &= Q(**{f"{p}assignee__isnull": True})
    elif f.assignee:
        q &= Q(**{f"{p}assignee_id": int(f.assignee)})
    if f.mine:
        q &= Q(**{f"{p}assignee": user})
    if f.repeat:
        q &= Q(**{f"{p}is_repeat": True})
    if f.q.strip():
        q &= _search_q(f.q, p)
    return q


def _due_filters(f: QueueFilters, now: dt.datetime) -> Q:
    q = Q()
    if f.overdue:
        q &= Q(next_due_at__lt=now)
    if f.due_within is not None:
        q &= Q(next_due_at__lte=now + dt.timedelta(days=f.due_within))
    return q


ROW_FIELDS = ("row_kind", "row_due", "row_case", "row_appeal", "row_due_kind", "row_ref", "row_regime",
              "row_type", "row_jur", "row_state", "row_assignee", "row_assignee_name", "row_escalation",
              "row_repeat", "row_version", "row_received")


def _open_cases(f: QueueFilters, user, now) -> QuerySet:
    # closed_at IS NULL is exactly "open" (the services set it on every closing transition) and is
    # the condition of the partial index the queue walks; a state IN (...) test here would make
    # PostgreSQL sort every open case instead of reading the first page off the index.
    # A search or a closed state looks at every case (a closed case must stay findable); the archive
    # at closed ones only.
    if f.show == "closed":
        qs = DataSubjectRequest.objects.filter(closed_at__isnull=False)
    elif f.q.strip() or (f.state and f.state not in OPEN_STATES and not f.state.startswith("appeal:")):
        # A closed case under appeal is listed once, as its appeal row.
        qs = DataSubjectRequest.objects.exclude(
            Q(closed_at__isnull=False)
            & Exists(Appeal.objects.filter(case=OuterRef("pk"), decided_at__isnull=True)))
    else:
        qs = DataSubjectRequest.objects.filter(closed_at__isnull=True)
    qs = qs.filter(case_scope(user), _common_filters(f, user, now, ""), _due_filters(f, now))
    if f.state:
        qs = qs.filter(state=f.state) if not f.state.startswith("appeal:") else qs.none()
    if f.show == "appeals":
        qs = qs.none()
    return qs.order_by()


def _open_appeals(f: QueueFilters, user, now) -> QuerySet:
    qs = Appeal.objects.filter(decided_at__isnull=True)  # the partial index appeal_open_next_due
    qs = qs.filter(case_scope(user, "case__"), _common_filters(f, user, now, "case__"), _due_filters(f, now))
    if f.mine or f.assignee not in ("", "none"):
        # An appeal is never assigned to the case's assignee, who may not decide it (spec section 5).
        qs = qs.none()
    if f.state:
        qs = qs.filter(state=f.state.split(":", 1)[1]) if f.state.startswith("appeal:") else qs.none()
    if f.show in ("cases", "closed"):
        qs = qs.none()
    return qs.order_by()


def _case_rows(f: QueueFilters, user, now) -> QuerySet:
    return _open_cases(f, user, now).annotate(
        row_kind=Value(CASE, output_field=CharField()), row_due=F("next_due_at"), row_case=F("pk"),
        # Typed NULL: in a parenthesised, limited UNION branch PostgreSQL would resolve it to text.
        row_appeal=Cast(Value(None), BigIntegerField()), row_due_kind=F("next_due_kind"),
        row_ref=F("reference"), row_regime=F("regime"), row_type=F("request_type"), row_jur=F("jurisdiction"),
        row_state=F("state"), row_assignee=F("assignee_id"), row_assignee_name=F("assignee__username"),
        row_escalation=F("escalation_level"), row_repeat=F("is_repeat"), row_version=F("version"),
        row_received=F("received_at"),
    ).values(*ROW_FIELDS)


def _appeal_rows(f: QueueFilters, user, now) -> QuerySet:
    return _open_appeals(f, user, now).annotate(
        row_kind=Value(APPEAL, output_field=CharField()), row_due=F("next_due_at"), row_case=F("case_id"),
        row_appeal=F("pk"), row_due_kind=Value(R.APPEAL_RESPOND, output_field=CharField()),
        row_ref=F("case__reference"), row_regime=F("case__regime"), row_type=F("case__request_type"),
        row_jur=F("case__jurisdiction"), row_state=F("state"), row_assignee=Cast(Value(None), BigIntegerField()),
        row_assignee_name=Cast(Value(None), CharField()), row_escalation=F("escalation_level"),
        row_repeat=F("case__is_repeat"), row_version=F("case__version"), row_received=F("received_at"),
    ).values(*ROW_FIELDS)


QUEUE_ORDER = (F("row_due").asc(nulls_last=True), "row_case", F("row_appeal").asc(nulls_first=True))


def queue(user, filters: QueueFilters | None = None, now: dt.datetime | None = None, *,
          first: int | None = None) -> QuerySet:
    """Open cases and open appeals the user may see, most urgent first: overdue on top, then the
    nearest open deadline; items without a running clock last. Slice it (the paginator does).

    `first`: the caller needs at most the first N rows. Each branch of the UNION then carries its
    own ORDER BY ... LIMIT N (the top N of a UNION ALL lie within the top N of each branch), so
    PostgreSQL reads them off the partial next_due_at indexes and merges them, instead of
    sorting every open case (it plans an unlimited branch for full retrieval)."""
    f = filters or QueueFilters()
    now = now or timezone.now()
    cases, appeals = _case_rows(f, user, now), _appeal_rows(f, user, now)
    if f.show == "closed":  # the archive: most recently received first
        return cases.order_by(F("row_received").desc(), F("row_case").desc())
    if appeals.query.is_empty():  # "cases only", or a case state: no UNION needed
        return cases.order_by(*QUEUE_ORDER)
    if cases.query.is_empty():
        return appeals.order_by(*QUEUE_ORDER)
    # (first=0 would make each branch an EmptyQuerySet, which union() silently drops.)
    if first and connection.features.supports_slicing_ordering_in_compound:
        cases, appeals = cases.order_by(*QUEUE_ORDER)[:first], appeals.order_by(*QUEUE_ORDER)[:first]
    return cases.union(appeals, all=True).order_by(*QUEUE_ORDER)


class QueueList:
    """What the paginator pages over: `count()` is one narrow query (no ORDER BY, no joins for
    display columns, unlike Django's count of an ordered UNION), a slice is the ordered UNION."""

    def __init__(self, user, filters: QueueFilters | None = None, now: dt.datetime | None = None):
        self.filters = filters or QueueFilters()
        self.now = now or timezone.now()
        self.user = user
        self._count = None

    def count(self) -> int:
        if self._count is None:
            cases = _open_cases(self.filters, self.user, self.now)
            appeals = _open_appeals(self.filters, self.user, self.now)
            if cases.query.is_empty():
                self._count = appeals.count()
            elif appeals.query.is_empty():
                self._count = cases.count()
            else:  # both in one round trip
                n_appeals = appeals.annotate(n=Func(template="COUNT(*)", output_field=IntegerField()))
                self._count = cases.aggregate(
                    n=Count("*") + Coalesce(Subquery(n_appeals.values("n")), 0))["n"]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice):
        first = index.stop if isinstance(index, slice) and index.stop is not None else None
        if first is not None and first <= (index.start or 0):
            return []
        return list(queue(self.user, self.filters, self.now, first=first)[index])


def case_list(user, filters: QueueFilters | None = None, now: dt.datetime | None = None, *,
              status: str = "open") -> QuerySet:
    """Cases (not appeals) the user may see, with the queue's filters and order (most urgent
    first, no running clock last, then by id): the REST API's list. `status`: "open" (the
    queue), "closed" or "all"."""
    f = filters or QueueFilters()
    now = now or timezone.now()
    qs = DataSubjectRequest.objects.filter(case_scope(user), _common_filters(f, user, now, ""), _due_filters(f, now))
    if status == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif status == "closed":
        qs = qs.filter(closed_at__isnull=False)
    if f.state:
        qs = qs.filter(state=f.state) if not f.state.startswith("appeal:") else qs.filter(appeals__state=f.state[7:])
    return qs.order_by(F("next_due_at").asc(nulls_last=True), "pk")


@dataclass
class QueueRow:
    kind: str
    case_id: int
    appeal_id: int | None
    reference: str
    regime: str
    request_type: str
    request_type_label: str
    jurisdiction: str
    state: str
    state_label: str
    assignee_id: int | None
    assignee_name: str
    escalation_level: int
    is_repeat: bool
    version: int
    due_at: dt.datetime | None
    due_kind: str
    due_date: dt.date | None  # local to the jurisdiction
    time_left: int | None  # in `unit`; negative when overdue
    unit: str  # "business" or "calendar"
    alert: str  # "", "due_soon", "urgent", "overdue"

    @property
    def is_appeal(self) -> bool:
        return self.kind == APPEAL

    @property
    def overdue(self) -> bool:
        return self.alert == "overdue"

    @property
    def due_display(self) -> str:
        return self.due_date.strftime("%a %d %b %Y") if self.due_date else ""  # staff UI is English

    @property
    def type_display(self) -> str:
        return self.request_type_label

    @property
    def due_kind_display(self) -> str:
        from .staff_display import clock_label

        return clock_label(self.due_kind)

    @property
    def regime_display(self) -> str:
        return R.REGIMES[self.regime].name if self.regime in R.REGIMES else self.regime

    @property
    def left_display(self) -> str:
        return left_display(self.time_left, self.unit)

    @property
    def left_class(self) -> str:
        if self.time_left is None:
            return ""
        return "neg" if self.time_left < 0 else "today" if self.time_left == 0 else ""

    @property
    def unit_title(self) -> str:
        return "business days, as this clock counts" if self.unit == "business" else "calendar days"

    @property
    def alert_label(self) -> str:
        return self.alert.replace("_", " ").capitalize()


def left_display(left: int | None, unit: str) -> str:
    """'3 bd', '12 d', 'due today', '-2 bd' (negative: overdue by that many days)."""
    if left is None:
        return ""
    if left == 0:
        return "due today"
    return f"{left} {'bd' if unit == 'business' else 'd'}"


CASE_STATE_LABELS = dict(State.choices)
APPEAL_STATE_LABELS = dict(AppealState.choices)


@lru_cache(maxsize=4096)
def _working_days(start: dt.date, end: dt.date, jurisdiction: str) -> int:
    # Many rows share a due date: count each (today, due, calendar) span once per process.
    return working_days_between(start, end, R.jurisdiction(jurisdiction).calendar)


def clock_unit(regime_code: str, request_type: str, kind: str) -> str:
    """'business' where that clock's period counts business days (e.g. CCPA opt-outs, Mexico),
    else 'calendar' (calendar days and months count calendar days left)."""
    try:
        rule = R.regime(regime_code).any_clock(kind, request_type)
    except R.RegimeError:
        rule = None
    return "business" if rule is not None and rule.period.unit == BUSINESS_DAYS else "calendar"


def time_left(due_at: dt.datetime, jurisdiction: str, unit: str, now: dt.datetime) -> tuple[dt.date, int]:
    """The clock's local due date and the days left as that clock counts them (0: due today;
    negative: overdue by that many days)."""
    tz = R.jurisdiction(jurisdiction).timezone
    due, today = local_date(due_at, tz), local_date(now, tz)
    if unit == "business":
        return due, _working_days(today, due, jurisdiction)
    return due, (due - today).days


def alert_for(due_at: dt.datetime | None, now: dt.datetime) -> str:
    """The same thresholds as the deadline sweep (settings DSAR_DUE_SOON_DAYS, DSAR_URGENT_DAYS)."""
    if due_at is None:
        return ""
    if due_at < now:
        return "overdue"
    if due_at <= now + dt.timedelta(days=settings.DSAR_URGENT_DAYS):
        return "urgent"
    if due_at <= now + dt.timedelta(days=settings.DSAR_DUE_SOON_DAYS):
        return "due_soon"
    return ""


def _type_label(regime_code: str, code: str) -> str:
    try:
        return R.regime(regime_code).request_type(code).label
    except R.RegimeError:
        return code


def decorate(rows, now: dt.datetime | None = None) -> list[QueueRow]:
    """Turn the queue's dicts into rows with their time left. Pure Python: no queries."""
    now = now or timezone.now()
    out = []
    for r in rows:
        kind = r["row_kind"]
        unit = clock_unit(r["row_regime"], r["row_type"], r["row_due_kind"] or "")
        due_date = left = None
        if r["row_due"] is not None:
            due_date, left = time_left(r["row_due"], r["row_jur"], unit, now)
        labels = APPEAL_STATE_LABELS if kind == APPEAL else CASE_STATE_LABELS
        out.append(QueueRow(
            kind=kind, case_id=r["row_case"], appeal_id=r["row_appeal"], reference=r["row_ref"] or "",
            regime=r["row_regime"], request_type=r["row_type"],
            request_type_label=_type_label(r["row_regime"], r["row_type"]), jurisdiction=r["row_jur"],
            state=r["row_state"], state_label=str(labels.get(r["row_state"], r["row_state"])),
            assignee_id=r["row_assignee"], assignee_name=r["row_assignee_name"] or "",
            escalation_level=r["row_escalation"] or 0, is_repeat=bool(r["row_repeat"]), version=r["row_version"],
            due_at=r["row_due"], due_kind=r["row_due_kind"] or "", due_date=due_date, time_left=left, unit=unit,
            alert=alert_for(r["row_due"], now),
        ))
    return out


def queue_summary(user, now: dt.datetime | None = None) -> dict[str, int]:
    """Counts for the chips above the queue (two queries: cases, appeals)."""
    now = now or timezone.now()
    soon = now + dt.timedelta(days=settings.DSAR_DUE_SOON_DAYS)
    # COUNT(1), not COUNT(id), and only columns of case_open_next_due (INCLUDE assignee, is_repeat):
    # an index-only scan, not a read of every open case's row.
    cases = DataSubjectRequest.objects.filter(case_scope(user), closed_at__isnull=True).order_by().aggregate(
        open=Count(Value(1)),
        overdue=Count(Value(1), filter=Q(next_due_at__lt=now)),
        due_soon=Count(Value(1), filter=Q(next_due_at__gte=now, next_due_at__lte=soon)),
        unassigned=Count(Value(1), filter=Q(assignee__isnull=True)),
        mine=Count(Value(1), filter=Q(assignee=user)),
        repeat=Count(Value(1), filter=Q(is_repeat=True)),
    )
    appeals = Appeal.objects.filter(case_scope(user, "case__"), decided_at__isnull=True).order_by().aggregate(
        appeals=Count("pk"),
        overdue=Count("pk", filter=Q(next_due_at__lt=now)),
        due_soon=Count("pk", filter=Q(next_due_at__gte=now, next_due_at__lte=soon)),
    )
    return {**cases, "appeals": appeals["appeals"], "overdue": cases["overdue"] + appeals["overdue"],
            "due_soon": cases["due_soon"] + appeals["due_soon"]}


def staff_choices() -> QuerySet:
    """People a case can be assigned to: active users who may work cases (one query)."""
    User = get_user_model()
    perm = Q(groups__permissions__codename="work_case", groups__permissions__content_type__app_label="requests_app")
    direct = Q(user_permissions__codename="work_case",
               user_permissions__content_type__app_label="requests_app")
    return (User.objects.filter(is_active=True).filter(perm | direct | Q(is_superuser=True))
            .distinct().order_by("username").only("pk", "username", "first_name", "last_name"))


# --- overdue lists -----------------------------------------------------------------------------------


def overdue_cases(now: dt.datetime | None = None) -> QuerySet:
    """Open cases whose nearest obligation has expired, most overdue first."""
    return (DataSubjectRequest.objects.filter(closed_at__isnull=True, next_due_at__lt=now or timezone.now())
            .select_related("assignee").order_by("next_due_at"))


def overdue_appeals(now: dt.datetime | None = None) -> QuerySet:
    return (Appeal.objects.filter(decided_at__isnull=True, next_due_at__lt=now or timezone.now())
            .select_related("case", "case__assignee").order_by("next_due_at"))


# --- CCPA metrics (11 CCR §7102) -----------------------------------------------------------------

# 11 CCR §7102(a)(1)(A)-(E): the request types the annual metrics are compiled for.
CCPA_METRIC_TYPES = ("access", "deletion", "correction", "opt_out_sale_sharing", "limit_sensitive")
COMPLIED = (State.FULFILLED, State.PARTIALLY_FULFILLED)
# 11 CCR §7102(a)(2): denials may be broken down by why (not verifiable, not a consumer, exempt, other).
DENIAL_BASES = {
    "unverifiable": "The request could not be verified",
    "not_consumer": "Not made by a consumer (or an authorised agent)",
    "exempt": "Called for information exempt from disclosure",
    "other": "Denied on other grounds",
}


@dataclass
class MetricsRow:
    request_type: str
    label: str
    received: int = 0
    complied: int = 0
    complied_in_whole: int = 0
    complied_in_part: int = 0
    denied: int = 0
    denied_by_basis: dict | None = None
    open: int = 0
    median_days: float | None = None
    mean_days: float | None = None

    @property
    def other(self) -> int:
        """Withdrawn, not filed (never confirmed or verified) or otherwise closed without a decision."""
        return self.received - self.complied - self.denied - self.open


def ccpa_metrics(year: int) -> list[MetricsRow]:
    """Per request type, for requests received in the calendar year: received, complied with in
    whole or in part, denied (by basis), and the median/mean calendar days to a substantive
    response (11 CCR §7102(a)(1)(F)). Days are counted between the local dates in California."""
    tz = R.jurisdiction("US-CA").timezone
    base = DataSubjectRequest.objects.filter(regime="ccpa", received_at__year=year)
    rows = {code: MetricsRow(code, _type_label("ccpa", code), denied_by_basis={k: 0 for k in DENIAL_BASES})
            for code in CCPA_METRIC_TYPES}
    counts = base.order_by().values("request_type", "state").annotate(n=Count("pk"))
    for c in counts:
        row = rows.get(c["request_type"])
        if row is None:
            continue
        row.received += c["n"]
        if c["state"] == State.FULFILLED:
            row.complied_in_whole += c["n"]
        elif c["state"] == State.PARTIALLY_FULFILLED:
            row.complied_in_part += c["n"]
        elif c["state"] in OPEN_STATES:
            row.open += c["n"]
        row.complied = row.complied_in_whole + row.complied_in_part
    denied = (base.filter(state=State.DENIED).order_by()
              .values("request_type", "decision__basis").annotate(n=Count("pk")))
    for d in denied:
        row = rows.get(d["request_type"])
        if row is None:
            continue
        basis = d["decision__basis"] if d["decision__basis"] in DENIAL_BASES else "other"
        row.denied += d["n"]
        row.denied_by_basis[basis] += d["n"]
    durations: dict[str, list[int]] = defaultdict(list)
    responded = (base.filter(decision_sent_at__isnull=False, state__in=COMPLIED + (State.DENIED,))
                 .order_by().values_list("request_type", "received_at", "decision_sent_at").iterator())
    for rtype, received_at, sent_at in responded:
        durations[rtype].append((local_date(sent_at, tz) - local_date(received_at, tz)).days)
    for code, values in durations.items():
        if code in rows and values:
            rows[code].median_days = statistics.median(values)
            rows[code].mean_days = round(statistics.fmean(values), 1)
    return list(rows.values())


def ccpa_metric_years() -> list[int]:
    years = (DataSubjectRequest.objects.filter(regime="ccpa").order_by()
             .annotate(y=ExtractYear("received_at")).values_list("y", flat=True).distinct())
    return sorted(set(years) | {timezone.now().year}, reverse=True)



# --- the configuration audit ----------------------------------------------------------------------

def config_changes(object_type: str = "") -> QuerySet:
    """Newest first; every column the page shows is on the row (actor_label), so no join."""
    rows = ConfigChange.objects.all()
    return rows.filter(object_type=object_type) if object_type else rows


def config_change_types() -> list[str]:
    """The object types that have entries (for the filter), in one query."""
    return list(ConfigChange.objects.order_by("object_type").values_list("object_type", flat=True).distinct())
