"""Grading one submission in its own grader process, with a wall-clock cap.

A grader process that dies or overruns is killed with everything it started (learner processes
run in their own sessions, so its process group is not enough), and the submission is recorded as
``error`` with the reason and 0 points: one submission's crash or hang never touches another.
"""

from __future__ import annotations

import json
import os
import queue
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
    cold: bool = False  # one fresh grader process per submission (the former way; the bench compares)

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


# --- warm workers: one long-lived grader per job, submission after submission ----------------------

READY_LIMIT = 120.0  # seconds a new worker may take to warm up


def warm_command(options: Options) -> list[str]:
    """The worker process: ``mlalab.warm``'s protocol on stdin/stdout."""
    return [sys.executable, "-m", "mlalab.warm"]


def usable_cpus() -> list[int] | None:
    """The CPUs this process may run on (a container's or ``taskset``'s share, not the machine's), or None
    where that cannot be asked (not Linux)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def default_jobs() -> int:
    """``grade-many``'s default ``--jobs``: one per CPU this process may use. ``os.cpu_count()`` counts
    the machine's: in a container given 2 of a host's 64 CPUs it would start 64 workers (~350 MB each)."""
    cpus = usable_cpus()
    return len(cpus) if cpus else os.cpu_count() or 1


def worker_cpus(jobs: int) -> list[int | None]:
    """The CPU each of ``jobs`` warm workers is kept on (``mlalab.warm.keep_on_cpu``), or None for each
    when they are left to the scheduler.

    A worker is more than one busy process: its grader and the learner process it serves answer each
    other request by request, and its fork server starts the next learner process meanwhile (one worker
    uses ~1.07 cores). With as many workers as CPUs, each worker's processes kept on a CPU of their own
    hand each request over within one core's caches and never wait behind another worker's: 20
    submissions with ``--jobs 2`` on 2 cores took 17.6 s against 18.9 s left to the scheduler. With fewer
    workers than CPUs they are left free: one worker kept on one of 2 cores took 31.3 s against 29.3 s."""
    cpus = usable_cpus()
    if not cpus or jobs < len(cpus):
        return [None] * jobs
    return [cpus[n % len(cpus)] for n in range(jobs)]


class WarmWorker:
    """A ``mlalab.warm`` worker process (a warm grader) and its request channel.

    It is replaced (``grade_warm`` closes it and the next submission starts a new one) when it died,
    overran a submission's cap, or says it was disturbed; the submission it was grading gets an
    ``error`` as a cold grader's would, and no other submission is touched: each starts from a clean
    AWS and a fresh learner process inside the worker (``mlalab.warm``)."""

    def __init__(self, options: Options, batch_key: str, scratch: Path, cpu: int | None = None) -> None:
        self.options = options
        self.cpu = cpu  # the CPU it is kept on (worker_cpus), which its replacement takes over
        self.log_path = scratch / "worker.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the worker
        env = {**os.environ, "MLALAB_SIGNING_KEY": batch_key,
               "MLALAB_WARM_LABS": json.dumps([lab.id for lab in options.labs])}
        if cpu is not None:
            env["MLALAB_WORKER_CPU"] = str(cpu)
        # cwd is the scratch folder: never a submission, whose files must not be importable.
        self.proc = subprocess.Popen(warm_command(options), cwd=scratch, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, start_new_session=True)
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name="mlalab-worker-reader").start()
        self.ready = False
        self.replace: str | None = None  # why this worker must not grade again

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(b"")  # end of output: the worker is gone

    def _reply(self, started: float, limit: float, cancelled: threading.Event | None) -> tuple[dict | None, str | None]:
        while True:
            try:
                line = self.lines.get(timeout=POLL)
            except queue.Empty:
                line = None
            if line == b"":
                code = self.proc.wait()
                return None, _exit_reason(code, self.log_path.read_text(errors="replace"))
            if line is not None:
                try:
                    reply = json.loads(line)
                except ValueError:
                    continue  # not a protocol line
                if isinstance(reply, dict):
                    return reply, None
            if cancelled is not None and cancelled.is_set():
                return None, "the batch was interrupted"
            if time.monotonic() - started > limit:
                return None, (f"grading took longer than {self.options.cap:g} s (the per-submission limit: "
                              f"{self.options.timeout:g} s per lab + {CAP_SLACK:g} s) and was stopped")

    def grade(self, submission: Submission, out_file: Path, cancelled: threading.Event | None) -> str | None:
        """Have the worker grade ``submission`` into ``out_file``; None, or why it could not."""
        started = time.monotonic()
        if not self.ready:
            reply, reason = self._reply(started, READY_LIMIT, cancelled)
            if reason is not None or not (reply or {}).get("ready"):
                self.replace = reason or "the worker did not start"
                return f"the grader could not start: {self.replace}" if reason is None else reason
            self.ready = True
            started = time.monotonic()
        request = {"submission": str(submission.path), "labs": [lab.id for lab in self.options.labs],
                   "out": str(out_file), "seed": self.options.seed, "timeout": self.options.timeout}
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # it died: its exit is read below
        reply, reason = self._reply(started, self.options.cap, cancelled)
        if reason is not None:
            self.replace = reason
            return reason
        if reply.get("disturbed"):
            self.replace = str(reply["disturbed"])
        if not reply.get("done"):
            self.replace = "the worker answered out of turn"
            return "the grader answered out of turn"
        return None

    def close(self, kill: bool = False) -> None:
        """Stop the worker: a healthy one ends when its input does; ``kill`` (or a worker that does
        not end) is killed with everything it started."""
        if self.proc.returncode is None and not kill:
            try:
                self.proc.stdin.close()  # end of input: a healthy worker stops by itself
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.returncode is None or process_tree(self.proc.pid)[1:]:
            kill_tree(self.proc)
        self._log.close()


def grade_warm(submission: Submission, options: Options, batch_key: str, workers: queue.Queue,
               scratch: Path, cancelled: threading.Event | None = None) -> SubmissionResult:
    """Grade one submission with a warm worker from ``workers``, and put the worker back unless it must
    be replaced. ``workers`` holds a worker, or the CPU (``worker_cpus``: an int or None) of one to start."""
    started = time.monotonic()
    try:
        taken: WarmWorker | int | None = workers.get_nowait()
    except queue.Empty:
        taken = None
    if isinstance(taken, WarmWorker):
        worker = taken
    else:
        folder = Path(tempfile.mkdtemp(prefix="mlalab-worker-", dir=scratch))
        try:
            worker = WarmWorker(options, batch_key, folder, cpu=taken)
        except OSError as exc:
            return error_result(submission.name, options.labs, f"the grader could not start: {exc}",
                                time.monotonic() - started)
    out_file = Path(tempfile.mkdtemp(prefix="result-", dir=scratch)) / "result.json"
    try:
        reason = worker.grade(submission, out_file, cancelled)
    finally:
        if worker.replace is not None or cancelled is not None and cancelled.is_set():
            worker.close(kill=reason is not None)
            workers.put(worker.cpu)  # the next submission starts a fresh worker, on the same CPU
        else:
            workers.put(worker)
    if reason is None:
        reason, result = read_document(out_file, batch_key.encode())
        if result is not None:
            result.submission = submission.name
            return result
    return error_result(submission.name, options.labs, reason, time.monotonic() - started)
