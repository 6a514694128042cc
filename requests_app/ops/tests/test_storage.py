"""Letters and uploads in S3-compatible object storage (moto's standalone server, started here)."""
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core import checks
from django.core.files.storage import default_storage
from django.test import override_settings

from requests_app import letters, services
from requests_app.models import Attachment, Letter, LetterStatus
from tests.fixtures import free_port  # noqa: F401 - also imported from here by tests

BUCKET = "dsar-test-files"
ID_SCAN = services.Upload("passport.png", b"\x89PNG\r\n\x1a\n" + b"1" * 64, "image/png")




@pytest.fixture(scope="module")
def s3_server():
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def s3_storages(endpoint, bucket=BUCKET):
    from django.conf import settings

    return {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket, "endpoint_url": endpoint, "region_name": "us-east-1", "file_overwrite": False,
        "default_acl": None, "access_key": "test", "secret_key": "test"}}}


@pytest.fixture
def s3(s3_server):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket=BUCKET)
    with override_settings(STORAGES=s3_storages(s3_server)):
        yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client):
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_it_stores_letters_in_the_bucket_and_checks_their_hash(s3, submit, run, manager):
    case = submit("US-CA", "access")
    case = run(services.confirm_email, case)
    letter = Letter.objects.filter(case=case, status=LetterStatus.ISSUED).first()
    assert letter.file.name in keys(s3)
    assert "s3" in type(default_storage._wrapped).__module__
    download = letters.open_for_download(letter, actor_label="requester")
    assert download.content.startswith(b"%PDF") and len(download.content) == letter.size
    # Somebody changes the object behind our back: it is never served again.
    s3.put_object(Bucket=BUCKET, Key=letter.file.name, Body=b"%PDF-1.4 forged")
    with pytest.raises(letters.LetterIntegrityError):
        letters.open_for_download(letter, actor_label="requester")
    assert case.events.filter(kind="letter_integrity_failed").count() == 1


def test_it_never_overwrites_a_stored_name(s3, submit):
    case = submit("DE")
    first = services.add_attachment(case, Attachment.Kind.IDENTITY, ID_SCAN)
    second = services.add_attachment(case, Attachment.Kind.IDENTITY, ID_SCAN)
    assert first.file.name != second.file.name
    assert {first.file.name, second.file.name} <= keys(s3)
    assert default_storage.open(first.file.name).read() == ID_SCAN.content


def _storage_errors(endpoint, bucket=BUCKET):
    with override_settings(STORAGES=s3_storages(endpoint, bucket)):
        return [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "ops.E003"]


def test_it_refuses_to_start_with_an_unreachable_object_store(s3_server, db):
    assert _storage_errors(f"http://127.0.0.1:{free_port()}")  # nobody listens there
    assert _storage_errors(s3_server, bucket="no-such-bucket")


def test_it_refuses_to_start_when_the_object_store_hangs(hung_server, db):
    """A store that accepts and never answers: the check gives up in bounded time and says so."""
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("errors", _storage_errors(f"http://127.0.0.1:{hung_server}")),
                              daemon=True)
    thread.start()
    thread.join(30)  # a hang, not a duration: the check bounds itself to a few seconds
    assert not thread.is_alive(), "the start-up check hung on the object store"
    assert box["errors"] and "Timeout" in box["errors"][0].msg


def test_it_starts_with_a_reachable_bucket(s3, db):
    assert _storage_errors(s3.meta.endpoint_url) == []
