"""Checks for files a member of the public uploads (signed authorisations, proof of identity).

The type is decided from the content's magic bytes (the `filetype` package), never from the
name or the browser's Content-Type, so an executable renamed to ``.pdf`` is refused. Accepted
files are stored under a name we choose (``<purpose>.<ext of the detected type>``).

Between the "who you are" step of the form and the final submission an upload is parked in the
default storage under ``pending-uploads/`` (a 10 MB file does not belong in the session);
`purge_pending` removes what abandoned forms left behind.
"""
from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass
class Upload:
    name: str
    content: bytes
    content_type: str


@dataclass
class Record(Upload):
    """A file the product itself received as a record, not a document a person chose to upload:
    the raw e-mail an inbox message came in (message/rfc822), an agent's signed DRP request. Its
    type is what it is; only the size limit applies."""


ALLOWED = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
PENDING_DIR = "pending-uploads"


def max_bytes() -> int:
    return getattr(settings, "DSAR_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)


def _limit_text(limit: int) -> str:
    mb = 1024 * 1024
    return f"{limit // mb} MB" if limit % mb == 0 else filesizeformat(limit)


def _too_large(limit: int) -> ValidationError:
    return ValidationError(
        _("This file is larger than %(limit)s. Please upload a smaller scan or photo.") % {"limit": _limit_text(limit)},
        code="too_large",
    )


def check_content(content: bytes, purpose: str = "document") -> Upload:
    """The one check every stored file passes (public form, status page, staff, services): not
    empty, within the limit, and a PDF, PNG or JPEG by its magic bytes. Raises ValidationError."""
    limit = max_bytes()
    if len(content) > limit:
        raise _too_large(limit)
    if not content:
        raise ValidationError(_("The file is empty."), code="empty")
    kind = filetype.guess(content)
    if kind is None or kind.mime not in ALLOWED:
        raise ValidationError(
            _("This file is not a PDF, PNG or JPEG document. Please upload a scan or photo in one of "
              "those formats."),
            code="bad_type",
        )
    return Upload(name=f"{purpose}.{ALLOWED[kind.mime]}", content=content, content_type=kind.mime)


def check_stored(upload: Upload) -> Upload:
    """What add_attachment stores: a person's upload passes check_content (type by content);
    a Record only the size limit."""
    if isinstance(upload, Record):
        if len(upload.content) > max_bytes():
            raise _too_large(max_bytes())
        return upload
    return Upload(upload.name, upload.content, check_content(upload.content).content_type)


def check_upload(file, purpose: str = "document") -> Upload:
    """Validate an UploadedFile and return it as an Upload, or raise ValidationError."""
    limit = max_bytes()
    if file.size is not None and file.size > limit:
        raise _too_large(limit)  # the size cap handler kept none of it: never "empty"
    file.seek(0)
    return check_content(file.read(limit + 1), purpose)


# --- parking an upload between form steps --------------------------------------------------------

def park(upload: Upload, original_name: str) -> dict:
    """Store a checked upload until the form is submitted; return what the session keeps."""
    key = f"{PENDING_DIR}/{uuid.uuid4().hex}"
    default_storage.save(key, ContentFile(upload.content))
    return {"key": key, "name": upload.name, "content_type": upload.content_type,
            "size": len(upload.content), "original_name": original_name[:255]}


def unpark(info: dict | None) -> Upload | None:
    """The parked upload, or None if there is none or it has gone (purged, other server)."""
    if not info or not default_storage.exists(info["key"]):
        return None
    with default_storage.open(info["key"], "rb") as fh:
        content = fh.read()
    return Upload(name=info["name"], content=content, content_type=info["content_type"])


def discard(info: dict | None) -> None:
    if info and info.get("key", "").startswith(PENDING_DIR + "/"):
        default_storage.delete(info["key"])


def purge_pending(older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Delete parked uploads of forms abandoned more than `older_than` ago."""
    try:
        _dirs, names = default_storage.listdir(PENDING_DIR)
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - older_than
    removed = 0
    for name in names:
        key = f"{PENDING_DIR}/{name}"
        if default_storage.get_modified_time(key) < cutoff:
            default_storage.delete(key)
            removed += 1
    return removed


class SizeCappedUploadHandler(FileUploadHandler):
    """First upload handler: stops storing a file once it passes the upload limit, so an oversized
    upload never fills memory or the temp directory. The file is then handed on empty but with its
    real size, so `check_upload` refuses it with its usual message and every other field the person
    typed is kept. (Capping the request body itself is the reverse proxy's job.)"""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_bytes():
            return None  # swallowed: the memory and temp-file handlers after us never see it
        return raw_data

    def file_complete(self, file_size):
        if self.received <= max_bytes():
            return None  # the next handler builds the file as usual
        return InMemoryUploadedFile(io.BytesIO(b""), self.field_name, self.file_name, self.content_type,
                                    self.received, self.charset, self.content_type_extra)


# --- data files an analyst uploads for an access response ------------------------------------------

DATA_ZIP_MAX_MEMBERS = 200
DATA_ZIP_MAX_RATIO = 100  # a member that inflates more than this is a zip bomb, not an export


def _data_from_text(name: str, content: bytes) -> object:
    """A JSON or CSV export, decided by its content (UTF-8 text that parses), never by its name."""
    import csv
    import json

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("%(name)s is not a JSON, CSV or ZIP file.") % {"name": name}, code="bad_type")
    if "\x00" in text:
        raise ValidationError(_("%(name)s is not a JSON, CSV or ZIP file.") % {"name": name}, code="bad_type")
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValidationError(_("%(name)s is not valid JSON: %(error)s") % {"name": name, "error": exc},
                                  code="bad_json")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise ValidationError(_("%(name)s has no rows under a header line.") % {"name": name}, code="empty")
    return rows


def read_data_files(files) -> dict:
    """Uploaded JSON, CSV or ZIP (of JSON and CSV) exports as the data of an access response:
    {category (the file's name without extension): content}. Same size limit as every upload;
    the type is read from the content; a ZIP is opened member by member with limits."""
    import zipfile
    from pathlib import PurePosixPath

    data: dict = {}
    limit = max_bytes()

    def add(name: str, content: bytes) -> None:
        key = PurePosixPath(name).stem or "data"
        while key in data:
            key += "+"
        data[key] = _data_from_text(name, content)

    for file in files:
        if file.size is not None and file.size > limit:
            raise ValidationError(_("%(name)s is larger than %(limit)s.") % {"name": file.name,
                                                                             "limit": _limit_text(limit)})
        file.seek(0)
        content = file.read(limit + 1)
        if len(content) > limit:
            raise ValidationError(_("%(name)s is larger than %(limit)s.") % {"name": file.name,
                                                                             "limit": _limit_text(limit)})
        if not content:
            raise ValidationError(_("%(name)s is empty.") % {"name": file.name}, code="empty")
        kind = filetype.guess(content)
        if kind is not None and kind.mime == "application/zip":
            try:
                archive = zipfile.ZipFile(io.BytesIO(content))
                members = [m for m in archive.infolist() if not m.is_dir()]
            except zipfile.BadZipFile:
                raise ValidationError(_("%(name)s is a damaged ZIP file.") % {"name": file.name}, code="bad_zip")
            if len(members) > DATA_ZIP_MAX_MEMBERS:
                raise ValidationError(_("%(name)s holds more than %(n)s files.") % {
                    "name": file.name, "n": DATA_ZIP_MAX_MEMBERS}, code="too_many")
            total = 0
            for member in members:
                total += member.file_size
                if total > limit * 5 or member.file_size > max(member.compress_size, 1) * DATA_ZIP_MAX_RATIO:
                    raise ValidationError(_("%(name)s unpacks to too much data.") % {"name": file.name},
                                          code="too_large")
                add(member.filename, archive.read(member))
        elif kind is not None:  # a PDF, an image, an executable…: not an export we can attach
            raise ValidationError(_("%(name)s is not a JSON, CSV or ZIP file.") % {"name": file.name},
                                  code="bad_type")
        else:
            add(file.name, content)
    return data
