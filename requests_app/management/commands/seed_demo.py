"""Demo data: staff users and about 65 realistic cases across every regime and state.

Every case is driven through the services, so its clocks, audit events, letters and e-mails are the
ones production would write (letters and e-mails are queued on commit; the worker renders and sends
them later). A case's history is played forward step by step: each step runs now, then the whole
case is "aged" by the days until the next step — its timestamps move back and every clock is
recomputed from its moved start with the regime's own rule — so a case received 80 days ago that was
denied on day 30 and appealed on day 50 has exactly the dates the law gives it. Audit events keep
the moment they were really written (the append-only trail is never rewritten).

    python manage.py seed_demo [--if-empty]
"""
from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from requests_app import services
from requests_app.clocks import end_of_day
from requests_app.deadlines import compute_due
from requests_app.models import Appeal, Attachment, DataSubjectRequest, Deadline, Note
from requests_app.roles import ensure_roles

PASSWORD = "demo-pass-123"
STAFF = [  # username, role, first name, last name
    ("manager", "manager", "Morgan", "Reyes"),
    ("analyst", "analyst", "Alex", "Okafor"),
    ("auditor", "auditor", "Ada", "Lindqvist"),
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

# Steps: (day after receipt, action, arguments). Actions are methods of Demo below.
C, V, I, R, X, F, P, D, W, N = "confirm", "verify", "ask", "reply", "extend", "fulfil", "partial", "deny", \
    "withdraw", "not_filed"
DA, DI, A, AR, AD, ASG, NOTE = "admissible", "inadmissible", "appeal", "review", "decide_appeal", "assign", "note"


@dataclass
class Scenario:
    jurisdiction: str
    request_type: str
    age: int  # days since receipt
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
    Scenario("BE", "access", 20, ("Noah Peeters", "noah.peeters@example.be", "en"),
             [(15, N, "The e-mail address was never confirmed")]),
    # --- uk_gdpr ------------------------------------------------------------------------------------
    Scenario("GB", "access", 10, ("Oliver Smith", "oliver.smith@example.co.uk", "en"), [(0, C), (1, V), (2, ASG)]),
    Scenario("GB", "access", 20, ("Amelia Jones", "amelia.jones@example.co.uk", "en"),
             [(0, C), (2, I, "identity", "Please send a copy of a photo ID: the account e-mail differs")]),
    Scenario("GB", "erasure", 15, ("Harry Taylor", "harry.taylor@example.co.uk", "en"),
             [(0, C), (1, V), (5, I, "clarification", "Do you want the marketplace account or only the "
                                                      "newsletter profile erased?")]),
    Scenario("GB", "access", 45, ("Isla Brown", "isla.brown@example.co.uk", "en"),
             [(0, C), (1, V), (5, I, "clarification", "Which of your two accounts do you mean?"),
              (9, R, "The one ending in 4471"), (10, ASG)]),
    Scenario("GB", "portability", 28, ("George Wilson", "george.wilson@example.co.uk", "en"),
             [(0, C), (1, V), (20, P, "Card data is held by our payment processor, not by us.")]),
    Scenario("GB", "access", 25, ("Freya Evans", "freya.evans@example.co.uk", "en"),
             [(0, C), (2, I, "fee", "Your request repeats last week's: a reasonable fee of £10 applies."),
              (6, R, "Fee paid"), (7, V)]),
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
    Scenario("US-CA", "correction", 14, ("Ava Martinez", "ava.martinez@example.com", "en"), [(0, C), (4, V)],
             agent()),
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
    Scenario("BR", "objection", 9, ("Mariana Costa", "mariana.costa@example.com.br", "pt-br"),
             [(0, C), (1, V), (8, D, "Processing is needed to meet a legal obligation (LGPD Art. 7 II).")]),
    # --- lfpdppp ------------------------------------------------------------------------------------
    Scenario("MX", "access", 1, ("José Hernández", "jose.hernandez@example.com.mx", "es")),
    Scenario("MX", "rectification", 4, ("María López", "maria.lopez@example.com.mx", "es"),
             [(0, C), (2, I, "information", "Indique qué dato desea corregir y el valor correcto.")]),
    Scenario("MX", "cancellation", 20, ("Carlos Ramírez", "carlos.ramirez@example.com.mx", "es"),
             [(0, C), (2, I, "identity", "Envíe una copia de su identificación oficial (INE)."),
              (6, R, "Adjunto mi INE"), (7, V)]),
    Scenario("MX", "access", 30, ("Guadalupe Flores", "guadalupe.flores@example.com.mx", "es"),
             [(0, C), (1, V), (12, DA)]),
    Scenario("MX", "opposition", 40, ("Fernando Torres", "fernando.torres@example.com.mx", "es"),
             [(0, C), (1, I, "information", "Indique para qué finalidad se opone al tratamiento."),
              (25, N, "Sin respuesta en 10 días hábiles: la solicitud se tiene por no presentada.")]),
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

CASE_TIMES = ("received_at", "email_confirmed_at", "verified_at", "information_requested_at", "decision_sent_at",
              "closed_at", "escalated_at", "created_at")


class Demo:
    def __init__(self, users: dict[str, User]):
        self.manager, self.analyst = users["manager"], users["analyst"]

    # --- playing a scenario ----------------------------------------------------------------------
    def play(self, s: Scenario) -> DataSubjectRequest:
        name, email, language = s.person
        extra = {"data_description": "Mis datos de cuenta y pedidos"} if s.jurisdiction == "MX" else {}
        with transaction.atomic():
            case = services.submit_request(
                jurisdiction=s.jurisdiction, request_types=[s.request_type], requester_name=name,
                requester_email=email, language=language,
                account_id=f"CUST-{zlib.crc32(email.encode()) % 90000 + 10000}",
                details="Submitted through the privacy request form.", **{**extra, **s.submit})[0]
        day = 0
        for step in s.steps:
            offset, action, *args = step
            with transaction.atomic():
                case = self.age(case, offset - day)
                case = getattr(self, action)(case, *args) or case
            day = offset
        with transaction.atomic():
            return self.age(case, s.age - day)

    def worker(self, case):
        return case.assignee or self.manager

    def confirm(self, case):
        return services.confirm_email(case)

    def verify(self, case):
        return services.verify_identity(case, self.worker(case), method="Matched account e-mail and last order")

    def ask(self, case, what, message):
        return services.request_information(case, self.worker(case), what=what, message=message)

    def reply(self, case, message):
        upload = ID_COPY if case.awaiting == "identity" else None
        return services.receive_reply(case, message=message, upload=upload)

    def extend(self, case, reason):
        services.extend_deadline(case, self.worker(case), reason=reason)

    def fulfil(self, case):
        know = case.regime == "ccpa" and case.request_type == "access"
        decision = KNOW if know else ({"data": KNOW["data"]} if case.request_type_info.kind == "access" else {})
        return services.fulfil(case, self.worker(case), decision=decision)

    def partial(self, case, reasons):
        return services.partially_fulfil(case, self.worker(case), reasons=reasons)

    def deny(self, case, reasons):
        return services.deny(case, self.worker(case), reasons=reasons)

    def withdraw(self, case):
        return services.withdraw(case, reason="I no longer need this")

    def not_filed(self, case, reason):
        return services.close_not_filed(case, reason=reason)

    def admissible(self, case):
        return services.determine(case, self.worker(case), admissible=True)

    def inadmissible(self, case, reasons):
        return services.determine(case, self.worker(case), admissible=False, reasons=reasons)

    def appeal(self, case, statement):
        services.file_appeal(case, statement=statement)

    def review(self, case):
        services.start_appeal_review(case.appeals.get(), self.manager)

    def decide_appeal(self, case, outcome, reasons):
        services.decide_appeal(case.appeals.get(), self.manager, outcome=outcome, reasons=reasons)

    def assign(self, case):
        return services.assign(case, self.manager, self.analyst)

    def note(self, case, text):
        services.add_note(case, self.worker(case), text)

    # --- moving a case back in time ------------------------------------------------------------------
    def age(self, case, days: int) -> DataSubjectRequest:
        """Move everything the case has lived through `days` days into the past; every clock is
        recomputed from its moved start with its own rule (business days are not shift-invariant)."""
        case = DataSubjectRequest.objects.get(pk=case.pk)
        if days <= 0:
            return case
        delta = dt.timedelta(days=days)
        changes = {f: getattr(case, f) - delta for f in CASE_TIMES if getattr(case, f) is not None}
        year = changes["received_at"].year
        changes["reference"] = re.sub(r"^DSAR-\d{4}-", f"DSAR-{year}-", case.reference)
        DataSubjectRequest.objects.filter(pk=case.pk).update(**changes)
        for appeal in case.appeals.all():
            Appeal.objects.filter(pk=appeal.pk).update(**{
                f: getattr(appeal, f) - delta for f in ("received_at", "decided_at", "created_at")
                if getattr(appeal, f) is not None})
        jur, regime = case.jurisdiction_info, case.regime_info
        deadlines = list(case.deadlines.all())
        for d in deadlines:
            d.start_date -= delta
            rule = regime.any_clock(d.kind, case.request_type)
            if rule is None:  # internal calendar-day timer (e-mail confirmation): a plain shift
                d.due_date -= delta
            else:
                d.due_date = compute_due(rule, d.start_date, jur, extended=d.extended, paused_days=d.paused_days)
                if d.extended_due_date is not None:
                    d.extended_due_date = compute_due(rule, d.start_date, jur, extended=True,
                                                      paused_days=d.paused_days)
            d.due_at = end_of_day(d.due_date, d.timezone)
            for f in ("paused_since", "extended_at", "closed_at", "created_at"):
                if getattr(d, f) is not None:
                    setattr(d, f, getattr(d, f) - delta)
        Deadline.objects.bulk_update(deadlines, ["start_date", "due_date", "due_at", "extended_due_date",
                                                 "paused_since", "extended_at", "closed_at", "created_at"])
        for model in (Attachment, Note):
            for obj in model.objects.filter(case=case):
                model.objects.filter(pk=obj.pk).update(created_at=obj.created_at - delta)
        case = DataSubjectRequest.objects.get(pk=case.pk)
        services.refresh_next_due(case)
        return case


class Command(BaseCommand):
    help = "Create demo staff users and about 65 realistic cases across every regime and state."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any case exists")

    def handle(self, *args, **opts):
        if opts["if_empty"] and DataSubjectRequest.objects.exists():
            self.stdout.write("Cases exist already; no demo data added.")
            return
        users = self.users()
        demo = Demo(users)
        for scenario in SCENARIOS:
            demo.play(scenario)
        cases = DataSubjectRequest.objects.all()
        now = timezone.now()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data: {cases.count()} cases ({cases.filter(closed_at__isnull=True).count()} open, "
            f"{cases.filter(closed_at__isnull=True, next_due_at__lt=now).count()} overdue), "
            f"{Appeal.objects.count()} appeals. Staff: manager / analyst / auditor and superuser admin, "
            f"password {PASSWORD}."))

    def users(self) -> dict[str, User]:
        groups = ensure_roles()
        users = {}
        for username, role, first, last in STAFF:
            user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            user.first_name, user.last_name, user.is_staff = first, last, True
            user.set_password(PASSWORD)
            user.save()
            user.groups.add(groups[role])
            users[username] = User.objects.get(pk=user.pk)  # fresh permission cache
        admin, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(PASSWORD)
        admin.save()
        return users
