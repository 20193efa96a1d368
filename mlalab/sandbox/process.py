"""The learner's process: start it in the strongest isolation available, send it its calls, bound
it (time, memory, output), kill everything it started, and report what happened.

``LearnerProcess`` is started before the lab's scenario is built and run once; ``run_learner`` does
both for one shot. What the process reports from inside is screened by ``events.screen_events``.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlalab import course
from mlalab.sandbox.bridge import UnixBridge
from mlalab.sandbox.events import read_events, screen_events
from mlalab.sandbox.forkserver import ForkedProcess, ForkServer, launch, shared_fork_server
from mlalab.sandbox.jail_command import (
    HERE,
    child_environment,
    jail_argv,
    jail_spec,
    layout,
    namespaces_available,
    remove_tree,
)
from mlalab.sandbox.output import read_capped

UNIX_SOCKET_PATH_MAX = 100  # a Unix socket's path has at most 107 bytes


@dataclass
class Call:
    function: str
    kwargs: dict


@dataclass
class LearnerRun:
    """What happened in the learner's process, as seen from outside (exit, time) and as reported
    from inside (events: untrusted, for explanations only)."""

    events: list[dict] = field(default_factory=list)
    output: str = ""
    output_truncated: bool = False
    exit_code: int | None = None
    timed_out: bool = False
    duration: float = 0.0
    isolation: str = ""
    module_missing: bool = False
    forged: int = 0  # lines on the event pipe that child.py did not write (forged, garbled, repeated)

    def call_event(self, function: str) -> dict | None:
        """The final event for one function call, or None if it never finished."""
        for event in self.events:
            if event.get("event") == "call" and event.get("function") == function:
                return event
        return None

    def import_event(self) -> dict | None:
        return next((e for e in self.events if e.get("event") == "import"), None)

    def started(self) -> list[str]:
        return [e["function"] for e in self.events if e.get("event") == "start"]

    def violations(self) -> list[str]:
        return [str(e.get("what")) for e in self.events if e.get("event") == "violation"]


class LearnerProcess:
    """The learner's sandboxed process, started *before* the scenario is built.

    Starting it early lets the interpreter start, the jail set-up and the ``boto3`` import (most of
    the child's start-up) run on the other core while the grader builds the lab's scenario. The
    child then waits for its job on stdin: the calls, known only once the scenario exists. The time
    limit counts from the moment the job is sent.
    """

    def __init__(self, module_file: Path | None, module_name: str, port: int, *, memory_mb: int = 1024,
                 blocked_paths: list[str] | None = None, forks: ForkServer | None = None) -> None:
        self.module_file, self.module_name, self.port, self.forks = module_file, module_name, port, forks
        self.memory_mb, self.blocked_paths = memory_mb, blocked_paths or []
        self.proc: subprocess.Popen | None = None
        self.base: Path | None = None
        self.extra: Path | None = None
        self.bridge: UnixBridge | None = None
        self.read_fd = self.write_fd = -1
        self.job: dict = {}
        self.isolation = ""
        self.assigned = module_file is not None
        if module_file is None or module_file.is_file():
            try:
                self._start()
            except BaseException:
                self.close()
                raise

    @classmethod
    def ahead(cls, port: int, forks: ForkServer | None = None) -> LearnerProcess:
        """A learner process started before its submission is known (warm grading): it builds its
        jail and imports boto3 (or is forked, jailed, by the warm grader's fork server ``forks``), then
        waits; :meth:`assign` gives it the learner's file. It is used for one submission only, like
        every learner process."""
        return cls(None, "", port, forks=forks)

    def assign(self, module_file: Path, module_name: str, *, memory_mb: int = 1024,
               blocked_paths: list[str] | None = None) -> LearnerProcess:
        """Give a process started :meth:`ahead` its submission. The file's bytes travel in the job (the
        jail's folder is sealed once built) and ``child.py`` writes them into its own folder before the
        audit hook and the limits are set, exactly where a cold start would have copied them."""
        if self.assigned:
            raise RuntimeError("a learner process grades one submission only")
        self.assigned = True
        self.module_file, self.module_name = module_file, module_name
        self.memory_mb, self.blocked_paths = memory_mb, blocked_paths or []
        if not module_file.is_file():
            self.close()
            self.proc = None  # run() reports the file as missing, as a cold start does
            return self
        self.job.update(module_name=module_name, memory_mb=memory_mb, blocked_paths=self.blocked_paths,
                        module_path=str(Path(self.job["home"]) / module_file.name),
                        module_source=base64.b64encode(module_file.read_bytes()).decode())
        return self

    def alive(self) -> bool:
        """Started, not yet assigned, and still waiting for its job."""
        return self.proc is not None and not self.assigned and self.proc.poll() is None

    def _start(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="mlalab-sandbox-"))
        os.chmod(self.base, 0o755)
        sandbox, root = layout(self.base)
        if self.module_file is not None:
            target = sandbox / self.module_file.name
            # A copy: the learner's own file is never opened for writing by anything we run.
            shutil.copyfile(self.module_file, target)
        else:
            target = sandbox / "pending.py"  # the path is set by assign()
        self.read_fd, self.write_fd = os.pipe()
        self.job = {
            "module_path": str(target),
            "module_name": self.module_name,
            "event_fd": self.write_fd,
            "memory_mb": self.memory_mb,
            "blocked_paths": self.blocked_paths,
            "port": self.port,
            "home": str(sandbox),
            "grader_packages": list(course.GRADER_ONLY_IMPORTS),
        }
        self.proc, self.bridge, self.extra, self.isolation = spawn_child(self.base, self.job, self.port, self.write_fd,
                                                                        self.forks)
        os.close(self.write_fd)
        self.write_fd = -1

    def run(self, calls: list[Call], timeout: float = 60.0) -> LearnerRun:
        """Send the calls, wait (at most ``timeout`` seconds) and report what happened."""
        run = LearnerRun(isolation=self.isolation)
        if not self.assigned:
            raise RuntimeError("assign() a submission to a learner process started ahead() before running it")
        if self.proc is None:
            run.module_missing = True
            return run
        try:
            sink: dict = {}
            reader = threading.Thread(target=read_capped, args=(self.proc.stdout, sink), daemon=True)
            reader.start()
            events_raw: list[bytes] = []
            ev_reader = threading.Thread(target=read_events, args=(self.read_fd, events_raw), daemon=True)
            self.read_fd = -1  # the reader thread owns (and closes) it now
            ev_reader.start()
            started = time.monotonic()
            job = {**self.job, "calls": [{"function": c.function, "kwargs": c.kwargs} for c in calls]}
            try:
                self.proc.stdin.write(json.dumps(job).encode() + b"\n")
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                run.exit_code = wait_exit(self.proc, timeout)
            except subprocess.TimeoutExpired:
                run.timed_out = True
            kill_group(self.proc)
            run.duration = time.monotonic() - started
            reader.join(timeout=5)
            ev_reader.join(timeout=5)
            run.output = sink.get("text", "")
            run.output_truncated = sink.get("truncated", False)
            run.events, run.forged = screen_events(b"".join(events_raw), [c.function for c in calls])
            return run
        finally:
            self.close()

    def close(self) -> None:
        """Kill the process if it is still there and remove every trace of the sandbox."""
        if self.proc is not None and self.proc.returncode is None:
            kill_group(self.proc)
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                os.close(fd)
        self.read_fd = self.write_fd = -1
        if self.bridge:
            self.bridge.close()
            self.bridge = None
        for path in (self.base, self.extra):
            if path:
                remove_tree(path)
        self.base = self.extra = None


def spawn_child(base: Path, job: dict, port: int, event_fd: int, forks: ForkServer | None = None) \
        -> tuple[subprocess.Popen | ForkedProcess, UnixBridge | None, Path | None, str]:
    """Start ``child.py`` in ``base`` (made by ``layout``) in the strongest isolation available, and
    complete ``job`` with what that isolation needs (the bridge's socket). Returns the process, the
    bridge to close, an extra folder to remove, and the isolation's name. Shared by the learner's
    process and Lambda handlers' (``handler.py``). ``forks``: a warm grader's fork server, which makes
    the same process without a new interpreter (``zygote.py``)."""
    sandbox, root = base / "home", base / "root"
    child_argv = [sys.executable, "-I", "-u", str(HERE / "child.py")]
    bridge = extra = None
    from mlalab.sandbox.isolation import choose_isolation, spawn_chroot  # noqa: PLC0415 - issue 12's level
    isolation = choose_isolation(namespaces_available)
    forks = forks or shared_fork_server()
    if isolation == "chroot-seccomp":
        return spawn_chroot(base, job, port, event_fd, child_argv, forks=forks)
    request: dict = {"isolation": isolation, "cwd": str(sandbox), "env": child_environment(sandbox)}
    if isolation == "linux-namespaces":
        shared = base / "shared"
        if len(str(shared / "aws.sock")) > UNIX_SOCKET_PATH_MAX:
            shared = Path(tempfile.mkdtemp(prefix="mlalab-", dir="/tmp"))
            extra = shared
        else:
            shared.mkdir()
        os.chmod(shared, 0o755)
        job["unix_socket"] = str(shared / "aws.sock")
        bridge = UnixBridge(job["unix_socket"], port)
        argv = jail_argv(sandbox, root, child_argv, shared=(shared,))
        request["jail"] = jail_spec(sandbox, root, shared=(shared,))
    else:
        isolation = request["isolation"] = "process"
        argv = child_argv
    job["isolation"] = isolation
    try:
        proc = launch(argv, request, event_fd, forks)
    except BaseException:
        if bridge:
            bridge.close()
        if extra:
            remove_tree(extra)
        raise
    return proc, bridge, extra, isolation


def run_learner(module_file: Path, module_name: str, calls: list[Call], port: int, *,
                timeout: float = 60.0, memory_mb: int = 1024,
                blocked_paths: list[str] | None = None) -> LearnerRun:
    """Run ``calls`` against the learner's ``module_file`` in a sandboxed child process."""
    process = LearnerProcess(module_file, module_name, port, memory_mb=memory_mb, blocked_paths=blocked_paths)
    return process.run(calls, timeout)


def wait_exit(proc: subprocess.Popen, timeout: float) -> int:
    """``proc.wait(timeout)``, woken the moment the process exits: with a time-out, ``Popen.wait`` polls,
    sleeping up to 50 ms between looks (about 40 ms late after a learner's 0.1 s run); a pidfd (Linux 5.3)
    becomes readable at the exit itself. Elsewhere, or where pidfds are refused, ``Popen.wait`` it is."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return proc.wait(timeout=timeout)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    if not ready:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    return proc.wait()


def kill_group(proc: subprocess.Popen) -> None:
    """Kill the child and everything it started (its process group; with namespaces, the whole
    PID namespace dies with its first process)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    if proc.returncode is None:
        proc.kill()
