"""Remember the address a request came in on, for links built outside the view (e-mails)."""
from __future__ import annotations

from contextvars import ContextVar

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
