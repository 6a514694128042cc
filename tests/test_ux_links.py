"""E-mail links point at the address the app really serves (issue 11: port 8101 got port-8000 links)."""
import pytest
from django.core import mail
from django.test import Client

from .public_helpers import file_request, fresh_cache  # noqa: F401 - fresh_cache is autouse


@pytest.mark.parametrize("site_url,expected", [
    ("", "http://127.0.0.1:8101/confirm/"),  # development: the request's own host and port
    ("https://privacy.example.com", "https://privacy.example.com/confirm/"),
])
def test_it_links_to_the_address_the_app_serves(db, settings, django_capture_on_commit_callbacks, site_url, expected):
    settings.SITE_URL = site_url
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    client = Client(HTTP_HOST="127.0.0.1:8101")
    file_request(client, django_capture_on_commit_callbacks, "DE", ["access"])
    assert expected in mail.outbox[-1].body
