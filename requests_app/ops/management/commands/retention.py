from django.core.management.base import BaseCommand

from requests_app.ops import retention


class Command(BaseCommand):
    help = "Redact the requester's personal data from cases closed longer than the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be redacted, change nothing")
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, dry_run=False, limit=500, **options):
        due = retention.due_cases()
        months = retention.retention_months()
        if dry_run:
            rows = list(due.values_list("reference", "regime", "closed_at")[:limit])
            for reference, regime, closed_at in rows:
                self.stdout.write(f"{reference}\t{regime}\tclosed {closed_at:%Y-%m-%d}")
            self.stdout.write(f"{len(rows)} case(s) closed before {retention.cutoff():%Y-%m-%d} "
                              f"({months} months) would be redacted")
            return
        done = retention.run_retention(limit=limit)
        self.stdout.write(f"redacted {done} case(s) ({months} months after closing)")
