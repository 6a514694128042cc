"""manage.py api_key create --name N --role auditor|analyst|manager [--expires YYYY-MM-DD]
manage.py api_key list | revoke NAME"""
import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ...models import ApiKey, ApiKeyRole
from ...services import create_key, revoke_key

COMMAND = "manage.py api_key"  # who the configuration audit names: a command has no user


class Command(BaseCommand):
    help = "Create (the key is printed once), list or revoke API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        create = sub.add_parser("create")
        create.add_argument("--name", required=True)
        create.add_argument("--role", required=True, choices=ApiKeyRole.values)
        create.add_argument("--expires", type=dt.date.fromisoformat, help="Expiry date (UTC midnight)")
        sub.add_parser("list")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("name")

    def handle(self, *args, command, **options):
        if command == "create":
            expires = options["expires"]
            expires_at = dt.datetime.combine(expires, dt.time(), dt.timezone.utc) if expires else None
            try:
                key, raw = create_key(name=options["name"], role=options["role"], expires_at=expires_at,
                                      actor=COMMAND)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
            self.stderr.write(f"Created API key '{key.name}' ({key.role}). It is shown this once:")
            self.stdout.write(raw)
        elif command == "list":
            for key in ApiKey.objects.all():
                self.stdout.write(f"{key.name}\t{key.role}\tdsar_{key.prefix}_…\t{key.status}\t"
                                  f"last used {key.last_used_at or 'never'}")
        else:
            key = ApiKey.objects.filter(name=options["name"]).first()
            if key is None:
                raise CommandError(f"No API key named '{options['name']}'.")
            revoke_key(key, actor=COMMAND)
            self.stdout.write(f"Revoked '{key.name}'.")
