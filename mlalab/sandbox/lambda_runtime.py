"""The Lambda runtime inside the sandbox: a function's handler, called once per invocation.

Loaded by ``child.py`` (by path, before learner code exists; standard library only, nothing from
mlalab) when its job carries ``"lambda"``. It plays the part of AWS's Python runtime interface
client (aws-lambda-python-runtime-interface-client, ``bootstrap.py``): unpack the deployment
package, import the handler's module once (the *init* phase), then for each invocation line read
on stdin call ``handler(event, context)`` and report the JSON result or Lambda's error payload on
the event pipe. The process stays up between invocations, as an execution environment does in
AWS: module-level state survives from one invocation of the same function to the next.

Everything reported here is untrusted (the handler runs in this process); the grader screens it
(``handler.py``) and only ever shows it as the function's own answer and logs.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import logging
import os
import resource
import sys
import time
import traceback
import zipfile

MAX_LOG_CHARS = 256 * 1024  # per invocation, what the grader keeps for CloudWatch Logs
MAX_PACKAGE_BYTES = 50 * 1024 * 1024  # unpacked deployment package


class LambdaContext:
    """The ``context`` argument (python-context): names, limits and the time left."""

    def __init__(self, spec: dict, request_id: str, deadline: float) -> None:
        self.function_name = spec["function_name"]
        self.function_version = spec["function_version"]
        self.invoked_function_arn = spec["invoked_function_arn"]
        self.memory_limit_in_mb = str(spec["memory_mb"])
        self.aws_request_id = request_id
        self.log_group_name = spec["log_group_name"]
        self.log_stream_name = spec["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))

    def __repr__(self) -> str:
        return (f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
                f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
                f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
                f"invoked_function_arn={self.invoked_function_arn}])")


class _Capture(io.TextIOBase):
    """What the handler prints during one invocation (capped)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        if self.size < MAX_LOG_CHARS:
            self.parts.append(text[: MAX_LOG_CHARS - self.size])
        self.size += len(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.size = [], 0
        return text


_REQUEST_ID = {"value": ""}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _REQUEST_ID["value"]
        return True


class _StdoutHandler(logging.Handler):
    """The runtime's root handler: writes to whatever sys.stdout is now (the capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never break the handler
            pass


def setup_logging() -> None:
    """As the runtime does (bootstrap._setup_logging): a root handler in Lambda's text format."""
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                                           "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def unpack(package: bytes, task: str) -> None:
    """The deployment package into the task folder (zipfile drops absolute and ``..`` paths)."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_PACKAGE_BYTES:
            raise ValueError("the unzipped deployment package is larger than 50 MB")
        archive.extractall(task)


def fault(message: str, error_type: str, trace: list[str] | None = None) -> dict:
    return {"errorMessage": message, "errorType": error_type, "stackTrace": trace or []}


def load_handler(handler: str):
    """The handler function, or the runtime's fault (bootstrap._get_handler's types and wording)."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        return None, fault(f"Bad handler '{handler}': {exc}", "Runtime.MalformedHandlerName")
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            return None, fault(f"Cannot use built-in module {module_name} as a handler module",
                               "Runtime.BuiltInModuleConflict")
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        return None, fault(f"Unable to import module '{module_name}': {exc}", "Runtime.ImportModuleError")
    except SyntaxError as exc:
        return None, fault(f"Syntax error in module '{module_name}': {exc}", "Runtime.UserCodeSyntaxError",
                           [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'])
    except BaseException as exc:  # noqa: BLE001 - an exception at import time is the init error
        return None, error_from(exc)
    try:
        return getattr(module, function_name), None
    except AttributeError:
        return None, fault(f"Handler '{function_name}' missing on module '{module_name}'", "Runtime.HandlerNotFound")


def error_from(exc: BaseException) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    here = os.path.realpath(__file__)
    frames = [f for f in frames if os.path.realpath(f.filename) != here]
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001 - a learner __str__
        message = "(could not be shown)"
    return fault(message, type(exc).__name__, traceback.format_list(frames))


def log_error(error: dict) -> None:
    """The runtime's error line in the log (bootstrap.log_error, text format)."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}" if error.get("errorMessage")
             else f"[ERROR] {error['errorType']}"]
    lines.append("Traceback (most recent call last):")
    for element in error.get("stackTrace") or []:
        lines += [line.replace(" ", "\u00a0", len(line) - len(line.lstrip(" "))) for line in element.splitlines()]
    sys.stdout.write("\r".join(lines) + "\n")


def max_memory_mb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def serve(job: dict, jobs, emit) -> None:
    """Init once, then one invocation per stdin line until the grader closes stdin."""
    spec = job["lambda"]
    home = os.path.realpath(job["home"])
    task = os.path.join(home, "task")
    capture = _Capture()
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = capture
    started = time.monotonic()
    function, init_error = None, None
    try:
        os.makedirs(task, exist_ok=True)
        unpack(base64.b64decode(spec["package"]), task)
        os.chdir(task)
        sys.path.insert(0, task)
        os.environ.update(spec["environment"])
        setup_logging()
        function, init_error = load_handler(spec["handler"])
    except BaseException as exc:  # noqa: BLE001 - a bad package is the function's init error
        init_error = fault(f"Could not unpack the deployment package: {exc}", "Runtime.InvalidEntrypoint")
    if init_error:
        log_error(init_error)
    emit(event="lambda_ready", init_ms=(time.monotonic() - started) * 1000, logs=capture.take())
    while True:
        line = jobs.readline()
        if not line:
            break
        invocation = json.loads(line)
        request_id = invocation["request_id"]
        _REQUEST_ID["value"] = request_id
        began = time.monotonic()
        payload, error = None, None
        if init_error is not None:
            error = dict(init_error)
        else:
            context = LambdaContext(spec, request_id, invocation["deadline"])
            try:
                result = function(json.loads(invocation["event"]), context)
                try:
                    payload = json.dumps(result)
                except (TypeError, ValueError) as exc:
                    error = fault(f"Unable to marshal response: {exc}", "Runtime.MarshalError")
            except BaseException as exc:  # noqa: BLE001 - SystemExit is a function error too
                error = error_from(exc)
                del exc
            if error is not None:
                log_error(error)
        if error is not None:
            error = {"errorMessage": error["errorMessage"], "errorType": error["errorType"],
                     "requestId": request_id, "stackTrace": error["stackTrace"]}
        for stream in (sys.stdout, sys.stderr):
            if stream is not capture:  # the handler replaced them: keep capturing the next invocation
                sys.stdout = sys.stderr = capture
        emit(event="lambda_result", request_id=request_id, payload=payload, error=error, logs=capture.take(),
             duration_ms=(time.monotonic() - began) * 1000, max_memory_mb=max_memory_mb())
    sys.stdout, sys.stderr = real_stdout, real_stderr
