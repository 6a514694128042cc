"""Clients that authenticate with an API key of a given role."""
import pytest
from rest_framework.test import APIClient

from requests_app import services as core
from requests_app.api.services import create_key


def key_client(name: str, role: str):
    key, raw = create_key(name=name, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.key, client.raw, client.user = key, raw, key.user
    return client


@pytest.fixture
def keys(db):
    """One API client per role."""
    return {role: key_client(f"{role} key", role) for role in ("auditor", "analyst", "manager")}


def confirmed(jurisdiction="US-CA", request_type="access", **kw):
    kw.setdefault("requester_name", "Ana Example")
    kw.setdefault("requester_email", "ana@example.com")
    case = core.submit_request(jurisdiction=jurisdiction, request_types=[request_type], **kw)[0]
    return core.confirm_email(case)
