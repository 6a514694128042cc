"""Request-wide guards that no single view should have to remember (issue 10).

- `RequestGuardMiddleware`: refuse a request body over DSAR_MAX_REQUEST_BYTES (413; the upload
  cap is per file, so a POST of a hundred parts could otherwise fill the disk) and a NUL byte in the
  query string (400: PostgreSQL refuses NUL in a string, which surfaced as a 500 in admin filters).
- `PrivacyHeadersMiddleware`: Permissions-Policy on every response, and `Cache-Control: no-store`
  on everything a signed-in person sees and on the pages behind a secret link, so personal data is
  never kept by a shared cache or the browser's back/forward store.
- `StaffIdleTimeoutMiddleware`: a signed-in session that has been idle longer than
  DSAR_STAFF_IDLE_MINUTES is signed out (0: never); the session cookie itself ends with the browser.
- `RequestBaseUrlMiddleware`: remembers the address a request came in on, for links built
  outside the view (e-mails) when SITE_URL is unset (issue 11).
"""
from __future__ import annotations

import time
from contextvars import ContextVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

request_base_url: ContextVar[str] = ContextVar("request_base_url", default="")


class RequestBaseUrlMiddleware:
    """Without SITE_URL (development), e-mails link to the host and port the person is using,
    so `PORT=8101 ./run.sh` never sends links to port 8000 (issue 11)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request_base_url.set(f"{request.scheme}://{request.get_host()}")
        try:
            return self.get_response(request)
        finally:
            request_base_url.reset(token)


PRIVATE_PREFIXES = ("/staff/", "/admin/", "/accounts/", "/status/", "/confirm/")
LAST_SEEN = "dsar_last_seen"


def _refuse(request, status: int, code: str, message: str) -> HttpResponse:
    """Plain text for people; the API's JSON error shape for /api/ (its clients parse every error)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(request, 400, "bad_request", "Bad Content-Length.")
        if length > settings.DSAR_MAX_REQUEST_BYTES:
            limit = settings.DSAR_MAX_REQUEST_BYTES // (1024 * 1024)
            return _refuse(request, 413, "too_large", f"What you sent is larger than we accept ({limit} MB in all). "
                           "Please go back and choose a smaller file.")
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
                "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return _refuse(request, 400, "bad_request", "The address contains a character we do not accept.")
        return self.get_response(request)


class PrivacyHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.DSAR_PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if request.path.startswith(PRIVATE_PREFIXES) or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True, no_cache=True, max_age=0)
        return response


class StaffIdleTimeoutMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and settings.DSAR_STAFF_IDLE_MINUTES > 0:
            now = time.time()
            idle = settings.DSAR_STAFF_IDLE_MINUTES * 60
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > idle:
                logout(request)
                messages.info(request, f"You were signed out after {settings.DSAR_STAFF_IDLE_MINUTES} minutes "
                                       "without activity. Please sign in again.")
                return redirect(f"{reverse('login')}?next={request.path}")
            request.session[LAST_SEEN] = now
            # The stored session ends too (later than our check, so that the check can say why).
            request.session.set_expiry(2 * idle)
        return self.get_response(request)
