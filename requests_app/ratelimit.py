"""Cache-backed rate limits for the public pages (per client IP and per e-mail address).

A fixed window per (scope, key): windows are aligned on the clock (the window number is part of
the cache key), so a limit means the same with every cache backend: the first hit creates the
window's counter, later hits increment it (`cache.add` + `cache.incr`, atomic on Redis and locmem),
and the counter's expiry is only clean-up (the file cache's `incr` rewrites the expiry; the key of
the next window is a new key either way). Keys are hashed so that no e-mail address is stored in
the cache in clear.

A cache that is down or hung never costs a request: the limit is skipped and the outage logged
("no rate limit, logged"), because a lost data-subject request is worse than a burst.

Rates are written like django-ratelimit's: "10/h", "5/m", "100/d", "3/30m".
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

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
    """REMOTE_ADDR, or the header a trusted reverse proxy sets (DSAR_CLIENT_IP_HEADER, from the
    environment, e.g. HTTP_X_REAL_IP, or HTTP_X_FORWARDED_FOR with DSAR_TRUSTED_PROXY_COUNT proxies:
    the address the nearest trusted proxy saw). Never trusted by default: a client can forge it."""
    header = getattr(settings, "DSAR_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    if value:
        hops = [part.strip() for part in value.split(",") if part.strip()]
        # Each trusted proxy appends what it saw: the client is the one the outermost trusted proxy saw.
        trusted = max(1, getattr(settings, "DSAR_TRUSTED_PROXY_COUNT", 1))
        if hops:
            return hops[-trusted] if len(hops) >= trusted else hops[0]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(scope: str, value: str, seconds: int, window: int) -> str:
    digest = hashlib.sha256(f"{scope}:{value.strip().lower()}".encode()).hexdigest()[:32]
    return f"dsar:rl:{scope}:{seconds}:{window}:{digest}"


def hit(scope: str, value: str, rate: str | Rate) -> bool:
    """Count one attempt; return False when it is over the limit for the current window.
    Never raises on a cache error: the attempt is allowed and the outage logged."""
    rate = Rate.parse(rate) if isinstance(rate, str) else rate
    now = time.time()
    window = int(now // rate.seconds)
    key = _key(scope, value, rate.seconds, window)
    ttl = max(1, int((window + 1) * rate.seconds - now) + 1)  # until the window ends
    try:
        if cache.add(key, 1, timeout=ttl):
            return rate.limit >= 1
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: the window has just ended
            cache.add(key, 1, timeout=ttl)
            count = 1
        else:
            cache.touch(key, ttl)  # a backend whose incr resets the expiry (file cache) keeps the window's
        return count <= rate.limit
    except Exception:  # noqa: BLE001 - cache down or hung: no rate limit, logged, request kept
        log.warning("rate limit %s skipped: the cache is unavailable", scope, exc_info=True)
        return True


def allow(request, scope: str, *, email: str = "", emails=()) -> bool:
    """Count the attempt against the client IP and every address the product will write to (the
    requester's, an agent's): all counters are always incremented, so a blocked address cannot be
    probed per IP, and naming a victim as the agent counts against the victim's address."""
    ip_ok = hit(f"{scope}:ip", client_ip(request), settings.DSAR_RATE_LIMIT_PER_IP)
    addresses = {a.strip().lower() for a in (email, *emails) if a and a.strip()}
    emails_ok = [hit(f"{scope}:email", a, settings.DSAR_RATE_LIMIT_PER_EMAIL) for a in sorted(addresses)]
    return ip_ok and all(emails_ok)
