"""Hostile submissions: each must earn no point it does not deserve, and the report must say what
happened in plain words. Shared helpers for the themed test modules.

Lab 2 (one function, 16 points) is used wherever a lab is enough: it grades fastest.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest

from mlalab.catalog import PROJECT_ROOT, find_lab
from mlalab.grading import grade
from mlalab.results import LabResult, SubmissionResult
from mlalab.sandbox import process

LAB2 = find_lab(2)
HEADER = "import os\nimport sys\n\n"
SIGNATURE = ("def create_training_role(role_name, training_bucket, training_prefix, artifact_bucket, "
             "artifact_prefix,\n                         kms_key_arn, log_group):\n")
REFUSED = "the sandbox refused: your code tried to "
# What learner code uses to report each attempt on stdout (output is learner-controlled, so tests
# only use it to see which attempts failed how; the report's own words are asserted on problems).
TRY = '''
def attempt(label, action):
    try:
        action()
    except BaseException as exc:  # noqa
        print(f"{label}: FAILED {type(exc).__name__}: {exc}", flush=True)
    else:
        print(f"{label}: DONE", flush=True)
'''


def grade_submission(tmp_path: Path, source: str, *, lab=LAB2, timeout: float = 20, seed: int = 4242,
                     name: str = "submission") -> SubmissionResult:
    """Grade one learner file in-process (our own timeout: conftest's grade_source fixes 30 s)."""
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / lab.workspace_file).write_text(source)
    return grade(folder, [lab], seed=seed, timeout=timeout)


def grade_lab(tmp_path: Path, source: str, **kwargs) -> LabResult:
    return grade_submission(tmp_path, source, **kwargs).labs[0]


def refusals(result: LabResult) -> list[str]:
    return [p.removeprefix(REFUSED) for p in result.problems if p.startswith(REFUSED)]


def assert_refused(result: LabResult, *fragments: str) -> None:
    """Each fragment is in one of the sandbox's refusals (the report says what was refused)."""
    said = refusals(result)
    for fragment in fragments:
        assert any(fragment in what for what in said), (fragment, result.problems)


def marker() -> str:
    return f"mlalab-adversarial-{uuid.uuid4().hex}"


def processes_with(text: str) -> list[str]:
    """Command lines of live processes on this machine that mention ``text``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{pid}: {shown}")
    return found


def survivors(text: str, deadline: float = 10.0) -> list[str]:
    """``processes_with(text)`` once it is empty, or after ``deadline`` seconds. A SIGKILLed process
    is gone only once the kernel has run its exit, which on a busy machine can trail the grader's
    return; waiting for that keeps the tests about *whether* a process dies, not how fast."""
    ends = time.monotonic() + deadline
    while (found := processes_with(text)) and time.monotonic() < ends:
        time.sleep(0.05)
    return found


def isolation() -> str:
    """The isolation this test's gradings get: ``MLALAB_ISOLATION`` when CI forces a level, else the
    strongest this machine provides (after ``process_only``: ``process``). Only expectations about
    *wording and mechanism* may depend on it (which layer refuses first, "Read-only file system" or the
    audit hook's words, what exists in the jail); points, refusals and the grader's integrity never do."""
    from mlalab.sandbox.isolation import choose_isolation

    return choose_isolation(process.namespaces_available)


def needs_kernel_boundary(*levels: str, why: str) -> str:
    """Skip (never silently pass) a test whose guarantee only ``levels`` give; returns the active level."""
    level = isolation()
    if level not in levels:
        pytest.skip(f"isolation {level!r} has no such boundary ({why}); it holds in {', '.join(levels)} only")
    return level


def process_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grade in the process-only fallback, as on a machine without user namespaces."""
    monkeypatch.setattr(process, "namespaces_available", lambda: False)
    monkeypatch.setenv("MLALAB_ISOLATION", "process")  # not the root's chroot-seccomp level either


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def solution_source(lab=LAB2) -> str:
    return lab.solution_path.read_text()


__all__ = ["HEADER", "LAB2", "PROJECT_ROOT", "REFUSED", "SIGNATURE", "TRY", "assert_refused", "grade_lab",
           "grade_submission", "isolation", "marker", "needs_kernel_boundary", "process_only", "processes_with",
           "refusals", "sha256", "solution_source", "survivors"]
