"""The grader's side of the fence: start the learner's process, bound it, and read what it did.

Isolation, strongest available first:
- Linux with user namespaces (``unshare``): new network namespace (no route out; a Unix-socket
  bridge reaches the moto server only), new PID namespace (every process it starts dies with it),
  every mount read-only but the sandbox folder, and a nested user namespace so none of that can be
  undone. This is what CI and workshops get.
- Elsewhere (macOS laptops): a separate process group with an audit hook that refuses network,
  subprocess and native-code access. Enough for practice, reported as such.
Both: an environment built from scratch (fake credentials, no config files, no grader secret),
a wall-clock limit, an address-space limit and capped output.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT_CAP = 16_000  # characters of learner output kept for the report
REGION = "us-east-1"


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


@cache
def namespaces_available() -> bool:
    """True when this machine lets us build the Linux sandbox (probed once per process)."""
    if sys.platform != "linux" or not shutil.which("unshare") or not shutil.which("mount"):
        return False
    try:
        probe = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--net", "--pid", "--mount", "--fork",
             "--kill-child", "sh", "-c", "mount --bind / /tmp 2>/dev/null; unshare --user true"],
            capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


class _UnixBridge:
    """Serves a Unix socket in the sandbox folder and splices each connection to the moto port."""

    def __init__(self, path: str, port: int) -> None:
        self.path, self.port = path, port
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.sock.listen(64)
        self.closed = False
        threading.Thread(target=self._serve, daemon=True, name="mlalab-unix-bridge").start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.port))
            except OSError:
                conn.close()
                continue
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=_splice, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


def _splice(a: socket.socket, b: socket.socket) -> None:
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _read_capped(stream, sink: dict) -> None:
    """Drain the learner's output so it can never block, keeping only the first OUTPUT_CAP chars."""
    kept: list[bytes] = []
    size = 0
    while chunk := stream.read(8192):
        if size < OUTPUT_CAP * 4:
            kept.append(chunk)
        size += len(chunk)
    text = b"".join(kept).decode("utf-8", "replace")
    sink["truncated"] = len(text) > OUTPUT_CAP or size > OUTPUT_CAP * 4
    sink["text"] = text[:OUTPUT_CAP]


def child_environment(sandbox: Path) -> dict[str, str]:
    """Built from nothing: no variable of the grader (secrets, signing keys) reaches the learner."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(sandbox),
        "TMPDIR": str(sandbox),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "NO_PROXY": "*",
    }
    return env


def run_learner(module_file: Path, module_name: str, calls: list[Call], port: int, *,
                timeout: float = 60.0, memory_mb: int = 1024,
                blocked_paths: list[str] | None = None) -> LearnerRun:
    """Run ``calls`` against the learner's ``module_file`` in a sandboxed child process."""
    run = LearnerRun()
    if not module_file.is_file():
        run.module_missing = True
        return run
    sandbox = Path(tempfile.mkdtemp(prefix="mlalab-sandbox-"))
    bridge = None
    try:
        os.chmod(sandbox, 0o755)
        target = sandbox / module_file.name
        # A copy: the learner's own file is never opened for writing by anything we run.
        shutil.copyfile(module_file, target)
        read_fd, write_fd = os.pipe()
        job = {
            "module_path": str(target),
            "module_name": module_name,
            "calls": [{"function": c.function, "kwargs": c.kwargs} for c in calls],
            "event_fd": write_fd,
            "memory_mb": memory_mb,
            "blocked_paths": blocked_paths or [],
            "port": port,
        }
        child_argv = [sys.executable, "-I", "-u", str(HERE / "child.py")]
        if namespaces_available():
            run.isolation = "linux-namespaces"
            job["unix_socket"] = str(sandbox / "aws.sock")
            bridge = _UnixBridge(job["unix_socket"], port)
            argv = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--mount", "--fork",
                    "--kill-child", "--propagation", "private",
                    sys.executable, "-I", "-S", str(HERE / "jail.py"), str(sandbox), "--", *child_argv]
        else:
            run.isolation = "process"
            argv = child_argv
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=sandbox, env=child_environment(sandbox),
                                pass_fds=(write_fd,), start_new_session=True)
        os.close(write_fd)
        sink: dict = {}
        reader = threading.Thread(target=_read_capped, args=(proc.stdout, sink), daemon=True)
        reader.start()
        events_raw: list[bytes] = []
        ev_reader = threading.Thread(target=_read_events, args=(read_fd, events_raw), daemon=True)
        ev_reader.start()
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            run.exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            run.timed_out = True
        _kill_group(proc)
        run.duration = time.monotonic() - started
        reader.join(timeout=5)
        ev_reader.join(timeout=5)
        run.output = sink.get("text", "")
        run.output_truncated = sink.get("truncated", False)
        run.events = _parse_events(b"".join(events_raw))
        return run
    finally:
        if bridge:
            bridge.close()
        shutil.rmtree(sandbox, ignore_errors=True)


def _read_events(fd: int, sink: list[bytes]) -> None:
    size = 0
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(8192):
            if size < 1_000_000:  # a flood of fake events is dropped, not buffered
                sink.append(chunk)
            size += len(chunk)


def _parse_events(raw: bytes) -> list[dict]:
    events = []
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _kill_group(proc: subprocess.Popen) -> None:
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
