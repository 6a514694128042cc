"""The agent's name and organisation and the free-text details are masked like the requester's,
and shown only by the audited reveal (issue 11)."""
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app import services
from requests_app.models import Event

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_it_masks_the_agent_and_the_details_until_an_audited_reveal(client, manager):
    case = services.submit_request(
        jurisdiction="US-CA", request_types=["access"], requester_name="Ana Example", requester_email="ana@example.com",
        filer="agent", agent_name="Paul Proxy", agent_email="paul@agency.example", agent_organisation="Proxy Rights LLC",
        details="My account under my maiden name Ana Oldname",
        authorisation=services.Upload("authorisation.pdf", PDF, "application/pdf"))[0]
    client.force_login(manager)
    page = client.get(reverse("staff:case", args=[case.pk])).content.decode()
    for secret in ("Paul Proxy", "Proxy Rights", "maiden name", "Ana Example"):
        assert secret not in page, secret
    assert "P*** P****" in page and "reveal to read" in page
    revealed = client.post(reverse("staff:reveal", args=[case.pk]), {"version": case.version}).content.decode()
    for secret in ("Paul Proxy", "Proxy Rights LLC", "maiden name Ana Oldname", "Ana Example"):
        assert secret in revealed, secret
    assert Event.objects.filter(case=case, kind="requester_revealed").count() == 1
