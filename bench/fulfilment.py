"""Benchmark: time to assemble one access package for a marketplace case (ten systems of ours and
three processors, each giving a JSON export of N records), against a floor that does the same job
the shortest way the standard library allows, knowing the exports' shape in advance: json.loads,
json.dumps, csv.DictWriter over the records, one zip (no generic tables, no formula guard, no
summary, no manifest or hashes).

    .venv/bin/python bench/fulfilment.py [--quick] [--runs N]

What is measured is exactly what the decision does with the stored exports: parse each
(exports.export_data), write JSON and CSV per system, the summary and the manifest with a SHA-256
per file (exports.build_zip). No database: the systems are plain SystemData. Runs interleave the
package and the floor so load from other processes weighs on both alike. Ends with one RESULT line.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar.settings")

import django  # noqa: E402

django.setup()

from requests_app.fulfilment import exports  # noqa: E402

SYSTEMS = ["Accounts", "Orders", "Payments", "Support", "Marketing", "Reviews", "Wishlist", "Logins",
           "Recommendations", "Coupons", "Courier (FastShip)", "Payment provider (PayCo)", "Ad network (AdCo)"]


def exports_for(records: int) -> list[tuple[str, bytes]]:
    out = []
    for i, name in enumerate(SYSTEMS):
        rows = [{"id": f"{i}-{n}", "when": f"2026-0{1 + n % 9}-1{n % 10}T10:00:00Z", "amount": n * 1.25,
                 "text": f"Record {n} of {name}, with some free text about the order and its delivery",
                 "tags": ["a", "b", str(n % 7)], "address": {"city": "Sacramento", "zip": "95814"}}
                for n in range(records)]
        out.append((name, json.dumps({"records": rows}).encode()))
    return out


def package(raw: list[tuple[str, bytes]]) -> bytes:
    systems = [exports.SystemData(name=name, kind="ours", vendor="", categories=["commercial"],
                                  category_labels=["Commercial information"], sources=["You"],
                                  data=exports.export_data("json", content)) for name, content in raw]
    content, _manifest = exports.build_zip(reference="DSAR-2026-000001", regime="ccpa", request_type="access",
                                           language="en", generated_on="2026-03-20", systems=systems,
                                           summary_html="<html><body>summary</body></html>", portable=False)
    return content


def floor(raw: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in raw:
            data = json.loads(content)
            zf.writestr(f"{name}/data.json", json.dumps(data, ensure_ascii=False, sort_keys=True))
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(data["records"][0]))
            writer.writeheader()
            writer.writerows(data["records"])
            zf.writestr(f"{name}/data.csv", out.getvalue())
    return buf.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=0)
    args = parser.parse_args()
    records = 300 if args.quick else 3000
    runs = args.runs or (5 if args.quick else 7)
    raw = exports_for(records)
    size = sum(len(c) for _n, c in raw)
    print(f"{len(SYSTEMS)} systems × {records} records, {size / 1e6:.1f} MB of exports")
    times = {"package": [], "floor": []}
    for _ in range(runs):
        for name, fn in (("package", package), ("floor", floor)):
            t = time.perf_counter()
            out = fn(raw)
            times[name].append(time.perf_counter() - t)
        print(f"  package {times['package'][-1] * 1000:.0f} ms ({len(out) / 1e6:.1f} MB zip), "
              f"floor {times['floor'][-1] * 1000:.0f} ms")
    p, f = statistics.median(times["package"]), statistics.median(times["floor"])
    print(f"RESULT fulfilment_package {p * 1000:.0f} ms floor {f * 1000:.0f} ms ratio {p / f:.2f} "
          f"target <=3x")


if __name__ == "__main__":
    main()
