"""The one implementation of IAM matching: Action/NotAction, Resource/NotResource, Principal/
NotPrincipal, ARN patterns and policy variables. The evaluator, the condition operators and the
breadth findings all match through this module.

Sources (AWS IAM User Guide): "IAM JSON policy elements: Action / NotAction / Resource /
NotResource / Principal / NotPrincipal" and "IAM policy elements: Variables and tags".
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .request import Caller, Context

__all__ = [
    "Unresolved",
    "action_matches",
    "arn_like",
    "as_list",
    "glob_with_variables",
    "match_action",
    "match_resource",
    "not_principal_applies",
    "principal_grant",
    "resource_matches",
    "segments",
    "substitute",
]


def as_list(value: Any) -> list[str]:
    """A policy element that may be one string or a list of strings, as a list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


# --------------------------------------------------------------------------------------------
# Wildcards
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: '*' any run of characters (':' and '/' included), '?' exactly one."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def match_action(pattern: str, action: str) -> bool:
    """Action globs are case-insensitive, service prefix included ("S3:get*" matches s3:GetObject)."""
    return _glob(pattern, True).fullmatch(action) is not None


def match_resource(pattern: str, resource: str) -> bool:
    """Resource globs are case-sensitive and '*' spans ':' and '/' (no policy variables here)."""
    return _glob(pattern, False).fullmatch(resource) is not None


# --------------------------------------------------------------------------------------------
# Policy variables
# --------------------------------------------------------------------------------------------


class Unresolved(Exception):
    """A policy variable names a key the request lacks and has no default: the statement is void."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^,\s'][^,']*?)\s*(?:,\s*'([^']*)')?\s*")


def segments(value: str, ctx: Context) -> list[tuple[str, bool]]:
    """Split a policy string into (text, literal) pieces, substituting ``${...}`` variables.

    Substituted values and the ``${*}``/``${?}``/``${$}`` escapes are literal: they never act as
    wildcards ("IAM policy elements: Variables and tags", Special characters). Variables exist only
    in Version 2012-10-17 documents; elsewhere ``${`` is plain text.
    """
    if not ctx.variables or "${" not in value:
        return [(value, False)]
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in _VARIABLE.finditer(value):
        pieces.append((value[last : match.start()], False))
        body = match.group(1)
        if body in ("*", "?", "$"):
            pieces.append((body, True))
        else:
            parsed = _VARIABLE_BODY.fullmatch(body)
            if not parsed:
                pieces.append((match.group(0), True))
            else:
                key, default = parsed.group(1), parsed.group(2)
                values = ctx.values.get(key.lower())
                if values is not None and len(values) == 1:
                    pieces.append((values[0], True))
                elif default is not None:
                    pieces.append((default, True))
                else:
                    # Absent (or multivalued, which cannot be a variable): the statement is invalid.
                    ctx.note_missing(key)
                    raise Unresolved(key)
        last = match.end()
    pieces.append((value[last:], False))
    return pieces


def substitute(value: str, ctx: Context) -> str:
    """The policy string with its variables replaced (for the exact-match operators)."""
    return "".join(text for text, _ in segments(value, ctx))


def glob_with_variables(pattern: str, ctx: Context, ignore_case: bool) -> re.Pattern[str]:
    """A wildcard pattern whose substituted variables match literally."""
    pieces = segments(pattern, ctx)
    if len(pieces) == 1 and not pieces[0][1]:
        return _glob(pattern, ignore_case)
    regex = "".join(
        re.escape(text) if literal else _glob(text, ignore_case).pattern for text, literal in pieces
    )
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def arn_like(pieces: list[tuple[str, bool]], arn: str) -> bool:
    """ArnLike/ArnEquals: the six colon-delimited parts are matched separately, so a wildcard in
    the first five never crosses a ':'; the sixth (resource) part is everything after the fifth
    colon and may itself contain ':' ("Condition operators", ARN condition operators)."""
    if pieces == [("*", False)]:
        return True
    colons = 0
    regex: list[str] = []
    for text, literal in pieces:
        for ch in text:
            if literal or ch not in "*?":
                regex.append(re.escape(ch))
                colons += ch == ":"
            elif colons >= 5:
                regex.append(".*" if ch == "*" else ".")
            else:
                regex.append("[^:]*" if ch == "*" else "[^:]")
    return re.fullmatch("".join(regex), arn, re.DOTALL) is not None


# --------------------------------------------------------------------------------------------
# Statement elements
# --------------------------------------------------------------------------------------------


def action_matches(statement: dict, action: str) -> bool:
    """Does the statement's Action (or NotAction) cover ``action``? ("NotAction": every action
    except the listed ones; a statement with neither covers nothing.)"""
    if "Action" in statement:
        return any(match_action(p, action) for p in as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(match_action(p, action) for p in as_list(statement["NotAction"]))
    return False


def resource_matches(statement: dict, resource: str, ctx: Context) -> bool:
    """Does the statement's Resource (or NotResource) cover ``resource``? A statement with neither
    is a resource-based policy's: the resource it is attached to is implied."""
    if "Resource" in statement:
        return any(glob_with_variables(p, ctx, False).fullmatch(resource) for p in as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(
            glob_with_variables(p, ctx, False).fullmatch(resource) for p in as_list(statement["NotResource"])
        )
    return True


# --------------------------------------------------------------------------------------------
# Principals
# --------------------------------------------------------------------------------------------

# How a Principal covers the caller, strongest first; the evaluation rules differ by kind.
GRANT_RANK = {"direct": 3, "role": 2, "account": 1}


def _principal_entries(element: Any) -> list[tuple[str, str]]:
    if element == "*":
        return [("AWS", "*")]
    if not isinstance(element, dict):
        return []
    return [(ptype, value) for ptype, values in element.items() for value in as_list(values)]


def is_account_entry(value: str, account: str | None) -> bool:
    """"123456789012" and "arn:aws:iam::123456789012:root" both name the account (Principal page)."""
    if account is None:
        return False
    return value == account or re.fullmatch(rf"arn:aws[a-zA-Z-]*:iam::{account}:root", value) is not None


def _is_role_entry(value: str, caller: Caller) -> bool:
    if caller.role_name is None:
        return False
    # A session ARN carries no role path, so compare the account and the role name (role names are
    # unique in an account whatever their path); this also covers the role's own ARN.
    match = re.fullmatch(r"arn:aws[a-zA-Z-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)", value)
    return bool(match) and match.group(1) == caller.account and match.group(2) == caller.role_name


def principal_grant(element: Any, caller: Caller) -> str | None:
    """How a Principal element covers the caller: "direct" (names the caller itself or '*'),
    "role" (names the role behind a session), "account" (delegates to the caller's account)."""
    best: str | None = None
    for ptype, value in _principal_entries(element):
        grant = None
        if value == "*" and ptype == "AWS":
            grant = "direct"
        elif ptype == "Service":
            grant = "direct" if caller.kind == "service" and value == caller.arn else None
        elif ptype in ("AWS", "Federated"):
            if _is_role_entry(value, caller):
                grant = "role"
            elif value == caller.arn and caller.kind != "role":
                grant = "direct"
            elif is_account_entry(value, caller.account):
                grant = "account"
        if grant and (best is None or GRANT_RANK[grant] > GRANT_RANK[best]):
            best = grant
    return best


def not_principal_applies(element: Any, caller: Caller) -> bool:
    """NotPrincipal covers a caller only if every identity in its chain is listed: the account,
    the role (for sessions) and the caller itself ("AWS JSON policy elements: NotPrincipal")."""
    entries = [value for _, value in _principal_entries(element)]
    if "*" in entries:
        return False
    if caller.kind == "root":
        return not any(is_account_entry(v, caller.account) for v in entries)
    chain_listed = [caller.arn in entries]
    if caller.kind in ("role", "assumed-role"):
        chain_listed.append(any(_is_role_entry(v, caller) for v in entries))
    if caller.account:
        chain_listed.append(any(is_account_entry(v, caller.account) for v in entries))
    return not all(chain_listed)
