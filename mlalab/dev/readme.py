"""The README's labs table, generated from each lab's ``lab.yaml`` so that adding a lab edits nothing
outside its folder. ``mlalab dev readme`` rewrites the block between the markers; ``mlalab dev
check`` fails while the block differs from what lab.yaml says."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mlalab.catalog import Lab, skill_row

BEGIN, END = "<!-- labs:begin -->", "<!-- labs:end -->"
NOTE = "<!-- generated from each lab's lab.yaml by `mlalab dev readme`: edit lab.yaml, not this table -->"


class ReadmeError(Exception):
    """The README has no (or broken) labs markers."""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def exam_tasks(lab: Lab) -> str:
    """The lab's task, and the other tasks whose rows it also trains: "4.2 (and 4.1)"."""
    others = sorted({row[0] for row in map(skill_row, lab.skills) if row and row[0] != lab.task})
    return lab.task + (f" (and {', '.join(others)})" if others else "")


def table(labs: Iterable[Lab]) -> str:
    lines = [NOTE, "| lab | title | exam task | minutes | what it trains |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {lab.number} | {_cell(lab.title)} | {exam_tasks(lab)} | {lab.minutes} | {_cell(lab.summary)} |"
              for lab in labs]
    return "\n".join(lines)


def _span(text: str, readme: Path) -> tuple[int, int]:
    """Where the block's content starts and ends (between the marker lines)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ReadmeError(f"{readme} needs one {BEGIN} line and, after it, one {END} line around the labs table")
    return text.index(BEGIN) + len(BEGIN), text.index(END)


def rendered(text: str, labs: Iterable[Lab], readme: Path) -> str:
    start, end = _span(text, readme)
    return text[:start] + "\n" + table(labs) + "\n" + text[end:]


def is_fresh(readme: Path, labs: Iterable[Lab]) -> bool:
    text = readme.read_text(encoding="utf-8")
    return rendered(text, labs, readme) == text


def write(readme: Path, labs: Iterable[Lab]) -> bool:
    """Rewrite the block; True when the README changed."""
    text = readme.read_text(encoding="utf-8")
    new = rendered(text, labs, readme)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text
