from __future__ import annotations

import base64
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.forms import OTPTokenForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import sessions

ISSUER = "DSAR privacy team"


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/staff/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()) else "/staff/"


@never_cache
@login_required
def otp_verify(request):
    form = OTPTokenForm(request.user, request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        otp_login(request, request.user.otp_device)
        return redirect(_next(request))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request), "device": device})


def _qr_svg(uri: str) -> str:
    import qrcode
    import qrcode.image.svg

    out = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue().decode()


@never_cache
@login_required
def otp_setup(request):
    """Add a TOTP device: scan the code (or type the key), then prove it with one code."""
    if user_has_device(request.user) and not request.user.is_verified():
        return redirect("accounts:otp_verify")  # a second device needs the first one
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first() or TOTPDevice.objects.create(
        user=request.user, name="Authenticator app", confirmed=False)
    error = ""
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(_next(request))
        error = "That code is not right. Check the time on your phone and enter the current code."
    uri = device.config_url.replace("otpauth://totp/", f"otpauth://totp/{ISSUER.replace(' ', '%20')}:", 1)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(request, "accounts/otp_setup.html",
                  {"qr": _qr_svg(uri), "secret": secret, "error": error, "next": _next(request)})


@never_cache
@login_required
def profile(request):
    return render(request, "accounts/profile.html", {
        "devices": TOTPDevice.objects.filter(user=request.user, confirmed=True),
        "via": request.session.get(sessions.VIA_KEY, "password")})


@require_POST
@login_required
def sign_out_everywhere(request):
    sessions.sign_out_everywhere(request)
    messages.success(request, "You are signed out on every device.")
    return redirect("login")
