"""The cost of explaining a due date (issue 17): derive() (the due date with its steps) and
replay() against the bare date arithmetic (add_period + roll_forward, no steps), over every clock
of every regime (and its extended period) started on each day of a year.

Interleaved rounds, so that load from other processes weighs on all alike; the median round counts.

    .venv/bin/python bench/derivations.py [--quick]

Target: derive + replay within 200 us per clock, so a case page explains its clocks in about a
millisecond. The bare arithmetic (the floor) does a few date additions: the ratio shows what the
steps cost on top, not a goal in itself.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from requests_app import regimes as R  # noqa: E402
from requests_app.clocks import add_period, replay, roll_forward  # noqa: E402
from requests_app.deadlines import Extension, derive  # noqa: E402

JURISDICTIONS = ["DE", "GB", "US-CA", "US-CO", "US-CT", "US-VA", "US-UT", "US-NV", "BR", "MX", "JP"]


def workload(days: int):
    items = []
    for code in JURISDICTIONS:
        jur = R.jurisdiction(code)
        rules = {r.name: r for r in jur.regime.clocks + jur.regime.appeal_clocks()}
        for rule in rules.values():
            for extended in ([False, True] if rule.extended else [False]):
                items += [(jur, rule, extended, dt.date(2026, 1, 1) + dt.timedelta(days=i)) for i in range(days)]
    return items


def bare(items):
    for jur, rule, extended, start in items:
        end = add_period(start, rule.extended if extended else rule.period, jur.calendar)
        if rule.roll_forward:
            roll_forward(end, jur.calendar)


def explained(items):
    for jur, rule, extended, start in items:
        replay(derive(rule, jur, start, extension=Extension() if extended else None))


def main():
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--quick", action="store_true", help="60 start days and 5 rounds instead of 365 and 9")
    opts = args.parse_args()
    items = workload(60 if opts.quick else 365)
    bare(items), explained(items)  # warm the holiday caches
    rounds = {"bare": [], "explained": []}
    for _ in range(5 if opts.quick else 9):
        for name, fn in (("bare", bare), ("explained", explained)):
            t = time.perf_counter()
            fn(items)
            rounds[name].append((time.perf_counter() - t) / len(items))
    floor, figure = statistics.median(rounds["bare"]), statistics.median(rounds["explained"])
    print(f"{len(items)} clocks per round; bare {floor * 1e6:.1f} us, derive+replay {figure * 1e6:.1f} us per clock")
    print(f"RESULT derivations {figure * 1e6:.1f} us floor {floor * 1e6:.1f} us ratio {figure / floor:.2f} "
          "target <=200us/clock")


if __name__ == "__main__":
    main()
