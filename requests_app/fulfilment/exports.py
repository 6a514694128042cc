"""Data exports a system gives for a collect task (JSON, CSV or a ZIP of those), checked before
anything is stored, and the access package built from them.

Checks: the core's size limit (uploads.max_bytes), the type from the content (ZIP by its magic
bytes, JSON by parsing, CSV as UTF-8 text with a header row), and for a ZIP: it opens, every
member's CRC is right, no member escapes the archive or is itself an archive, and what it
unpacks to stays under DSAR_EXPORT_MAX_UNZIPPED_BYTES (a ZIP bomb is refused, not unpacked).
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import zipfile
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError

from requests_app import uploads

MAX_MEMBERS = 500
ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed member dates: the same content gives the same SHA-256


@dataclass
class Export:
    name: str
    kind: str  # json | csv | zip
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _text(content: bytes) -> str | None:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _parse_member(name: str, content: bytes) -> tuple[str, object]:
    """('json' | 'csv', the content as Python data), or raise ValidationError naming the file."""
    text = _text(content)
    if text is None:
        raise ValidationError(f"{name}: the file is not UTF-8 text (JSON or CSV).", code="bad_type")
    stripped = text.lstrip()
    if name.lower().endswith(".json") or stripped[:1] in ("{", "["):
        try:
            return "json", json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{name}: the JSON is not valid ({exc.msg}, line {exc.lineno}).",
                                  code="bad_json") from None
    if "\x00" in text:
        raise ValidationError(f"{name}: the file is not JSON or CSV text.", code="bad_type")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows and not text.strip():
        raise ValidationError(f"{name}: the file is empty.", code="empty")
    return "csv", rows


def check_export(name: str, content: bytes) -> Export:
    """Validate an uploaded export; return it or raise ValidationError (nothing is stored)."""
    limit = uploads.max_bytes()
    if len(content) > limit:
        raise ValidationError(f"The file is larger than {limit // (1024 * 1024)} MB. Split it, or compress it "
                              "as a ZIP.", code="too_large")
    if not content:
        raise ValidationError("The file is empty.", code="empty")
    guess = filetype.guess(content)
    if guess is not None and guess.mime == "application/zip":
        members = _check_zip(content)
        for member, data in members:
            _parse_member(member, data)
        return Export(_safe_name(name, "zip"), "zip", content)
    if guess is not None:
        raise ValidationError(f"This file is a {guess.extension.upper()} file. Upload the export as JSON, CSV, or "
                              "a ZIP of JSON/CSV files.", code="bad_type")
    kind, _data = _parse_member(name, content)
    return Export(_safe_name(name, kind), kind, content)


def _safe_name(name: str, ext: str) -> str:
    base = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name.rsplit("/", 1)[-1])[:80]
    stem = base.rsplit(".", 1)[0] or "export"
    return f"{stem}.{ext}"


def _check_zip(content: bytes) -> list[tuple[str, bytes]]:
    corrupt = ValidationError("The ZIP file is damaged or incomplete; nothing was stored. Create it again and "
                              "upload the new file.", code="corrupt_zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError):
        raise corrupt from None
    if not infos:
        raise ValidationError("The ZIP file contains no files.", code="empty")
    if len(infos) > MAX_MEMBERS:
        raise ValidationError(f"The ZIP file holds more than {MAX_MEMBERS} files.", code="too_many")
    if sum(i.file_size for i in infos) > settings.DSAR_EXPORT_MAX_UNZIPPED_BYTES:
        raise ValidationError("The ZIP file unpacks to more than we accept.", code="too_large")
    out = []
    try:
        for info in infos:
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
                raise ValidationError(f"{name}: a file in the ZIP points outside it.", code="bad_zip_path")
            if not name.lower().endswith((".json", ".csv")):
                raise ValidationError(f"{name}: the ZIP may contain only JSON and CSV files.", code="bad_type")
            data = archive.read(info)  # checks the CRC
            if len(data) != info.file_size:
                raise corrupt
            out.append((name, data))
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, OSError):
        raise corrupt from None
    return out


def export_data(kind: str, content: bytes):
    """What a stored (already checked) export holds, as Python data."""
    if kind == "zip":
        return {name: _parse_member(name, data)[1] for name, data in _check_zip(content)}
    return _parse_member(f"export.{kind}", content)[1]


# --- the package ------------------------------------------------------------------------------------

def _cell(value) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    # Spreadsheets run cells that start like a formula (OWASP CSV injection); JSON keeps the exact value.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def flatten(data, prefix: str = "", out: list | None = None) -> list[tuple[str, object]]:
    """Nested data as (path, value) rows: 'orders[0].total', 12.5."""
    out = [] if out is None else out
    if isinstance(data, dict) and data:
        for key, value in data.items():
            flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(data, list) and data:
        for i, value in enumerate(data):
            flatten(value, f"{prefix}[{i}]", out)
    else:
        out.append((prefix, data))
    return out


def _is_table(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(row, dict) for row in value)


def tables(data) -> list[tuple[str, list[dict]]]:
    """The data as spreadsheet tables: each list of records is a table with a column per field;
    whatever else there is becomes a 'field, value' table (nested paths flattened)."""
    if _is_table(data):
        return [("", data)]
    found, rest = [], {}
    if isinstance(data, dict):
        for key, value in data.items():
            (found.append((str(key), value)) if _is_table(value) else rest.__setitem__(key, value))
    else:
        rest = data
    if rest or not found:
        found.insert(0, ("", [{"field": p, "value": v} for p, v in flatten(rest)]))
    return found


def to_csv(rows: list[dict]) -> bytes:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(str(c)) for c in columns])
    writer.writerows([("" if row.get(c) is None else _cell(row[c])) for c in columns] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()  # BOM: spreadsheets read it as UTF-8


def slug(text: str) -> str:
    s = "".join(ch.lower() if ch.isalnum() else "-" for ch in text).strip("-")
    while "--" in s:
        s = s.replace("--", "-")
    return s[:60] or "system"


@dataclass
class SystemData:
    name: str
    kind: str
    vendor: str
    categories: list[str]
    category_labels: list[str]
    data: object
    sources: list[str]


def build_zip(*, reference: str, regime: str, request_type: str, language: str, generated_on: str,
              systems: list[SystemData], summary_html: str, portable: bool) -> tuple[bytes, dict]:
    """The package: per system data.json and data.csv, summary.html, manifest.json listing every
    file with its SHA-256. Deterministic: the same results give the same bytes."""
    files: list[tuple[str, bytes]] = []
    manifest_systems = []
    used = set()
    for s in systems:
        folder = slug(s.name)
        while folder in used:
            folder += "-2"
        used.add(folder)
        # Compact (the C encoder): machine-readable first; any JSON viewer indents it.
        js = json.dumps(s.data, ensure_ascii=False, sort_keys=True).encode()
        paths = [f"systems/{folder}/data.json"]
        files.append((paths[0], js))
        parts = tables(s.data)
        for section, rows in parts:
            name = "data" if len(parts) == 1 else f"data-{slug(section) if section else 'fields'}"
            paths.append(f"systems/{folder}/{name}.csv")
            files.append((paths[-1], to_csv(rows)))
        manifest_systems.append({"name": s.name, "kind": s.kind, "vendor": s.vendor, "categories": s.categories,
                                 "sources": s.sources, "files": paths})
    files.append(("summary.html", summary_html.encode()))
    manifest = {
        "format": "dsar-access-package/1",
        "reference": reference, "regime": regime, "request_type": request_type, "language": language,
        "generated_on": generated_on,
        "portable": portable,  # GDPR Art. 20: structured, commonly used, machine-readable (JSON, CSV)
        "systems": manifest_systems,
        "files": [{"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b),
                   "media_type": _media_type(p)} for p, b in files],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, content in [("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode()),
                              *files]:
            info = zipfile.ZipInfo(path, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buf.getvalue(), manifest


def _media_type(path: str) -> str:
    return {"json": "application/json", "csv": "text/csv", "html": "text/html"}[path.rsplit(".", 1)[-1]]


def esc(value) -> str:
    return html.escape(str(value))
