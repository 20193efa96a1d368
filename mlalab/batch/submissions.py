"""Finding the submissions of a batch: submission folders and class folders, one learner each."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlalab.catalog import Lab, is_starter

LAB_FILE = re.compile(r"lab\d+\.py")
SKIPPED_FOLDERS = {"__pycache__", "node_modules"}


class BatchInputError(Exception):
    """Bad input to grade-many (a folder that does not exist, ...): exit code 2."""


@dataclass(frozen=True)
class Submission:
    name: str  # the learner: the submission folder's name (made unique within the batch)
    path: Path


def lab_files(folder: Path) -> list[str]:
    """The names of the ``labNN.py`` files directly in ``folder``, sorted."""
    try:
        return sorted(p.name for p in folder.iterdir() if LAB_FILE.fullmatch(p.name) and p.is_file())
    except OSError:
        return []


def has_lab_files(folder: Path) -> bool:
    return bool(lab_files(folder))


def learner_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.name not in SKIPPED_FOLDERS)


def warn_on_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def discover(paths: list[Path], warn: Callable[[str], None] = warn_on_stderr) -> list[Submission]:
    """Submission folders and class folders (folders of submission folders).

    A folder is a class folder when any of its subfolders holds labNN.py files: each subfolder is a
    submission, and labNN.py files at the folder's own top are ignored with a warning (a stray file
    must not turn the whole class into one learner). A folder with labNN.py files, or with no
    subfolders, is one submission; one with subfolders but no labNN.py anywhere is a class folder
    of empty submissions. A submission without labNN.py files is graded, and earns nothing.
    """
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        what = "does not exist or is not a folder" if len(missing) == 1 else "do not exist or are not folders"
        raise BatchInputError(f"{', '.join(missing)} {what}")
    found: list[Path] = []
    for path in paths:
        subfolders = learner_folders(path)
        stray = lab_files(path)
        if any(has_lab_files(sub) for sub in subfolders):
            if stray:
                warn(f"warning: ignoring {', '.join(stray)} at the top of {path}: it is a class folder (its "
                     "subfolders hold lab files), and lab files belong in a learner's folder")
            found.extend(subfolders)
        elif stray or not subfolders:
            found.append(path)
        else:
            found.extend(subfolders)
    submissions, used = [], set()
    for path in found:
        base = path.resolve().name or "submission"
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        submissions.append(Submission(name, path.resolve()))
    return submissions


def not_submitted(submission: Submission, labs: list[Lab]) -> set[int]:
    """The labs whose ``labNN.py`` is not in the submission folder (the grader finds nothing to grade)."""
    return {lab.id for lab in labs if not (submission.path / lab.workspace_file).is_file()}


def untouched(submission: Submission, labs: list[Lab], starters: dict[int, str]) -> tuple[str, ...] | None:
    """What ``submission`` holds when it is nothing of the learner's own: for each lab, "starter" (its file
    is exactly the project's untouched starter, ``starters[lab.id]``: ``catalog.is_starter``) or "missing";
    None when any file is the learner's own or cannot be read."""
    held = []
    for lab in labs:
        path = submission.path / lab.workspace_file
        if not path.is_file():
            held.append("missing")
        elif is_starter(path, starters[lab.id]):
            held.append("starter")
        else:
            return None
    return tuple(held)


def same_untouched(submissions: list[Submission], labs: list[Lab]) -> dict[str, Submission]:
    """The submissions holding nothing of their own (``untouched``) that another one before them holds
    too, each mapped to that first one: a batch grades the first and gives the others its grade."""
    starters = {lab.id: lab.starter_text() for lab in labs}
    first: dict[tuple[str, ...], Submission] = {}
    same: dict[str, Submission] = {}
    for submission in submissions:
        held = untouched(submission, labs, starters)
        if held is not None:
            same.setdefault(submission.name, first.setdefault(held, submission))
    return {name: rep for name, rep in same.items() if rep.name != name}
