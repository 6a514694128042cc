"""The grounds on which each regime lets us refuse a request, with their legal source.

Pure rule code (no Django imports). The staff decision form offers the regime's own list; the chosen
source is cited in the letter when staff give no other. CCPA's codes are the buckets of its 11 CCR
§7102 metrics. Where the spec names a law without article numbers (LFPDPPP 2025), so do we.
"""
from __future__ import annotations

from typing import NamedTuple


class Ground(NamedTuple):
    code: str
    label: str
    source: str


OTHER = Ground("other", "Other grounds (state them in the reasons)", "")


def _gdpr(law: str) -> tuple[Ground, ...]:
    return (
        Ground("unverifiable", "We could not confirm the requester's identity", f"{law} Art. 12(6) and 11(2)"),
        Ground("manifestly_unfounded", "Manifestly unfounded or excessive (in particular repetitive)",
               f"{law} Art. 12(5)(b)"),
        Ground("rights_of_others", "A copy would adversely affect the rights and freedoms of others",
               f"{law} Art. 15(4)"),
        Ground("expression", "Erasure: needed for freedom of expression and information", f"{law} Art. 17(3)(a)"),
        Ground("legal_obligation", "Erasure: needed to comply with a legal obligation or a public-interest task",
               f"{law} Art. 17(3)(b)"),
        Ground("public_health", "Erasure: public interest in public health", f"{law} Art. 17(3)(c)"),
        Ground("archiving", "Erasure: archiving, research or statistics in the public interest",
               f"{law} Art. 17(3)(d)"),
        Ground("legal_claims", "Erasure: needed for legal claims", f"{law} Art. 17(3)(e)"),
        OTHER,
    )


def _us(verify: str, exempt: str) -> tuple[Ground, ...]:
    return (
        Ground("unverifiable", "We could not verify the request", verify),
        Ground("exempt", "The data or the processing is exempt from the law", exempt),
        OTHER,
    )


GROUNDS: dict[str, tuple[Ground, ...]] = {
    "gdpr": _gdpr("GDPR"),
    "uk_gdpr": _gdpr("UK GDPR"),
    "ccpa": (
        # 11 CCR §7102(a)(2): the metrics count denials by these bases.
        Ground("unverifiable", "The request could not be verified", "11 CCR §7060–7062"),
        Ground("not_consumer", "Not made by a consumer (or an authorised agent)", "Cal. Civ. Code §1798.140(i)"),
        Ground("exempt", "Called for information exempt from disclosure",
               "Cal. Civ. Code §1798.105(d), §1798.145, §1798.146"),
        Ground("other", "Denied on other grounds", ""),
    ),
    "cpa": _us("C.R.S. 6-1-1306(1)", "C.R.S. 6-1-1304"),
    "ctdpa": _us("Conn. Gen. Stat. 42-518", "Conn. Gen. Stat. 42-517"),
    "vcdpa": _us("Va. Code 59.1-577", "Va. Code 59.1-576, 59.1-582"),
    "ucpa": _us("Utah Code 13-61-203", "Utah Code 13-61-102, 13-61-304"),
    "nrs603a": _us("NRS 603A.340", "NRS 603A.335"),
    "lgpd": (
        Ground("not_agent", "We are not the processing agent of this data (we name who is, where possible)",
               "LGPD Art. 18 §4 I"),
        Ground("fact_or_law", "Reasons of fact or of law prevent us from acting", "LGPD Art. 18 §4 II"),
        Ground("legal_obligation", "Deletion: the data must be kept for a legal or regulatory obligation",
               "LGPD Art. 16 I"),
        Ground("research", "Deletion: kept for study by a research body, anonymised where possible",
               "LGPD Art. 16 II"),
        Ground("controller_use", "Deletion: kept for our exclusive use, anonymised, not shared",
               "LGPD Art. 16 IV"),
        Ground("trade_secret", "Commercial and industrial secrets", "LGPD Art. 18 V, Art. 19 §3"),
        OTHER,
    ),
    "lfpdppp": (
        # LFPDPPP (2025): the causes for which the controller may refuse ARCO rights.
        Ground("not_holder", "The requester is not the data subject, or the representative is not accredited",
               "LFPDPPP (2025), refusal of ARCO rights: requester not the holder"),
        Ground("not_found", "We hold no personal data of the requester", "LFPDPPP (2025), refusal of ARCO rights: "
               "data not in our records"),
        Ground("third_party", "It would harm the rights of a third party",
               "LFPDPPP (2025), refusal of ARCO rights: harm to a third party"),
        Ground("legal_impediment", "A legal impediment or a decision of a competent authority prevents it",
               "LFPDPPP (2025), refusal of ARCO rights: legal impediment"),
        Ground("already_done", "The rectification, cancellation or opposition was already carried out",
               "LFPDPPP (2025), refusal of ARCO rights: already done"),
        OTHER,
    ),
    "voluntary": (Ground("unverifiable", "We could not verify the request", "Company privacy policy"), OTHER),
}


def grounds(regime_code: str) -> tuple[Ground, ...]:
    return GROUNDS.get(regime_code, (OTHER,))


def ground(regime_code: str, code: str) -> Ground | None:
    return next((g for g in grounds(regime_code) if g.code == code), None)
