"""Checks a connector's SQL statement before it is saved (pure: no Django imports).

Identities reach a statement only as named bound parameters, written ``%(email)s`` (the pyformat
style psycopg and PyMySQL both bind; SQLite's ``:email`` is derived from it). Anything that would
put an identity into the SQL text itself is refused: a placeholder inside a string literal or a
comment, Python/format-style or positional placeholders, an unknown parameter name, more than one
statement, or a verb that does not fit the action (collect and identity look-ups only SELECT)."""
from __future__ import annotations

import re

IDENTITY_PARAMS = ("email", "account_id", "phone")
# Corrections the analyst enters for a correct task (never taken from the SQL text).
CORRECTION_PARAMS = ("new_name", "new_email", "new_phone", "new_address")
VERBS = {"collect": ("SELECT", "WITH"), "identity": ("SELECT", "WITH"), "erase": ("UPDATE", "DELETE"),
         "correct": ("UPDATE",), "suppress": ("UPDATE", "INSERT", "DELETE")}

_TOKENS = re.compile(r"""
    (?P<string>'(?:[^']|'')*'?) |            # 'literal' (SQL doubles quotes)
    (?P<ident>"(?:[^"]|"")*"?|`[^`]*`?) |    # "quoted" or `quoted` identifiers
    (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|$)) |
    (?P<param>%\((?P<name>[^)]*)\)s) |
    (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_FORMATTED = re.compile(r"%\(|%[sdfr]|\{[^}]*\}|\$\d|\?|(?<![:\w]):[A-Za-z_]\w*")
_IN_LITERAL = re.compile(r"%\(|%[sd]|\{\w+\}|(?<![:\w]):(?:email|account_id|phone)\b")


class StatementError(ValueError):
    pass


def params_of(sql: str) -> list[str]:
    return [m.group("name") for m in _TOKENS.finditer(sql) if m.group("param")]


def check(sql: str, action: str) -> list[str]:
    """The parameter names the statement binds, or StatementError saying why it is refused."""
    if action not in VERBS:
        raise StatementError(f"Unknown action '{action}'.")
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise StatementError("The statement is empty.")
    names, bare = [], []
    for m in _TOKENS.finditer(text):
        chunk = m.group(0)
        if m.group("string") is not None or m.group("ident") is not None or m.group("comment") is not None:
            if _IN_LITERAL.search(chunk):
                raise StatementError("An identity placeholder inside a quoted string or a comment would be "
                                     "formatted into the SQL text: bind it, e.g. WHERE email = %(email)s.")
            bare.append(" ")
        elif m.group("param") is not None:
            names.append(m.group("name"))
            bare.append(" ")
        else:
            bare.append(chunk)
    rest = "".join(bare)
    if ";" in rest:
        raise StatementError("One statement per entry: a ';' would run a second statement.")
    if _FORMATTED.search(rest) or "%" in rest.replace("%%", ""):
        raise StatementError("Only named bound parameters are allowed (%(email)s, %(account_id)s, %(phone)s); "
                             "no string formatting, positional (?, %s, $1) or {format} placeholders.")
    allowed = IDENTITY_PARAMS + (CORRECTION_PARAMS if action == "correct" else ())
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise StatementError(f"Unknown parameter(s): {', '.join(unknown)}. Allowed: {', '.join(allowed)}.")
    if not set(names) & set(IDENTITY_PARAMS):
        raise StatementError("The statement must be keyed by the requester's identity "
                             "(%(email)s, %(account_id)s or %(phone)s).")
    verb = rest.split(None, 1)[0].upper() if rest.split() else ""
    if verb not in VERBS[action]:
        raise StatementError(f"A {action} statement must start with {' or '.join(VERBS[action])}, not {verb or '—'}.")
    return list(dict.fromkeys(names))


def to_qmark_named(sql: str) -> str:
    """%(email)s → :email, for SQLite (only outside literals; check() refused the rest)."""
    return "".join(f":{m.group('name')}" if m.group("param") else m.group(0) for m in _TOKENS.finditer(sql))
