"""The learner's stdout and stderr as the report shows them: capped, and de-fanged.

Learner output is untrusted text that ends up in terminals, CI logs and HTML: it is drained so the
process can never block on a full pipe, only the first OUTPUT_CAP characters are kept, and every
character that could move a cursor, recolour or hide the grader's own lines is shown escaped.
"""

from __future__ import annotations

import re
from typing import BinaryIO

OUTPUT_CAP = 16_000  # characters of learner output kept for the report

# C0/C1 controls but tab and newline, DEL, and the bidi overrides: what could move a terminal's cursor,
# recolour or hide the grader's own lines, or reorder them visually.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Learner text as plain lines: CR and Unicode line separators become newlines (so every line of
    it gets the report's output frame), other control characters are shown escaped (\\x1b)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL.sub(_escape, text)


def read_capped(stream: BinaryIO, sink: dict) -> None:
    """Drain the learner's output so it can never block, keeping only the first OUTPUT_CAP chars
    (``sink["text"]``, and ``sink["truncated"]`` when there was more)."""
    kept: list[bytes] = []
    size = 0
    while chunk := stream.read(8192):
        if size < OUTPUT_CAP * 4:
            kept.append(chunk)
        size += len(chunk)
    text = printable(b"".join(kept).decode("utf-8", "replace"))
    sink["truncated"] = len(text) > OUTPUT_CAP or size > OUTPUT_CAP * 4
    sink["text"] = text[:OUTPUT_CAP]
