"""Lambda handlers run as learner code: each function in execution environments that are sandboxed
learner processes (``child.py`` with ``lambda_runtime.py``), never in the grader's process.

An :class:`ExecutionEnvironment` is one such process for one function's code and configuration:
its process (interpreter, jail, ``boto3`` import) may be started ahead of need, when the function is
created or changed (:meth:`HandlerPool.prewarm`: our own start-up, never the function's), but the
function's init phase (unpacking the package, importing the handler module, reported as ``Init
Duration``) runs only on its first invocation, as in AWS's on-demand cold start. It is then kept for
the next invocations of
the same function, as AWS keeps an execution environment warm ("Understanding the Lambda execution
environment lifecycle", lambda-runtime-environment): module-level state survives between
invocations of one function, never between functions, and an environment that timed out or
crashed is thrown away (AWS resets it too). :class:`HandlerPool` keeps them, one or more per
function (a second concurrent invocation gets its own environment), and is what the wire layer
(``fixtures.moto_ext.lambda_``) calls: ``pool(config, event, request_id) -> Outcome``.

Everything the process reports is untrusted: it is screened (kinds, fields, types, sizes) and only
ever becomes the function's own response and logs, which the handler controls anyway.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from mlalab import course
from mlalab.engines.lambda_ import (
    MAX_SYNC_RESPONSE_BYTES,
    RESPONSE_TOO_LARGE,
    FunctionConfig,
    Outcome,
    log_stream_name,
    timeout_payload,
)
from mlalab.engines.lambda_.runtime import RESERVED_VARIABLES
from mlalab.sandbox.bridge import UnixBridge
from mlalab.sandbox.forkserver import ForkServer
from mlalab.sandbox.jail_command import layout, remove_tree
from mlalab.sandbox.output import printable
from mlalab.sandbox.process import kill_group, spawn_child

INIT_LIMIT = 10.0  # seconds of init phase Lambda allows (lambda-runtime-environment, "Init phase")
STARTUP_GRACE = 15.0  # our own start-up (interpreter, jail, boto3): never counted against the function
IPC_GRACE = 0.5  # the report's trip back over the pipe
MAX_TIMEOUT = 60.0  # the grader's own bound on one invocation, whatever Timeout the function has
MAX_LINE = 8 * 1024 * 1024  # an event line longer than this is dropped
MAX_LOG_CHARS = 256 * 1024
MAX_ENVIRONMENTS = 6  # live processes per pool: the machine's, not AWS's, limit
ADDRESS_SPACE_MB = 1024  # RLIMIT_AS: Python's virtual size is far above its resident memory


def _text(value: object, limit: int) -> str | None:
    return printable(value[:limit]) if type(value) is str else None


def _screen_error(value: object, request_id: str) -> dict | None:
    """An error payload from the process, reduced to Lambda's keys and types (or None)."""
    if not isinstance(value, dict):
        return None
    trace = value.get("stackTrace")
    trace = [t[:4000] for t in trace[:200] if type(t) is str] if isinstance(trace, list) else []
    return {"errorMessage": _text(value.get("errorMessage"), 4000) or "",
            "errorType": _text(value.get("errorType"), 200) or "Unknown", "requestId": request_id,
            "stackTrace": trace}


class ExecutionEnvironment:
    """One sandboxed process running one function's handler, invocation after invocation."""

    def __init__(self, config: FunctionConfig, port: int, *, blocked_paths: list[str] | None = None,
                 forks: ForkServer | None = None) -> None:
        self.config, self.port = config, port
        self.environment_id = uuid.uuid4().hex
        self.log_stream = log_stream_name(datetime.now(UTC), config.version, self.environment_id)
        self.lines: queue.Queue[dict | None] = queue.Queue()
        self.fd_output: list[str] = []
        self.violations: list[str] = []
        self.forged = 0
        self.usable = True
        self.ready: dict | None = None
        self.bridge: UnixBridge | None = None
        self.extra: Path | None = None
        self._job_line: bytes | None = None  # sent on the first invocation: it starts the init phase
        self.base = Path(tempfile.mkdtemp(prefix="mlalab-lambda-"))
        try:
            self._start(blocked_paths or [], forks)
        except BaseException:
            self.close()
            raise

    def _start(self, blocked_paths: list[str], forks: ForkServer | None) -> None:
        os.chmod(self.base, 0o755)
        sandbox, _root = layout(self.base)
        read_fd, write_fd = os.pipe()
        config = self.config
        environment = {k: str(v) for k, v in config.environment.items() if k not in RESERVED_VARIABLES}
        environment.update({
            "_HANDLER": config.handler, "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name, "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb), "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream, "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region, "LAMBDA_TASK_ROOT": str(sandbox / "task"), "TZ": ":UTC",
            **config.credentials,
        })
        job = {
            "module_path": str(sandbox / "task"), "module_name": "", "event_fd": write_fd,
            "memory_mb": ADDRESS_SPACE_MB + config.memory_mb, "blocked_paths": blocked_paths, "port": self.port,
            "home": str(sandbox), "grader_packages": list(course.GRADER_ONLY_IMPORTS),
            "lambda": {
                "package": base64.b64encode(config.code).decode("ascii"), "handler": config.handler,
                "environment": environment, "function_name": config.name, "function_version": config.version,
                "invoked_function_arn": config.arn, "memory_mb": config.memory_mb,
                "log_group_name": config.log_group, "log_stream_name": self.log_stream,
            },
        }
        try:
            self.proc, self.bridge, self.extra, self.isolation = spawn_child(self.base, job, self.port, write_fd,
                                                                                forks)
        finally:
            os.close(write_fd)
        threading.Thread(target=self._read_events, args=(read_fd,), daemon=True, name="mlalab-lambda-events").start()
        threading.Thread(target=self._drain_output, daemon=True, name="mlalab-lambda-output").start()
        # The child imports boto3 and then waits for this line before it unpacks and imports the
        # handler: a process started ahead of need runs none of the function's code until invoked.
        self._job_line = json.dumps(job).encode() + b"\n"

    def _begin_init(self) -> None:
        """Send the job (once): the function's init phase starts now, on its first invocation."""
        line, self._job_line = self._job_line, None
        if line is not None:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()

    # --- what the process reports -------------------------------------------------------------

    def _read_events(self, fd: int) -> None:
        """Split the event pipe into screened events (None at its end)."""
        pending = b""
        with os.fdopen(fd, "rb") as pipe:
            while chunk := pipe.read1(65536):
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    self._screen(line)
                if len(pending) > MAX_LINE:
                    self.forged += 1
                    pending = b""  # the rest of an oversized line is dropped as it comes
        self.lines.put(None)

    def _screen(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            self.forged += 1
            return
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "violation" and type(event.get("what")) is str:
            self.violations.append(printable(event["what"][:500]))
        elif kind in ("lambda_ready", "lambda_result"):
            self.lines.put(event)
        else:
            self.forged += 1

    def _drain_output(self) -> None:
        """Output written below sys.stdout (a C library, os.write(1, ...)): kept for the log."""
        size = 0
        while chunk := self.proc.stdout.read1(65536):
            if size < MAX_LOG_CHARS:
                self.fd_output.append(chunk.decode("utf-8", "replace"))
            size += len(chunk)

    def _next(self, kind: str, deadline: float, request_id: str | None = None) -> dict | None:
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if event is None:  # the process is gone
                self.lines.put(None)
                return None
            if event["event"] == kind and (request_id is None or event.get("request_id") == request_id):
                return event
            self.forged += 1
        return None

    # --- invoking -------------------------------------------------------------------------------

    def invoke(self, event: str, request_id: str) -> Outcome:
        """Run the handler once with ``event`` (JSON text); never raises for anything the handler does."""
        config = self.config
        outcome = Outcome(request_id=request_id, log_stream=self.log_stream)
        if self.ready is None:
            try:
                self._begin_init()
            except OSError:
                return self._lost(outcome, timed_out=False)
            self.ready = self._next("lambda_ready", time.monotonic() + INIT_LIMIT + STARTUP_GRACE) or {}
            if not self.ready:
                return self._lost(outcome, timed_out=self.proc.poll() is None)
            init_ms = self.ready.get("init_ms")
            outcome.init_duration_ms = float(init_ms) if type(init_ms) in (int, float) else 0.0
            outcome.init_logs = _text(self.ready.get("logs"), MAX_LOG_CHARS) or ""
        timeout = min(float(config.timeout), MAX_TIMEOUT)
        line = {"request_id": request_id, "event": event, "deadline": time.time() + timeout}
        try:
            self.proc.stdin.write(json.dumps(line).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            return self._lost(outcome, timed_out=False)
        started = time.monotonic()
        result = self._next("lambda_result", started + timeout + IPC_GRACE, request_id)
        if result is None:
            outcome.duration_ms = (time.monotonic() - started) * 1000
            return self._lost(outcome, timed_out=self.proc.poll() is None)
        outcome.logs = (_text(result.get("logs"), MAX_LOG_CHARS) or "") + self._take_fd_output()
        duration = result.get("duration_ms")
        outcome.duration_ms = float(duration) if type(duration) in (int, float) else 0.0
        memory = result.get("max_memory_mb")
        outcome.max_memory_mb = memory if type(memory) is int else 0
        payload = result.get("payload")
        outcome.error = _screen_error(result.get("error"), request_id)
        if outcome.error is None:
            if type(payload) is not str:
                outcome.error = _screen_error({"errorMessage": "the runtime sent no response",
                                               "errorType": "Runtime.InvalidResponse"}, request_id)
            elif len(payload.encode("utf-8")) > MAX_SYNC_RESPONSE_BYTES:
                outcome.error = dict(RESPONSE_TOO_LARGE)
            else:
                outcome.payload = payload
        return outcome

    def _take_fd_output(self) -> str:
        taken, self.fd_output[:] = "".join(self.fd_output), []
        return printable(taken)

    def _lost(self, outcome: Outcome, *, timed_out: bool) -> Outcome:
        """The process did not answer: out of time (killed, as Lambda does), or it died."""
        self.usable = False
        self.close()
        outcome.logs = (outcome.logs or "") + self._take_fd_output()
        if timed_out:
            outcome.timed_out = True
            outcome.error = timeout_payload(outcome.request_id, self.config.timeout)
        else:
            code = self.proc.returncode
            outcome.error = {"errorType": "Runtime.ExitError",
                             "errorMessage": f"RequestId: {outcome.request_id} Error: Runtime exited with error: "
                                             f"exit status {code}"}
        return outcome

    def close(self) -> None:
        """Kill the process and remove every trace of it (idempotent)."""
        self.usable = False
        proc = getattr(self, "proc", None)
        if proc is not None and proc.returncode is None:
            kill_group(proc)
        if proc is not None and proc.stdin:
            try:
                proc.stdin.close()
            except OSError:
                pass
        if self.bridge:
            self.bridge.close()
            self.bridge = None
        for path in (self.base, self.extra):
            if path:
                remove_tree(path)
        self.base = self.extra = None


class HandlerPool:
    """The execution environments of one grading, by function: what ``fixtures.moto_ext.lambda_``
    calls to run a handler (``register_executor(HandlerPool(port))``)."""

    def __init__(self, port: int, *, blocked_paths: list[str] | None = None,
                 max_environments: int = MAX_ENVIRONMENTS) -> None:
        self.port, self.blocked_paths, self.max_environments = port, blocked_paths or [], max_environments
        self.lock = threading.Lock()
        self.idle: dict[tuple, list[ExecutionEnvironment]] = {}
        self.busy: set[ExecutionEnvironment] = set()
        self.starting: set[tuple] = set()  # keys of environments being started by prewarm()
        self.started = threading.Condition(self.lock)
        self.generation = 0  # reset() starts a new one: a prewarm begun before it is thrown away
        self.forks: ForkServer | None = None  # a warm grader's fork server, when it has one

    def __call__(self, config: FunctionConfig, event: str, request_id: str) -> Outcome:
        environment = self._take(config)
        try:
            return environment.invoke(event, request_id)
        finally:
            self._give_back(config, environment)

    def prewarm(self, config: FunctionConfig) -> None:
        """Start an environment's process for ``config`` in the background, so the first invocation
        does not wait for the interpreter, the jail and boto3 (called when a function is created or
        changed). Only our start-up is moved: the function's init phase still runs, and is still
        reported, on its first invocation. Speculative, so it never evicts an environment."""
        key = config.key()
        with self.lock:
            count = len(self.busy) + len(self.starting) + sum(len(v) for v in self.idle.values())
            if self.idle.get(key) or key in self.starting or count >= self.max_environments:
                return
            self.starting.add(key)
            generation = self.generation
        threading.Thread(target=self._start_ahead, args=(config, key, generation), daemon=True,
                         name="mlalab-lambda-prewarm").start()

    def _start_ahead(self, config: FunctionConfig, key: tuple, generation: int) -> None:
        environment = None
        try:
            environment = ExecutionEnvironment(config, self.port, blocked_paths=self.blocked_paths,
                                               forks=self.forks)
        except Exception:  # noqa: BLE001 - the first invocation starts one and reports what is wrong
            pass
        with self.lock:
            self.starting.discard(key)
            self.started.notify_all()
            if environment is not None and generation == self.generation:
                self._close_stale(key)
                self.idle.setdefault(key, []).append(environment)
                return
        if environment is not None:
            environment.close()

    def _close_stale(self, key: tuple) -> None:
        """Close the idle environments of an older code or configuration of the function (lock held)."""
        for stale in [k for k in self.idle if k[0] == key[0] and k != key]:
            for environment in self.idle.pop(stale):
                environment.close()

    def _take(self, config: FunctionConfig) -> ExecutionEnvironment:
        key = config.key()
        with self.lock:
            # An environment being started ahead for this very configuration is the one to use.
            self.started.wait_for(lambda: key not in self.starting, timeout=STARTUP_GRACE)
            self._close_stale(key)  # the function changed
            warm = self.idle.get(key)
            if warm:
                environment = warm.pop()
            else:
                self._make_room()
                environment = None
        if environment is None:
            environment = ExecutionEnvironment(config, self.port, blocked_paths=self.blocked_paths,
                                               forks=self.forks)
        with self.lock:
            self.busy.add(environment)
        return environment

    def _make_room(self) -> None:
        """Close the oldest idle environments beyond the cap (called with the lock held)."""
        count = len(self.busy) + sum(len(v) for v in self.idle.values())
        for key in list(self.idle):
            while self.idle[key] and count >= self.max_environments:
                self.idle[key].pop(0).close()
                count -= 1

    def _give_back(self, config: FunctionConfig, environment: ExecutionEnvironment) -> None:
        with self.lock:
            self.busy.discard(environment)
            if environment.usable:
                self.idle.setdefault(config.key(), []).append(environment)
                return
        environment.close()

    def reset(self) -> None:
        """Close every environment (between gradings, and at the end)."""
        with self.lock:
            self.generation += 1
            environments = [e for v in self.idle.values() for e in v] + list(self.busy)
            self.idle.clear()
            self.busy.clear()
        for environment in environments:
            environment.close()

    close = reset
