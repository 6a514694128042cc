"""Upload checks: the type comes from the content's magic bytes; size is capped at 10 MB."""
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from requests_app import uploads
from requests_app.models import DataSubjectRequest

from .public_helpers import EXE, JPEG, PDF, PNG, fresh_cache, identity_data, location_data  # noqa: F401

MB = 1024 * 1024


@pytest.mark.parametrize("content,name,mime,stored", [
    (PDF, "signed.pdf", "application/pdf", "authorisation.pdf"),
    (PNG, "scan.PNG", "image/png", "authorisation.png"),
    (JPEG, "photo.jpeg", "image/jpeg", "authorisation.jpg"),
    (PDF, "no-extension", "application/pdf", "authorisation.pdf"),  # the content decides
])
def test_pdf_png_jpeg_are_accepted_and_renamed(content, name, mime, stored):
    checked = uploads.check_upload(SimpleUploadedFile(name, content, content_type="text/plain"), "authorisation")
    assert (checked.name, checked.content_type, checked.content) == (stored, mime, content)


@pytest.mark.parametrize("content,name", [
    (EXE, "authorisation.pdf"),  # a Windows executable renamed to .pdf
    (b"#!/bin/sh\nrm -rf /\n", "letter.png"),
    (b"PK\x03\x04" + b"\x00" * 40, "permission.jpg"),  # a zip archive
    (b"<html><script>alert(1)</script></html>", "form.pdf"),
])
def test_other_content_is_refused_whatever_its_name(content, name):
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(SimpleUploadedFile(name, content, content_type="application/pdf"))
    assert exc.value.code == "bad_type"


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(SimpleUploadedFile("a.pdf", b"", content_type="application/pdf"))
    assert exc.value.code == "empty"


def test_more_than_10_mb_is_refused_and_10_mb_is_accepted():
    at_limit = PDF + b"0" * (10 * MB - len(PDF))
    assert len(uploads.check_upload(SimpleUploadedFile("a.pdf", at_limit)).content) == 10 * MB
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(SimpleUploadedFile("a.pdf", at_limit + b"0"))
    assert exc.value.code == "too_large" and "larger than 10 MB" in exc.value.messages[0]


@override_settings(DSAR_UPLOAD_MAX_BYTES=1000)
def test_a_lying_size_is_caught_by_reading():
    f = SimpleUploadedFile("a.pdf", PDF + b"0" * 2000)
    f.size = 10  # what a client-reported size might claim
    with pytest.raises(ValidationError):
        uploads.check_upload(f)


@pytest.mark.django_db
def test_the_form_refuses_a_renamed_executable_and_an_oversized_file(client):
    client.post("/", location_data("US-CA"))
    client.post("/request/what/", {"request_types": ["deletion"]})
    agent = {**identity_data(filer="agent"), "agent_name": "Bea", "agent_email": "bea@agency.example"}
    r = client.post("/request/about-you/", {**agent, "authorisation": SimpleUploadedFile("ok.pdf", EXE)})
    page = r.content.decode()
    assert r.status_code == 200 and "This file is not a PDF, PNG or JPEG document." in page
    assert 'aria-describedby="id_authorisation_helptext id_authorisation_error"' in page
    assert 'value="Bea"' in page  # what was typed is kept
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * MB + 1))
    page = client.post("/request/about-you/", {**agent, "authorisation": big}).content.decode()
    assert "This file is larger than 10 MB." in page
    assert client.get("/request/review/").status_code == 302  # nothing accepted
    assert DataSubjectRequest.objects.count() == 0


@pytest.mark.django_db
def test_parked_uploads_are_removed_after_submission_and_purged_when_abandoned(client, tmp_path, settings,
                                                                              django_capture_on_commit_callbacks):
    import datetime as dt

    from django.core.files.storage import default_storage

    client.post("/", location_data("US-CA"))
    client.post("/request/what/", {"request_types": ["deletion"]})
    agent = {**identity_data(filer="agent"), "agent_name": "Bea", "agent_email": "bea@agency.example"}
    client.post("/request/about-you/", {**agent, "authorisation": SimpleUploadedFile("ok.pdf", PDF)})
    key = client.session["dsar_form"]["upload"]["key"]
    assert default_storage.exists(key)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/request/review/", {"declaration": "on"})
    assert not default_storage.exists(key)
    abandoned = uploads.park(uploads.check_upload(SimpleUploadedFile("x.pdf", PDF)), "x.pdf")
    assert uploads.purge_pending(dt.timedelta(days=1)) == 0
    assert uploads.purge_pending(dt.timedelta(seconds=-1)) >= 1
    assert not default_storage.exists(abandoned["key"])


def test_an_oversized_upload_is_never_stored_past_the_limit(rf):
    # The handler swallows every byte past 10 MB and hands on an empty file with the real size,
    # so the later memory/temp-file handlers never hold more than the limit.
    handler = uploads.SizeCappedUploadHandler(rf.post("/"))
    handler.new_file("authorisation", "big.pdf", "application/pdf", None)
    chunk = b"0" * MB
    passed = [handler.receive_data_chunk(chunk, i * MB) for i in range(12)]
    assert sum(len(c) for c in passed if c) == 10 * MB and passed[-1] is None
    file = handler.file_complete(12 * MB)
    assert file.size == 12 * MB and file.read() == b""
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(file)
    assert exc.value.code == "too_large"


def test_a_file_within_the_limit_is_left_to_the_usual_handlers(rf):
    handler = uploads.SizeCappedUploadHandler(rf.post("/"))
    handler.new_file("authorisation", "ok.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(PDF, 0) == PDF
    assert handler.file_complete(len(PDF)) is None
