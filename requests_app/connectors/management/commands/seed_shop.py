"""Demo: a small SQLite "shop" database and the data systems whose connectors work it, plus two
requests worked by them end to end (an access request collected, an erasure done after its dry
run and a second person's approval), so a newcomer sees the connectors at work.

Idempotent: an existing shop database is kept and only the connectors are (re)configured."""
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from requests_app import services
from requests_app.connectors import services as connectors
from requests_app.connectors import shop
from requests_app.connectors.models import Run
from requests_app.management.commands.seed_demo import inline_worker


class Command(BaseCommand):
    help = "Create the demo shop database (SQLite), configure its connectors and work two requests"

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(Path(settings.VAR_DIR) / "shop.sqlite3"))

    def handle(self, *args, path, **options):
        db = Path(path).resolve()
        url = f"sqlite:///{db}"
        fresh = not db.exists()
        if fresh:
            db.parent.mkdir(parents=True, exist_ok=True)
            db.touch()
            shop.create(url)
            self.stdout.write(f"shop database created: {db}")
        analyst = User.objects.filter(username="analyst").first()
        manager = User.objects.filter(username="manager").first()
        systems = shop.configure(url, owner=analyst)
        self.stdout.write(f"{len(systems)} shop systems worked by connectors: " + ", ".join(s.name for s in systems))
        if fresh and analyst and manager:
            with inline_worker():
                self.work_examples(analyst, manager)
        self.stdout.write("Try a request as ana@example.com (account A-1001) or carla@example.mx (Mexico).")

    def work_examples(self, analyst, manager):
        access = services.submit_request(jurisdiction="US-CA", request_types=["access"], requester_name="Ana Example",
                                         requester_email="ana@example.com", account_id="A-1001")[0]
        services.confirm_email(access)  # the identity source finds two data points
        services.verify_identity(access, manager, method="Shop account: e-mail and account ID match")
        erase = services.submit_request(jurisdiction="US-CA", request_types=["deletion"], requester_name="Ben Sample",
                                        requester_email="ben@example.com", account_id="A-1002")[0]
        services.confirm_email(erase)
        services.verify_identity(erase, manager, method="Shop account: e-mail and account ID match")
        services.assign(erase, manager, analyst)
        for run in Run.objects.filter(task__case=erase):
            connectors.request_erasure(run, analyst)  # after the dry run's counts
            connectors.approve_erasure(run, manager)  # a second person
        self.stdout.write(f"demo: {access.reference} collected, {erase.reference} erased by the shop's connectors")
