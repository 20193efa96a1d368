"""Shared fixtures for the project's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlalab.catalog import Lab, find_lab
from mlalab.grading import grade, grade_each
from mlalab.results import LabResult


def apply(source: str, edits: list[tuple[str, str]]) -> str:
    """Apply exact text replacements to a reference solution (each must match exactly once)."""
    for old, new in edits:
        assert source.count(old) == 1, f"mutation anchor not found exactly once: {old!r}"
        source = source.replace(old, new)
    return source


def grade_source(tmp_path: Path, lab: Lab, source: str, seed: int = 1234, timeout: float = 30) -> LabResult:
    """Grade one lab for a submission holding ``source`` as the learner's file."""
    submission = tmp_path / f"submission-{lab.number}"
    submission.mkdir(exist_ok=True)
    (submission / lab.workspace_file).write_text(source)
    return grade(submission, [lab], seed=seed, timeout=timeout).labs[0]


def grade_sources(tmp_path: Path, lab: Lab, sources: list[str], seed: int = 1234,
                  timeout: float = 30) -> list[LabResult]:
    """Grade many learner files for one lab in one grading session (one server, one pytest start-up):
    each still runs in its own sandboxed process against a fresh AWS state."""
    folders = []
    for index, source in enumerate(sources):
        folder = tmp_path / f"submission-{lab.number}-{index}"
        folder.mkdir(exist_ok=True)
        (folder / lab.workspace_file).write_text(source)
        folders.append(folder)
    return [result.labs[0] for result in grade_each(folders, [lab], seed=seed, timeout=timeout)]


def failing(result: LabResult) -> set[str]:
    return {c.id for c in result.checks if c.status != "pass"}


@pytest.fixture
def lab01() -> Lab:
    return find_lab(1)


@pytest.fixture
def lab02() -> Lab:
    return find_lab(2)
