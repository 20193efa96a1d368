"""The terminal report: each check as pass/fail with its teaching message, then the score.

Colour only on a terminal, never when piped or when ``NO_COLOR`` is set (https://no-color.org).
The learner's own output is always shown indented behind a bar, so nothing it prints can pass for
the grader's report.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from mlalab.results import LabResult, SubmissionResult

MARKS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def status(self, status: str) -> str:
        return self._wrap({"pass": "32;1", "fail": "31;1", "error": "33;1"}[status], f"{MARKS[status]:<5}")

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)


def _points(value: float) -> str:
    return f"{value:g}"


def indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_lab(lab: LabResult, style: Style) -> str:
    lines = [style.bold(f"Lab {lab.lab:02d} · {lab.title}") + style.dim(f"  (task {lab.task}, seed {lab.seed})")]
    if lab.problems:
        lines.append("  Problems with your code:")
        for problem in lab.problems:
            lines.append(indent(problem, "    ! "))
    for check in lab.checks:
        points = f"{_points(check.points)}/{_points(check.max_points)}"
        lines.append(f"  {style.status(check.status)} {check.name}  {style.dim(points)}")
        if check.status != "pass":
            lines.append(indent(check.message, "        "))
    if lab.output:
        note = " (cut: only the beginning is shown)" if lab.output_truncated else ""
        lines.append(f"  Your code printed{note}:")
        lines.append(indent(lab.output.rstrip("\n"), "    │ "))
    lines.append(style.bold(f"  Score {_points(lab.score)}/{_points(lab.max_score)}"))
    return "\n".join(lines)


def render(result: SubmissionResult, colour: bool = False) -> str:
    style = Style(colour)
    parts = [render_lab(lab, style) for lab in result.labs]
    if len(result.labs) > 1:
        parts.append(style.bold(f"Total {_points(result.score)}/{_points(result.max_score)}"))
    if result.error:
        parts.append(f"Grading could not run: {result.error}")
    return "\n\n".join(parts) + "\n"


def progress(message: str, stream: TextIO = sys.stderr) -> None:
    """A transient progress line on a terminal; nothing at all when piped."""
    if hasattr(stream, "isatty") and stream.isatty():
        stream.write(f"\r\033[K{message}" if message else "\r\033[K")
        stream.flush()
