"""Refresh the letter catalogues (es, pt_BR) from templates/letters, requests_app/letters.py and the
registry's request-type labels, keeping every translation that still applies.

    .venv/bin/python locale_letters/extract.py && .venv/bin/python manage.py compile_translations

Only letter strings are extracted (the web and e-mail strings live in locale/, owned separately):
the sources are copied to a temporary folder and Django's makemessages (GNU gettext) runs there.
New strings come out untranslated; translate them in the .po files before release.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "locale_letters"
LANGS = ("es", "pt_BR")


def registry_strings() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from requests_app import regimes as R

    out = []
    for regime in R.REGIMES.values():
        out += [regime.name, regime.law]
        for rt in regime.request_types:
            out += [rt.label, rt.description, rt.citation]
    out += WORDED_CITATIONS
    return list(dict.fromkeys(out))


# Citations in words (letters.citations), translated like the registry's (issue 11).
WORDED_CITATIONS = [
    "LFPDPPP (2025): determination within 20 days; effective within 15 days",
    "LFPDPPP (2025): request for missing information",
    "LFPDPPP (2025): requester's reply",
    "LFPDPPP (2025): determination within 20 days",
    "LFPDPPP (2025): effective within 15 days",
]


def main() -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "templates" / "letters").mkdir(parents=True)
        for path in (ROOT / "templates" / "letters").glob("*.html"):
            shutil.copy(path, tmp / "templates" / "letters" / path.name)
        shutil.copy(ROOT / "requests_app" / "letters.py", tmp / "letters.py")
        # The registry's labels are translated at display time: list them as gettext calls. Every
        # letter string has the gettext context "letter", so locale/ (the web) never overrides it.
        (tmp / "registry.py").write_text("".join(f"pgettext('letter', {s!r})\n" for s in registry_strings()))
        (tmp / "locale").mkdir()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": ""}
        args = [str(ROOT / ".venv" / "bin" / "django-admin"), "makemessages", "--no-location", "--no-wrap",
                "--no-obsolete"] + [f"-l{lang}" for lang in LANGS]
        subprocess.run(args, cwd=tmp, env=env, check=True, capture_output=True)
        for lang in LANGS:
            with open(tmp / "locale" / lang / "LC_MESSAGES" / "django.po", "rb") as fh:
                fresh = read_po(fh)
            target = HERE / lang / "LC_MESSAGES" / "django.po"
            old = Catalog()
            if target.exists():
                with target.open("rb") as fh:
                    old = read_po(fh)
            out = Catalog(locale=lang, project="DSAR letters", fuzzy=False)
            for message in fresh:
                if not message.id:
                    continue
                previous = old.get(message.id, context=message.context) or old.get(message.id)
                out.add(message.id, previous.string if previous else "", flags=message.flags,
                        context=message.context)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                write_po(fh, out, width=0, omit_header=False, sort_output=False)
            done = sum(1 for m in out if m.id and m.string)
            print(f"{lang}: {done}/{len(out)} translated")


if __name__ == "__main__":
    main()
