"""The grader's side of the fence: start the learner's process, bound it, and read what it did.

Isolation, strongest available first (docs/security.md has the threat model):
- Linux with user namespaces (``unshare``): new network namespace (no route out; a Unix-socket
  bridge reaches the moto server only), new PID namespace (every process it starts dies with it),
  new IPC and UTS namespaces, a minimal read-only root file system where only the sandbox folder is
  writable and the project, the checks, the reference solutions and every other file of the machine
  do not exist (see ``jail.py``), and a nested user namespace so none of that can be undone. This is
  what CI and workshops get (``LearnerRun.isolation == "linux-namespaces"``).
- Elsewhere (macOS laptops, containers that forbid user namespaces): a separate process group with
  an audit hook that refuses network, subprocesses, native code and writes outside the sandbox
  folder. Enough for practice, reported as such (``"process"``); not a boundary against a
  determined attacker.
Both: an environment built from scratch (fake credentials, no config files, no grader secret),
a wall-clock limit, an address-space limit, and capped, de-fanged output (no terminal control
characters). Everything the learner's process reports is checked against the events ``child.py``
can produce; anything else is counted as forged and dropped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from mlalab import course

HERE = Path(__file__).resolve().parent
OUTPUT_CAP = 16_000  # characters of learner output kept for the report
REGION = "us-east-1"
TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# What the minimal root of the Linux sandbox shows besides Python: the system's programs and libraries
# (and the loader's cache: a Python in /usr/local/lib, as in the official images, needs it).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
                "/etc/localtime")
MAX_VIOLATIONS = 20  # distinct refusals kept for the report
MAX_BRIDGE_CONNECTIONS = 64  # concurrent connections from the sandbox to the lab's AWS


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


_PROBE_LOCK = threading.Lock()


def namespaces_available() -> bool:
    """True when this machine lets us build the Linux sandbox (probed once per process, by building
    the real jail around a trivial command). Thread-safe: the grader starts the probe early, in the
    background, and the learner's process waits for its answer."""
    with _PROBE_LOCK:
        return _probe_namespaces()


namespaces_available.cache_clear = lambda: _probe_namespaces.cache_clear()  # type: ignore[attr-defined]


@cache
def _probe_namespaces() -> bool:
    if sys.platform != "linux" or not all(shutil.which(tool, path=TOOLS_PATH)
                                          for tool in ("unshare", "mount", "umount", "pivot_root")):
        return False
    base = Path(tempfile.mkdtemp(prefix="mlalab-probe-"))
    try:
        home, root = _layout(base)
        check = ("import os; open('probe', 'w').write('x'); "
                 f"print(len([p for p in os.listdir('/proc') if p.isdigit()]), os.path.exists({str(root)!r}))")
        argv = _jail_argv(home, root, [sys.executable, "-I", "-S", "-c", check])
        probe = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False, cwd=home,
                               env=child_environment(home), start_new_session=True)
        # Its home is writable, only its own process is in /proc (a new PID namespace with its own
        # /proc), the machine's /tmp is not there (the minimal root), and nothing it wrote reached
        # the disk (home is a tmpfs).
        return probe.returncode == 0 and probe.stdout.split() == ["1", "False"] and not (home / "probe").exists()
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        remove_tree(base)


def _layout(base: Path) -> tuple[Path, Path]:
    """``base/home``: the learner's folder (cwd, the module's copy; in the Linux sandbox a tmpfs is
    mounted over it and the copy taken in); ``base/root``: where the jail mounts the minimal root."""
    home, root = base / "home", base / "root"
    home.mkdir(mode=0o755)
    root.mkdir(mode=0o755)
    return home, root


def visible_paths() -> list[str]:
    """What the jail shows read-only: system libraries, this Python, its packages, the child."""
    paths: list[str] = list(SYSTEM_PATHS)
    prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    for name in ("boto3", "botocore"):  # wherever the learner's AWS SDK lives
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            prefixes.add(str(Path(spec.origin).resolve().parent.parent))
    for prefix in prefixes:
        paths += [prefix, os.path.realpath(prefix)]
    exe = sys.executable  # and every link on the way to the interpreter
    for _ in range(10):
        paths.append(os.path.dirname(exe))
        if not os.path.islink(exe):
            break
        exe = os.path.join(os.path.dirname(exe), os.readlink(exe))
    paths.append(os.path.dirname(os.path.realpath(sys.executable)))
    paths.append(str(HERE))
    return [p for p in dict.fromkeys(os.path.normpath(p) for p in paths) if p != "/" and os.path.lexists(p)]


def _jail_argv(home: Path, root: Path, child_argv: list[str], shared: tuple[Path, ...] = ()) -> list[str]:
    """``shared``: more folders of the grader's to show read-only (the bridge socket's)."""
    spec = {"home": str(home), "root": str(root), "readonly": visible_paths() + [str(p) for p in shared]}
    return ["unshare", "--user", "--map-root-user", "--net", "--pid", "--mount", "--ipc", "--uts", "--fork",
            "--kill-child", "--propagation", "private",
            sys.executable, "-I", "-S", str(HERE / "jail.py"), json.dumps(spec), "--", *child_argv]


class _UnixBridge:
    """Serves a Unix socket (in a folder the jail shows read-only) and splices each connection to the
    moto port (at
    most MAX_BRIDGE_CONNECTIONS at a time: learner code cannot make the grader start threads without
    end)."""

    def __init__(self, path: str, port: int) -> None:
        self.path, self.port = path, port
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.sock.listen(64)
        self.closed = False
        self.slots = threading.BoundedSemaphore(MAX_BRIDGE_CONNECTIONS)
        threading.Thread(target=self._serve, daemon=True, name="mlalab-unix-bridge").start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if not self.slots.acquire(blocking=False):
                conn.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.port))
            except OSError:
                conn.close()
                self.slots.release()
                continue
            threading.Thread(target=_splice, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=_splice, args=(upstream, conn, self.slots.release), daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


def _splice(a: socket.socket, b: socket.socket, done=None) -> None:
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
        if done:
            a.close()
            b.close()
            done()


def _read_capped(stream, sink: dict) -> None:
    """Drain the learner's output so it can never block, keeping only the first OUTPUT_CAP chars."""
    kept: list[bytes] = []
    size = 0
    while chunk := stream.read(8192):
        if size < OUTPUT_CAP * 4:
            kept.append(chunk)
        size += len(chunk)
    text = printable(b"".join(kept).decode("utf-8", "replace"))
    sink["truncated"] = len(text) > OUTPUT_CAP or size > OUTPUT_CAP * 4
    sink["text"] = text[:OUTPUT_CAP]


# C0/C1 controls but tab and newline, DEL, and the bidi overrides: what could move a terminal's cursor,
# recolour or hide the grader's own lines, or reorder them visually.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Learner text as plain lines: CR and Unicode line separators become newlines (so every line of
    it gets the report's output frame), other control characters are shown escaped (\\x1b)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL.sub(_escape, text)


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


class LearnerProcess:
    """The learner's sandboxed process, started *before* the scenario is built.

    Starting it early lets the interpreter start, the jail set-up and the ``boto3`` import (most of
    the child's start-up) run on the other core while the grader builds the lab's scenario. The
    child then waits for its job on stdin: the calls, known only once the scenario exists. The time
    limit counts from the moment the job is sent.
    """

    def __init__(self, module_file: Path, module_name: str, port: int, *, memory_mb: int = 1024,
                 blocked_paths: list[str] | None = None) -> None:
        self.module_file, self.module_name, self.port = module_file, module_name, port
        self.memory_mb, self.blocked_paths = memory_mb, blocked_paths or []
        self.proc: subprocess.Popen | None = None
        self.base: Path | None = None
        self.extra: Path | None = None
        self.bridge: _UnixBridge | None = None
        self.read_fd = self.write_fd = -1
        self.job: dict = {}
        self.isolation = ""
        if module_file.is_file():
            try:
                self._start()
            except BaseException:
                self.close()
                raise

    def _start(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="mlalab-sandbox-"))
        os.chmod(self.base, 0o755)
        sandbox, root = _layout(self.base)
        target = sandbox / self.module_file.name
        # A copy: the learner's own file is never opened for writing by anything we run.
        shutil.copyfile(self.module_file, target)
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
        child_argv = [sys.executable, "-I", "-u", str(HERE / "child.py")]
        if namespaces_available():
            self.isolation = "linux-namespaces"
            shared = self.base / "shared"
            if len(str(shared / "aws.sock")) > 100:  # a Unix socket's path has at most 107 bytes
                shared = Path(tempfile.mkdtemp(prefix="mlalab-", dir="/tmp"))
                self.extra = shared
            else:
                shared.mkdir()
            os.chmod(shared, 0o755)
            self.job["unix_socket"] = str(shared / "aws.sock")
            self.bridge = _UnixBridge(self.job["unix_socket"], self.port)
            argv = _jail_argv(sandbox, root, child_argv, shared=(shared,))
        else:
            self.isolation = "process"
            argv = child_argv
        self.job["isolation"] = self.isolation
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=sandbox, env=child_environment(sandbox),
                                     pass_fds=(self.write_fd,), start_new_session=True)
        os.close(self.write_fd)
        self.write_fd = -1

    def run(self, calls: list[Call], timeout: float = 60.0) -> LearnerRun:
        """Send the calls, wait (at most ``timeout`` seconds) and report what happened."""
        run = LearnerRun(isolation=self.isolation)
        if self.proc is None:
            run.module_missing = True
            return run
        try:
            sink: dict = {}
            reader = threading.Thread(target=_read_capped, args=(self.proc.stdout, sink), daemon=True)
            reader.start()
            events_raw: list[bytes] = []
            ev_reader = threading.Thread(target=_read_events, args=(self.read_fd, events_raw), daemon=True)
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
                run.exit_code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                run.timed_out = True
            _kill_group(self.proc)
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
            _kill_group(self.proc)
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


def run_learner(module_file: Path, module_name: str, calls: list[Call], port: int, *,
                timeout: float = 60.0, memory_mb: int = 1024,
                blocked_paths: list[str] | None = None) -> LearnerRun:
    """Run ``calls`` against the learner's ``module_file`` in a sandboxed child process."""
    process = LearnerProcess(module_file, module_name, port, memory_mb=memory_mb, blocked_paths=blocked_paths)
    return process.run(calls, timeout)


def remove_tree(path: Path) -> None:
    """Delete a sandbox folder whatever learner code left in it (a tree too deep for rmtree's
    recursion, folders without permissions): never an exception, never a leftover if avoidable."""
    try:
        shutil.rmtree(path)
        return
    except (OSError, RecursionError):
        pass
    subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True, check=False)
    subprocess.run(["rm", "-rf", str(path)], capture_output=True, check=False)


def _read_events(fd: int, sink: list[bytes]) -> None:
    size = 0
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(8192):
            if size < 1_000_000:  # a flood of fake events is dropped, not buffered
                sink.append(chunk)
            size += len(chunk)


# --- the events child.py can write, and nothing else ------------------------------------------------

_WHERE = {"line": int, "code": str}
_ERROR = {"type": str, "message": str, "where": _WHERE, "aws_code": str, "aws_message": str, "operation": str,
          "line": int, "offset": int, "code": str}
_FIELDS: dict[str, dict] = {
    "ready": {},
    "import": {"status": str, "error": _ERROR},
    "start": {"function": str},
    "call": {"function": str, "status": str, "defined": [str], "close": [str], "found": str,
             "error": (_ERROR, str), "returned": str},
    "violation": {"what": str},
    "memory": {},
    "done": {},
}
_STATUS = {"import": {"ok", "syntax", "raised", "exit"},
           "call": {"ok", "missing", "signature", "not_implemented", "raised"}}


class _Forged(Exception):
    pass


def _conform(value: object, shape: object) -> object:
    """``value`` checked against ``shape`` (a type, a field dict, a one-type list, or a tuple of
    alternatives), with every string made printable; raises _Forged when it does not fit."""
    if isinstance(shape, tuple):
        for alternative in shape:
            try:
                return _conform(value, alternative)
            except _Forged:
                continue
        raise _Forged
    if isinstance(shape, dict):
        if value is None:
            return None
        if not isinstance(value, dict) or not set(value) <= set(shape):
            raise _Forged
        return {key: _conform(item, shape[key]) for key, item in value.items()}
    if isinstance(shape, list):
        if not isinstance(value, list) or len(value) > 1000:
            raise _Forged
        return [_conform(item, shape[0]) for item in value]
    if shape is int:
        if value is None:
            return None
        if type(value) is not int:
            raise _Forged
        return value
    if type(value) is not str:
        raise _Forged
    return printable(value[:4000])


def screen_events(raw: bytes, functions: list[str]) -> tuple[list[dict], int]:
    """The events that child.py could have written, in an order it could have written them, as
    clean values; and how many lines were not (forged by learner code, garbled, or repeated).

    Learner code runs in the same process as child.py, so it can always write plausible events;
    this only guarantees that nothing the learner writes can crash the grader or bend the report's
    wording beyond plain text. Events never award points either way.
    """
    events: list[dict] = []
    forged = 0
    seen: set[tuple[str, str]] = set()
    violations: set[str] = set()
    started: set[str] = set()
    done = imported_ok = False
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or event.get("event") not in _FIELDS:
                raise _Forged
            kind = event["event"]
            if done and kind not in ("violation", "memory"):  # a thread may still be refused after "done"
                raise _Forged
            fields = {k: v for k, v in event.items() if k != "event"}
            clean = _conform(fields, _FIELDS[kind]) or {}
            status = clean.get("status")
            if kind in _STATUS and status not in _STATUS[kind]:
                raise _Forged
            error = clean.get("error")
            if status in ("syntax", "raised", "not_implemented") and not isinstance(error, dict):
                raise _Forged  # what the explanation is built from
            if isinstance(error, dict) and error.get("where") is not None and "line" not in error["where"]:
                raise _Forged
            function = clean.get("function", "")
            if kind in ("start", "call") and function not in functions:
                raise _Forged
            key = (kind, function)
            if kind in ("ready", "import", "start", "call", "memory") and key in seen:
                raise _Forged  # child.py writes each of these at most once...
            if kind == "import" and ("ready", "") not in seen:
                raise _Forged  # ...and in this order: ready, import, then start/call per function, done
            if kind in ("start", "call", "done") and not imported_ok:
                raise _Forged
            if kind == "call" and clean.get("status") in ("ok", "raised", "not_implemented") \
                    and function not in started:
                raise _Forged  # a function's outcome without its start
            if kind == "done" and not all(("call", f) in seen for f in functions):
                raise _Forged
            seen.add(key)
        except (ValueError, RecursionError, _Forged):
            forged += 1
            continue
        if kind == "start":
            started.add(function)
        if kind == "import":
            imported_ok = clean.get("status") == "ok"
        if kind == "done":
            done = True
        if kind == "violation":
            if clean.get("what") in violations or len(violations) >= MAX_VIOLATIONS:
                continue  # the same refusal in a loop is reported once
            violations.add(clean.get("what"))
        events.append({"event": kind, **clean})
    return events, forged


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
