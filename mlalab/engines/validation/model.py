"""The constraints of botocore's service model, checked the way AWS's front end checks them.

AWS services validate every request against the same model botocore ships (the Smithy model):
required members, string and list lengths (``min``/``max``), numeric ranges, enums and patterns.
botocore's client checks only part of it before sending (required members, types, minimums), so a
value such as ``Statistic='p99'`` or a 300-character alarm name reaches the server, where AWS
answers with a message in one fixed format (the "Coral" validation message), e.g.

    1 validation error detected: Value 'p99' at 'statistic' failed to satisfy constraint:
    Member must satisfy enum value set: [SampleCount, Average, Sum, Minimum, Maximum]

Paths name members with their first letter in lower case, list items as ``name.N.member`` (1-based).
Values are printed as Java prints them (``null``, ``[a, b]``, ``{k=v}``); a sensitive member's value is
not printed (``Value at 'plaintext'``); a map's keys and values are reported once each, with every
constraint of the key or value shape (``Map keys must satisfy constraint: [...]``).
AWS lists the enum values in an order of its own; here they come in the model's order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

# AWS stops listing after this many violations in one message.
_MAX_ERRORS = 10


def _member_path(parent: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{parent}.{name}" if parent else name


def _show(value: Any) -> str:
    """A value as AWS's (Java) validator prints it: null, true, [a, b], {k=v}."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_show(k)}={_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (bytes, bytearray)):
        return "java.nio.HeapByteBuffer"
    return str(value)


def _shown(shape, value: Any, path: str) -> str:
    """The start of one violation. AWS does not repeat the value of a sensitive member (KMS answers an
    oversized Plaintext with "Value at 'plaintext' failed to satisfy constraint: ...")."""
    if shape.metadata.get("sensitive"):
        return f"Value at '{path}' failed to satisfy constraint: "
    return f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "


@cache
def _pattern(pattern: str) -> re.Pattern | None:
    """The model's (Java) regular expression for Python, or None when Python cannot read it (then
    the constraint is not checked: better to accept than to refuse what AWS accepts)."""
    try:
        return re.compile(pattern, re.DOTALL | re.ASCII)  # Java: \w, \d, \s are ASCII
    except re.error:
        return None


_NUMBERS = ("integer", "long", "float", "double")


def _measure(shape, value: Any) -> int | float | None:
    """What the shape's min/max bound for this value (a length, or the number itself), or None when the
    value is not of the shape's type: types are botocore's client to check, not this layer."""
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        return len(value)
    if kind in _NUMBERS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind == "blob" and isinstance(value, (bytes, bytearray)) and not shape.serialization.get("eventstream"):
        return len(value)
    if (kind == "list" and isinstance(value, (list, tuple))) or (kind == "map" and isinstance(value, Mapping)):
        return len(value)
    return None


def _bounds(shape) -> tuple[str, str]:
    """AWS's wording of a shape's minimum and maximum."""
    meta, word = shape.metadata, "value" if shape.type_name in _NUMBERS else "length"
    return (f"Member must have {word} greater than or equal to {meta.get('min')}",
            f"Member must have {word} less than or equal to {meta.get('max')}")


def _violations(shape, value: Any) -> list[str]:
    """The constraints of the shape itself (not of its members) that ``value`` breaks, in AWS's words."""
    size = _measure(shape, value)
    if size is None:
        return []
    meta = shape.metadata
    enum = meta.get("enum")
    if enum and value not in enum:
        return [f"Member must satisfy enum value set: [{', '.join(enum)}]"]
    at_least, at_most = _bounds(shape)
    broken = []
    if "min" in meta and size < meta["min"]:
        broken.append(at_least)
    if "max" in meta and size > meta["max"]:
        broken.append(at_most)
    if "pattern" in meta and isinstance(value, str) and value:
        compiled = _pattern(meta["pattern"])
        # Java's String.matches: the whole value must match.
        if compiled is not None and not compiled.fullmatch(value):
            broken.append(f"Member must satisfy regular expression pattern: {meta['pattern']}")
    return broken


def _constraints(shape) -> str:
    """Every constraint of a map's key or value shape, as AWS lists them after "Map keys must satisfy
    constraint:": maximum, minimum, enum, pattern."""
    meta = shape.metadata
    at_least, at_most = _bounds(shape)
    listed = [at_most] if "max" in meta else []
    listed += [at_least] if "min" in meta else []
    listed += [f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]"] if "enum" in meta else []
    listed += [f"Member must satisfy regular expression pattern: {meta['pattern']}"] if "pattern" in meta else []
    return "[" + ", ".join(listed) + "]"


def _collect(shape, value: Any, path: str, errors: list[str]) -> None:
    if len(errors) >= _MAX_ERRORS or value is None:
        return
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping) or getattr(shape, "is_document_type", False):
            return
        members = shape.members
        for name in shape.required_members:
            if value.get(name) is None and not members[name].serialization.get("location") == "uri":
                errors.append(f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: "
                              "Member must not be null")
        for name, item in value.items():
            if name in members:
                _collect(members[name], item, _member_path(path, name), errors)
        return
    errors.extend(_shown(shape, value, path) + violation for violation in _violations(shape, value))
    if kind == "list" and isinstance(value, (list, tuple)):
        for index, item in enumerate(value, start=1):
            _collect(shape.member, item, f"{path}.{index}.member", errors)
    elif kind == "map" and isinstance(value, Mapping):
        # AWS reports a map's keys once and its values once, listing every constraint of the key or
        # value shape (EventBridge: "... at 'targets.1.member.inputTransformer.inputPathsMap' failed to
        # satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or
        # equal to 256, ...]"). The members of structure values are left to the service: no AWS path for
        # them is recorded, and SNS answers a MessageAttributes entry without DataType in its own words.
        for side, member, items in (("keys", shape.key, value.keys()), ("value", shape.value, value.values())):
            if any(_violations(member, item) for item in items):
                errors.append(_shown(shape, value, path) + f"Map {side} must satisfy constraint: "
                              + _constraints(member))


def model_errors(input_shape, params: Mapping[str, Any]) -> list[str]:
    """Every violated model constraint of a request, each in AWS's wording."""
    errors: list[str] = []
    _collect(input_shape, params, "", errors)
    return errors[:_MAX_ERRORS]


def model_rejection(input_shape, params: Mapping[str, Any]) -> str | None:
    """AWS's validation message for a request, or None when every constraint holds."""
    errors = model_errors(input_shape, params)
    if not errors:
        return None
    count = len(errors)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors)
