"""The HTTP connector: POST a JSON payload signed the Standard Webhooks way (webhook-id,
webhook-timestamp, webhook-signature; the same signing as the API's outbound webhooks) to the
service, with bounded timeouts. The service answers at once (200 with the result) or later
(202, then a signed POST to the callback URL it was given). The webhook-id is stable per task,
so a retried delivery is recognisable as the same request by the service."""
from __future__ import annotations

import datetime as dt
import json

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .engine import ConnectorError

CONNECT_TIMEOUT = 5


def sign(secret: str, msg_id: str, body: str, now: dt.datetime) -> dict:
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body), "content-type": "application/json"}


def verify(secret: str, body: bytes, headers) -> dict:
    try:
        return Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
    except WebhookVerificationError as exc:
        raise ConnectorError(f"bad signature: {exc}") from None


def call(endpoint: str, secret: str, msg_id: str, payload: dict, *, timeout: float, now: dt.datetime):
    """(status, result): ("done", dict) for a synchronous answer, ("accepted", None) for 202.
    ConnectorError otherwise; transient for what a retry may fix (unreachable, timeout, 5xx, 429)."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    try:
        response = requests.post(endpoint, data=body.encode(), headers=sign(secret, msg_id, body, now),
                                 timeout=(CONNECT_TIMEOUT, timeout), allow_redirects=False)
    except requests.Timeout:
        raise ConnectorError(f"the service did not answer within {timeout:g} s", transient=True) from None
    except requests.RequestException as exc:
        raise ConnectorError(f"cannot reach the service: {type(exc).__name__}", transient=True) from None
    if response.status_code == 202:
        return "accepted", None
    if response.status_code >= 500 or response.status_code == 429:
        raise ConnectorError(f"the service answered HTTP {response.status_code}", transient=True)
    if response.status_code != 200:
        raise ConnectorError(f"the service refused the request: HTTP {response.status_code} "
                             f"{response.text[:200]}")
    try:
        result = response.json()
    except ValueError:
        raise ConnectorError("the service's answer is not JSON") from None
    if not isinstance(result, dict):
        raise ConnectorError("the service's answer is not a JSON object")
    return "done", result
