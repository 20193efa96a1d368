"""What the learner's process reports on its event pipe, screened: the events ``child.py`` can
write, in an order it can write them, and nothing else.

Learner code runs in the same process as child.py, so it can always write plausible events; the
screening only guarantees that nothing the learner writes can crash the grader or bend the report's
wording beyond plain text. Events explain failures; they never award points either way.
"""

from __future__ import annotations

import json
import os

from mlalab.sandbox.output import printable

MAX_VIOLATIONS = 20  # distinct refusals kept for the report
MAX_EVENT_BYTES = 1_000_000  # a flood of fake events is dropped, not buffered

_WHERE = {"line": int, "code": str}
_ERROR = {"type": str, "message": str, "where": _WHERE, "aws_code": str, "aws_message": str, "operation": str,
          "line": int, "offset": int, "code": str}
_FIELDS: dict[str, dict] = {
    "ready": {},
    "import": {"status": str, "error": _ERROR},
    "start": {"function": str},
    "call": {"function": str, "status": str, "defined": [str], "close": [str], "found": str,
             "error": (_ERROR, str), "returned": str},
    "violation": {"what": str},
    "memory": {},
    "done": {},
}
_STATUS = {"import": {"ok", "syntax", "raised", "exit"},
           "call": {"ok", "missing", "signature", "not_implemented", "raised"}}


class _Forged(Exception):
    pass


def read_events(fd: int, sink: list[bytes]) -> None:
    """Drain the event pipe (and close it), keeping its first MAX_EVENT_BYTES."""
    size = 0
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(8192):
            if size < MAX_EVENT_BYTES:
                sink.append(chunk)
            size += len(chunk)


def _conform(value: object, shape: object) -> object:
    """``value`` checked against ``shape`` (a type, a field dict, a one-type list, or a tuple of
    alternatives), with every string made printable; raises _Forged when it does not fit."""
    if isinstance(shape, tuple):
        for alternative in shape:
            try:
                return _conform(value, alternative)
            except _Forged:
                continue
        raise _Forged
    if isinstance(shape, dict):
        if value is None:
            return None
        if not isinstance(value, dict) or not set(value) <= set(shape):
            raise _Forged
        return {key: _conform(item, shape[key]) for key, item in value.items()}
    if isinstance(shape, list):
        if not isinstance(value, list) or len(value) > 1000:
            raise _Forged
        return [_conform(item, shape[0]) for item in value]
    if shape is int:
        if value is None:
            return None
        if type(value) is not int:
            raise _Forged
        return value
    if type(value) is not str:
        raise _Forged
    return printable(value[:4000])


def screen_events(raw: bytes, functions: list[str]) -> tuple[list[dict], int]:
    """The events that child.py could have written, in an order it could have written them, as
    clean values; and how many lines were not (forged by learner code, garbled, or repeated)."""
    events: list[dict] = []
    forged = 0
    seen: set[tuple[str, str]] = set()
    violations: set[str] = set()
    started: set[str] = set()
    done = imported_ok = False
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or event.get("event") not in _FIELDS:
                raise _Forged
            kind = event["event"]
            if done and kind not in ("violation", "memory"):  # a thread may still be refused after "done"
                raise _Forged
            fields = {k: v for k, v in event.items() if k != "event"}
            clean = _conform(fields, _FIELDS[kind]) or {}
            status = clean.get("status")
            if kind in _STATUS and status not in _STATUS[kind]:
                raise _Forged
            error = clean.get("error")
            if status in ("syntax", "raised", "not_implemented") and not isinstance(error, dict):
                raise _Forged  # what the explanation is built from
            if isinstance(error, dict) and error.get("where") is not None and "line" not in error["where"]:
                raise _Forged
            function = clean.get("function", "")
            if kind in ("start", "call") and function not in functions:
                raise _Forged
            key = (kind, function)
            if kind in ("ready", "import", "start", "call", "memory") and key in seen:
                raise _Forged  # child.py writes each of these at most once...
            if kind == "import" and ("ready", "") not in seen:
                raise _Forged  # ...and in this order: ready, import, then start/call per function, done
            if kind in ("start", "call", "done") and not imported_ok:
                raise _Forged
            if kind == "call" and clean.get("status") in ("ok", "raised", "not_implemented") \
                    and function not in started:
                raise _Forged  # a function's outcome without its start
            if kind == "done" and not all(("call", f) in seen for f in functions):
                raise _Forged
            seen.add(key)
        except (ValueError, RecursionError, _Forged):
            forged += 1
            continue
        if kind == "start":
            started.add(function)
        if kind == "import":
            imported_ok = clean.get("status") == "ok"
        if kind == "done":
            done = True
        if kind == "violation":
            if clean.get("what") in violations or len(violations) >= MAX_VIOLATIONS:
                continue  # the same refusal in a loop is reported once
            violations.add(clean.get("what"))
        events.append({"event": kind, **clean})
    return events, forged
