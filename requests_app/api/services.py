"""Creating, checking and revoking API keys, and recording their use.

A key is ``dsar_<prefix>_<secret>``: the prefix finds the row, the SHA-256 of the whole key is
compared in constant time. A salted slow hash would add nothing: the secret is 256 random bits,
not a password a person chose, and a slow hash would cost every API request."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .. import configaudit
from ..roles import ensure_roles
from .models import ApiKey, ApiKeyRole, ApiKeyUse

KEY_PREFIX = "dsar_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def is_manager(user) -> bool:
    return user.is_authenticated and user.has_perm("requests_app.assign_case")


@transaction.atomic
def create_key(*, name: str, role: str, created_by=None, expires_at=None, actor: str | None = None
               ) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plain value, which is never stored nor shown again."""
    if created_by is not None and not is_manager(created_by):
        raise PermissionDenied("Only a manager may create API keys.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the key a name (what uses it)."]})
    if role not in ApiKeyRole.values:
        raise ValidationError({"role": [f"Role must be one of {', '.join(ApiKeyRole.values)}."]})
    if ApiKey.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"A key named '{name}' exists already."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    user = get_user_model().objects.create_user(f"api-key-{prefix}", first_name=name[:150])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.add(ensure_roles()[role])
    key = ApiKey.objects.create(name=name, role=role, prefix=prefix, secret_hash=_hash(raw), user=user,
                                created_by=created_by, expires_at=expires_at)
    configaudit.record(key, "created", user=created_by, actor=actor,
                       fields=["name", "role"] + (["expires_at"] if expires_at else []),
                       data={"role": role, "expires_at": expires_at.isoformat() if expires_at else None})
    return key, raw


@transaction.atomic
def revoke_key(key: ApiKey, by=None, actor: str | None = None) -> ApiKey:
    if by is not None and not is_manager(by):
        raise PermissionDenied("Only a manager may revoke API keys.")
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = timezone.now(), by
        key.save(update_fields=["revoked_at", "revoked_by"])
        key.user.is_active = False  # sessions or cached lookups of the service account stop too
        key.user.save(update_fields=["is_active"])
        configaudit.record(key, "revoked", user=by, actor=actor, fields=["revoked_at", "revoked_by"])
    return key


def check_key(raw: str) -> ApiKey | None:
    """The usable key this value names, or None (unknown, wrong secret, revoked or expired)."""
    if not raw.startswith(KEY_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(KEY_PREFIX):].split("_", 1)[0]
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(raw)) or not key.is_usable():
        return None
    return key


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # the use log has every request; this is the summary


def record_use(key: ApiKey, *, method: str, path: str, status: int, ip: str | None) -> None:
    now = timezone.now()
    try:
        ip = str(ipaddress.ip_address(ip or ""))
    except ValueError:  # no address, or a proxy header that is not one
        ip = None
    ApiKeyUse.objects.create(key=key, at=now, method=method[:8], path=path[:255], status=status, ip=ip)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
