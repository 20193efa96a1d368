"""``mlalab grade-many``: grade a whole class, in parallel, one grader process per submission.

Each submission is graded by its own ``python -m mlalab.cli grade`` process (at most ``jobs`` at a
time) with a wall-clock cap, so one submission's crash, hang or time-out never touches another: a
grader process that dies or overruns is killed with everything it started, and that submission is
recorded as ``error`` with the reason and 0 points while the batch carries on.

Integrity: every grader process gets a fresh per-batch signing key in its environment (the grader
never passes its environment to learner code, see :func:`mlalab.sandbox.runner.child_environment`),
and its document is accepted only if the signature verifies with that key. The documents written
to ``--out/results/`` are re-signed by this process with a new nonce and the instructor's key.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from mlalab.catalog import Lab
from mlalab.formats import json_format, write
from mlalab.formats.integrity import verify
from mlalab.formats.json_format import number
from mlalab.results import CheckResult, LabResult, SubmissionResult

LAB_FILE = re.compile(r"lab\d+\.py")
CAP_SLACK = 60.0  # seconds on top of timeout * labs for the grader's own start-up and checks
SKIPPED_FOLDERS = {"__pycache__", "node_modules"}


class BatchInputError(Exception):
    """Bad input to grade-many (a folder that does not exist, ...): exit code 2."""


@dataclass(frozen=True)
class Submission:
    name: str  # the learner: the submission folder's name (made unique within the batch)
    path: Path


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


# --- finding the submissions --------------------------------------------------------------------


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


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def discover(paths: list[Path], warn: Callable[[str], None] = _warn) -> list[Submission]:
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


# --- grading one submission in its own process ---------------------------------------------------


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
            return proc.wait(timeout=0.25), None
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


def read_document(path: Path, key: bytes) -> tuple[str | None, SubmissionResult | None]:
    """The grader's JSON document as a result, or why it cannot be used."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "the grader finished without writing its results document", None
    except (OSError, ValueError) as exc:
        return f"the grader's results document is unreadable ({type(exc).__name__})", None
    if not isinstance(document, dict) or not verify(document, key):
        return "the grader's results document failed its integrity check (not written by the grader)", None
    try:
        return None, json_format.read(document)
    except (KeyError, TypeError, ValueError) as exc:
        return f"the grader's results document is malformed ({type(exc).__name__}: {exc})", None


# --- results --------------------------------------------------------------------------------------


def error_result(name: str, labs: list[Lab], reason: str, duration: float) -> SubmissionResult:
    """A submission that could not be graded: every lab and check is ``error`` with 0 points."""
    lab_results = [
        LabResult(lab=lab.id, slug=lab.slug, title=lab.title, task=lab.task, status="error", score=0.0,
                  max_score=lab.max_score, problems=[f"This submission could not be graded: {reason}"],
                  checks=[CheckResult(id=c.id, name=c.name, status="error", points=0.0, max_points=c.points,
                                      message=f"not graded: {reason}", task=lab.task) for c in lab.checks])
        for lab in labs
    ]
    return SubmissionResult(submission=name, status="error", score=0.0,
                            max_score=sum(lab.max_score for lab in labs), labs=lab_results,
                            duration=round(duration, 3), error=reason)


def summary_line(result: SubmissionResult, seconds: float) -> str:
    line = f"{result.submission}: {number(result.score)}/{number(result.max_score)} {result.status} " \
           f"({seconds:.1f} s)"
    if result.status == "error" and result.error:
        line += f": {result.error}"
    return line


def results_file_name(name: str) -> str:
    safe = re.sub(r"[^\w.-]", "_", name).lstrip(".") or "submission"
    return f"{safe}.json"


@dataclass
class BatchOutcome:
    results: list[SubmissionResult]
    wall_time: float
    grader_errors: int


def _print(line: str) -> None:
    print(line, flush=True)  # one line per submission as it finishes, also when piped to a CI log


def not_submitted(submission: Submission, labs: list[Lab]) -> set[int]:
    """The labs whose ``labNN.py`` is not in the submission folder (the grader finds nothing to grade)."""
    return {lab.id for lab in labs if not (submission.path / lab.workspace_file).is_file()}


def run(paths: list[Path], out: Path, options: Options, *, key: bytes | None = None,
        log=_print, warn: Callable[[str], None] = _warn) -> BatchOutcome:
    """Grade every submission under ``paths`` and write grades.csv, report.html and results/ to ``out``."""
    from mlalab import classreport

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

    def task(submission: Submission) -> tuple[SubmissionResult, float]:
        begun = time.monotonic()
        result = grade_one(submission, options, batch_key, cancelled)
        return result, time.monotonic() - begun

    pool = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="mlalab-grade")
    try:
        futures = {pool.submit(task, s): s for s in submissions}
        for count, future in enumerate(as_completed(futures), start=1):
            result, seconds = future.result()
            done[futures[future].name] = result
            log(f"[{count}/{len(submissions)}] {summary_line(result, seconds)}")
    except BaseException:
        cancelled.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    results = [done[s.name] for s in submissions]
    wall = time.monotonic() - started

    results_dir = out / "results"
    used: set[str] = set()
    for result in results:
        file_name, n = results_file_name(result.submission), 2
        while file_name.lower() in used:
            file_name, n = results_file_name(f"{result.submission}-{n}"), n + 1
        used.add(file_name.lower())
        write(result, "json", results_dir / file_name, secrets.token_hex(16), key)
    csv_path = classreport.write_csv(results, out / "grades.csv", missing)
    html_path = classreport.write_html(results, out / "report.html", missing=missing)
    errors = sum(r.error is not None for r in results)
    counts = {status: sum(r.status == status for r in results) for status in ("pass", "fail", "error")}
    mean = sum(r.score for r in results) / len(results)
    max_score = max(r.max_score for r in results)
    log(f"Total: {len(results)} submissions in {wall:.1f} s ({len(results) / wall * 60:.1f}/min): "
        f"{counts['pass']} pass, {counts['fail']} fail, {counts['error']} error; "
        f"mean score {number(mean)}/{number(max_score)}")
    log(f"Wrote {csv_path}, {html_path} and {len(results)} results in {results_dir}{os.sep}")
    return BatchOutcome(results, wall, errors)
