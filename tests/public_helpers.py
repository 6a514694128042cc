"""Helpers shared by the public-form tests: walk the wizard like a browser would."""
from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

# Smallest valid files of each accepted type (magic bytes are what counts).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode"

REGIME_PATHS = {
    # jurisdiction: (regime, a request type it offers)
    "DE": ("gdpr", "access"),
    "GB": ("uk_gdpr", "erasure"),
    "US-CA": ("ccpa", "access"),
    "US-CO": ("cpa", "deletion"),
    "US-CT": ("ctdpa", "correction"),
    "US-VA": ("vcdpa", "portability"),
    "US-UT": ("ucpa", "opt_out"),
    "US-NV": ("nrs603a", "opt_out_sale"),
    "BR": ("lgpd", "confirmation"),
    "MX": ("lfpdppp", "cancellation"),
    "JP": ("voluntary", "access"),
}


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def location_data(jurisdiction: str) -> dict:
    if jurisdiction.startswith("US-"):
        return {"country": "US", "us_state": jurisdiction}
    return {"country": jurisdiction}


def identity_data(**overrides) -> dict:
    data = {"filer": "self", "requester_name": "Ana Example", "requester_email": "ana@example.com"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def walk_to_review(client, jurisdiction: str, request_types: list[str], **identity) -> None:
    """Answer steps 1–4, asserting each one moves on."""
    r = client.post("/", location_data(jurisdiction))
    assert r.status_code == 302 and r.url.endswith("/request/rights/"), _errors(r)
    r = client.get(r.url)
    assert r.status_code == 200
    details = "My order history" if jurisdiction == "MX" else ""  # Mexico: the data concerned, required
    r = client.post("/request/what/", {"request_types": request_types, "details": details})
    assert r.status_code == 302, _errors(r)
    if jurisdiction == "MX":
        identity.setdefault("account_id", "MX-123")
    r = client.post("/request/about-you/", identity_data(**identity))
    assert r.status_code == 302 and r.url.endswith("/request/review/"), _errors(r)


def submit_review(client, capture) -> object:
    with capture(execute=True):
        r = client.post("/request/review/", {"declaration": "on"})
    assert r.status_code == 302 and r.url.endswith("/request/thank-you/"), _errors(r)
    return r


def file_request(client, capture, jurisdiction: str, request_types: list[str], **identity):
    walk_to_review(client, jurisdiction, request_types, **identity)
    return submit_review(client, capture)


def link_from(message, kind: str = "confirm") -> str:
    """The path of the first /confirm/ or /status/ link in an e-mail's text."""
    match = re.search(rf"https?://[^/\s]+(/{kind}/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def last_mail_to(address: str):
    for message in reversed(mail.outbox):
        if address in message.to:
            return message
    raise AssertionError(f"no e-mail to {address}")


def _errors(response) -> str:
    body = response.content.decode(errors="replace")
    found = re.findall(r'class="field-error"[^>]*>(.*?)</p>', body, re.S)
    summary = re.findall(r'<div class="error-summary".*?</div>', body, re.S)
    return f"status {response.status_code}: {found or summary or body[:500]}"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters live in the (locmem) cache, which outlives a test: start each test clean."""
    cache.clear()
    yield
    cache.clear()
