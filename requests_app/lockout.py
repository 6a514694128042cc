"""Brute-force protection on staff sign-in (/accounts/login/, /admin/login/) with django-axes:
the account and, separately, the client address are locked after DSAR_LOGIN_FAILURE_LIMIT failures."""
import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.shortcuts import render

from . import ratelimit


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend. A sign-in without a request (the test client's login(), a shell) has no
    client to count; it is left to the next backend instead of failing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a clear page (status 429) saying for how long."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the rate limits' client address (the same trusted proxy header),
    or None when there is no valid one (axes stores it in an IP address column)."""
    value = ratelimit.client_ip(request)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
