"""Sign out everywhere, and how each session signed in (the identity provider does its own MFA)."""
from __future__ import annotations

import logging

from django.contrib.auth import logout
from django.core.cache import cache
from django.contrib.auth.signals import user_logged_in
from django.db.models import F
from django.dispatch import receiver

from .models import SessionEpoch

log = logging.getLogger(__name__)

EPOCH_KEY = "staff_epoch"
VIA_KEY = "signed_in_via"
OIDC_BACKEND = "requests_app.accounts.oidc.RoleMappingBackend"


def _key(user) -> str:
    return f"staff-epoch:{user.pk}"


def current_epoch(user) -> int:
    """Read on every staff request, so from the cache (a cache outage falls back to the database)."""
    try:
        cached = cache.get(_key(user))
    except Exception:  # noqa: BLE001 - the cache is an optimisation here, never a point of failure
        cached = None
    if cached is not None:
        return cached
    epoch = SessionEpoch.objects.filter(user=user).values_list("epoch", flat=True).first() or 0
    try:
        cache.set(_key(user), epoch, 300)
    except Exception:  # noqa: BLE001
        pass
    return epoch


@receiver(user_logged_in, dispatch_uid="accounts-stamp-epoch")
def stamp_session(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[EPOCH_KEY] = current_epoch(user)
        request.session[VIA_KEY] = "oidc" if getattr(user, "backend", "") == OIDC_BACKEND else "password"


def sign_out_everywhere(request) -> None:
    epoch, _ = SessionEpoch.objects.get_or_create(user=request.user)
    SessionEpoch.objects.filter(pk=epoch.pk).update(epoch=F("epoch") + 1)
    try:
        cache.delete(_key(request.user))
    except Exception:  # noqa: BLE001 - then other hosts see the new epoch when the entry expires
        log.warning("could not clear the cached session epoch of user %s", request.user.pk)
    logout(request)


class SessionEpochMiddleware:
    """Ends a session opened before its user signed out everywhere (one indexed read per request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if request.session.get(EPOCH_KEY, 0) != current_epoch(user):
                logout(request)
        return self.get_response(request)
