"""Parsing and validating policy documents: the grammar AWS enforces when a policy is saved.

Sources (AWS IAM User Guide): "IAM JSON policy language grammar", "IAM JSON policy elements:
Version / Statement / Effect / Principal / NotPrincipal / Action / Resource / Condition" and
"IAM JSON policy elements: Condition operators" (values each operator accepts). A document that
AWS would refuse raises PolicyError, whose message names the policy, the statement and the rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .conditions import check_condition_value, condition_values, parse_operator

__all__ = ["KIND_LABELS", "Policy", "PolicyError", "iter_statements", "parse_policy"]

VARIABLES_VERSION = "2012-10-17"  # policy variables exist only in this language version
VALID_VERSIONS = ("2012-10-17", "2008-10-17")

STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
TOP_LEVEL_KEYS = frozenset({"Version", "Id", "Statement"})
PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
POLICY_KINDS = (None, "identity", "resource", "boundary", "session", "scp")

# Human labels for each policy set, used in reasons and errors.
KIND_LABELS = {
    "identity": "identity-based policy",
    "resource": "resource-based policy",
    "boundary": "permissions boundary",
    "session": "session policy",
    "scp": "service control policy",
}


class PolicyError(ValueError):
    """A policy document AWS would reject; the message names the policy and what is wrong."""



@dataclass
class Policy:
    """A parsed policy document; ``name`` is how reasons and matched statements refer to it."""

    name: str
    document: dict
    # (start, end) (line, column) of each statement in the source text; empty for dict input.
    positions: list[tuple[tuple[int, int], tuple[int, int]]] = field(
        default_factory=list, repr=False, compare=False
    )

    @property
    def version(self) -> str | None:
        version = self.document.get("Version") if isinstance(self.document, dict) else None
        return version if isinstance(version, str) else None


def iter_statements(policy: Policy) -> list[dict]:
    """The policy's statements as a list (``Statement`` may be a single object)."""
    statements = policy.document.get("Statement") if isinstance(policy.document, dict) else None
    if isinstance(statements, dict):
        return [statements]
    if isinstance(statements, list):
        return [s for s in statements if isinstance(s, dict)]
    return []




def parse_policy(name: str, text_or_dict: str | bytes | dict, *, kind: str | None = None) -> Policy:
    """Parse and validate a policy document the way IAM's policy grammar would.

    ``kind`` tightens the checks: "identity"/"boundary"/"session" reject a Principal and require
    Resource or NotResource; "resource" requires Principal or NotPrincipal; None infers it per
    statement (a statement without a Principal must have a Resource).
    """
    if kind not in POLICY_KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    positions: list[tuple[tuple[int, int], tuple[int, int]]] = []
    if isinstance(text_or_dict, bytes):
        try:
            text_or_dict = text_or_dict.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"policy {name!r} is not UTF-8 text: {exc.reason}") from None
    if isinstance(text_or_dict, str):
        text = text_or_dict.lstrip("\ufeff")
        if not text.strip():
            raise PolicyError(f"policy {name!r} is empty: expected a JSON object with a Statement")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(
                f"policy {name!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        positions = _statement_spans(text)
    elif isinstance(text_or_dict, dict):
        document = text_or_dict
    else:
        raise PolicyError(f"policy {name!r} must be JSON text or a dict, not {type(text_or_dict).__name__}")
    _validate_document(name, document, kind)
    policy = Policy(name=name, document=document)
    if len(positions) == len(iter_statements(policy)):
        policy.positions = positions
    return policy


def _validate_document(name: str, document: Any, kind: str | None) -> None:
    def fail(message: str) -> PolicyError:
        return PolicyError(f"policy {name!r}: {message}")

    if not isinstance(document, dict):
        raise fail(f"the document must be a JSON object, not {_json_type(document)}")
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise fail(f"unknown top-level element {unknown[0]!r} (allowed: Version, Id, Statement)")
    if "Version" in document and document["Version"] not in VALID_VERSIONS:
        raise fail(f'Version must be "2012-10-17" (or the legacy "2008-10-17"), got {document["Version"]!r}')
    if "Statement" not in document:
        raise fail("has no Statement element")
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise fail(f"Statement must be an object or a list of objects, not {_json_type(statements)}")
    if not statements:
        raise fail("Statement is an empty list")
    for index, statement in enumerate(statements):
        _validate_statement(name, index, statement, kind)


def _validate_statement(name: str, index: int, statement: Any, kind: str | None) -> None:
    where = f"Statement[{index}]"
    if isinstance(statement, dict) and isinstance(statement.get("Sid"), str) and statement["Sid"]:
        where += f" (Sid {statement['Sid']!r})"

    def fail(message: str) -> PolicyError:
        return PolicyError(f"policy {name!r}, {where}: {message}")

    if not isinstance(statement, dict):
        raise fail(f"a statement must be a JSON object, not {_json_type(statement)}")
    unknown = sorted(set(statement) - STATEMENT_KEYS)
    if unknown:
        raise fail(
            f"unknown element {unknown[0]!r} (allowed: Sid, Effect, Principal, NotPrincipal, Action, "
            "NotAction, Resource, NotResource, Condition)"
        )
    if "Sid" in statement and not isinstance(statement["Sid"], str):
        raise fail("Sid must be a string")
    if "Effect" not in statement:
        raise fail('has no Effect (must be "Allow" or "Deny")')
    if statement["Effect"] not in ("Allow", "Deny"):
        raise fail(f'Effect must be "Allow" or "Deny", got {statement["Effect"]!r}')

    if "Action" in statement and "NotAction" in statement:
        raise fail("has both Action and NotAction; use one of them")
    if "Action" not in statement and "NotAction" not in statement:
        raise fail("has neither Action nor NotAction")
    element = "Action" if "Action" in statement else "NotAction"
    for action in _string_list(statement[element], fail, element):
        if action != "*" and ":" not in action:
            raise fail(f'{element} {action!r} has no service prefix (expected e.g. "s3:GetObject")')

    if "Resource" in statement and "NotResource" in statement:
        raise fail("has both Resource and NotResource; use one of them")
    for element in ("Resource", "NotResource"):
        if element in statement:
            _string_list(statement[element], fail, element)

    has_principal = "Principal" in statement or "NotPrincipal" in statement
    if "Principal" in statement and "NotPrincipal" in statement:
        raise fail("has both Principal and NotPrincipal; use one of them")
    if kind in ("identity", "boundary", "session", "scp") and has_principal:
        element = "Principal" if "Principal" in statement else "NotPrincipal"
        raise fail(
            f"{element} is not allowed in {_article(KIND_LABELS[kind])} "
            "(only resource-based policies name principals)"
        )
    if "NotPrincipal" in statement and statement["Effect"] == "Allow":
        # "AWS JSON policy elements: NotPrincipal": "NotPrincipal must be used with "Effect":"Deny".
        # Using it with "Effect":"Allow" is not supported." (and never in a role trust policy).
        raise fail(
            'uses NotPrincipal with "Effect": "Allow", which AWS does not support: NotPrincipal only '
            "works in a Deny (deny everyone except the listed principals). To grant access, name the "
            "principals in a Principal element"
        )
    if kind == "resource" and not has_principal:
        raise fail("a resource-based policy statement needs a Principal or NotPrincipal")
    needs_resource = kind in ("identity", "boundary", "session") or (kind is None and not has_principal)
    if needs_resource and "Resource" not in statement and "NotResource" not in statement:
        raise fail("has neither Resource nor NotResource (identity-based policies must name resources)")
    for element in ("Principal", "NotPrincipal"):
        if element in statement:
            _validate_principal(statement[element], fail, element)

    if "Condition" in statement:
        _validate_condition(statement["Condition"], fail)


def _validate_principal(value: Any, fail, element: str) -> None:
    if value == "*":
        return
    if not isinstance(value, dict) or not value:
        raise fail(f'{element} must be "*" or an object such as {{"AWS": "arn:aws:iam::123456789012:root"}}')
    for principal_type, principals in value.items():
        if principal_type not in PRINCIPAL_TYPES:
            raise fail(
                f"{element} type {principal_type!r} is not one of AWS, Service, Federated, CanonicalUser"
            )
        _string_list(principals, fail, f"{element}.{principal_type}")


def _validate_condition(condition: Any, fail) -> None:
    if not isinstance(condition, dict):
        raise fail("Condition must be an object of {operator: {key: value(s)}}")
    for raw_operator, block in condition.items():
        try:
            operator = parse_operator(raw_operator)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if not isinstance(block, dict) or not block:
            raise fail(f"Condition operator {raw_operator!r} must map condition keys to values")
        for key, values in block.items():
            if not isinstance(key, str) or not key:
                raise fail(f"Condition operator {raw_operator!r} has an empty condition key")
            values = condition_values(values)
            if values is None:
                raise fail(
                    f"Condition {raw_operator!r} key {key!r}: values must be strings, numbers or booleans"
                )
            if not values:
                raise fail(f"Condition {raw_operator!r} key {key!r} has no values")
            for value in values:
                problem = check_condition_value(operator, value)
                if problem:
                    raise fail(f"Condition {raw_operator!r} key {key!r}: {problem}")


def _article(label: str) -> str:
    return ("an " if label[0] in "aeiou" else "a ") + label


def _string_list(value: Any, fail, element: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise fail(f"{element} must be a non-empty string or a non-empty list of strings")
    return values


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _statement_spans(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) (line, column) of each statement in the text, for MatchedStatements positions.

    Walks the top-level object with the json module's own scanner, so offsets are exact.
    """
    scan = json.JSONDecoder().scan_once
    ws = re.compile(r"[ \t\n\r]*")

    def pos(offset: int) -> tuple[int, int]:
        line = text.count("\n", 0, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    try:
        i = ws.match(text, 0).end()
        if text[i] != "{":
            return []
        i += 1
        while True:
            i = ws.match(text, i).end()
            if text[i] == "}":
                return []
            key, i = scan(text, i)
            i = ws.match(text, i).end() + 1  # the ':'
            i = ws.match(text, i).end()
            start = i
            value, i = scan(text, i)
            if key == "Statement":
                if isinstance(value, dict):
                    return [(pos(start), pos(i - 1))]
                spans = []
                j = start + 1
                for _ in value:
                    j = ws.match(text, j).end()
                    element_start = j
                    _, j = scan(text, j)
                    spans.append((pos(element_start), pos(j - 1)))
                    j = ws.match(text, j).end()
                    if text[j] == ",":
                        j += 1
                return spans
            i = ws.match(text, i).end()
            if text[i] != ",":
                return []
            i += 1
    except (IndexError, StopIteration, ValueError, TypeError):
        return []


