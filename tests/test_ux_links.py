"""E-mail links point at the address the app really serves (issue 11: port 8101 got port-8000 links)."""
from django.core import mail
from django.test import Client

from .public_helpers import file_request, fresh_cache  # noqa: F401 - fresh_cache is autouse


def test_it_links_to_the_requests_host_when_site_url_is_unset(db, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    client = Client(HTTP_HOST="127.0.0.1:8101")
    file_request(client, django_capture_on_commit_callbacks, "DE", ["access"])
    assert "http://127.0.0.1:8101/confirm/" in mail.outbox[-1].body


def test_it_links_to_site_url_when_set(db, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://privacy.example.com"
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    client = Client(HTTP_HOST="127.0.0.1:8101")
    file_request(client, django_capture_on_commit_callbacks, "DE", ["access"])
    assert "https://privacy.example.com/confirm/" in mail.outbox[-1].body
