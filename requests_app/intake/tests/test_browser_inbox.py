"""In a real browser: an analyst turns an inbox message into a case, and the case's clock is
counted from when the message arrived, not from when it was triaged."""
import base64
import datetime as dt
import json
from email.utils import format_datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from requests_app.clocks import local_date
from requests_app.deadlines import calculate
from requests_app.intake.models import InboundMessage, InboxState
from requests_app.models import DataSubjectRequest
from tests.fixtures import make_user
from tests.test_browser_staff import browser_page  # noqa: F401 - the shared chromium page fixture

from .payloads import postmark

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("stray_connection_reaper")]

SECRET = "postmark:browser-secret"


def test_analyst_turns_an_inbox_message_into_a_case_counted_from_its_arrival(live_server, browser_page, settings,
                                                                              tmp_path):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.MEDIA_ROOT = str(tmp_path)
    make_user("andy", "analyst", password="s3cret-pass-word")
    arrived = (timezone.now() - dt.timedelta(days=2)).replace(microsecond=0)
    response = Client().post(reverse("intake_public:postmark_inbound"),
                             json.dumps(postmark(Date=format_datetime(arrived), Subject="Borrar mis datos")),
                             content_type="application/json",
                             HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode())
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert message.received_at == arrived

    page = browser_page
    page.goto(f"{live_server.url}{reverse('intake:inbox')}")
    page.fill("#id_username", "andy")
    page.fill("#id_password", "s3cret-pass-word")
    page.click(".login-card button[type=submit]")
    page.wait_for_url("**/staff/intake/inbox/")
    page.click("text=Borrar mis datos")
    page.wait_for_url(f"**/inbox/{message.public_id}/")
    assert page.input_value("#id_requester_email") == "ana@example.com"  # pre-filled from the message
    page.fill("#id_jurisdiction", "ES")
    page.check("input[name=request_types][value=erasure]")
    page.click("text=Create the case")
    page.wait_for_url("**/staff/cases/*/")
    assert "Recorded DSAR-" in page.inner_text(".messages")

    case = DataSubjectRequest.objects.get()
    assert case.received_at == arrived and case.channel == "email"
    respond = case.deadlines.get(kind="respond")
    expected = calculate("ES", "erasure", arrived)["clocks"]["respond"]
    assert respond.start_date == local_date(arrived, "Europe/Madrid") == expected.start
    assert respond.due_date == expected.due
    assert expected.due.isoformat() in page.content() or expected.due.strftime("%d %b %Y") in page.content()
    message.refresh_from_db()
    assert message.state == InboxState.CONVERTED
