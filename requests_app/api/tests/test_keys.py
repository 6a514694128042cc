"""API keys: shown once, stored hashed, each use audited; revoked, expired or wrong keys refused."""
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from requests_app.api.models import ApiKey, ApiKeyUse
from requests_app.api.services import create_key, revoke_key

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
LIST = "/api/v1/requests/"


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_it_prints_a_new_key_once_and_stores_only_its_hash(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_key", "create", "--name", "ticketing", "--role", "analyst", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="ticketing")
    assert raw.startswith(f"dsar_{key.prefix}_") and len(raw) > 40
    assert raw not in str(list(ApiKey.objects.values()))  # never stored in clear
    assert key.user.groups.get().name == "analyst" and not key.user.has_usable_password()
    assert bearer(raw).get(LIST).status_code == 200
    listing = io.StringIO()
    call_command("api_key", "list", stdout=listing)
    assert "ticketing\tanalyst" in listing.getvalue() and raw not in listing.getvalue()
    call_command("api_key", "revoke", "ticketing", stdout=io.StringIO())
    assert bearer(raw).get(LIST).status_code == 401


def test_it_refuses_wrong_revoked_and_expired_keys_with_a_json_401(db, now):
    now(T0)
    key, raw = create_key(name="sync", role="auditor", expires_at=T0 + dt.timedelta(days=1))
    for bad in (raw[:-1] + ("A" if raw[-1] != "A" else "B"), "dsar_nope_x", "garbage"):
        response = bearer(bad).get(LIST)
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert bearer(raw).get(LIST).status_code == 200
    now(T0 + dt.timedelta(days=1, seconds=1))
    assert bearer(raw).get(LIST).status_code == 401  # expired
    now(T0)
    revoke_key(key)
    assert bearer(raw).get(LIST).status_code == 401
    assert APIClient().get(LIST).json()["code"] == "not_authenticated"


def test_it_audits_every_use_of_a_key(db, now):
    now(T0)
    key, raw = create_key(name="sync", role="auditor")
    client = bearer(raw)
    client.get(LIST + "?q=ana@example.com")
    client.get("/api/v1/requests/999/")
    uses = list(ApiKeyUse.objects.filter(key=key).order_by("id").values_list("method", "path", "status"))
    assert uses == [("GET", LIST, 200), ("GET", "/api/v1/requests/999/", 404)]  # no query string kept
    key.refresh_from_db()
    assert key.last_used_at == T0


def test_it_lets_only_managers_create_keys_in_the_staff_ui_and_shows_the_key_once(client, manager, analyst):
    client.force_login(analyst)
    assert client.get(reverse("api_staff:keys")).status_code == 403
    client.force_login(manager)
    response = client.post(reverse("api_staff:keys"), {"name": "crm", "role": "auditor"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    raw = response.context["raw"]
    assert raw.encode() in response.content
    assert bearer(raw).get(LIST).status_code == 200
    again = client.get(reverse("api_staff:keys"))
    assert raw.encode() not in again.content and b"crm" in again.content
    key = ApiKey.objects.get(name="crm")
    assert key.created_by == manager
    duplicate = client.post(reverse("api_staff:keys"), {"name": "crm", "role": "auditor"})
    assert duplicate.status_code == 400 and b"exists already" in duplicate.content
    client.post(reverse("api_staff:revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at and key.revoked_by == manager
    assert bearer(raw).get(LIST).status_code == 401
    assert client.get(reverse("api_staff:key", args=[key.pk])).status_code == 200


@pytest.mark.parametrize("role", ["auditor", "analyst"])
def test_it_refuses_key_management_to_other_roles(role, db):
    from tests.fixtures import make_user

    user = make_user("someone", role)
    with pytest.raises(Exception, match="Only a manager"):
        create_key(name="x", role="manager", created_by=user)
