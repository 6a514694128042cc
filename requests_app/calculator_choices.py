"""The calculator's selects (issue 11): jurisdictions grouped by regime, and the request types of
the chosen one. Built once from the registry; the registry stays the only source."""
from __future__ import annotations

from functools import lru_cache

from . import regimes as R


@lru_cache(maxsize=1)
def _jurisdictions() -> tuple[R.Jurisdiction, ...]:
    found = []
    for code in R.all_country_codes() + R.us_state_codes():
        try:
            found.append(R.jurisdiction(code))
        except R.RegimeError:
            continue  # "US" needs a state
    return tuple(found)


def regime_of() -> dict[str, str]:
    """Jurisdiction code → regime code (for the page's script, which narrows the request types)."""
    return {j.code: j.regime.code for j in _jurisdictions()}


@lru_cache(maxsize=1)
def _groups() -> tuple:
    order = list(R.REGIMES)
    groups: dict[str, list] = {}
    for j in sorted(_jurisdictions(), key=lambda j: j.name):
        groups.setdefault(j.regime.code, []).append((j.code, f"{j.name} ({j.code})"))
    return tuple((R.regime(code).name, tuple(groups[code])) for code in sorted(groups, key=order.index))


def jurisdiction_groups() -> list:
    return [(label, list(options)) for label, options in _groups()]


def request_type_groups(jurisdiction: str | None) -> list:
    try:
        regime = R.jurisdiction(jurisdiction).regime if jurisdiction else None
    except R.RegimeError:
        regime = None
    if regime is not None:
        return [(t.code, f"{t.label} ({t.code})") for t in regime.request_types]
    return [(r.name, [(t.code, f"{t.label} ({t.code})") for t in r.request_types]) for r in R.REGIMES.values()]


def script_data() -> dict:
    """What the page's script needs to narrow the request types without a round trip."""
    return {"regimes": regime_of(),
            "types": {r.code: [[t.code, f"{t.label} ({t.code})"] for t in r.request_types]
                      for r in R.REGIMES.values()}}
