"""Conformance of what the Lambda service says around a handler (mlalab.engines.lambda_.runtime).

Sources: "Lambda quotas" (gettingstarted-limits): 6 MB synchronous response; "CreateFunction"
(API_CreateFunction): MemorySize defaults to 128 MB, Timeout to 3 s; "Define Lambda function handler
in Python" (python-handler) and "Invoke" (API_Invoke): the response payload, ``null`` for a handler
that returns None, the error payload for a failed invocation; "Working with Lambda function logs"
(monitoring-cloudwatchlogs): log group ``/aws/lambda/<name>`` and the REPORT line; "Lambda pricing":
duration is "rounded up to the nearest 1 ms"; "Understanding the Lambda execution environment
lifecycle" (lambda-runtime-environment): a changed function gets new execution environments.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from mlalab.engines.lambda_ import MAX_SYNC_RESPONSE_BYTES, FunctionConfig, Outcome, error_payload, invocation_log_lines

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def function(**changes: object) -> FunctionConfig:
    return replace(FunctionConfig(name="f", arn=ARN, handler="app.handler", runtime="python3.12", code=b"zip"),
                   **changes)


def test_synchronous_response_limit_is_6_mb() -> None:
    """Invocation payload: "6 MB each for request and response (synchronous)" (gettingstarted-limits)."""
    assert MAX_SYNC_RESPONSE_BYTES == 6_291_456


def test_function_defaults_names_and_qualified_arn() -> None:
    """CreateFunction defaults (128 MB, 3 s); the log group ``/aws/lambda/f``; an invocation's function
    ARN carries the version that ran (``...:function:f:$LATEST``)."""
    config = function()
    assert (config.memory_mb, config.timeout, config.version) == (128, 3, "$LATEST")
    assert config.log_group == "/aws/lambda/f"
    assert config.qualified_arn == ARN + ":$LATEST"


def test_changed_code_or_configuration_needs_a_new_environment() -> None:
    """After UpdateFunctionCode or UpdateFunctionConfiguration, invocations run in new execution
    environments (lambda-runtime-environment): environments are interchangeable only for the same
    code and configuration."""
    config = function(code_sha256="abc", environment={"A": "1"})
    assert config.key() == function(code_sha256="abc", environment={"A": "1"}).key()
    for changed in (function(code_sha256="def", environment={"A": "1"}), function(code_sha256="abc"),
                    function(code_sha256="abc", environment={"A": "1"}, memory_mb=256)):
        assert changed.key() != config.key()


def test_response_payload_of_a_synchronous_invoke() -> None:
    """Invoke answers the handler's JSON result, ``null`` for a handler returning None
    (python-handler), or the error payload for a failed invocation (python-exceptions)."""
    ok = Outcome(request_id="r", payload='{"ok": true}')
    assert not ok.failed and ok.response_payload() == '{"ok": true}'
    assert Outcome(request_id="r").response_payload() == "null"
    error = error_payload("boom", "ValueError", "r", ["  File \"app.py\", line 1"])
    failed = Outcome(request_id="r", error=error)
    assert failed.failed
    assert json.loads(failed.response_payload()) == {"errorMessage": "boom", "errorType": "ValueError",
                                                     "requestId": "r", "stackTrace": ["  File \"app.py\", line 1"]}


def test_report_line_of_an_invocation_with_nothing_measured() -> None:
    """REPORT always has Duration, Billed Duration, Memory Size and Max Memory Used
    (monitoring-cloudwatchlogs); billed duration is rounded up to the ms, so at least 1 ms (Lambda
    pricing). An invocation whose runtime reported no measurement (it died) shows zeros."""
    lines = invocation_log_lines(Outcome(request_id="r"), function(), datetime(2024, 1, 1, tzinfo=UTC))
    assert lines[-1] == ("REPORT RequestId: r\tDuration: 0.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
                         "Max Memory Used: 0 MB\t")
    quick = Outcome(request_id="r", duration_ms=0.4, max_memory_mb=35)
    assert "\tBilled Duration: 1 ms\t" in invocation_log_lines(quick, function(), datetime(2024, 1, 1, tzinfo=UTC))[-1]
