"""How well the identity source's records match what the requester gave (pure: no Django).

Levels: none / e-mail only / two data points / account login. California: a "reasonable degree of
certainty" is matching at least two data points the consumer gave with data points the business
holds (11 CCR §7062(b)); specific pieces need a reasonably high degree — three points and a signed
declaration (§7062(c)), which stays the analyst's call. Mexico: the registered e-mail must match
(privacy policy, section M), so an account found only by account ID or phone does not count."""
from __future__ import annotations

import re

FIELDS = ("email", "account_id", "phone")


def normalise(field: str, value) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if field == "email":
        return text.casefold()
    if field == "phone":
        digits = re.sub(r"\D", "", text)
        return digits[-9:] if len(digits) >= 9 else digits  # the subscriber number, without a country code
    return text


def matched_points(given: dict, row: dict) -> list[str]:
    return [f for f in FIELDS if normalise(f, given.get(f)) and normalise(f, given.get(f)) == normalise(f, row.get(f))]


def match_level(given: dict, rows: list[dict], *, email_must_match: bool = False,
                login: bool = False) -> tuple[str, list[str], str]:
    """(level, identifiers matched, a note for the analyst)."""
    best: list[str] = []
    for row in rows:
        points = matched_points(given, row)
        if (len(points), "email" in points) > (len(best), "email" in best):
            best = points
    if login and "email" in best:
        return "account_login", best, "The requester proved control of the account by logging in."
    if not best:
        return "none", [], "No account matches what the requester gave."
    if "email" not in best and (email_must_match or len(best) < 2):
        why = ("the registered e-mail must match (policy, section M)" if email_must_match
               else "only one data point matched, and it is not the confirmed e-mail")
        return "none", best, f"An account matches {', '.join(best)}, but {why}."
    if len(best) >= 2:
        return "two_points", best, f"Two or more data points match ({', '.join(best)})."
    return "email_only", best, "Only the e-mail address matches an account."
