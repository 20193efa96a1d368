"""Source-to-source edits for the generated-solutions suite: the building blocks of each lab's
``rewrites.py`` (equivalent rewrites and behaviour-changing mutations of the reference solution).

Edits are text transformations of the learner file, scoped to one learner function where that
matters, so a generated variant reads like code a learner could have written. An edit whose anchor
is gone (another rewrite already changed that text) leaves the source alone: rewrites compose in any
order, and ``tests/property`` checks separately that each one changes the reference on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

Edit = Callable[[str], str]


@dataclass(frozen=True)
class Rewrite:
    """A named source transformation. For an equivalent rewrite ``why`` says why AWS treats both
    forms the same (with the documentation page); for a mutation it says what changes, and ``fails``
    lists the checks that must then fail."""

    name: str
    apply: Edit
    why: str
    fails: frozenset[str] = field(default_factory=frozenset)

    def __repr__(self) -> str:
        return self.name

    def _repr_pretty_(self, printer, cycle) -> None:  # how Hypothesis prints a failing example: names only
        printer.text(self.name)


def sub(pattern: str, repl: str | Callable[[re.Match], str], flags: int = re.M, count: int = 0) -> Edit:
    """A regex substitution as an edit (``re.M`` so ``^``/``$`` are lines)."""
    return lambda source: re.sub(pattern, repl, source, count=count, flags=flags)


def chain(*edits: Edit) -> Edit:
    """Edits applied in order, as one edit."""
    def run(source: str) -> str:
        for edit in edits:
            source = edit(source)
        return source
    return run


def function_span(source: str, name: str) -> tuple[int, int] | None:
    """Start and end offsets of the top-level function ``name`` (up to the next top-level statement)."""
    start = re.search(rf"^def {re.escape(name)}\(", source, re.M)
    if start is None:
        return None
    body = source.index("\n", start.end()) + 1
    after = re.compile(r"^\S", re.M).search(source, body)
    return start.start(), after.start() if after else len(source)


def in_function(name: str, *edits: Edit) -> Edit:
    """Edits applied to the text of one learner function only."""
    def run(source: str) -> str:
        span = function_span(source, name)
        if span is None:
            return source
        start, end = span
        return source[:start] + chain(*edits)(source[start:end]) + source[end:]
    return run


def append(code: str, marker: str) -> Edit:
    """Add module-level code (helpers the rewritten functions call) once, at the end of the file."""
    def run(source: str) -> str:
        return source if marker in source else source.rstrip("\n") + "\n\n\n" + code.strip("\n") + "\n"
    return run


def insert_before(line_pattern: str, code: str) -> Edit:
    """Insert ``code`` (lines, indented like the anchor line) before the first line matching
    ``line_pattern``; later insertions land after earlier ones, so snippets run in the order drawn."""
    def run(source: str) -> str:
        match = re.search(rf"^( *){line_pattern}", source, re.M)
        if match is None:
            return source
        indent = match.group(1)
        block = "".join(f"{indent}{line}\n" if line else "\n" for line in code.strip("\n").split("\n"))
        return source[:match.start()] + block + source[match.start():]
    return run


def import_line(module: str) -> Edit:
    """``import module`` at the top of the learner file (after its last top-level import)."""
    def run(source: str) -> str:
        if re.search(rf"^import {re.escape(module)}$", source, re.M):
            return source
        last = list(re.finditer(r"^(import|from) .*\n", source, re.M))[-1]
        return source[:last.end()] + f"import {module}\n" + source[last.end():]
    return run
