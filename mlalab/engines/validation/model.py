"""The constraints of botocore's service model, checked the way AWS's front end checks them.

AWS services validate every request against the same model botocore ships (the Smithy model):
required members, string and list lengths (``min``/``max``), numeric ranges, enums and patterns.
botocore's client checks only part of it before sending (required members, types, minimums), so a
value such as ``Statistic='p99'`` or a 300-character alarm name reaches the server, where AWS
answers with a message in one fixed format (the "Coral" validation message), e.g.

    1 validation error detected: Value 'p99' at 'statistic' failed to satisfy constraint:
    Member must satisfy enum value set: [SampleCount, Average, Sum, Minimum, Maximum]

Paths name members with their first letter in lower case, list items as ``name.N.member`` (1-based).
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
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, (bytes, bytearray)):
        return "java.nio.HeapByteBuffer"
    return str(value)


@cache
def _pattern(pattern: str) -> re.Pattern | None:
    """The model's (Java) regular expression for Python, or None when Python cannot read it (then
    the constraint is not checked: better to accept than to refuse what AWS accepts)."""
    try:
        return re.compile(pattern, re.DOTALL | re.ASCII)  # Java: \w, \d, \s are ASCII
    except re.error:
        return None


def _scalar_errors(shape, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    shown = f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
    if kind == "string":
        if not isinstance(value, str):
            return
        enum = meta.get("enum")
        if enum and value not in enum:
            errors.append(shown + f"Member must satisfy enum value set: [{', '.join(enum)}]")
            return
        if "min" in meta and len(value) < meta["min"]:
            errors.append(shown + f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(shown + f"Member must have length less than or equal to {meta['max']}")
        if "pattern" in meta and value:
            compiled = _pattern(meta["pattern"])
            # Java's String.matches: the whole value must match.
            if compiled is not None and not compiled.fullmatch(value):
                errors.append(shown + f"Member must satisfy regular expression pattern: {meta['pattern']}")
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if "min" in meta and value < meta["min"]:
            errors.append(shown + f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(shown + f"Member must have value less than or equal to {meta['max']}")
    elif kind == "blob" and isinstance(value, (bytes, bytearray)) and not shape.serialization.get("eventstream"):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(shown + f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(shown + f"Member must have length less than or equal to {meta['max']}")


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
    elif kind == "list":
        if not isinstance(value, (list, tuple)):
            return
        _length(shape, value, path, errors)
        for index, item in enumerate(value, start=1):
            _collect(shape.member, item, f"{path}.{index}.member", errors)
    elif kind == "map":
        if not isinstance(value, Mapping):
            return
        _length(shape, value, path, errors)
        for key, item in value.items():
            _collect(shape.key, key, f"{path}.key", errors)
            _collect(shape.value, item, f"{path}.{key}", errors)
    else:
        _scalar_errors(shape, value, path, errors)


def _length(shape, value, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    shown = f"Value '{_show(value if isinstance(value, (list, tuple)) else dict(value))}' at '{path}' " \
            "failed to satisfy constraint: "
    if "min" in meta and len(value) < meta["min"]:
        errors.append(shown + f"Member must have length greater than or equal to {meta['min']}")
    if "max" in meta and len(value) > meta["max"]:
        errors.append(shown + f"Member must have length less than or equal to {meta['max']}")


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
