"""What a requester types is text everywhere it is shown: staff pages, letters, e-mails. A `|safe`
(or `{% autoescape off %}` in HTML) on a requester field must make this fail."""
import pytest
from django.urls import reverse

from requests_app import letters, services
from requests_app.models import Letter, Notification

RAW = '<b id="xss">Ana</b>'
ESCAPED = "&lt;b id=&quot;xss&quot;&gt;Ana&lt;/b&gt;"
RAW_MARK = '<b id="xss">'
FIELDS = dict(requester_name=f"{RAW} Name", agent_name=f"{RAW} Agent", agent_organisation=f"{RAW} Org",
              account_id=f"{RAW}1", phone=f"{RAW}2", details=f"{RAW} details")


@pytest.fixture
def case(run, manager, now):
    from .public_helpers import PDF

    case = run(services.submit_request, jurisdiction="US-CA", request_types=["access"],
               requester_email="ana@example.com", filer="agent", agent_email="agent@example.com",
               authorisation=services.Upload("a.pdf", PDF, "application/pdf"), **FIELDS)[0]
    run(services.confirm_email, case)
    run(services.confirm_agent_permission, case)  # the consumer's own word (11 CCR §7063(a))
    run(services.verify_identity, case, manager, method="account login")
    return case


def test_it_escapes_requester_fields_on_staff_pages(client, manager, case):
    client.force_login(manager)
    pages = [client.get(reverse("staff:case", args=[case.pk])),
             client.post(reverse("staff:reveal", args=[case.pk]), {"version": case.version}),
             client.get(reverse("staff:queue")),
             client.get(reverse("staff:queue") + "?q=Ana")]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200 and RAW_MARK not in html, page.request["PATH_INFO"]
    revealed = pages[1].content.decode()
    assert revealed.count(ESCAPED) >= 3  # name, agent, organisation shown, as text


def test_it_escapes_requester_fields_in_letters_and_e_mails(run, manager, case):
    run(services.deny, case, manager, reasons=f"Account {RAW} not found")
    rendered = [letters.render_html(letter) for letter in Letter.objects.filter(case=case)]
    assert {lt.kind for lt in Letter.objects.filter(case=case)} >= {"acknowledgement", "denial"}
    for html in rendered:
        assert RAW_MARK not in html
    assert any(ESCAPED in html for html in rendered)
    for note in Notification.objects.filter(case=case):
        assert RAW_MARK not in note.body_html, note.kind
