"""What the Lambda service around a Python handler decides and writes, as pure data.

The function's configuration as the runtime sees it (:class:`FunctionConfig`), one invocation's
outcome (:class:`Outcome`), the error payloads Lambda answers with, and the lines it writes to the
function's log stream. Whoever runs the handler (the sandbox) fills an :class:`Outcome`; the wire
layer turns it into the ``Invoke`` answer and CloudWatch Logs events with the functions here.

Sources:
* "Lambda function errors in Python" (python-exceptions) and the runtime interface client
  (aws-lambda-python-runtime-interface-client, ``bootstrap.make_error``): the error payload is
  ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` and the caller of a synchronous
  invoke gets ``X-Amz-Function-Error: Unhandled``.
* "Invoke" (API reference): ``x-amz-log-result`` is the base64 of the last 4 KB of the log;
  a response over 6 MB is refused (``Function.ResponseSizeTooLarge``).
* "Working with Lambda function logs" (monitoring-cloudwatchlogs): the log group
  ``/aws/lambda/<name>``, streams ``YYYY/MM/DD/[<version>]<environment id>``, and the
  ``START``/``END``/``REPORT`` platform lines; a timeout is logged as ``Task timed out after N
  seconds`` and answered with ``Sandbox.Timedout``.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024  # "Invocation payload (request and response): 6 MB" (gettingstarted-limits)
LOG_TAIL_BYTES = 4096  # x-amz-log-result: "the last 4 KB of the execution log"
RESPONSE_TOO_LARGE = {
    "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    "errorType": "Function.ResponseSizeTooLarge",
}
# Environment variables Lambda sets itself; CreateFunction refuses them in Environment ("Defined
# runtime environment variables", configuration-envvars).
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


@dataclass(frozen=True)
class FunctionConfig:
    """A function as its runtime sees it (GetFunctionConfiguration's fields it needs)."""

    name: str
    arn: str  # unqualified: arn:aws:lambda:<region>:<account>:function:<name>
    handler: str
    runtime: str
    code: bytes = field(repr=False)  # the deployment package (a zip)
    code_sha256: str = ""
    version: str = "$LATEST"
    timeout: int = 3  # seconds
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    role: str = ""
    region: str = "us-east-1"
    account: str = ""
    credentials: dict[str, str] = field(default_factory=dict)  # the execution role's session keys

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{self.version}"

    def key(self) -> tuple:
        """What makes two execution environments interchangeable: the same code and configuration
        (AWS starts new environments after UpdateFunctionCode/Configuration)."""
        return (self.arn, self.version, self.code_sha256, self.handler, self.runtime, self.timeout, self.memory_mb,
                tuple(sorted(self.environment.items())), self.role)


@dataclass
class Outcome:
    """One invocation of a handler, as its runtime reports it."""

    request_id: str
    payload: str | None = None  # the JSON response (None when the invocation failed)
    error: dict[str, Any] | None = None  # the error payload (errorMessage, errorType, requestId, stackTrace)
    logs: str = ""  # what the handler printed and logged during this invocation
    init_logs: str = ""  # what it printed while its module was imported (cold start only)
    duration_ms: float = 0.0
    init_duration_ms: float | None = None  # cold starts only
    max_memory_mb: int = 0
    timed_out: bool = False
    log_stream: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None

    def response_payload(self) -> str:
        """What the caller of a synchronous invoke reads: the result, or the error payload."""
        if self.error is not None:
            return _json(self.error)
        return self.payload if self.payload is not None else "null"


def error_payload(message: str, error_type: str, request_id: str, stack_trace: list[str] | None = None) -> dict:
    """Lambda's Python error payload, keys in the runtime's order (bootstrap.make_error)."""
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id,
            "stackTrace": list(stack_trace or [])}


def timeout_payload(request_id: str, timeout: float) -> dict:
    """What a synchronous caller gets when the function ran out of time."""
    return {"errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"}


def log_stream_name(day: datetime, version: str, environment_id: str) -> str:
    """One stream per execution environment: ``2024/05/01/[$LATEST]0123...`` (32 hex digits)."""
    return f"{day:%Y/%m/%d}/[{version}]{environment_id}"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(outcome: Outcome, memory_mb: int) -> str:
    """The REPORT line: durations in ms with two decimals, billed duration rounded up to the ms."""
    parts = [f"REPORT RequestId: {outcome.request_id}", f"Duration: {outcome.duration_ms:.2f} ms",
             f"Billed Duration: {max(1, math.ceil(outcome.duration_ms))} ms", f"Memory Size: {memory_mb} MB",
             f"Max Memory Used: {outcome.max_memory_mb} MB"]
    if outcome.init_duration_ms is not None:
        parts.append(f"Init Duration: {outcome.init_duration_ms:.2f} ms")
    if outcome.timed_out:
        parts.append("Status: timeout")
    return "\t".join(parts) + "\t"


def timeout_line(when: datetime, request_id: str, timeout: float) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z {request_id} Task timed out after " \
           f"{timeout:.2f} seconds"


def invocation_log_lines(outcome: Outcome, config: FunctionConfig, finished: datetime) -> list[str]:
    """Every line one invocation adds to its stream, in order: the init output (cold start), START,
    the handler's output, a time-out notice, END and REPORT."""
    lines = _split(outcome.init_logs)
    lines.append(start_line(outcome.request_id, config.version))
    lines += _split(outcome.logs)
    if outcome.timed_out:
        lines.append(timeout_line(finished, outcome.request_id, config.timeout))
    lines.append(end_line(outcome.request_id))
    lines.append(report_line(outcome, config.memory_mb))
    return lines


def log_tail(lines: list[str]) -> str:
    """``x-amz-log-result``: base64 of the last 4 KB of the invocation's log."""
    text = "\n".join(lines) + "\n"
    return base64.b64encode(text.encode("utf-8")[-LOG_TAIL_BYTES:]).decode("ascii")


def _split(text: str) -> list[str]:
    return [line for line in text.replace("\r\n", "\n").split("\n") if line] if text else []


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
