"""Register, list and remove DRP authorised agents.

    manage.py drp_agent add ENTRY.json     # a §3.05.1 directory entry (one object, or a list of them)
    manage.py drp_agent list
    manage.py drp_agent remove AGENT_ID    # its tokens stop working; its requests stay
"""
import json

from django.core.management.base import BaseCommand, CommandError

from requests_app.drp import services
from requests_app.drp.models import Agent

COMMAND = "manage.py drp_agent"  # who the configuration audit names: a command has no user


class Command(BaseCommand):
    help = "Manage Data Rights Protocol authorised agents (add ENTRY.json | list | remove AGENT_ID)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register an agent from its directory entry (JSON file)")
        add.add_argument("entry")
        sub.add_parser("list", help="list registered agents")
        remove = sub.add_parser("remove", help="remove an agent")
        remove.add_argument("agent_id")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, entry, **_):
        try:
            with open(entry, encoding="utf-8") as fh:
                data = json.load(fh)
        except OSError as exc:
            raise CommandError(f"cannot read {entry}: {exc}") from None
        except ValueError as exc:
            raise CommandError(f"{entry} is not valid JSON: {exc}") from None
        for item in data if isinstance(data, list) else [data]:
            try:
                agent = services.register_agent(item, actor=COMMAND)
            except ValueError as exc:
                raise CommandError(f"{entry}: {exc}") from None
            self.stdout.write(f"registered {agent.agent_id} ({agent.name})")

    def _list(self, **_):
        for agent in Agent.objects.all():
            state = "active" if agent.active else "removed"
            self.stdout.write(f"{agent.agent_id}\t{agent.name}\t{agent.contact_email}\t{state}\t{agent.verify_key}")

    def _remove(self, agent_id, **_):
        if not Agent.objects.filter(agent_id=agent_id).exists():
            raise CommandError(f"no agent {agent_id}")
        services.remove_agent(agent_id, actor=COMMAND)
        self.stdout.write(f"removed {agent_id}")
