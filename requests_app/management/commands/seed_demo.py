"""Demo data: staff users and about 65 realistic cases across every regime and state.

The demo's history is replayed, not faked. Every case is driven through the services in
chronological order, each step at its own moment (time_machine.travel): a request is submitted
at its received moment, confirmed within the hour, verified a day or so later, answered,
extended, decided and appealed on the days its scenario gives, staff acting in working hours on
working days of the case's jurisdiction. The steps of all cases are interleaved on one timeline,
so references are numbered in the order requests arrived. Between steps the deadline sweep runs
whenever the beat would have run it after a clock crossed a threshold, so alerts, escalations
and timed closures (an e-mail never confirmed, a Mexican requester who never replied, an appeal
window that ran out) happen at their moment too. The services compute every clock from those
travelled dates, so audit Events, Deadlines, letters and e-mails agree with each other.

The worker's part runs inside the same travel, right after each step (flush_outbox, the beat's
catch-all task): letters are rendered then (a letter prints its frozen issue date,
`facts.issued_on`; its issued_at and 'letter_issued' event are the decision's moment), and
e-mails are delivered then, through a dummy e-mail backend. So the outbox holds the demo's
history as sent at its moment, the worker's log is not flooded with a few hundred old e-mails
at start, and a deployment with a real e-mail provider never mails the demo's example addresses.
Celery runs tasks inline while seeding, so the send and render tasks that the services publish
on commit (one commit, at the end: a failed seed leaves nothing behind) find their work done and
never reach the broker. Staff accounts are created before the first request arrives.

The result is coherent whatever today's date: cases are placed relative to now, and overdue,
due-soon, paused, extended and appealed cases exist on any day.

    python manage.py seed_demo [--if-empty]
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import time_machine
from celery import current_app
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from requests_app import regimes as R
from requests_app import configaudit, services, sweep, tasks
from requests_app.clocks import local_date
from requests_app.models import AlertLevel, Appeal, DataSubjectRequest, Deadline, DeadlineStatus
from requests_app.roles import ensure_roles

SEEDER = "seed_demo"

PASSWORD = "demo-pass-123"
STAFF = [  # username, role, first name, last name
    ("manager", "manager", "Morgan", "Reyes"),
    ("analyst", "analyst", "Alex", "Okafor"),
    ("auditor", "auditor", "Ada", "Lindqvist"),
    # Appeals are decided by a manager who took no part in the decision appealed (spec section 5).
    ("reviewer", "manager", "Rita", "Novak"),
]
AUTHORISATION = services.Upload(
    "signed-authorisation.pdf",
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% Demo: signed permission to act for the consumer\n%%EOF\n",
    "application/pdf",
)
ID_COPY = services.Upload("id-card.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "image/png")
KNOW = {  # a right-to-know answer (Cal. Civ. Code §1798.110)
    "categories": ["Identifiers", "Commercial information", "Internet activity"],
    "sources": ["You", "Your device", "Payment processors"],
    "purposes": ["Fulfilling orders", "Fraud prevention", "Customer support"],
    "recipients": ["Logistics partners", "Payment processors"],
    "data": {"account": {"name": "(as registered)", "member_since": "2021-05-14"},
             "orders": {"count": 14, "last": "2026-01-20"}},
}

# Steps: (day after receipt, action, arguments). Actions are methods of Demo below. Day 0 requester
# steps follow the submission within the hour; other steps fall on their day at a plausible hour.
C, V, I, RE, X, F, P, D, W = "confirm", "verify", "ask", "reply", "extend", "fulfil", "partial", "deny", "withdraw"
DA, DI, A, AR, AD, ASG, NOTE = "admissible", "inadmissible", "appeal", "review", "decide_appeal", "assign", "note"
PERMIT = "permit"  # the consumer confirms directly an agent's permission (11 CCR §7063(a))
REQUESTER_STEPS = {C, RE, W, A, PERMIT}  # the requester's own actions, at any hour; the rest are staff's


@dataclass
class Scenario:
    jurisdiction: str
    request_type: str
    age: int  # days since receipt (local dates of the jurisdiction)
    person: tuple[str, str, str]  # name, e-mail, language
    steps: list[tuple] = field(default_factory=list)
    submit: dict = field(default_factory=dict)


def agent(name="Jordan Blake", email="requests@privacyagents.example", org="Privacy Agents LLC"):
    return {"filer": "agent", "agent_name": name, "agent_email": email, "agent_organisation": org,
            "authorisation": AUTHORISATION}


def representative(name, email, filer="legal_representative"):
    return {"filer": filer, "agent_name": name, "agent_email": email, "authorisation": AUTHORISATION}


REPEATER = ("Sam Rivera", "sam.rivera@example.com", "en")

SCENARIOS = [
    # --- gdpr ---------------------------------------------------------------------------------------
    Scenario("DE", "access", 2, ("Jana Becker", "jana.becker@example.de", "en")),
    Scenario("FR", "erasure", 5, ("Camille Martin", "camille.martin@example.fr", "en"), [(0, C), (1, V)]),
    Scenario("IE", "access", 26, ("Aoife Murphy", "aoife.murphy@example.ie", "en"), [(0, C), (2, V), (3, ASG)]),
    Scenario("NL", "portability", 40, ("Daan de Vries", "daan.devries@example.nl", "en"),
             [(0, C), (3, V), (4, ASG), (20, NOTE, "Export from the order system requested from IT")]),
    Scenario("ES", "rectification", 20, ("Lucía García", "lucia.garcia@example.es", "es"), [(0, C), (1, V), (15, F)]),
    Scenario("IT", "objection", 50, ("Marco Rossi", "marco.rossi@example.it", "en"),
             [(0, C), (2, V), (20, X, "Objection covers six processing purposes across three services")]),
    Scenario("PL", "access", 35, ("Piotr Nowak", "piotr.nowak@example.pl", "en"),
             [(0, C), (2, V), (25, D, "This is your fifth identical request this month; we answered it on "
                                      "the 3rd (GDPR Art. 12(5)).")]),
    Scenario("SE", "restriction", 12, ("Elsa Lindberg", "elsa.lindberg@example.se", "en"), [(0, C)]),
    Scenario("DE", "erasure", 8, ("Lukas Schmidt", "lukas.schmidt@example.de", "en"), [(0, C), (3, W)]),
    Scenario("AT", "withdraw_consent", 30, ("Anna Gruber", "anna.gruber@example.at", "en"), [(0, C), (1, V), (2, F)]),
    Scenario("PT", "access", 6, ("Tomás Silva", "tomas.silva@example.pt", "pt-br"), [(0, C), (1, V)],
             representative("Maria Silva", "maria.silva@example.pt", filer="parent")),
    # never confirmed: the sweep closes it as not filed after DSAR_CONFIRMATION_DAYS
    Scenario("BE", "access", 20, ("Noah Peeters", "noah.peeters@example.be", "en")),
    # --- uk_gdpr ------------------------------------------------------------------------------------
    Scenario("GB", "access", 10, ("Oliver Smith", "oliver.smith@example.co.uk", "en"), [(0, C), (1, V), (2, ASG)]),
    Scenario("GB", "access", 20, ("Amelia Jones", "amelia.jones@example.co.uk", "en"),
             [(0, C), (2, I, "identity", "Please send a copy of a photo ID: the account e-mail differs")]),
    Scenario("GB", "erasure", 15, ("Harry Taylor", "harry.taylor@example.co.uk", "en"),
             [(0, C), (1, V), (5, I, "clarification", "Do you want the marketplace account or only the "
                                                      "newsletter profile erased?")]),
    Scenario("GB", "access", 45, ("Isla Brown", "isla.brown@example.co.uk", "en"),
             [(0, C), (1, V), (5, I, "clarification", "Which of your two accounts do you mean?"),
              (9, RE, "The one ending in 4471"), (10, ASG)]),
    Scenario("GB", "rectification", 25, ("Charlotte Davies", "charlotte.davies@example.co.uk", "en"),
             [(0, C), (1, V), (2, ASG)]),
    Scenario("GB", "portability", 28, ("George Wilson", "george.wilson@example.co.uk", "en"),
             [(0, C), (1, V), (20, P, "Card data is held by our payment processor, not by us.")]),
    Scenario("GB", "access", 25, ("Freya Evans", "freya.evans@example.co.uk", "en"),
             [(0, C), (2, I, "fee", "Your request repeats last week's: a reasonable fee of £10 applies."),
              (6, RE, "Fee paid"), (7, V)]),
    # --- ccpa ---------------------------------------------------------------------------------------
    Scenario("US-CA", "access", 1, ("Emily Chen", "emily.chen@example.com", "en")),
    Scenario("US-CA", "access", 9, ("Daniel Kim", "daniel.kim@example.com", "en"), [(0, C)]),
    Scenario("US-CA", "deletion", 40, ("Sofia Hernández", "sofia.hernandez@example.com", "es"),
             [(0, C), (3, V), (4, ASG)]),
    Scenario("US-CA", "access", 50, ("Michael Johnson", "michael.johnson@example.com", "en"),
             [(0, C), (2, V), (3, ASG)]),
    Scenario("US-CA", "access", 60, ("Olivia Davis", "olivia.davis@example.com", "en"),
             [(0, C), (2, V), (30, X, "Data spread over four legacy order systems")]),
    Scenario("US-CA", "opt_out_sale_sharing", 3, ("Ethan Nguyen", "ethan.nguyen@example.com", "en"), [(0, C)]),
    Scenario("US-CA", "opt_out_sale_sharing", 25, ("Mia Patel", "mia.patel@example.com", "en"), [(0, C), (2, F)],
             {"via_gpc": True}),
    Scenario("US-CA", "limit_sensitive", 22, ("Noah Garcia", "noah.garcia@example.com", "en"), [(0, C), (1, ASG)]),
    Scenario("US-CA", "correction", 14, ("Ava Martinez", "ava.martinez@example.com", "en"),
             [(0, C), (1, PERMIT), (4, V)], agent()),
    Scenario("US-CA", "access", 7, ("Liam Wilson", "liam.wilson@example.com", "en"), [(0, C)], agent()),
    Scenario("US-CA", "access", 300, REPEATER, [(0, C), (1, V), (20, F)]),
    Scenario("US-CA", "access", 150, REPEATER, [(0, C), (1, V), (30, F)]),
    Scenario("US-CA", "access", 5, REPEATER, [(0, C), (1, V), (2, NOTE, "Third access request in 12 months: "
                                                                   "we may decline (§1798.130(b)).")]),
    Scenario("US-CA", "deletion", 70, ("Benjamin Lee", "benjamin.lee@example.com", "en"),
             [(0, C), (2, V), (20, D, "The account has an open chargeback dispute; we must keep its records "
                                      "(Cal. Civ. Code §1798.105(d)(1)).")]),
    # --- cpa ----------------------------------------------------------------------------------------
    Scenario("US-CO", "access", 10, ("Chloe Anderson", "chloe.anderson@example.com", "en"), [(0, C), (1, V)]),
    Scenario("US-CO", "deletion", 80, ("Lucas Thomas", "lucas.thomas@example.com", "en"),
             [(0, C), (2, V), (30, D, "Records of orders under warranty must be kept until the warranty ends."),
              (50, A, "My warranty ended in January."), (52, AR)]),
    Scenario("US-CO", "deletion", 42, ("Isabella Ruiz", "isabella.ruiz@example.com", "en"),
             [(0, C), (2, V), (3, ASG)]),
    Scenario("US-CO", "opt_out", 4, ("Harper White", "harper.white@example.com", "en"), [(0, C)]),
    Scenario("US-CO", "portability", 46, ("Mason Harris", "mason.harris@example.com", "en"),
             [(0, C), (2, V), (40, X, "The export must be rebuilt from archived data")]),
    Scenario("US-CO", "access", 12, ("Ella Clark", "ella.clark@example.com", "en"), [(0, C)],
             agent("Riley Morgan", "riley@consumeradvocates.example", "Consumer Advocates Inc.")),
    # --- ctdpa --------------------------------------------------------------------------------------
    Scenario("US-CT", "deletion", 100, ("Henry Lewis", "henry.lewis@example.com", "en"),
             [(0, C), (2, V), (40, P, "Tax records of your purchases are kept for seven years."),
              (60, A, "Please delete at least my browsing history.")]),
    Scenario("US-CT", "access", 47, ("Grace Walker", "grace.walker@example.com", "en"), [(0, C), (5, V)]),
    Scenario("US-CT", "correction", 15, ("Jack Hall", "jack.hall@example.com", "en"), [(0, C), (2, V), (10, F)]),
    Scenario("US-CT", "opt_out", 2, ("Lily Allen", "lily.allen@example.com", "en")),
    # --- vcdpa --------------------------------------------------------------------------------------
    Scenario("US-VA", "access", 115, ("William Young", "william.young@example.com", "en"),
             [(0, C), (2, V), (20, D, "We could not match the details you gave to an account."),
              (50, A, "I have attached my order confirmation.")]),
    Scenario("US-VA", "deletion", 140, ("Zoe King", "zoe.king@example.com", "en"),
             [(0, C), (2, V), (10, D, "Deleting now would cancel your open orders."),
              (30, A, "All my orders have been delivered."), (31, AR),
              (70, AD, "reversed", "Orders delivered; the account and its data will be deleted.")]),
    Scenario("US-VA", "portability", 20, ("Samuel Wright", "samuel.wright@example.com", "en"), [(0, C), (1, V)]),
    # --- ucpa ---------------------------------------------------------------------------------------
    Scenario("US-UT", "access", 30, ("Aria Scott", "aria.scott@example.com", "en"), [(0, C), (1, V)]),
    Scenario("US-UT", "deletion", 60, ("Owen Green", "owen.green@example.com", "en"),
             [(0, C), (1, V), (40, D, "We could not authenticate the request (Utah Code 13-61-203(2)(d)).")]),
    Scenario("US-UT", "access", 52, ("Ruby Mitchell", "ruby.mitchell@example.com", "en"),
             [(0, C), (3, V), (4, ASG)]),
    Scenario("US-UT", "opt_out", 18, ("Nora Baker", "nora.baker@example.com", "en"), [(0, C), (1, F)]),
    # --- nrs603a ------------------------------------------------------------------------------------
    Scenario("US-NV", "opt_out_sale", 3, ("Leo Adams", "leo.adams@example.com", "en")),
    Scenario("US-NV", "opt_out_sale", 50, ("Stella Nelson", "stella.nelson@example.com", "en"), [(2, C)]),
    Scenario("US-NV", "opt_out_sale", 70, ("Hudson Carter", "hudson.carter@example.com", "en"),
             [(1, C), (50, X, "Waiting for two resellers to confirm they stopped the sale")]),
    # --- lgpd ---------------------------------------------------------------------------------------
    Scenario("BR", "access", 3, ("Ana Souza", "ana.souza@example.com.br", "pt-br"), [(0, C), (1, V)]),
    Scenario("BR", "confirmation", 12, ("Pedro Oliveira", "pedro.oliveira@example.com.br", "pt-br"),
             [(0, C), (1, V), (2, ASG)]),
    Scenario("BR", "anonymisation_blocking_deletion", 20, ("Juliana Santos", "juliana.santos@example.com.br",
                                                           "pt-br"), [(0, C), (1, V)]),
    Scenario("BR", "portability", 30, ("Lucas Pereira", "lucas.pereira@example.com.br", "pt-br"),
             [(0, C), (2, V), (10, F)],
             representative("Dra. Beatriz Lima", "beatriz.lima@advocacia.example.com.br")),
    Scenario("BR", "access", 19, ("Rafael Almeida", "rafael.almeida@example.com.br", "pt-br"),
             [(0, C), (1, V), (6, NOTE, "Exportação do CRM solicitada à equipe de dados")]),
    Scenario("BR", "objection", 9, ("Mariana Costa", "mariana.costa@example.com.br", "pt-br"),
             [(0, C), (1, V), (8, D, "Processing is needed to meet a legal obligation (LGPD Art. 7 II).")]),
    # --- lfpdppp ------------------------------------------------------------------------------------
    Scenario("MX", "access", 1, ("José Hernández", "jose.hernandez@example.com.mx", "es")),
    Scenario("MX", "rectification", 4, ("María López", "maria.lopez@example.com.mx", "es"),
             [(0, C), (2, I, "information", "Indique qué dato desea corregir y el valor correcto.")]),
    Scenario("MX", "cancellation", 20, ("Carlos Ramírez", "carlos.ramirez@example.com.mx", "es"),
             [(0, C), (2, I, "identity", "Envíe una copia de su identificación oficial (INE)."),
              (6, RE, "Adjunto mi INE"), (7, V)]),
    Scenario("MX", "access", 30, ("Guadalupe Flores", "guadalupe.flores@example.com.mx", "es"),
             [(0, C), (1, V), (12, DA)]),
    Scenario("MX", "access", 36, ("Valeria Jiménez", "valeria.jimenez@example.com.mx", "es"),
             [(0, C), (1, V), (3, ASG)]),
    Scenario("MX", "opposition", 40, ("Fernando Torres", "fernando.torres@example.com.mx", "es"),
             # no reply within 10 business days: the sweep closes it as not filed
             [(0, C), (1, I, "information", "Indique para qué finalidad se opone al tratamiento.")]),
    Scenario("MX", "revoke_consent", 25, ("Alejandra Cruz", "alejandra.cruz@example.com.mx", "es"),
             [(0, C), (1, V), (10, DI, "No tratamos datos suyos con base en su consentimiento.")]),
    Scenario("MX", "access", 60, ("Ricardo Morales", "ricardo.morales@example.com.mx", "es"),
             [(0, C), (1, V), (20, DA), (35, F)],
             representative("Lic. Patricia Reyes", "preyes@despacho.example.com.mx")),
    Scenario("MX", "limit_use_disclosure", 33, ("Daniela Ortiz", "daniela.ortiz@example.com.mx", "es"),
             [(0, C), (1, V), (20, X, "La información está en tres filiales")]),
    # --- voluntary ----------------------------------------------------------------------------------
    Scenario("US-TX", "access", 6, ("Ethan Brooks", "ethan.brooks@example.com", "en"), [(0, C), (1, V)]),
    Scenario("JP", "deletion", 40, ("Yuki Tanaka", "yuki.tanaka@example.jp", "en"), [(0, C), (2, V), (25, F)]),
    Scenario("CA", "access", 35, ("Emma Tremblay", "emma.tremblay@example.ca", "en"), [(0, C), (2, V)]),
    Scenario("US-NY", "opt_out", 10, ("Jacob Rosen", "jacob.rosen@example.com", "en"), [(0, C)]),
]


# --- the timeline ------------------------------------------------------------------------------------

@dataclass(order=True)
class Step:
    at: dt.datetime
    scenario: int
    index: int  # -1: the submission
    action: str = field(compare=False)
    args: tuple = field(compare=False, default=())


def _local(day: dt.date, hours: float, tz: ZoneInfo) -> dt.datetime:
    minutes = int(hours * 60)
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=tz).astimezone(dt.timezone.utc)


def schedule(scenarios: list[Scenario], now: dt.datetime) -> list[Step]:
    """Every step of every scenario at its moment, oldest first."""
    return sorted(step for n, s in enumerate(scenarios) for step in schedule_case(n, s, now))


def schedule_case(n: int, s: Scenario, now: dt.datetime) -> list[Step]:
    """The moments of one case. Dates are the jurisdiction's local dates, `age` days before today;
    the requester acts at any reasonable hour, staff in working hours on working days (a step due
    on a weekend or public holiday moves to the working day before, or else after, as long as it
    stays between its neighbours). Deterministic: the same scenario gets the same hours every run."""
    jur = R.jurisdiction(s.jurisdiction)
    tz = ZoneInfo(jur.timezone)
    rnd = random.Random(zlib.crc32(f"{n}:{s.person[1]}".encode()))
    received_on = local_date(now, jur.timezone) - dt.timedelta(days=s.age)
    received = _local(received_on, rnd.uniform(7.5, 21.5), tz)
    nominal = []
    for day, action, *_ in s.steps:
        if day == 0 and action in REQUESTER_STEPS:  # e.g. the confirmation link, clicked within the hour
            nominal.append(received + dt.timedelta(minutes=rnd.randint(8, 75)))
        elif action in REQUESTER_STEPS:
            nominal.append(_local(received_on + dt.timedelta(days=day), rnd.uniform(7.5, 22), tz))
        else:
            nominal.append(_local(received_on + dt.timedelta(days=day), rnd.uniform(9, 17.5), tz))
    latest = now - dt.timedelta(minutes=30)
    steps, previous = [Step(received, n, -1, "submit")], received
    for i, (day, action, *args) in enumerate(s.steps):
        moment = nominal[i]
        if action not in REQUESTER_STEPS and not jur.calendar.is_working_day(local_date(moment, jur.timezone)):
            moment = _working_day(moment, jur, previous, nominal[i + 1] if i + 1 < len(nominal) else latest)
        if moment <= previous + dt.timedelta(minutes=5):  # keep the scenario's order
            moment = previous + dt.timedelta(minutes=rnd.randint(20, 90))
        if moment >= latest:  # never in the future, whatever today is
            moment = previous + (latest - previous) / 2
        steps.append(Step(moment, n, i, action, tuple(args)))
        previous = moment
    return steps


def _working_day(moment: dt.datetime, jur: R.Jurisdiction, after: dt.datetime, before: dt.datetime) -> dt.datetime:
    """The same hour on the nearest working day, strictly between `after` and `before`; the one
    before is preferred (acting earlier never misses a legal deadline); if neither fits, the
    moment itself."""
    for direction in (-1, 1):
        candidate = moment
        for _ in range(10):
            candidate += dt.timedelta(days=direction)
            if jur.calendar.is_working_day(local_date(candidate, jur.timezone)):
                break
        if after + dt.timedelta(minutes=30) < candidate < before - dt.timedelta(minutes=30):
            return candidate
    return moment


# --- replaying it --------------------------------------------------------------------------------------

WORKER_LOGGERS = ("celery.app.trace", "weasyprint", "weasyprint.progress", "requests_app.sweep")


@contextmanager
def inline_worker():
    """While seeding, e-mails go to a dummy backend (the demo's e-mails are history, not mail to
    send, and must never reach a real provider), and Celery runs tasks inline: those the
    services publish on commit find their letter rendered and their e-mail sent already, and
    nothing goes to the broker (none is needed). The worker's per-task chatter is kept out of
    the command's output; warnings still show."""
    conf = current_app.conf
    eager = conf.task_always_eager
    loggers = [logging.getLogger(name) for name in WORKER_LOGGERS]
    levels = [logger.level for logger in loggers]
    conf.task_always_eager = True
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            yield
    finally:
        conf.task_always_eager = eager
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


class Demo:
    def __init__(self, users: dict[str, User], now: dt.datetime):
        self.manager, self.analyst, self.reviewer = users["manager"], users["analyst"], users["reviewer"]
        self.now = now
        self.clock: dt.datetime | None = None  # the moment of the last thing that happened
        self.cases: dict[int, int] = {}  # scenario number → case id
        self.beat_phase = 17.0  # where the beat's grid of DSAR_SWEEP_SECONDS happens to start (seconds)
        self.stuck: set[tuple[int, int]] = set()
        self.sweeps = 0

    def replay(self, scenarios: list[Scenario]) -> None:
        for step in schedule(scenarios, self.now):
            if self.clock is not None:
                self.catch_up(step.at)
            with time_machine.travel(step.at, tick=False):
                if step.action == "submit":
                    self.cases[step.scenario] = self.submit(scenarios[step.scenario]).pk
                else:
                    case = DataSubjectRequest.objects.select_related("assignee").get(pk=self.cases[step.scenario])
                    getattr(self, step.action)(case, *step.args)
                self.work()
            self.clock = step.at
        self.catch_up(self.now)

    @staticmethod
    def work() -> None:
        """What the worker does just after a step: render its letters, send its e-mails. This is
        flush_outbox, the beat's catch-all, run inside the step's travel."""
        tasks.flush_outbox()

    # --- the deadline sweep, when the beat would have run it ------------------------------------------
    def catch_up(self, until: dt.datetime) -> None:
        """Run the sweep at each beat before `until` that finds a clock past one of its thresholds
        (due soon, urgent, overdue; windows expire): the beats in between would have found nothing."""
        soon, urgent = dt.timedelta(days=settings.DSAR_DUE_SOON_DAYS), dt.timedelta(days=settings.DSAR_URGENT_DAYS)
        while True:
            crossings = {
                (pk, level): due_at - (soon if level < AlertLevel.DUE_SOON else
                                       urgent if level < AlertLevel.URGENT else dt.timedelta(0))
                for pk, due_at, level in Deadline.objects.filter(
                    status=DeadlineStatus.OPEN, paused_since__isnull=True, alert_level__lt=AlertLevel.OVERDUE,
                ).values_list("pk", "due_at", "alert_level")
                if (pk, level) not in self.stuck}
            if not crossings:
                return
            at = self.next_beat(max(min(crossings.values()), self.clock))
            if at >= until:
                return
            with time_machine.travel(at, tick=False):
                sweep.run_sweep()
                self.work()
            self.sweeps += 1
            self.clock = at
            # A clock the sweep left alone despite its threshold (none should be) is not retried forever.
            self.stuck |= {key for key, moment in crossings.items() if moment < at}

    def next_beat(self, after: dt.datetime) -> dt.datetime:
        """The first beat strictly after `after`: beat runs the sweep every DSAR_SWEEP_SECONDS."""
        period = max(settings.DSAR_SWEEP_SECONDS, 1)
        beats = (after.timestamp() - self.beat_phase) // period + 1
        return dt.datetime.fromtimestamp(self.beat_phase + beats * period, tz=dt.timezone.utc)

    # --- the steps ----------------------------------------------------------------------------------
    def submit(self, s: Scenario) -> DataSubjectRequest:
        name, email, language = s.person
        extra = {"data_description": "Mis datos de cuenta y pedidos"} if s.jurisdiction == "MX" else {}
        return services.submit_request(
            jurisdiction=s.jurisdiction, request_types=[s.request_type], requester_name=name,
            requester_email=email, language=language,
            account_id=f"CUST-{zlib.crc32(email.encode()) % 90000 + 10000}",
            details="Submitted through the privacy request form.", **{**extra, **s.submit})[0]

    def worker(self, case):
        return case.assignee or self.manager

    def confirm(self, case):
        services.confirm_email(case)

    def permit(self, case):
        services.confirm_agent_permission(case)

    def verify(self, case):
        services.verify_identity(case, self.worker(case), method="Matched account e-mail and last order")

    def ask(self, case, what, message):
        services.request_information(case, self.worker(case), what=what, message=message)

    def reply(self, case, message):
        upload = ID_COPY if case.awaiting == "identity" else None
        services.receive_reply(case, message=message, upload=upload)

    def extend(self, case, reason):
        services.extend_deadline(case, self.worker(case), reason=reason)

    def fulfil(self, case):
        know = case.regime == "ccpa" and case.request_type == "access"
        decision = KNOW if know else ({"data": KNOW["data"]} if case.request_type_info.kind == "access" else {})
        services.fulfil(case, self.worker(case), decision=decision)

    def partial(self, case, reasons):
        services.partially_fulfil(case, self.worker(case), reasons=reasons)

    def deny(self, case, reasons):
        services.deny(case, self.worker(case), reasons=reasons)

    def withdraw(self, case):
        services.withdraw(case, reason="I no longer need this")

    def admissible(self, case):
        services.determine(case, self.worker(case), admissible=True)

    def inadmissible(self, case, reasons):
        services.determine(case, self.worker(case), admissible=False, reasons=reasons)

    def appeal(self, case, statement):
        services.file_appeal(case, statement=statement)

    def review(self, case):
        services.start_appeal_review(case.appeals.get(), self.reviewer)

    def decide_appeal(self, case, outcome, reasons):
        services.decide_appeal(case.appeals.get(), self.reviewer, outcome=outcome, reasons=reasons)

    def assign(self, case):
        services.assign(case, self.manager, self.analyst)

    def note(self, case, text):
        services.add_note(case, self.worker(case), text)


class Command(BaseCommand):
    help = "Create demo staff users and about 65 realistic cases across every regime and state."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any case exists")

    def handle(self, *args, **opts):
        if opts["if_empty"] and DataSubjectRequest.objects.exists():
            self.stdout.write("Cases exist already; no demo data added.")
            return
        now = timezone.now()
        # The team was there before the first request arrived.
        joined = now - dt.timedelta(days=max(s.age for s in SCENARIOS) + 30)
        # One transaction: a seed that fails half-way leaves no half-built demo (and --if-empty
        # still sees an empty database). The worker's part already ran inside each step's travel;
        # the tasks published on commit find nothing left to do.
        with inline_worker(), transaction.atomic():
            with time_machine.travel(joined.replace(hour=9, minute=0, second=0, microsecond=0), tick=False):
                users = self.users()
            demo = Demo(users, now)
            demo.replay(SCENARIOS)
            # Up to the present: the sweep runs once at the real moment, as beat would within minutes,
            # so the timers' heartbeat is current and nothing reads as stalled when the demo starts.
            sweep.run_sweep()
            demo.work()
        cases = DataSubjectRequest.objects.all()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data: {cases.count()} cases ({cases.filter(closed_at__isnull=True).count()} open, "
            f"{cases.filter(closed_at__isnull=True, next_due_at__lt=now).count()} overdue), "
            f"{Appeal.objects.count()} appeals, {demo.sweeps} deadline sweeps replayed. "
            f"Staff: manager / reviewer / analyst / auditor and superuser admin, password {PASSWORD}."))

    def users(self) -> dict[str, User]:
        groups = ensure_roles()
        password = make_password(PASSWORD)  # hashed once: a deliberately slow hash, five users
        users = {}
        for username, role, first, last in STAFF:
            with transaction.atomic():
                user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
                user.first_name, user.last_name, user.is_staff = first, last, True
                user.password = password
                user.save()
                had = sorted(user.groups.values_list("name", flat=True))
                user.groups.add(groups[role])
                if role not in had:  # who may see personal data is configuration: in the trail
                    configaudit.record(user, "roles_changed", actor=SEEDER, fields=["groups"],
                                       data={"roles": sorted({*had, role}), "before": had})
            users[username] = User.objects.get(pk=user.pk)  # fresh permission cache
        admin, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
        admin.is_staff = admin.is_superuser = True
        admin.password = password
        admin.save()
        return users
