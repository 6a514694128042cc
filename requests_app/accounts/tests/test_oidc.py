"""Single sign-on against a real OpenID Connect provider (the `oidc-provider` npm package, run here
with Node.js), roles from the groups claim."""
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.core import checks
from django.test import override_settings
from tests.fixtures import free_port  # noqa: F401 - also imported from here by tests

HERE = Path(__file__).parent / "oidc"
REDIRECT = "http://testserver/oidc/callback/"
ROLE_MAP = {"dsar-managers": "manager", "dsar-analysts": "analyst", "dsar-auditors": "auditor"}

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")




@pytest.fixture(scope="module")
def provider():
    if not (HERE / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True, timeout=300)
    port = free_port()
    proc = subprocess.Popen(["node", "provider.mjs", str(port), REDIRECT], cwd=HERE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"the OIDC provider did not start: {proc.stdout.read()}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def sso(provider, settings):
    settings.OIDC_RP_CLIENT_ID = "dsar"
    settings.OIDC_RP_CLIENT_SECRET = "dsar-test-secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider}/auth"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider}/me"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider}/jwks"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend",
                                        "requests_app.accounts.oidc.RoleMappingBackend"]
    return provider


def _form(html: str, base: str) -> str:
    return urljoin(base, re.search(r'<form[^>]*action="([^"]+)"', html).group(1))


def sign_in(client, login: str) -> object:
    """The whole authorisation-code flow: our redirect, the provider's login and consent, our callback."""
    start = client.get("/oidc/authenticate/", {"next": "/staff/"})
    assert start.status_code == 302
    browser = requests.Session()
    page = browser.get(start["Location"], timeout=10)
    page = browser.post(_form(page.text, page.url), data={"prompt": "login", "login": login, "password": "x"},
                        timeout=10)
    if 'name="prompt" value="consent"' in page.text:
        page = browser.post(_form(page.text, page.url), data={"prompt": "consent"}, timeout=10,
                            allow_redirects=False)
        while page.is_redirect and not page.headers["Location"].startswith("http://testserver"):
            page = browser.get(urljoin(page.url, page.headers["Location"]), timeout=10, allow_redirects=False)
    callback = page.headers["Location"] if page.is_redirect else page.url
    assert callback.startswith(REDIRECT), callback
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    return client.get("/oidc/callback/", query)


def test_it_signs_a_manager_in_through_the_identity_provider(sso, client, db):
    response = sign_in(client, "mia")
    assert response.status_code == 302 and response["Location"] == "/staff/"
    user = User.objects.get(username="oidc:mia")
    assert [g.name for g in user.groups.all()] == ["manager"]
    assert user.email == "mia@corp.example" and not user.has_usable_password() and not user.is_staff
    assert client.get("/staff/").status_code == 200


def test_it_maps_each_group_to_its_role(sso, client, db):
    sign_in(client, "andy")
    assert [g.name for g in User.objects.get(username="oidc:andy").groups.all()] == ["analyst"]


def test_it_refuses_a_person_with_no_mapped_role(sso, client, db):
    response = sign_in(client, "mallory")
    assert response.status_code == 302 and "sso=refused" in response["Location"]
    assert not User.objects.filter(username="oidc:mallory").exists()
    assert client.get("/staff/").status_code == 302  # still signed out
    page = client.get(response["Location"]).content.decode()
    assert "no role in this service" in page


def test_it_resyncs_roles_at_every_sign_in(sso, client, db):
    from requests_app.roles import ensure_roles

    sign_in(client, "audrey")
    user = User.objects.get(username="oidc:audrey")
    user.groups.add(ensure_roles()["manager"])  # granted by hand, not by the directory
    client.logout()
    sign_in(client, "audrey")
    assert [g.name for g in user.groups.all()] == ["auditor"]


def test_it_offers_the_identity_provider_on_the_sign_in_page(sso, client, db):
    assert "Sign in with your company account" in client.get("/accounts/login/").content.decode()


def test_it_never_asks_an_sso_user_for_a_second_factor(sso, client, db, settings):
    settings.DSAR_STAFF_OTP_REQUIRED = True
    sign_in(client, "mia")
    assert client.get("/staff/").status_code == 200


def test_it_refuses_to_start_with_a_half_configured_provider(db, settings):
    settings.OIDC_RP_CLIENT_ID = "dsar"
    settings.OIDC_OP_TOKEN_ENDPOINT = ""
    settings.OIDC_ROLE_MAP = {}
    ids = {m.id for m in checks.run_checks() if m.level >= checks.ERROR}
    assert {"accounts.E001", "accounts.E002"} <= ids
    settings.OIDC_ROLE_MAP = {"admins": "superuser"}
    assert "accounts.E003" in {m.id for m in checks.run_checks()}


def test_it_refuses_to_start_when_the_provider_cannot_be_reached(db, settings):
    settings.OIDC_RP_CLIENT_ID = "dsar"
    settings.OIDC_OP_JWKS_ENDPOINT = f"http://127.0.0.1:{free_port()}/jwks"
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True)}
    assert "accounts.E004" in ids


def test_it_refuses_to_start_when_the_provider_hangs(db, settings, hung_server):
    """A provider that accepts and never answers: the start-up check times out and says so."""
    settings.OIDC_RP_CLIENT_ID = "dsar"
    settings.OIDC_OP_JWKS_ENDPOINT = f"http://127.0.0.1:{hung_server}/jwks"
    errors = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "accounts.E004"]
    assert errors and "Timeout" in errors[0].msg
