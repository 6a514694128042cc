"""Benchmark: median time to render each kind of response letter to PDF, against WeasyPrint's
floor (a bare one-page HTML document, no stylesheet, rendered in the same process and run).

    .venv/bin/python bench/letters.py [--quick] [--runs N]

The letters are built from unsaved model instances with realistic frozen contexts, so no database
is needed: what is measured is exactly letters.render_pdf (template + WeasyPrint). The floor is
WeasyPrint called the ordinary way, `HTML(string=bare_page).write_pdf()`; the bare page rendered
with the letters' reused font configuration is printed too, for reference. Jobs run in interleaved
rounds so that load from other processes weighs on all of them alike. Ends with one RESULT line;
the figure is the slowest kind (its ratio to the floor is what the target bounds).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

# Replace the script folder on the path: bench/queue.py would shadow the standard library.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar.settings")

import django  # noqa: E402

django.setup()
__import__("logging").getLogger("weasyprint").setLevel(40)

from requests_app import letters  # noqa: E402
from requests_app.models import Appeal, DataSubjectRequest, Letter  # noqa: E402

BARE = ("<!doctype html><html><head><meta charset='utf-8'><title>Floor</title></head><body>"
        "<h1>Letter</h1><p>Dear Ana Example,</p><p>We confirm that we received your request.</p>"
        "<p>Yours sincerely,</p></body></html>")

FACTS = {
    "issued_on": "2026-03-20", "received_on": "2026-03-02", "requester_name": "Ana Example",
    "requester_email": "ana@example.com", "filer": "self", "agent_name": "", "agent_organisation": "",
    "via_gpc": False, "email_confirmed": True, "verified": False, "awaiting": "",
    "information_requested_on": "2026-03-05", "decision_sent_on": "2026-03-20", "respond_due": "2026-04-16",
    "respond_source": "Cal. Civ. Code §1798.130(a)(2); 11 CCR §7021(b)", "respond_paused": False,
    "respond_extended": False, "respond_extension_max": "2026-05-31", "acknowledge_due": "2026-03-16",
    "request_information_due": None, "determination_due": None, "effective_due": None, "reply_due": None,
    "confirm_days": 14, "controller": "us", "appeal_received_on": "2026-03-25", "appeal_due": "2026-05-09",
}
KNOW = {"categories": ["Identifiers", "Commercial information", "Internet activity"],
        "sources": ["You", "Your device", "Carriers"], "purposes": ["Fulfilling orders", "Fraud prevention"],
        "recipients": ["Couriers", "Payment processors", "Advertising networks"],
        "data": {"account": {"name": "Ana Example", "email": "ana@example.com", "country": "US"},
                 "orders": {"count": 3, "last": "2026-02-01"}}}

# One representative (and among the longest) letter of each kind.
SAMPLES = {
    "acknowledgement": ("US-CA", "access", {}),
    "request_information": ("MX", "access", {"what": "information", "message": "Please tell us which order.",
                                              "reply_due": "2026-03-19"}),
    "extension_notice": ("US-CA", "access", {"clock": "respond", "reason": "Data held in several systems.",
                                             "old_due": "2026-04-16", "new_due": "2026-05-31",
                                             "source": "Cal. Civ. Code §1798.130(a)(2); 11 CCR §7021(b)"}),
    "determination": ("MX", "access", {"admissible": False, "reasons": "The account was closed in 2019.",
                                       "effective_due": None}),
    "fulfilment": ("US-CA", "access", {"outcome": "fulfil", "reasons": "", **KNOW}),
    "denial": ("US-CO", "access", {"outcome": "deny", "reasons": "We hold no account under this address.",
                                   "appeal_window_due": "2026-05-04"}),
    "appeal_decision": ("US-CO", "access", {"outcome": "upheld", "reasons": "No account matches the details.",
                                            "attorney_general": "Colorado Attorney General, 1300 Broadway, "
                                                                "Denver, CO 80203; online: coag.gov/file-complaint"}),
    "not_filed": ("US-CA", "access", {"reason": "E-mail address never confirmed"}),
}


def sample(kind: str, language: str = "en") -> Letter:
    jurisdiction, request_type, context = SAMPLES[kind]
    from requests_app.regimes import jurisdiction as lookup

    case = DataSubjectRequest(pk=1, reference="DSAR-2026-000001", public_id=uuid.uuid4(), jurisdiction=jurisdiction,
                              regime=lookup(jurisdiction).regime.code, request_type=request_type, language=language,
                              requester_name="Ana Example", requester_email="ana@example.com")
    facts = dict(FACTS, controller=letters.controller_key(case))
    letter = Letter(pk=1, case=case, kind=kind, language=language, context={**context, "facts": facts})
    if kind == "appeal_decision":
        letter.appeal = Appeal(pk=1, case=case)
    return letter


def measure(jobs: dict, runs: int, clock=time.perf_counter) -> dict[str, float]:
    """Median seconds per job. Jobs run in interleaved rounds, so that load from other processes
    on the machine weighs on the floor and the letters alike."""
    for job in jobs.values():
        job()  # warm-up: fonts, stylesheet, template caches
    samples = {name: [] for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            start = clock()
            job()
            samples[name].append(clock() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="7 rounds instead of 31")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--language", default="en")
    parser.add_argument("--cpu", action="store_true",
                        help="measure process CPU time instead of wall time (steadier on a shared machine)")
    args = parser.parse_args()
    runs = args.runs or (7 if args.quick else 31)

    import io

    from pypdf import PdfReader
    from weasyprint import HTML

    fonts = letters._weasy()[0]
    jobs = {
        # The floor: WeasyPrint called the ordinary way on a bare page (its own font set-up each call).
        "floor": lambda: HTML(string=BARE).write_pdf(),
        # For reference: the same bare page reusing the letters' font configuration.
        "floor_warm": lambda: HTML(string=BARE).write_pdf(font_config=fonts),
    }
    pages = {}
    for kind in letters.KINDS:
        letter = sample(kind, args.language)
        pages[kind] = len(PdfReader(io.BytesIO(letters.render_pdf(letter))).pages)
        jobs[kind] = (lambda letter: lambda: letters.render_pdf(letter))(letter)
    results = measure(jobs, runs, time.process_time if args.cpu else time.perf_counter)
    floor = results.pop("floor")
    warm = results.pop("floor_warm")
    clock = "CPU" if args.cpu else "wall"
    print(f"floor (WeasyPrint, bare one-page HTML): {floor * 1000:.1f} ms  "
          f"(median {clock} time of {runs} interleaved rounds)")
    print(f"  same page with a reused font configuration: {warm * 1000:.1f} ms")
    for kind, seconds in results.items():
        print(f"{kind:<20} {seconds * 1000:7.1f} ms  {seconds / floor:4.2f}x floor  ({pages[kind]} page(s))")
    worst = max(results, key=results.get)
    ratio = results[worst] / floor
    print(f"slowest: {worst}")
    print(f"RESULT letters {results[worst] * 1000:.1f} ms floor {floor * 1000:.1f} ms ratio {ratio:.2f} target <=2x")


if __name__ == "__main__":
    main()
