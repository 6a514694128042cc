"""The status page says what happened in words (issue 11): refusal reasons on the page, an appeal's
dates, closed clocks worded for their label, and one determination clock in Mexico."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.utils.html import strip_tags

from requests_app import services
from requests_app.models import Awaiting
from requests_app.tokens import STATUS, make_token

from .public_helpers import fresh_cache  # noqa: F401 - fresh_cache is autouse

DENVER = ZoneInfo("America/Denver")
MX = ZoneInfo("America/Mexico_City")


def page_text(client, case) -> str:
    html = client.get(f"/status/{make_token(case, STATUS)}/").content.decode()
    return " ".join(strip_tags(html[html.index("<main"):]).split())


def deadline_lines(client, case) -> list[str]:
    html = client.get(f"/status/{make_token(case, STATUS)}/").content.decode()
    return [" ".join(strip_tags(li).split()) for li in re.findall(r'<ul class="deadlines">(.*?)</ul>', html, re.S)[0]
            .split("</li>") if strip_tags(li).strip()]


def test_it_shows_the_refusal_reasons_and_the_appeal_in_words(client, submit, manager, now):
    now(dt.datetime(2026, 3, 2, 9, tzinfo=DENVER))
    case = services.confirm_email(submit("US-CO", "deletion"))
    case = services.verify_identity(case, manager, method="Account login")
    case = services.deny(case, manager, reasons="The data is needed to complete your open order")
    assert "The data is needed to complete your open order" in page_text(client, case)
    now(dt.datetime(2026, 3, 10, 9, tzinfo=DENVER))
    services.file_appeal(case, statement="I closed my orders")
    text = page_text(client, case)
    assert "We received your appeal on March 10, 2026 and are reviewing it." in text
    assert "We must decide it by April 24, 2026." in text
    assert any(line.startswith("You may appeal until") and "you appealed" in line
               for line in deadline_lines(client, case)), deadline_lines(client, case)
    assert not any(line.endswith("Met") for line in deadline_lines(client, case))


def test_it_lists_the_mexican_determination_clock_once_after_a_reply(client, submit, manager, now):
    now(dt.datetime(2026, 9, 1, 10, tzinfo=MX))
    case = submit("MX", "access", account_id="CUST-4471", data_description="Mis pedidos de 2025")
    case = services.confirm_email(case)
    now(dt.datetime(2026, 9, 4, 11, tzinfo=MX))
    case = services.request_information(case, manager, what=Awaiting.INFORMATION, message="Número de pedido")
    now(dt.datetime(2026, 9, 10, 17, tzinfo=MX))
    case = services.receive_reply(case, message="Pedido 8812-33")
    lines = deadline_lines(client, case)
    determination = [line for line in lines if "admissible" in line]
    assert len(determination) == 1 and "no longer applies" not in determination[0], lines
