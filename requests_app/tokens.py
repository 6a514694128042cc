"""Unguessable, signed, expiring links for requesters (django.core.signing).

A token names the case by its random public_id and the purpose it was made for, so a
confirmation token cannot open the status page and vice versa.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing

CONFIRM = "confirm"
STATUS = "status"
AGENT_PERMISSION = "agent_permission"  # the consumer confirms an agent's permission (11 CCR §7063(a))

MAX_AGE = {
    CONFIRM: lambda: dt.timedelta(days=settings.DSAR_CONFIRMATION_DAYS),
    STATUS: lambda: dt.timedelta(days=settings.DSAR_STATUS_LINK_MAX_AGE_DAYS),
    AGENT_PERMISSION: lambda: dt.timedelta(days=settings.DSAR_STATUS_LINK_MAX_AGE_DAYS),
}


class BadToken(Exception):
    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def make_token(case, purpose: str) -> str:
    return signing.dumps(str(case.public_id), salt=f"dsar.{purpose}", compress=False)


def read_token(token: str, purpose: str):
    """Return the case a token names, or raise BadToken (tampered or expired)."""
    from .models import DataSubjectRequest

    try:
        public_id = signing.loads(token, salt=f"dsar.{purpose}", max_age=MAX_AGE[purpose]())
    except signing.SignatureExpired:
        raise BadToken("This link has expired.", expired=True) from None
    except signing.BadSignature:
        raise BadToken("This link is not valid.") from None
    try:
        return DataSubjectRequest.objects.get(public_id=public_id)
    except (DataSubjectRequest.DoesNotExist, ValueError):
        raise BadToken("This link is not valid.") from None


DEVELOPMENT_SITE_URL = "http://127.0.0.1:8000"  # run.sh's default port, for the worker without SITE_URL


def read_expired_token(token: str, purpose: str, max_age: dt.timedelta):
    """The case an expired but genuine link names, if the link is younger than `max_age`; else None.
    Lets an old confirmation link say what became of its request (issue 11)."""
    from .models import DataSubjectRequest

    try:
        public_id = signing.loads(token, salt=f"dsar.{purpose}", max_age=max_age)
    except signing.BadSignature:
        return None
    return DataSubjectRequest.objects.filter(public_id=public_id).first()


def absolute_url(path: str) -> str:
    from .middleware import request_base_url

    base = settings.SITE_URL or request_base_url.get() or DEVELOPMENT_SITE_URL
    return base.rstrip("/") + path
