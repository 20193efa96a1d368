"""Grading one submission in its own grader process, with a wall-clock cap.

A grader process that dies or overruns is killed with everything it started (learner processes
run in their own sessions, so its process group is not enough), and the submission is recorded as
``error`` with the reason and 0 points: one submission's crash or hang never touches another.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mlalab.batch.documents import error_result, read_document
from mlalab.batch.submissions import Submission
from mlalab.catalog import Lab
from mlalab.results import SubmissionResult

CAP_SLACK = 60.0  # seconds on top of timeout * labs for the grader's own start-up and checks
POLL = 0.25  # seconds between looks at the cap and at an interrupted batch


@dataclass
class Options:
    labs: list[Lab]
    lab_arg: str | None
    seed: int
    timeout: float
    jobs: int

    @property
    def cap(self) -> float:
        """Wall-clock limit for one submission's grader process."""
        return self.timeout * len(self.labs) + CAP_SLACK


def grader_command(submission: Submission, out_file: Path, options: Options) -> list[str]:
    command = [sys.executable, "-m", "mlalab.cli", "grade", str(submission.path), "--format", "json",
               "--out", str(out_file), "--seed", str(options.seed), "--timeout", f"{options.timeout:g}"]
    if options.lab_arg:
        command += ["--lab", options.lab_arg]
    return command


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (Linux /proc), parents first; just ``root`` elsewhere."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return [root]
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill a grader process and everything it started, including learner processes that run in
    their own sessions: freeze the tree (so nothing new escapes), then kill it."""
    frozen: set[int] = set()
    for _ in range(3):
        tree = [pid for pid in process_tree(proc.pid) if pid not in frozen]
        if not tree:
            break
        _signal_all(tree, signal.SIGSTOP)
        frozen.update(tree)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _signal_all(sorted(frozen), signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _tail(text: str, lines: int = 3, chars: int = 600) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-chars:]


def _exit_reason(code: int, log: str) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the grader process died ({name})"
    detail = _tail(log)
    return f"the grader process failed (exit code {code})" + (f": {detail}" if detail else "")


def _wait(proc: subprocess.Popen, started: float, options: Options,
          cancelled: threading.Event | None) -> tuple[int | None, str | None]:
    """The grader's exit code, or why it was stopped (over the cap, or the batch was interrupted)."""
    while True:
        try:
            return proc.wait(timeout=POLL), None
        except subprocess.TimeoutExpired:
            pass
        if cancelled is not None and cancelled.is_set():
            kill_tree(proc)
            return None, "the batch was interrupted"
        if time.monotonic() - started > options.cap:
            kill_tree(proc)
            return None, (f"grading took longer than {options.cap:g} s (the per-submission limit: "
                          f"{options.timeout:g} s per lab + {CAP_SLACK:g} s) and was stopped")


def grade_one(submission: Submission, options: Options, batch_key: str,
              cancelled: threading.Event | None = None) -> SubmissionResult:
    """Grade one submission in its own grader process; never raises for the submission's sake."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mlalab-batch-") as scratch:
        out_file, log_file = Path(scratch) / "result.json", Path(scratch) / "grader.log"
        env = {**os.environ, "MLALAB_SIGNING_KEY": batch_key}
        with open(log_file, "wb") as log:
            try:
                # cwd is the scratch folder: never the submission, whose files must not be importable.
                proc = subprocess.Popen(grader_command(submission, out_file, options), cwd=scratch, env=env,
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                        start_new_session=True)
            except OSError as exc:
                return error_result(submission.name, options.labs, f"the grader could not start: {exc}",
                                    time.monotonic() - started)
            try:
                code, reason = _wait(proc, started, options, cancelled)
            finally:
                if proc.returncode is None:
                    kill_tree(proc)
        elapsed = time.monotonic() - started
        if reason is None and code != 0:
            reason = _exit_reason(code, log_file.read_text(errors="replace"))
        if reason is None:
            reason, result = read_document(out_file, batch_key.encode())
            if result is not None:
                result.submission = submission.name
                return result
        return error_result(submission.name, options.labs, reason, elapsed)
