"""The whole batch: find the submissions, grade them ``jobs`` at a time, write the outputs."""

from __future__ import annotations

import copy
import queue
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from mlalab.batch import worker
from mlalab.batch.reports import summary_line, write_reports
from mlalab.batch.submissions import (
    BatchInputError,
    Submission,
    discover,
    not_submitted,
    same_untouched,
    warn_on_stderr,
)
from mlalab.results import SubmissionResult, is_starters_grade


@dataclass
class BatchOutcome:
    results: list[SubmissionResult]
    wall_time: float
    grader_errors: int


def untouched_grade(result: SubmissionResult) -> bool:
    """Whether ``result`` is what a submission of untouched starters earns: each lab's grade a starter's
    (``results.is_starters_grade``: the grader's own failure is never handed on)."""
    return result.error is None and all(is_starters_grade(lab) for lab in result.labs)


def copy_for(result: SubmissionResult, name: str) -> SubmissionResult:
    """``result`` as the grade of the submission ``name`` (no time spent grading it)."""
    copied = copy.deepcopy(result)
    copied.submission = name
    copied.duration = 0.0
    return copied


def print_line(line: str) -> None:
    print(line, flush=True)  # one line per submission as it finishes, also when piped to a CI log


def run(paths: list[Path], out: Path, options: worker.Options, *, key: bytes | None = None,
        log: Callable[[str], None] = print_line, warn: Callable[[str], None] = warn_on_stderr) -> BatchOutcome:
    """Grade every submission under ``paths`` and write grades.csv, report.html and results/ to ``out``."""
    if out.exists() and not out.is_dir():
        raise BatchInputError(f"--out {out} is a file, not a folder")
    submissions = discover(paths, warn)
    if not submissions:
        raise BatchInputError(f"no submissions found in {', '.join(str(p) for p in paths)}")
    # Read before grading: a lab the learner never submitted is "missing" in the class report, not
    # failed, even when the submission's grader process dies.
    missing = {s.name: not_submitted(s, options.labs) for s in submissions}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchInputError(f"cannot create --out {out}: {exc.strerror or exc}") from exc
    batch_key = secrets.token_hex(32)
    cancelled = threading.Event()
    started = time.monotonic()
    done: dict[str, SubmissionResult] = {}
    log(f"Grading {len(submissions)} submission{'s' if len(submissions) != 1 else ''} with {options.jobs} "
        f"job{'s' if options.jobs != 1 else ''} (seed {options.seed}, {options.timeout:g} s per lab, "
        f"{options.cap:g} s per submission)")

    # Warm (the default): each job is a warm grader process that grades submission after submission
    # (mlalab.warm); --cold: one fresh grader process per submission.
    workers: queue.Queue = queue.Queue()
    scratch = None if options.cold else tempfile.TemporaryDirectory(prefix="mlalab-batch-")
    if scratch is not None:
        for cpu in worker.worker_cpus(options.jobs):
            workers.put(cpu)  # the workers to start, each on its CPU (or None: left to the scheduler)

    def task(submission: Submission) -> tuple[SubmissionResult, float]:
        begun = time.monotonic()
        if scratch is None:
            result = worker.grade_one(submission, options, batch_key, cancelled)
        else:
            result = worker.grade_warm(submission, options, batch_key, workers, Path(scratch.name), cancelled)
        return result, time.monotonic() - begun

    # A submission holding nothing of its own (untouched starters, missing files) that an earlier one holds
    # too gets that one's grade, which is graded first (so it overlaps with the others' gradings): the same
    # files, seed and limits earn the same nothing. Copied only when it is that (nothing earned, nothing
    # stopped or in error); else each is graded as ever.
    same = same_untouched(submissions, options.labs)
    firsts = list(dict.fromkeys(same.values()))
    order = firsts + [s for s in submissions if s not in firsts and s.name not in same]

    def finish(submission: Submission, result: SubmissionResult, seconds: float) -> None:
        done[submission.name] = result
        log(f"[{len(done)}/{len(submissions)}] {summary_line(result, seconds)}")

    pool = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="mlalab-grade")
    try:
        pending = {pool.submit(task, s): s for s in order}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                submission = pending.pop(future)
                result, seconds = future.result()
                finish(submission, result, seconds)
                for other in (s for s in submissions if same.get(s.name) is submission):
                    if untouched_grade(result):
                        finish(other, copy_for(result, other.name), 0.0)
                    else:
                        pending[pool.submit(task, other)] = other
    except BaseException:
        cancelled.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        while not workers.empty():
            warm = workers.get_nowait()
            if isinstance(warm, worker.WarmWorker):
                warm.close()
        if scratch is not None:
            scratch.cleanup()
    results = [done[s.name] for s in submissions]
    wall = time.monotonic() - started
    write_reports(results, out, missing, wall, key, log)
    return BatchOutcome(results, wall, sum(r.error is not None for r in results))
