"""Connector secrets (connection URLs, signing secrets) encrypted at rest with Fernet.
The key comes from settings.DSAR_CONNECTOR_KEY; without one, it is derived from SECRET_KEY
(development only: production sets its own, so rotating SECRET_KEY does not lose the secrets)."""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.DSAR_CONNECTOR_KEY
    if not key:
        key = base64.urlsafe_b64encode(hashlib.sha256(b"dsar.connectors:" + settings.SECRET_KEY.encode()).digest())
    return Fernet(key)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("the stored secret cannot be decrypted with the current DSAR_CONNECTOR_KEY") from None
