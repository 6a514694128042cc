"""Assertions shared by the configuration-audit tests of every app (requests_app/configaudit.py)."""
import json

from django.db import transaction

from requests_app.models import ConfigChange


class Rollback(Exception):
    pass


def only_entry(among=None, **expected) -> ConfigChange:
    """The one configuration-audit entry there is (`among`: of these), with the expected attributes."""
    entries = list(ConfigChange.objects.all() if among is None else among)
    assert len(entries) == 1, [str(e) for e in entries]
    entry = entries[0]
    for name, value in expected.items():
        assert getattr(entry, name) == value, (name, getattr(entry, name), value)
    return entry


def text_of(entry: ConfigChange) -> str:
    """Everything an entry holds, as one string to search for secrets."""
    return json.dumps([entry.actor_label, entry.action, entry.object_type, entry.object_id, entry.object_repr,
                       entry.fields, entry.data], default=str)


def assert_no_secret(entry: ConfigChange, *secrets: str) -> None:
    text = text_of(entry)
    for secret in secrets:
        assert secret and secret not in text, secret


def rolled_back(change) -> None:
    """Run `change` in a transaction that fails after it: it must have written its audit entry
    there, and the entry must go with the rolled-back change."""
    try:
        with transaction.atomic():
            change()
            assert ConfigChange.objects.count() == 1, "the change wrote no audit entry in its transaction"
            raise Rollback
    except Rollback:
        pass
    assert not ConfigChange.objects.exists()
