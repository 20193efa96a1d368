"""Conformance of Lambda's asynchronous-invocation rules and runtime shapes (mlalab.engines.lambda_).

Sources: "How Lambda handles errors and retries with asynchronous invocation"
(invocation-async-error-handling): two retries by default, one minute then two minutes apart;
"Configuring error handling settings" (invocation-async-configuring): MaximumRetryAttempts 0-2,
MaximumEventAgeInSeconds 60-21600; "Capturing records of Lambda asynchronous invocations"
(invocation-async-retain-records): the invocation record and the DLQ message attributes;
"Lambda function errors in Python" (python-exceptions) and "Working with Lambda function logs"
(monitoring-cloudwatchlogs).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mlalab.engines.lambda_ import (
    DETAIL_TYPES,
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    AsyncConfig,
    FunctionConfig,
    Outcome,
    after_failure,
    attempt_age,
    dead_letter_attributes,
    destination_kind,
    error_payload,
    invocation_log_lines,
    invocation_record,
    log_stream_name,
    log_tail,
    timeout_payload,
)


def test_defaults_are_two_retries_and_six_hours() -> None:
    config = AsyncConfig.from_api(None)
    assert (config.maximum_retry_attempts, config.maximum_event_age) == (2, 21600)
    assert [after_failure(n, config) for n in (1, 2, 3)] == [None, None, RETRIES_EXHAUSTED]


def test_attempt_ages_one_then_two_minutes() -> None:
    assert [attempt_age(n) for n in (1, 2, 3)] == [0, 60, 180]


@pytest.mark.parametrize(("retries", "attempts"), [(0, 1), (1, 2), (2, 3)])
def test_maximum_retry_attempts(retries: int, attempts: int) -> None:
    config = AsyncConfig.from_api({"MaximumRetryAttempts": retries})
    made = 1
    while after_failure(made, config) is None:
        made += 1
    assert made == attempts and after_failure(made, config) == RETRIES_EXHAUSTED


def test_event_age_ends_retries_before_the_count_does() -> None:
    config = AsyncConfig.from_api({"MaximumEventAgeInSeconds": 60})
    assert after_failure(1, config) is None  # the first retry comes at 60 s: still young enough
    assert after_failure(2, config) == EVENT_AGE_EXCEEDED  # the second would come at 180 s


def test_destinations_and_dead_letter_from_the_api_shapes() -> None:
    config = AsyncConfig.from_api(
        {"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:1:ok"},
                               "OnFailure": {"Destination": "arn:aws:sns:us-east-1:1:bad"}}},
        {"TargetArn": "arn:aws:sqs:us-east-1:1:dlq"})
    assert (config.on_success, config.on_failure, config.dead_letter) == (
        "arn:aws:sqs:us-east-1:1:ok", "arn:aws:sns:us-east-1:1:bad", "arn:aws:sqs:us-east-1:1:dlq")


def test_invocation_record_shape() -> None:
    record = invocation_record(request_id="r", function_arn="arn:aws:lambda:us-east-1:1:function:f:$LATEST",
                               condition=RETRIES_EXHAUSTED, attempts=3, request_payload={"a": 1},
                               response_payload={"errorMessage": "x"}, function_error="Unhandled",
                               timestamp=datetime(2019, 11, 14, 18, 16, 5, 568000, tzinfo=UTC))
    assert record == {
        "version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
        "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:1:function:f:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"a": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "x"},
    }
    success = invocation_record(request_id="r", function_arn="f", condition="Success", attempts=1,
                                request_payload={}, response_payload=None, function_error=None)
    assert "functionError" not in success["responseContext"]


def test_dead_letter_attributes_cap_the_message_at_1_kb() -> None:
    attributes = dead_letter_attributes("r", "x" * 5000)
    assert attributes["RequestID"] == {"DataType": "String", "StringValue": "r"}
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert len(attributes["ErrorMessage"]["StringValue"]) == 1024


@pytest.mark.parametrize(("arn", "kind"), [
    ("arn:aws:sqs:us-east-1:1:q", "sqs"), ("arn:aws:sns:us-east-1:1:t", "sns"),
    ("arn:aws:lambda:us-east-1:1:function:f", "lambda"), ("arn:aws:events:us-east-1:1:event-bus/default", "events"),
    ("arn:aws:events:us-east-1:1:rule/r", None), ("not-an-arn", None),
    ("arn:aws:sqs", None),  # an ARN has six parts: arn:partition:service:region:account:resource
    ("urn:aws:sqs:us-east-1:1:q", None)])
def test_destination_kind(arn: str, kind: str | None) -> None:
    assert destination_kind(arn) == kind


def test_error_payloads() -> None:
    assert list(error_payload("m", "T", "r")) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert timeout_payload("r", 3) == {"errorType": "Sandbox.Timedout",
                                       "errorMessage": "RequestId: r Error: Task timed out after 3.00 seconds"}


def test_log_lines_and_tail() -> None:
    config = FunctionConfig(name="f", arn="arn", handler="app.handler", runtime="python3.11", code=b"", memory_mb=256)
    outcome = Outcome(request_id="r", logs="hello\nworld\n", duration_ms=12.3, init_duration_ms=100.0,
                      max_memory_mb=40, init_logs="init\n")
    lines = invocation_log_lines(outcome, config, datetime(2024, 1, 1, tzinfo=UTC))
    assert lines[:5] == ["init", "START RequestId: r Version: $LATEST", "hello", "world", "END RequestId: r"]
    assert lines[5] == ("REPORT RequestId: r\tDuration: 12.30 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
                        "Max Memory Used: 40 MB\tInit Duration: 100.00 ms\t")
    timed_out = Outcome(request_id="r", timed_out=True)
    lines = invocation_log_lines(timed_out, config, datetime(2024, 1, 1, tzinfo=UTC))
    assert lines[1] == "2024-01-01T00:00:00.000Z r Task timed out after 3.00 seconds"
    assert lines[-1].endswith("Status: timeout\t")
    tail = base64.b64decode(log_tail(["x" * 5000]))
    assert len(tail) == 4096
    assert log_stream_name(datetime(2024, 5, 1, tzinfo=UTC), "$LATEST", "a" * 32) == "2024/05/01/[$LATEST]" + "a" * 32


def test_invocation_record_timestamp_is_utc() -> None:
    """The record's ``timestamp`` is UTC with milliseconds and a ``Z`` (invocation-async-retain-records),
    whatever the time zone of the clock that ended the invocation."""
    paris = timezone(timedelta(hours=2))
    record = invocation_record(request_id="r", function_arn="f", condition="Success", attempts=1, request_payload={},
                               response_payload=None, function_error=None,
                               timestamp=datetime(2019, 11, 14, 20, 16, 5, 568000, tzinfo=paris))
    assert record["timestamp"] == "2019-11-14T18:16:05.568Z"


def test_eventbridge_destination_detail_types() -> None:
    """An EventBridge destination receives the record with detail-type "Lambda Function Invocation
    Result - Success" or "... - Failure" (invocation-async-retain-records, "Adding a destination")."""
    assert DETAIL_TYPES[True] == "Lambda Function Invocation Result - Success"
    assert DETAIL_TYPES[False] == "Lambda Function Invocation Result - Failure"
