"""TOTP two-factor for password sign-in, and signing out everywhere."""
import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.fixtures import make_user

PASSWORD = "pw-123456789"


def code(device, offset=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def verify(client, device, token, next_url="/staff/"):
    return client.post("/accounts/2fa/", {"otp_device": device.persistent_id, "otp_token": token, "next": next_url})


def password_sign_in(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]


@pytest.fixture
def otp_required(settings):
    settings.DSAR_STAFF_OTP_REQUIRED = True


def later(time_machine, seconds=5):
    """Past django-otp's throttle: each wrong code doubles the wait before the next try."""
    import datetime as dt

    from django.utils import timezone

    time_machine.move_to(timezone.now() + dt.timedelta(seconds=seconds), tick=False)


def test_it_sends_a_password_user_without_a_device_to_set_one_up(otp_required, client, db, time_machine):
    make_user("mia", "manager")
    password_sign_in(client, "mia")
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/setup/")
    page = client.get(response["Location"])
    assert "<svg" in page.content.decode() and "Key:" in page.content.decode()
    device = TOTPDevice.objects.get(user__username="mia", confirmed=False)
    assert client.post("/accounts/2fa/setup/", {"token": "000000", "next": "/staff/"}).status_code == 200
    assert client.get("/staff/").status_code == 302
    later(time_machine)
    response = client.post("/accounts/2fa/setup/", {"token": code(device), "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_it_asks_for_a_code_at_every_sign_in(otp_required, client, db, time_machine):
    user = make_user("andy", "analyst")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_sign_in(client, "andy")
    response = client.get("/staff/")
    assert response["Location"].startswith("/accounts/2fa/")
    assert "setup" not in response["Location"]
    assert client.get("/accounts/2fa/setup/")["Location"].startswith("/accounts/2fa/")  # no second device
    page = client.get("/accounts/2fa/").content.decode()
    assert device.persistent_id in page
    assert verify(client, device, "123456").status_code == 200
    assert client.get("/staff/").status_code == 302
    assert verify(client, device, code(device)).status_code == 200  # throttled after a wrong code
    later(time_machine)
    response = verify(client, device, code(device))
    assert response.status_code == 302 and client.get("/staff/").status_code == 200


def test_it_guards_admin_too(otp_required, client, db):
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    password_sign_in(client, "root")
    assert client.get("/admin/")["Location"].startswith("/accounts/2fa/setup/")


def test_it_never_redirects_off_site_after_the_code(otp_required, client, db):
    user = make_user("andy", "analyst")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_sign_in(client, "andy")
    response = verify(client, device, code(device), "https://evil.example/")
    assert response["Location"] == "/staff/"


def test_it_leaves_staff_alone_when_the_setting_is_off(client, db, settings):
    settings.DSAR_STAFF_OTP_REQUIRED = False
    make_user("mia", "manager")
    password_sign_in(client, "mia")
    assert client.get("/staff/").status_code == 200


def test_it_signs_out_every_session_of_the_user(client, db):
    make_user("mia", "manager")
    make_user("andy", "analyst")
    laptop, phone, colleague = client, Client(), Client()
    password_sign_in(laptop, "mia")
    password_sign_in(phone, "mia")
    password_sign_in(colleague, "andy")
    assert phone.get("/staff/").status_code == 200
    assert laptop.get("/accounts/profile/").status_code == 200
    response = laptop.post("/accounts/sign-out-everywhere/")
    assert response.status_code == 302
    assert laptop.get("/staff/").status_code == 302
    assert phone.get("/staff/").status_code == 302  # the other device too
    assert colleague.get("/staff/").status_code == 200  # nobody else
    password_sign_in(phone, "mia")  # signing in again works
    assert phone.get("/staff/").status_code == 200


def test_it_needs_a_post_to_sign_out_everywhere(client, db):
    make_user("mia", "manager")
    password_sign_in(client, "mia")
    assert client.get("/accounts/sign-out-everywhere/").status_code == 405
    assert client.get("/staff/").status_code == 200
