"""TOTP two-factor for password sign-in (django-otp). With DSAR_STAFF_OTP_REQUIRED, a staff member
who signed in with a password reaches no staff page, admin page or staff API until a TOTP code was
given in this session; one without a device is taken to set one up first. Sign-in through the
company's identity provider is left to its own MFA policy."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django_otp import user_has_device

from .sessions import VIA_KEY

PROTECTED = ("/staff/", "/admin/")


class RequireOTPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (settings.DSAR_STAFF_OTP_REQUIRED and request.path.startswith(PROTECTED)
                and request.user.is_authenticated and request.session.get(VIA_KEY) != "oidc"
                and not request.user.is_verified()):
            target = "accounts:otp_verify" if user_has_device(request.user) else "accounts:otp_setup"
            return redirect(f"{redirect(target).url}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
