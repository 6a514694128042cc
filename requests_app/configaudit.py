"""The configuration audit: who changed which setting of the system, when, and which fields.

Case actions have their Event trail; this is the same idea for what is configured around the cases
(API keys, webhook subscriptions, DRP agents, connectors and their SQL, the data map, blocked
senders, staff roles). Each service that changes configuration calls `record` inside its own
transaction, so the entry commits or rolls back with the change. Entries name the fields that
changed; a value is kept only where it is configuration an auditor must read (SQL text, a role),
never a secret (`record` refuses secret-looking keys in `data`)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction

from .models import ConfigChange

SYSTEM = "system"
# A key in `data` that names a secret is a programming error: refused before anything is written.
SECRET_KEY = re.compile(r"(^|_)(secret|password|passwd|token|hash|api_?key|encrypted|credentials?|dsn)($|_)", re.I)


def actor_label(user, label: str | None = None) -> str:
    if label:
        return label[:150]
    return user.get_username()[:150] if user is not None else SYSTEM


def _check(data: dict) -> None:
    for key, value in data.items():
        if SECRET_KEY.search(str(key)):
            raise ValueError(f"the configuration audit keeps no secrets ('{key}')")
        if isinstance(value, dict):
            _check(value)


def record(obj, action: str, *, user=None, actor: str | None = None, fields: Iterable[str] = (),
           data: dict | None = None, name: str | None = None) -> ConfigChange:
    """One entry for `action` on `obj` (a saved model instance), in the caller's transaction.
    `name` replaces str(obj) where that would show more than a name (a webhook's URL)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record a configuration change inside the transaction that makes it")
    data = dict(data or {})
    _check(data)
    return ConfigChange.objects.create(
        actor=user if user is not None and user.pk else None, actor_label=actor_label(user, actor),
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)[:100],
        object_repr=(str(obj) if name is None else name)[:200], fields=sorted(set(fields)), data=data)


def snapshot(obj, names: Iterable[str]) -> dict:
    """The named attributes' current values, to compare after the change (`changed`)."""
    return {name: getattr(obj, name) for name in names}


def changed(before: dict, obj) -> list[str]:
    return sorted(name for name, value in before.items() if getattr(obj, name) != value)


def type_label(object_type: str) -> str:
    """'api.apikey' → 'API key' (the model's verbose name); unknown types as stored."""
    from django.apps import apps

    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]
