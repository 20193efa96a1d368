"""The EventBridge event-pattern language: validation with AWS's reasons, and matching.

Sources: "Amazon EventBridge event patterns" (eb-event-patterns), "Content filtering in Amazon
EventBridge event patterns" (eb-event-patterns-content-based-filtering), "Arrays in EventBridge
event patterns" (eb-event-patterns-arrays) and "Matching null values and empty strings"
(eb-event-patterns-null-values) in the EventBridge User Guide. EventBridge matches with the open
source aws/event-ruler library; the validation reasons below are the messages of its
``JsonRuleCompiler`` / ``CIDR`` / ``ComparableNumber`` / ``WildcardParser``, which EventBridge puts
after "Event pattern is not valid. Reason: " (AWS also appends a Jackson source location, which is
left out here).

A pattern compiles into *branches* (``$or`` forks the pattern, as event-ruler does): the event
matches when every field of one branch matches. Field values in the event are the leaves reached by
the field's path, arrays being transparent; fields that sit in objects of the same array must match
within one array element (eb-event-patterns-arrays).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

OR = "$or"
FIVE_BILLION = Decimal(5_000_000_000)
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_IPV6 = re.compile(r"^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$")


class EventPatternError(ValueError):
    """A pattern EventBridge refuses; ``reason`` is what AWS says after "Reason: "."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        """The whole InvalidEventPatternException message."""
        return f"Event pattern is not valid. Reason: {self.reason}"


# ---------------------------------------------------------------------------------------------
# Matchers: one per element of a field's value array.


@dataclass(frozen=True)
class Matcher:
    """One element of a field's array: ``kind`` and its operand(s)."""

    kind: str  # exact | prefix | suffix | equals-ignore-case | wildcard | numeric | cidr | exists | anything-but*
    value: Any = None
    ignore_case: bool = False

    def matches(self, value: Any) -> bool:
        """Does one leaf value of the event satisfy this matcher (``exists`` is decided elsewhere)?"""
        kind = self.kind
        if kind == "exact":
            return _exact(self.value, value)
        if kind == "exists":
            return self.value is True
        if kind == "numeric":
            return _is_number(value) and all(_compare(op, Decimal(str(value)), bound) for op, bound in self.value)
        if kind == "cidr":
            return isinstance(value, str) and _in_network(value, self.value)
        if kind.startswith("anything-but"):
            return not any(_excluded(kind, self.ignore_case, x, value) for x in self.value)
        if not isinstance(value, str):
            return False
        return _string_match(kind, self.value, value, self.ignore_case)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _exact(expected: Any, value: Any) -> bool:
    """Exact matching: strings to strings (IP literals compared as addresses), numbers numerically,
    true/false/null only to themselves (JSON types never cross: "5" is not 5, true is not 1)."""
    if isinstance(expected, str):
        if not isinstance(value, str):
            return False
        if expected == value:
            return True
        a, b = _ip(expected), _ip(value)
        return a is not None and a == b
    if _is_number(expected):
        return _is_number(value) and Decimal(str(expected)) == Decimal(str(value))
    return type(expected) is type(value) and expected == value


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not (_IPV4.match(text) or _IPV6.match(text)):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    address = _ip(value)
    return address is not None and address.version == network.version and address in network


def _compare(op: str, value: Decimal, bound: Decimal) -> bool:
    return {
        "=": value == bound,
        "<": value < bound,
        "<=": value <= bound,
        ">": value > bound,
        ">=": value >= bound,
    }[op]


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """``*`` is any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _fold(text: str) -> str:
    return text.casefold()


def _string_match(kind: str, operand: str, value: str, ignore_case: bool) -> bool:
    if ignore_case or kind == "equals-ignore-case":
        operand, value = _fold(operand), _fold(value)
    if kind == "prefix":
        return value.startswith(operand)
    if kind == "suffix":
        return value.endswith(operand)
    if kind == "equals-ignore-case":
        return value == operand
    if kind == "wildcard":
        return _wildcard_regex(operand).fullmatch(value) is not None
    raise AssertionError(kind)


def _excluded(kind: str, ignore_case: bool, operand: Any, value: Any) -> bool:
    """Is ``value`` one anything-but excludes? Values of another JSON type are never excluded."""
    if kind == "anything-but":
        return _exact(operand, value)
    if not isinstance(value, str):
        return False
    sub = kind.removeprefix("anything-but-")  # prefix | suffix | wildcard | equals-ignore-case
    return _string_match(sub, operand, value, ignore_case)


# ---------------------------------------------------------------------------------------------
# Validation / compilation (event-ruler JsonRuleCompiler).


Path = tuple[str, ...]
Branch = dict[Path, list[Matcher]]


@dataclass
class EventPattern:
    """A compiled pattern: OR of branches, each an AND of fields."""

    branches: list[Branch] = field(default_factory=list)

    def matches(self, event: dict[str, Any]) -> bool:
        leaves = _leaves(event)
        return any(_branch_matches(branch, leaves) for branch in self.branches)


def parse_pattern(pattern: str | dict[str, Any]) -> EventPattern:
    """Validate and compile a pattern (a JSON text or an already parsed object)."""
    if isinstance(pattern, str):
        try:
            document = json.loads(pattern, parse_float=Decimal, parse_int=Decimal)
        except ValueError as exc:
            raise EventPatternError(f"Invalid JSON: {exc.args[0]}") from None
    else:
        document = json.loads(json.dumps(pattern), parse_float=Decimal, parse_int=Decimal)
    if not isinstance(document, dict):
        raise EventPatternError("Filter is not an object")
    branches: list[Branch] = []
    _compile_object(document, (), branches)
    return EventPattern(branches=branches)


def validate_pattern(pattern: str | dict[str, Any]) -> str | None:
    """None when the pattern is valid, else AWS's reason."""
    try:
        parse_pattern(pattern)
    except EventPatternError as exc:
        return exc.reason
    return None


def matches(pattern: str | dict[str, Any] | EventPattern, event: dict[str, Any] | str) -> bool:
    """Does ``event`` match ``pattern``? (TestEventPattern's answer.)"""
    compiled = pattern if isinstance(pattern, EventPattern) else parse_pattern(pattern)
    document = json.loads(event) if isinstance(event, str) else event
    return compiled.matches(document)


def _compile_object(node: dict[str, Any], path: Path, branches: list[Branch]) -> None:
    if not node:
        raise EventPatternError("Empty objects are not allowed")
    for name, value in node.items():
        if name == OR:
            _compile_or(value, path, branches)
            continue
        if isinstance(value, dict):
            _compile_object(value, (*path, name), branches)
        elif isinstance(value, list):
            matchers = [_compile_value(item) for item in value]
            if not matchers:
                raise EventPatternError("Empty arrays are not allowed")
            if not branches:
                branches.append({})
            for branch in branches:
                branch[(*path, name)] = matchers
        else:
            raise EventPatternError(f'"{name}" must be an object or an array')


def _compile_or(value: Any, path: Path, branches: list[Branch]) -> None:
    if not isinstance(value, list):
        raise EventPatternError(f"It must be an Array followed with {OR}.")
    current = [dict(b) for b in branches]
    branches.clear()
    for alternative in value:
        if not isinstance(alternative, dict):
            raise EventPatternError(f"Only JSON object is allowed in array of {OR} relationship.")
        forked = [dict(b) for b in current] or [{}]
        _compile_object(alternative, path, forked)
        branches.extend(forked)
    if len(value) < 2:
        raise EventPatternError(f"There must have at least 2 Objects in {OR} relationship.")


def _compile_value(item: Any) -> Matcher:
    if isinstance(item, dict):
        return _compile_expression(item)
    if isinstance(item, list):
        raise EventPatternError("Match value must be String, number, true, false, or null")
    if isinstance(item, Decimal):
        return Matcher("exact", _number(item))
    return Matcher("exact", item)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() and "E" not in str(value).upper() else float(value)


def _one_key(expression: dict[str, Any]) -> tuple[str, Any]:
    if not expression:
        raise EventPatternError("Match expression name not found")
    name, operand = next(iter(expression.items()))
    if len(expression) > 1:
        raise EventPatternError(
            "Too many elements in numeric expression"
            if name in ("numeric", "anything-but")
            else "Only one key allowed in match expression"
        )
    return name, operand


def _compile_expression(expression: dict[str, Any]) -> Matcher:
    name, operand = _one_key(expression)
    if name in ("prefix", "suffix"):
        if isinstance(operand, dict):
            return _compile_ignore_case_affix(name, operand)
        if not isinstance(operand, str):
            raise EventPatternError(f"{name} match pattern must be a string")
        return Matcher(name, operand)
    if name == "equals-ignore-case":
        if not isinstance(operand, str):
            raise EventPatternError("equals-ignore-case match pattern must be a string")
        return Matcher(name, operand)
    if name == "wildcard":
        if not isinstance(operand, str):
            raise EventPatternError("wildcard match pattern must be a string")
        _check_wildcard(operand)
        return Matcher(name, operand)
    if name == "numeric":
        if not isinstance(operand, list):
            raise EventPatternError("Value of numeric must be an array.")
        return Matcher(name, _compile_numeric(operand))
    if name == "anything-but":
        return _compile_anything_but(operand)
    if name == "exists":
        if not isinstance(operand, bool):
            raise EventPatternError("exists match pattern must be either true or false.")
        return Matcher(name, operand)
    if name == "cidr":
        if not isinstance(operand, str):
            raise EventPatternError("prefix match pattern must be a string")  # event-ruler's own wording
        return Matcher(name, _compile_cidr(operand))
    raise EventPatternError(f"Unrecognized match type {name}")


def _compile_ignore_case_affix(name: str, operand: dict[str, Any]) -> Matcher:
    """``{"prefix": {"equals-ignore-case": "x"}}`` and the suffix twin."""
    if not operand:
        raise EventPatternError(f"{name.capitalize()} expression name not found")
    inner, text = next(iter(operand.items()))
    if inner != "equals-ignore-case":
        raise EventPatternError(f"Unsupported {name} pattern: {inner}")
    if not isinstance(text, str):
        raise EventPatternError("equals-ignore-case match pattern must be a string")
    if len(operand) > 1:
        raise EventPatternError("Only one key allowed in match expression")
    return Matcher(name, text, ignore_case=True)


def _check_wildcard(text: str) -> None:
    """WildcardParser: no ``**``; a backslash escapes only ``*`` or ``\\``. Positions count the
    opening quote event-ruler adds, as its messages do."""
    i = 0
    while i < len(text):
        if text[i] == "*" and i + 1 < len(text) and text[i + 1] == "*":
            raise EventPatternError(f"Consecutive wildcard characters at pos {i + 1}")
        if text[i] == "\\":
            if i + 1 < len(text) and text[i + 1] in "*\\":
                i += 2
                continue
            raise EventPatternError(f"Invalid escape character at pos {i + 1}")
        i += 1


def _check_number(value: Decimal) -> Decimal:
    """ComparableNumber: six decimals at most, within ±5e9."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        raise EventPatternError(f"Only values upto 6 decimals are supported{normal} {value}")
    if not -FIVE_BILLION <= value <= FIVE_BILLION:
        raise EventPatternError(f"Value must be between {-FIVE_BILLION} and {FIVE_BILLION}, inclusive")
    return value


def _numeric_operand(op: str, value: Any) -> Decimal:
    if not isinstance(value, Decimal):
        raise EventPatternError(f"Value of {'equals' if op == '=' else op} must be numeric")
    return _check_number(value)


def _compile_numeric(terms: list[Any]) -> tuple[tuple[str, Decimal], ...]:
    """``["=", n]``, ``[">"|">=", n]`` optionally then ``["<"|"<=", m]``, or ``["<"|"<=", n]``."""
    if not terms or not isinstance(terms[0], str):
        raise EventPatternError(f"Invalid member in numeric match: {terms[0] if terms else ']'}")
    op = terms[0]
    if op not in ("=", "<", "<=", ">", ">="):
        raise EventPatternError(f"Unrecognized numeric range operator: {op}")
    first = _numeric_operand(op, terms[1] if len(terms) > 1 else None)
    if op in ("=", "<", "<=") or len(terms) == 2:
        if len(terms) > 2:
            raise EventPatternError("Too many elements in numeric expression")
        return ((op, first),)
    upper = terms[2]
    if not isinstance(upper, str):
        raise EventPatternError(f"Bad value in numeric range: {upper}")
    if upper not in ("<", "<="):
        raise EventPatternError(f"Bad numeric range operator: {upper}")
    second = terms[3] if len(terms) > 3 else None
    if not isinstance(second, Decimal):
        raise EventPatternError(f"Value of {upper} must be numeric")
    if len(terms) > 4:
        raise EventPatternError("Too many terms in numeric range expression")
    return (op, first), (upper, _check_number(second))


def _compile_anything_but(operand: Any) -> Matcher:
    kind, ignore_case = "anything-but", False
    if isinstance(operand, dict):
        if not operand:
            raise EventPatternError("Anything-But expression name not found")
        inner, operand_value = next(iter(operand.items()))
        if inner not in ("equals-ignore-case", "prefix", "suffix", "wildcard"):
            raise EventPatternError(f"Unsupported anything-but pattern: {inner}")
        if len(operand) > 1:
            raise EventPatternError("Too many elements in numeric expression")
        kind, ignore_case, operand = f"anything-but-{inner}", inner == "equals-ignore-case", operand_value
    if not isinstance(operand, (list, str, Decimal)):
        raise EventPatternError("Value of anything-but must be an array or single string/number value.")
    values = operand if isinstance(operand, list) else [operand]
    if kind == "anything-but":
        return Matcher(kind, tuple(_anything_but_values(values, single=not isinstance(operand, list))))
    for value in values:
        if not isinstance(value, str):
            raise EventPatternError(
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
                if ignore_case
                else "wildcard match pattern must be a string"
                if kind == "anything-but-wildcard"
                else "prefix/suffix match pattern must be a string"
            )
        if kind in ("anything-but-prefix", "anything-but-suffix") and not value:
            raise EventPatternError("Null prefix/suffix not allowed")
        if kind == "anything-but-wildcard":
            _check_wildcard(value)
    return Matcher(kind, tuple(values), ignore_case=ignore_case)


def _anything_but_values(values: list[Any], single: bool) -> Iterator[Any]:
    kinds = set()
    for value in values:
        if isinstance(value, str):
            kinds.add("string")
            yield value
        elif isinstance(value, Decimal):
            kinds.add("number")
            yield _number(_check_number(value))
        else:
            raise EventPatternError(
                "Inside anything-but list, start|null|boolean is not supported."
                if single
                else "Inside anything but list, start|null|boolean is not supported."
            )
    if len(kinds) != 1:
        raise EventPatternError(
            "Inside anything but list, either all values are number or string, mixed type is not supported"
        )


def _compile_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """event-ruler CIDR.cidr, including its limit of a mask below the address length."""
    parts = text.split("/")
    if len(parts) != 2:
        raise EventPatternError("Malformed CIDR, one '/' required")
    try:
        bits = int(parts[1])
    except ValueError:
        raise EventPatternError("Malformed CIDR, mask bits must be an integer") from None
    if bits < 0:
        raise EventPatternError("Malformed CIDR, mask bits must not be negative")
    address = _ip(parts[0])
    if address is None:
        raise EventPatternError(f"Nonstandard IP address: {parts[0]}")
    if address.version == 4 and bits > 31:
        raise EventPatternError("IPv4 mask bits must be < 32")
    if address.version == 6 and bits > 127:
        raise EventPatternError("IPv6 mask bits must be < 128")
    return ipaddress.ip_network(f"{address}/{bits}", strict=False)


# ---------------------------------------------------------------------------------------------
# Matching.

Membership = tuple[tuple[int, int], ...]  # (array id, element index) for every array on the way
Leaf = tuple[Any, Membership]


def _leaves(event: Any) -> dict[Path, list[Leaf]]:
    """Every leaf value by path, with the array elements it sits in. Objects and arrays are not
    leaves ("Exists matching only works on leaf nodes"); an empty array contributes nothing."""
    result: dict[Path, list[Leaf]] = {}
    counter = [0]

    def walk(node: Any, path: Path, membership: Membership) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key), membership)
        elif isinstance(node, list):
            counter[0] += 1
            array_id = counter[0]
            for index, item in enumerate(node):
                walk(item, path, (*membership, (array_id, index)))
        else:
            result.setdefault(path, []).append((node, membership))

    walk(event, (), ())
    return result


def _consistent(a: Membership, b: Membership) -> bool:
    positions = dict(a)
    return all(positions.get(array_id, index) == index for array_id, index in b)


def _branch_matches(branch: Branch, leaves: dict[Path, list[Leaf]]) -> bool:
    candidates: list[list[Membership]] = []
    for path, matchers in branch.items():
        values = leaves.get(path, [])
        found: list[Membership] = []
        absent_ok = not values and any(m.kind == "exists" and m.value is False for m in matchers)
        if absent_ok:
            found.append(())
        for value, membership in values:
            if any(m.kind != "exists" and m.matches(value) or (m.kind == "exists" and m.value) for m in matchers):
                found.append(membership)
        if not found:
            return False
        candidates.append(found)
    return _choose(candidates, ())


def _choose(candidates: list[list[Membership]], chosen: Membership) -> bool:
    """Pick one value per field so that no two come from different elements of one array."""
    if not candidates:
        return True
    first, rest = candidates[0], candidates[1:]
    for membership in first:
        if _consistent(chosen, membership):
            merged = tuple(dict(chosen + membership).items())
            if _choose(rest, merged):
                return True
    return False
