"""A marketplace's data map for the demo: ten systems of ours and three processors, their CCPA
categories (privacy policy, section K), sources, purposes and recipients (sections A-C). Idempotent."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from requests_app.fulfilment.models import DataSystem
from requests_app.fulfilment.services import save_system

ALL = ["access", "deletion", "correction"]
SYSTEMS = [
    # name, categories, request kinds, sources, purposes, recipients, processor (vendor, e-mail) or None
    ("Accounts", ["identifiers", "customer_records", "sensitive"], ALL, "You, when you register",
     "Setting up and administering your account", "Our cloud hosting providers", None),
    ("Orders", ["commercial", "customer_records"], ["access", "deletion"], "Your purchases on the platform",
     "Processing transactions and deliveries", "Sellers on the platform", None),
    ("Payments ledger", ["commercial"], ["access", "deletion"], "Your payments",
     "Processing payments; tax and accounting duties", "Payment service providers", None),
    ("Customer support", ["audio_visual", "identifiers"], ALL, "Your messages to customer service",
     "Customer service, claims and disputes", "Our support tooling provider", None),
    ("Marketing", ["identifiers", "inferences"], ["access", "deletion", "opt_out"], "Your activity and choices",
     "Membership benefits, personalisation and advertising", "Advertising networks", None),
    ("Reviews", ["audio_visual", "commercial"], ALL, "Reviews and photos you upload",
     "Publishing product reviews", "Other users of the platform", None),
    ("Wishlist and cart", ["commercial", "inferences"], ["access", "deletion"], "What you save on the platform",
     "Providing the platform's features", "None", None),
    ("Sign-in logs", ["internet_activity", "geolocation", "sensitive"], ["access", "deletion"],
     "Your devices when you use the platform", "Security and fraud prevention", "Security service providers", None),
    ("Recommendations", ["inferences", "internet_activity"], ["access", "deletion", "opt_out"],
     "Your browsing and purchases", "Recommendations and personalisation", "None", None),
    ("Web analytics", ["internet_activity", "geolocation"], ["access", "deletion", "opt_out"],
     "Cookies and similar technologies", "Improving the platform", "Data analytics providers", None),
    ("Courier tracking", ["identifiers", "geolocation"], ["access", "deletion", "correction"], "Delivery of your orders",
     "Delivering your orders", "Logistics partners", ("FastShip Ltd", "privacy@fastship.example")),
    ("Payment provider", ["commercial", "sensitive"], ["access", "deletion"], "Your payments",
     "Processing payments", "Card networks", ("PayCo", "dpo@payco.example")),
    ("Ad network", ["identifiers", "internet_activity", "inferences"], ["access", "deletion", "opt_out"],
     "Cookies and pixels on the platform", "Interest-based advertising", "Advertisers", ("AdCo", "privacy@adco.example")),
]


class Command(BaseCommand):
    help = "Create the demo marketplace's data map (ten systems of ours, three processors)."

    def add_arguments(self, parser):
        parser.add_argument("--owner", default="analyst", help="username that owns our systems")

    def handle(self, *args, owner, **options):
        user = get_user_model().objects.filter(username=owner).first()
        created = 0
        for name, categories, kinds, sources, purposes, recipients, processor in SYSTEMS:
            fields = {"categories": categories, "request_kinds": kinds, "sources": sources, "purposes": purposes,
                      "recipients": recipients}
            if processor:
                fields.update(kind="processor", vendor_name=processor[0], vendor_email=processor[1],
                              work_mode="vendor")
            else:
                fields.update(owner=user, owner_email="" if user else "privacy-team@example.com")
            if not DataSystem.objects.filter(name=name).exists():
                # As a manager's edit is saved: the data map routes work, so it is in the trail.
                save_system(DataSystem(name=name, **fields), None, actor="seed_datamap")
                created += 1
        if options["verbosity"]:
            self.stdout.write(f"data map: {created} system(s) created, {len(SYSTEMS) - created} already there")
