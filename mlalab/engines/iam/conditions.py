"""Condition operators: parsing, value checks, and the rules for missing keys and multivalued keys.

Sources (AWS IAM User Guide): "IAM JSON policy elements: Condition operators" (operator families,
...IfExists, the Null check), "IAM JSON policy elements: Condition" (operators AND, keys AND, the
values of one key OR), "Set operators for multivalued context keys" (ForAllValues/ForAnyValue and
empty key sets), "Single-valued vs. multivalued context keys" (missing keys).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .matching import arn_like, glob_with_variables, segments, substitute
from .request import Context

__all__ = ["Operator", "check_condition_value", "condition_values", "conditions_hold", "parse_operator"]

# canonical lower-case name -> (family, negated, comparison)
_OPERATORS: dict[str, tuple[str, bool, str]] = {
    "stringequals": ("string", False, "equals"),
    "stringnotequals": ("string", True, "equals"),
    "stringequalsignorecase": ("string", False, "equals_ignore_case"),
    "stringnotequalsignorecase": ("string", True, "equals_ignore_case"),
    "stringlike": ("string", False, "like"),
    "stringnotlike": ("string", True, "like"),
    "numericequals": ("numeric", False, "eq"),
    "numericnotequals": ("numeric", True, "eq"),
    "numericlessthan": ("numeric", False, "lt"),
    "numericlessthanequals": ("numeric", False, "le"),
    "numericgreaterthan": ("numeric", False, "gt"),
    "numericgreaterthanequals": ("numeric", False, "ge"),
    "dateequals": ("date", False, "eq"),
    "datenotequals": ("date", True, "eq"),
    "datelessthan": ("date", False, "lt"),
    "datelessthanequals": ("date", False, "le"),
    "dategreaterthan": ("date", False, "gt"),
    "dategreaterthanequals": ("date", False, "ge"),
    "bool": ("bool", False, "eq"),
    "binaryequals": ("binary", False, "eq"),
    "ipaddress": ("ip", False, "in"),
    "notipaddress": ("ip", True, "in"),
    "arnequals": ("arn", False, "like"),
    "arnlike": ("arn", False, "like"),
    "arnnotequals": ("arn", True, "like"),
    "arnnotlike": ("arn", True, "like"),
    "null": ("null", False, "null"),
}


@dataclass(frozen=True)
class Operator:
    """A parsed operator such as 'ForAnyValue:StringLikeIfExists'."""

    name: str  # as written in the policy
    family: str  # string | numeric | date | bool | binary | ip | arn | null
    negated: bool
    comparison: str
    set_operator: str | None  # "forallvalues" | "foranyvalue" | None
    if_exists: bool


def parse_operator(raw: Any) -> Operator:
    """Split 'ForAnyValue:StringLikeIfExists' into its parts; raise ValueError if unknown.

    Operator names are matched case-insensitively (keys are documented case-insensitive; being
    lenient here never changes a decision, it only avoids rejecting an otherwise valid policy).
    """
    if not isinstance(raw, str) or not raw:
        raise ValueError(f"unknown condition operator {raw!r}")
    name = raw
    set_operator = None
    prefix, sep, rest = raw.partition(":")
    if sep:
        if prefix.lower() not in ("forallvalues", "foranyvalue"):
            raise ValueError(
                f"unknown condition operator {raw!r}: the only qualifiers are ForAllValues: and ForAnyValue:"
            )
        set_operator, name = prefix.lower(), rest
    base = name.lower()
    if_exists = False
    if base.endswith("ifexists") and base != "ifexists":
        base, if_exists = base[: -len("ifexists")], True
    if base not in _OPERATORS:
        raise ValueError(f"unknown condition operator {raw!r}")
    family, negated, comparison = _OPERATORS[base]
    if family == "null" and (if_exists or set_operator):
        raise ValueError(f"condition operator {raw!r} is invalid: Null takes no IfExists or set qualifier")
    return Operator(raw, family, negated, comparison, set_operator, if_exists)


def condition_values(values: Any) -> list[str] | None:
    """A condition key's policy values as strings (JSON booleans and numbers included), or None."""
    raw = values if isinstance(values, list) else [values]
    out = []
    for value in raw:
        if isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, (str, int, float)):
            out.append(str(value))
        else:
            return None
    return out


def _parse_number(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


_W3C_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _parse_date(value: str) -> datetime | None:
    """W3C ISO 8601 profiles (YYYY, YYYY-MM, YYYY-MM-DD, date-time with zone) or epoch seconds."""
    text = value.strip()
    short = _W3C_DATE.fullmatch(text)
    if short:
        year, month, day = short.group(1), short.group(2) or "01", short.group(3) or "01"
        try:
            return datetime(int(year), int(month), int(day), tzinfo=UTC)
        except ValueError:
            return None
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value.strip(), strict=False)  # no prefix means /32 (or /128)
    except ValueError:
        return None


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def check_condition_value(operator: Operator, value: str) -> str | None:
    """Why a policy value is invalid for its operator (AWS rejects the policy), or None."""
    family = operator.family
    if "${" in value and family in ("string", "arn", "bool"):
        return None  # policy variables are resolved at evaluation time
    if family == "numeric" and _parse_number(value) is None:
        return f"{value!r} is not a number"
    if family == "date" and _parse_date(value) is None:
        return f"{value!r} is not an ISO 8601 date/time or epoch seconds"
    if family == "ip" and _parse_network(value) is None:
        return f"{value!r} is not an IP address or CIDR block"
    if family in ("bool", "null") and value.lower() not in ("true", "false"):
        return f'{value!r} must be "true" or "false"'
    if family == "binary" and _b64(value) is None:
        return f"{value!r} is not base64"
    return None


_ORDER = {
    "eq": lambda left, right: left == right,
    "lt": lambda left, right: left < right,
    "le": lambda left, right: left <= right,
    "gt": lambda left, right: left > right,
    "ge": lambda left, right: left >= right,
}


def _compare(operator: Operator, request_value: str, policy_value: str, ctx: Context) -> bool:
    """The positive form of the operator on one request value and one policy value."""
    family, comparison = operator.family, operator.comparison
    if family == "string":
        if comparison == "like":
            return glob_with_variables(policy_value, ctx, False).fullmatch(request_value) is not None
        expected = substitute(policy_value, ctx)
        if comparison == "equals_ignore_case":
            return request_value.casefold() == expected.casefold()
        return request_value == expected
    if family == "arn":
        return arn_like(segments(policy_value, ctx), request_value)
    if family == "bool":
        return request_value.strip().lower() == substitute(policy_value, ctx).strip().lower()
    if family == "binary":
        left, right = _b64(request_value), _b64(policy_value)
        return left == right if left is not None and right is not None else request_value == policy_value
    if family == "ip":
        network = _parse_network(policy_value)
        try:
            address = ipaddress.ip_address(request_value.strip().split("/")[0])
        except ValueError:
            return False
        return network is not None and address.version == network.version and address in network
    parse = _parse_number if family == "numeric" else _parse_date
    left, right = parse(request_value), parse(policy_value)
    if left is None or right is None:
        return False
    return _ORDER[comparison](left, right)


def conditions_hold(condition: Any, ctx: Context) -> bool:
    """All operators AND, all keys in an operator AND, the values of one key OR."""
    if not isinstance(condition, dict):
        return True
    results = []  # no short-circuit: every referenced key is checked so missing ones are all reported
    for raw_operator, block in condition.items():
        operator = parse_operator(raw_operator)
        if not isinstance(block, dict):
            return False
        for key, policy_values in block.items():
            values = condition_values(policy_values) or []
            results.append(_key_holds(operator, str(key), values, ctx))
    return all(results)


def _key_holds(operator: Operator, key: str, policy_values: list[str], ctx: Context) -> bool:
    request_values = ctx.values.get(key.lower())
    if request_values is None:
        ctx.note_missing(key)
    present = bool(request_values)

    if operator.family == "null":
        # "true": the key must be absent; "false": present. Several values OR together.
        return any((v.lower() == "true") == (not present) for v in policy_values)

    def value_matches(request_value: str) -> bool:
        positive = any(_compare(operator, request_value, p, ctx) for p in policy_values)
        return not positive if operator.negated else positive

    if operator.set_operator:
        if not present or all(v == "" for v in request_values):
            # "If the key values in the request resolve to an empty data set (for example, an empty
            # string), ForAllValues returns true, and ForAnyValue returns false."
            return operator.set_operator == "forallvalues" or operator.if_exists
        check = all if operator.set_operator == "forallvalues" else any
        return check(value_matches(v) for v in request_values)

    if not present:
        # Missing key: IfExists is true; a negated operator is true; anything else is false.
        return operator.if_exists or operator.negated
    positive = any(_compare(operator, v, p, ctx) for v in request_values for p in policy_values)
    return not positive if operator.negated else positive
