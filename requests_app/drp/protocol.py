"""The Data Rights Protocol 1.0 rules that need no database: signed-message validation in the
order of §3.07, the directory JSON Schemas of §3.05, and the mapping of DRP exercises and
regimes onto our regimes' request types. No Django imports: tests drive it directly."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

import jsonschema
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

VERSION = "1.0"
MAX_BODY_BYTES = 64 * 1024  # a signed request is a few hundred bytes; anything this big is not one

# §3.05.1, verbatim: one entry of the Authorized Agent directory.
AGENT_SCHEMA = {
    "$id": "https://sd.datarightsprotocol.org/agent.schema.json",
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "[A-Z_]+"},
        "name": {"type": "string"},
        "verify_key": {"type": "string", "pattern": "[a-zA-Z0-9+/]+"},
        "web_url": {"type": "string", "pattern": "https://[a-z./-]+"},
        "identity_assurance_url": {"type": "string", "pattern": "https://[a-z./-]+"},
        "technical_contact": {"type": "string"},
        "business_contact": {"type": "string"},
    },
}

# §3.05.2, verbatim: one entry of the Covered Business directory (ours is built from it).
BUSINESS_SCHEMA = {
    "$id": "https://sd.datarightsprotocol.org/business.schema.json",
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "[A-Z_]+"},
        "name": {"type": "string"},
        "logo": {"type": ["null", "string"]},
        "api_base": {"type": "string", "pattern": "https://[a-z/.-]+"},
        "supported_actions": {
            "type": "array",
            "items": {"type": "string", "enum": ["access", "deletion", "sale:opt-out", "sale:opt-in",
                                                "access:categories", "access:specific"]},
        },
        "supported_verifications": {
            "type": "array", "items": {"type": "string", "enum": ["email", "phone_number", "address"]},
        },
        "privacy_policy_url": {"type": "string", "pattern": "https://[a-z/.-]+"},
        "web_url": {"type": "string", "pattern": "https://[a-z/.-]+"},
        "technical_contact": {"type": "string"},
        "business_contact": {"type": "string"},
    },
}


class DrpError(Exception):
    """A refused request: the §3.06 error object and its HTTP status."""

    def __init__(self, status: int, message: str, *, fatal: bool = False):
        super().__init__(message)
        self.status, self.message, self.fatal = status, message, fatal

    def as_json(self) -> dict:
        body = {"code": str(self.status), "message": self.message}
        if self.fatal:
            body["fatal"] = True
        return body


# --- directory entries ---------------------------------------------------------------------------

ENTRY_LIMITS = {"id": 100, "name": 200, "verify_key": 100, "web_url": 300, "identity_assurance_url": 300,
                "technical_contact": 254, "business_contact": 254}  # our columns' sizes


def validate_agent_entry(entry) -> dict:
    """The entry against §3.05.1's schema, plus what the schema leaves loose but we rely on: an
    id, a name, and a verify key that decodes to a 32-byte Ed25519 key."""
    try:
        jsonschema.validate(entry, AGENT_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "entry"
        raise ValueError(f"{where}: {exc.message}") from None
    missing = [k for k in ("id", "name", "verify_key") if not entry.get(k)]
    if missing:
        raise ValueError(f"the entry has no {', '.join(missing)}")
    for key, limit in ENTRY_LIMITS.items():
        if len(entry.get(key) or "") > limit:
            raise ValueError(f"{key}: longer than {limit} characters")
    verify_key_from(entry["verify_key"])
    return entry


def verify_key_from(text: str) -> VerifyKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return VerifyKey(raw)
    except (binascii.Error, ValueError, CryptoError, TypeError):
        raise ValueError("verify_key is not a base64-encoded 32-byte Ed25519 key") from None


# --- signed messages (§3.07) ---------------------------------------------------------------------

def decode(body: bytes) -> bytes:
    """Step 1: the body decodes from base64 into the signed buffer (signature + JSON)."""
    try:
        signed = base64.b64decode(body.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise DrpError(400, "The request body is not base64 (§3.07.1: sign, then base64-encode).") from None
    if len(signed) <= 64:
        raise DrpError(400, "The decoded request is too short to hold a signature and a message.")
    return signed


def verify(signed: bytes, verify_key: str) -> dict:
    """Step 2: the signature at the start of the buffer validates against the agent's key; the
    message after it must then be a JSON object."""
    try:
        message = verify_key_from(verify_key).verify(signed)
    except (BadSignatureError, ValueError):
        raise DrpError(403, "The signature does not validate with the agent's registered verify key.") from None
    try:
        obj = json.loads(message)
    except (UnicodeDecodeError, ValueError):
        raise DrpError(400, "The signed message is not valid JSON.") from None
    if not isinstance(obj, dict):
        raise DrpError(400, "The signed message must be a JSON object.")
    return obj


def parse_time(value, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise DrpError(400, f"'{name}' must be an ISO 8601 timestamp.")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DrpError(400, f"'{name}' is not an ISO 8601 timestamp: {value[:40]!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)  # no offset: UTC


def check_claims(obj: dict, *, agent_id: str, business_id: str, now: dt.datetime,
                 required: bool = True) -> None:
    """Steps 3-6 of §3.07, in order: agent-id, business-id, issued-at <= now < expires-at.
    With required=False (the revoke body, whose example has only a reason) a claim that is
    absent is not checked, one that is present is."""
    if required or "agent-id" in obj:
        if obj.get("agent-id") != agent_id:
            raise DrpError(403, "'agent-id' does not match the agent this token or key belongs to.")
    if required or "business-id" in obj:
        if obj.get("business-id") != business_id:
            raise DrpError(403, f"'business-id' is not this covered business ({business_id}).")
    if required or "issued-at" in obj:
        if parse_time(obj.get("issued-at"), "issued-at") > now:
            raise DrpError(400, "'issued-at' is in the future: check the agent's clock.")
    if required or "expires-at" in obj:
        if now >= parse_time(obj.get("expires-at"), "expires-at"):
            raise DrpError(400, "The request has expired ('expires-at' has passed).", fatal=True)
    if required and str(obj.get("drp.version", "")) != VERSION:
        raise DrpError(400, f"'drp.version' must be \"{VERSION}\".")


# --- exercises and regimes -----------------------------------------------------------------------

# DRP regime value -> our jurisdiction. Only the US laws that let authorised agents file
# (shared/spec/regimes.md: ccpa, cpa, ctdpa, vcdpa, ucpa); DRP 1.0 itself names only "ccpa" (§3.01).
REGIME_JURISDICTIONS = {"ccpa": "US-CA", "cpa": "US-CO", "ctdpa": "US-CT", "vcdpa": "US-VA", "ucpa": "US-UT"}
STATE_REGIMES = {j.split("-")[1]: r for r, j in REGIME_JURISDICTIONS.items()}

# DRP exercise -> request type, per regime. §3.01; commit 7f3b934 renamed sale:opt_out to
# sale:opt-out without a version change, so both spellings are accepted.
_US_STATE = {"sale:opt-out": "opt_out", "access": "access", "access:categories": "access",
             "access:specific": "access", "deletion": "deletion", "correction": "correction"}
EXERCISES = {
    "ccpa": {**_US_STATE, "sale:opt-out": "opt_out_sale_sharing"},
    "cpa": _US_STATE, "ctdpa": _US_STATE, "vcdpa": _US_STATE,
    "ucpa": {k: v for k, v in _US_STATE.items() if v != "correction"},  # Utah Code 13-61-201: no correction
}
SPELLINGS = {"sale:opt_out": "sale:opt-out", "sale:opt_in": "sale:opt-in"}
KNOWN_EXERCISES = frozenset({"sale:opt-out", "sale:opt-in", "access", "access:categories", "access:specific",
                             "deletion", "correction"})
EXERCISE_NOTES = {  # what staff must know that the request type alone does not say
    "access:categories": "The agent asked for the categories of personal information only.",
    "access:specific": "The agent asked for the specific pieces of personal information.",
}


@dataclass(frozen=True)
class Target:
    drp_regime: str
    jurisdiction: str
    request_type: str
    exercise: str  # normalised spelling


def target(exercise, regime, address) -> Target:
    """Where the request goes: the regime given, else the state of the consumer's address claim."""
    if not isinstance(exercise, str) or not exercise:
        raise DrpError(400, "'exercise' is required.")
    exercise = SPELLINGS.get(exercise, exercise)
    if exercise not in KNOWN_EXERCISES:
        raise DrpError(400, f"Unsupported rights action '{exercise[:40]}'.", fatal=True)
    if regime in (None, ""):
        state = address.get("region", "") if isinstance(address, dict) else ""
        country = address.get("country", "") if isinstance(address, dict) else ""
        regime = STATE_REGIMES.get(str(state).upper()) if str(country).upper() in ("US", "USA") else None
        if regime is None:
            raise DrpError(400, "Without a 'regime' we accept agent requests only from consumers whose address "
                                "claim is in a US state whose law lets agents file (CA, CO, CT, VA, UT).",
                           fatal=True)
    if not isinstance(regime, str) or regime.lower() not in REGIME_JURISDICTIONS:
        raise DrpError(400, f"Unsupported regime '{str(regime)[:20]}': we accept agent requests under "
                            f"{', '.join(REGIME_JURISDICTIONS)}.", fatal=True)
    regime = regime.lower()
    request_type = EXERCISES[regime].get(exercise)
    if request_type is None:
        raise DrpError(400, f"Unsupported rights action '{exercise}' under {regime}.", fatal=True)
    return Target(regime, REGIME_JURISDICTIONS[regime], request_type, exercise)


# --- identity claims (§3.04) ---------------------------------------------------------------------

IDENTITY_CLAIMS = ("name", "email", "email_verified", "phone_number", "phone_number_verified", "address",
                   "address_verified", "power_of_attorney")


def identity(obj: dict) -> dict:
    """The schema.org/Person claims, as sent (their _verified flags kept)."""
    claims = {k: obj[k] for k in IDENTITY_CLAIMS if k in obj}
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise DrpError(400, "The 'email' identity claim is required: it is how the consumer confirms the request.")
    for flag in ("email_verified", "phone_number_verified", "address_verified"):
        if flag in claims and not isinstance(claims[flag], bool):
            raise DrpError(400, f"'{flag}' must be true or false.")
    if "name" in claims and not isinstance(claims["name"], str):
        raise DrpError(400, "'name' must be a string.")
    return claims


def format_address(address) -> str:
    """OpenID Connect Core 1.0 §5.1.1 address claim, as one line."""
    if isinstance(address, str):
        return address
    if not isinstance(address, dict):
        return ""
    if address.get("formatted"):
        return str(address["formatted"])
    parts = [address.get(k) for k in ("street_address", "locality", "region", "postal_code", "country")]
    return ", ".join(str(p) for p in parts if p)
