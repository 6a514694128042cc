"""A DRP 1.0 authorised-agent client built with PyNaCl, signing as the reference agent (OSIRAA)
does: base64(SigningKey.sign(json.dumps(obj))). The conformance tests drive our endpoints with
it, and bench/intake.py files signed requests through it.

    from requests_app.drp.agent_client import BenchAgent
    agent = BenchAgent.register()                 # a fresh key pair, registered as an agent (DB write)
    agent.pair(client)                            # POST /v1/agent/{id}: keeps the bearer token
    response = agent.file(client, email="ana@example.com")   # one signed POST /v1/data-rights-request

`client` is django.test.Client (or anything with its post/get/delete signature). `file` returns the
response; `agent.exercise_request(...)` gives the (path, body, headers) to send any other way.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

from django.conf import settings
from nacl.signing import SigningKey

EXERCISE_PATH = "/v1/data-rights-request"


def sign(key: SigningKey, obj) -> str:
    message = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
    message = message.encode() if isinstance(message, str) else message
    return base64.b64encode(key.sign(message)).decode()


class AgentClient:
    def __init__(self, agent_id: str, key: SigningKey | None = None, business_id: str | None = None):
        self.agent_id = agent_id
        self.key = key or SigningKey.generate()
        self.business_id = business_id if business_id is not None else settings.DRP_BUSINESS_ID
        self.token = ""

    @property
    def verify_key(self) -> str:
        return base64.b64encode(bytes(self.key.verify_key)).decode()

    def directory_entry(self, **overrides) -> dict:
        return {"id": self.agent_id, "name": f"Agent {self.agent_id}", "verify_key": self.verify_key,
                "web_url": "https://agent.example.org", "identity_assurance_url": "https://agent.example.org/id",
                "technical_contact": "tech@agent.example.org", "business_contact": "privacy@agent.example.org",
                **overrides}

    def envelope(self, now: dt.datetime | None = None, ttl: dt.timedelta = dt.timedelta(minutes=10), **claims) -> dict:
        now = now or dt.datetime.now(dt.timezone.utc)
        return {"agent-id": self.agent_id, "business-id": self.business_id, "issued-at": now.isoformat(),
                "expires-at": (now + ttl).isoformat(), "drp.version": "1.0", **claims}

    def exercise(self, *, exercise="sale:opt-out", regime="ccpa", email="ana@example.com", name="Ana Example",
                 email_verified=True, status_callback=None, agent_request_id=None, now=None, **claims) -> dict:
        obj = self.envelope(now, **{"agent-request-id": agent_request_id or uuid.uuid4().hex,
                                    "exercise": exercise, "name": name, "email": email,
                                    "email_verified": email_verified, **claims})
        if regime is not None:
            obj["regime"] = regime
        if status_callback:
            obj["status_callback"] = status_callback
        return obj

    def headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def exercise_request(self, **kw) -> tuple[str, str, dict]:
        return EXERCISE_PATH, sign(self.key, self.exercise(**kw)), self.headers()

    # --- with a Django test client -------------------------------------------------------------------
    def pair(self, client, now=None):
        response = client.post(f"/v1/agent/{self.agent_id}", sign(self.key, self.envelope(now)),
                               content_type="text/plain")
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def file(self, client, **kw):
        path, body, headers = self.exercise_request(**kw)
        return client.post(path, body, content_type="text/plain", **headers)

    def status(self, client, request_id):
        return client.get(f"{EXERCISE_PATH}/{request_id}", **self.headers())

    def revoke(self, client, request_id, reason="", **claims):
        body = sign(self.key, {"reason": reason, **claims})
        return client.delete(f"{EXERCISE_PATH}/{request_id}", body, content_type="text/plain", **self.headers())


class BenchAgent(AgentClient):
    """An agent registered in the database with a fresh key, for benchmarks and demos."""

    @classmethod
    def register(cls, agent_id: str | None = None) -> "BenchAgent":
        from . import services

        agent = cls(agent_id or f"BENCH_{uuid.uuid4().hex[:8].upper()}")
        services.register_agent(agent.directory_entry())
        return agent
