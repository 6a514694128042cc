"""Demo: a small SQLite "shop" database and the data systems whose connectors work it.

Idempotent: an existing shop database is kept, the connectors are (re)configured."""
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from requests_app.connectors import shop


class Command(BaseCommand):
    help = "Create the demo shop database (SQLite) and configure its connectors"

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(Path(settings.VAR_DIR) / "shop.sqlite3"))

    def handle(self, *args, path, **options):
        db = Path(path).resolve()
        url = f"sqlite:///{db}"
        if not db.exists():
            db.parent.mkdir(parents=True, exist_ok=True)
            db.touch()
            shop.create(url)
            self.stdout.write(f"shop database created: {db}")
        owner = User.objects.filter(username="analyst").first()
        systems = shop.configure(url, owner=owner)
        self.stdout.write(f"{len(systems)} shop systems worked by connectors: "
                          + ", ".join(s.name for s in systems))
        self.stdout.write("Try an access or deletion request as ana@example.com (account A-1001).")
