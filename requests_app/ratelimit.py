"""Cache-backed rate limits for the public pages (per client IP and per e-mail address).

A fixed window per (scope, key): the first hit creates a counter that expires with the window,
later hits increment it atomically (`cache.add` + `cache.incr`, atomic on Redis and locmem).
Keys are hashed so that no e-mail address is stored in the cache in clear.

Rates are written like django-ratelimit's: "10/h", "5/m", "100/d", "3/30m".
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        match = _RATE.match(text or "")
        if not match:
            raise ValueError(f"bad rate '{text}': use e.g. '10/h', '5/m', '3/30m'")
        count, multiplier, unit = match.groups()
        return cls(int(count), int(multiplier or 1) * _UNITS[unit])


def client_ip(request) -> str:
    """REMOTE_ADDR, or the header a trusted reverse proxy sets (DSAR_CLIENT_IP_HEADER, e.g.
    HTTP_X_REAL_IP). X-Forwarded-For is never trusted by default: a client can forge it."""
    header = getattr(settings, "DSAR_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    return (value.split(",")[0].strip() if value else "") or request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(scope: str, value: str, window: int) -> str:
    digest = hashlib.sha256(f"{scope}:{value.strip().lower()}".encode()).hexdigest()[:32]
    return f"dsar:rl:{scope}:{window}:{digest}"


def hit(scope: str, value: str, rate: str | Rate) -> bool:
    """Count one attempt; return False when it is over the limit for the current window."""
    rate = Rate.parse(rate) if isinstance(rate, str) else rate
    key = _key(scope, value, rate.seconds)
    if cache.add(key, 1, timeout=rate.seconds):
        return rate.limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.add(key, 1, timeout=rate.seconds)
        count = 1
    return count <= rate.limit


def allow(request, scope: str, *, email: str = "") -> bool:
    """Count the attempt against the client IP and, when given, the e-mail address.
    Both counters are always incremented, so a blocked address cannot be probed per IP."""
    ip_ok = hit(f"{scope}:ip", client_ip(request), settings.DSAR_RATE_LIMIT_PER_IP)
    email_ok = hit(f"{scope}:email", email, settings.DSAR_RATE_LIMIT_PER_EMAIL) if email else True
    return ip_ok and email_ok
