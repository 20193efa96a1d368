"""What a rule's target receives: ``Input``, ``InputPath`` or ``InputTransformer`` applied to an event.

Sources: EventBridge User Guide "Amazon EventBridge input transformation" (eb-transform-target-input)
and the EventBridge API Reference "Target" / "InputTransformer":

* no input setting: the whole event, as minified JSON ("The JSON that is passed to the target is
  minified");
* ``Input``: the constant JSON text, as given;
* ``InputPath``: the part of the event the JSONPath selects (supported syntax: dot notation, dashes,
  underscores, alphanumerics, array indices, wildcards);
* ``InputTransformer``: ``<var>`` placeholders of ``InputTemplate`` filled from ``InputPathsMap``
  and the predefined variables. Outside quotes a value is inserted as JSON (a string gets its
  quotes); inside a quoted string the raw text is inserted ("EventBridge doesn't escape values
  extracted by Input Path"). A template that is a quoted string is delivered with its quotes, as
  the "Simple string" example shows. A variable whose path is not in the event "isn't created":
  it becomes ``null`` outside quotes and nothing inside them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

PREDEFINED = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event",
    "aws.events.event.json",
    "aws.events.event.ingestion-time",
)
_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
_MISSING = object()


class TransformError(ValueError):
    """A target input setting EventBridge refuses (said at PutTargets)."""


def minified(value: Any) -> str:
    """JSON the way EventBridge hands it to targets: no whitespace between tokens."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# JSONPath subset.

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]")


def _parse_path(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise TransformError(f"{path} is not a valid JSON path: it must start with $")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if not match:
            raise TransformError(f"{path} is not a valid JSON path")
        name, index, quoted = match.groups()
        if index is not None:
            steps.append("*" if index == "*" else int(index))
        else:
            steps.append(quoted if quoted is not None else name)
        position = match.end()
    return steps


def select(document: Any, path: str) -> Any:
    """The value at ``path`` (a list when the path has a wildcard), or ``_MISSING``."""
    steps = _parse_path(path)
    nodes = [document]
    wildcard = False
    for step in steps:
        found = []
        for node in nodes:
            if step == "*":
                wildcard = True
                found.extend(node.values() if isinstance(node, dict) else node if isinstance(node, list) else [])
            elif isinstance(step, int):
                if isinstance(node, list) and step < len(node):
                    found.append(node[step])
            elif isinstance(node, dict) and step in node:
                found.append(node[step])
        nodes = found
    if wildcard:
        return nodes
    return nodes[0] if nodes else _MISSING


# ---------------------------------------------------------------------------------------------
# Target input.


@dataclass(frozen=True)
class RuleContext:
    """What the predefined variables need besides the event."""

    rule_name: str
    rule_arn: str
    ingestion_time: str  # ISO 8601, e.g. 2024-05-01T12:00:00Z


def validate_target_input(target: dict[str, Any]) -> None:
    """The checks PutTargets makes (API Reference "Target": Input, InputPath, InputTransformer are
    mutually exclusive; InputPathsMap has at most 100 entries, keys not the reserved names)."""
    given = [key for key in ("Input", "InputPath", "InputTransformer") if target.get(key) not in (None, "")]
    if len(given) > 1:
        raise TransformError(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target {target.get('Id')}."
        )
    if "Input" in given:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise TransformError(f"Input for target {target.get('Id')} is not valid JSON text.") from None
    if "InputPath" in given:
        _parse_path(target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        paths = transformer.get("InputPathsMap") or {}
        if len(paths) > 100:
            raise TransformError("InputPathsMap has more than 100 entries.")
        for name, path in paths.items():
            if name in PREDEFINED or name.startswith("aws."):
                raise TransformError(f"{name} is a reserved variable name and cannot be used in InputPathsMap.")
            _parse_path(path)


def target_input(target: dict[str, Any], event: dict[str, Any], rule: RuleContext) -> str:
    """The text a target receives for ``event``."""
    if target.get("Input") not in (None, ""):
        return target["Input"]
    if target.get("InputPath") not in (None, ""):
        value = select(event, target["InputPath"])
        return "null" if value is _MISSING else minified(value)
    transformer = target.get("InputTransformer")
    if transformer:
        return render_template(
            transformer.get("InputTemplate", ""), transformer.get("InputPathsMap") or {}, event, rule
        )
    return minified(event)


def _variables(paths: dict[str, str], event: dict[str, Any], rule: RuleContext) -> dict[str, Any]:
    values: dict[str, Any] = {name: select(event, path) for name, path in paths.items()}
    without_detail = {key: value for key, value in event.items() if key != "detail"}
    values.update(
        {
            "aws.events.rule-arn": rule.rule_arn,
            "aws.events.rule-name": rule.rule_name,
            "aws.events.event": without_detail,
            "aws.events.event.json": event,
            "aws.events.event.ingestion-time": rule.ingestion_time,
        }
    )
    return values


def _raw(value: Any) -> str:
    """A value as text inside a quoted string: strings as they are, anything else as JSON."""
    if value is _MISSING:
        return ""
    return value if isinstance(value, str) else minified(value)


def _as_json(value: Any) -> str:
    return "null" if value is _MISSING else minified(value)


def render_template(template: str, paths: dict[str, str], event: dict[str, Any], rule: RuleContext) -> str:
    """Fill ``template``; a placeholder's treatment depends on whether it sits inside a JSON string."""
    values = _variables(paths, event, rule)
    json_template = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        char = template[i]
        match = _PLACEHOLDER.match(template, i) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            out.append(_as_json(value) if json_template and not in_string else _raw(value))
            i = match.end()
            continue
        if json_template:
            if char == "\\" and in_string:
                out.append(template[i : i + 2])
                i += 2
                continue
            if char == '"':
                in_string = not in_string
        out.append(char)
        i += 1
    return "".join(out)
