"""Lambda's asynchronous invocation: retries, event age, destinations and the dead-letter queue.

Sources ("How Lambda handles errors and retries with asynchronous invocation",
invocation-async-error-handling; "Configuring error handling settings", invocation-async-configuring;
"Capturing records of Lambda asynchronous invocations", invocation-async-retain-records):

* a function error (an exception, a time-out) is retried: by default twice, "with a one-minute
  wait between the first two attempts, and two minutes between the second and third";
  ``MaximumRetryAttempts`` (0-2) and ``MaximumEventAgeInSeconds`` (60-21600, default 6 hours) from
  PutFunctionEventInvokeConfig change that;
* an event that fails every attempt (``RetriesExhausted``) or grows too old to be tried again
  (``EventAgeExceeded``) is discarded: its *invocation record* goes to the on-failure destination
  (SQS, SNS, Lambda, EventBridge), and the event itself to the dead-letter queue
  (``DeadLetterConfig``, SQS or SNS) with ``RequestID``, ``ErrorCode`` and ``ErrorMessage``
  message attributes; a success sends its record to the on-success destination.

The waits are simulated: attempts run one after the other, their *ages* (0, 60, 180 s) are what
the event-age rule compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE = 21600
RETRY_WAITS = (60, 120)  # seconds before the first and the second retry
SUCCESS, RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED = "Success", "RetriesExhausted", "EventAgeExceeded"
DLQ_MESSAGE_LIMIT = 1024  # ErrorMessage attribute: "up to 1 KB" (invocation-async-retain-records, DLQ)
DETAIL_TYPES = {True: "Lambda Function Invocation Result - Success",
                False: "Lambda Function Invocation Result - Failure"}


@dataclass(frozen=True)
class AsyncConfig:
    """A function's asynchronous invocation settings (GetFunctionEventInvokeConfig + DeadLetterConfig)."""

    maximum_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    maximum_event_age: int = DEFAULT_MAX_EVENT_AGE
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None

    @classmethod
    def from_api(cls, event_invoke_config: dict[str, Any] | None, dead_letter_config: dict[str, Any] | None = None) \
            -> AsyncConfig:
        config = event_invoke_config or {}
        destinations = config.get("DestinationConfig") or {}
        retries = config.get("MaximumRetryAttempts")
        age = config.get("MaximumEventAgeInSeconds")
        return cls(
            maximum_retry_attempts=DEFAULT_RETRY_ATTEMPTS if retries is None else int(retries),
            maximum_event_age=DEFAULT_MAX_EVENT_AGE if age is None else int(age),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination") or None,
            on_failure=(destinations.get("OnFailure") or {}).get("Destination") or None,
            dead_letter=(dead_letter_config or {}).get("TargetArn") or None,
        )


def attempt_age(attempt: int) -> int:
    """Seconds between the event's arrival and attempt number ``attempt`` (1-based)."""
    return sum(RETRY_WAITS[: max(0, attempt - 1)])


def after_failure(attempts: int, config: AsyncConfig) -> str | None:
    """After ``attempts`` failed attempts: None to try again, or why the event is discarded."""
    if attempts > config.maximum_retry_attempts:
        return RETRIES_EXHAUSTED
    if attempt_age(attempts + 1) > config.maximum_event_age:
        return EVENT_AGE_EXCEEDED
    return None


def invocation_record(*, request_id: str, function_arn: str, condition: str, attempts: int, request_payload: Any,
                      response_payload: Any, function_error: str | None, executed_version: str = "$LATEST",
                      timestamp: datetime | None = None) -> dict[str, Any]:
    """The record Lambda sends to a destination, keys in AWS's order (invocation-async-retain-records).

    ``function_arn`` is qualified with the version that ran (``...:function:name:$LATEST``)."""
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
    if function_error:
        response_context["functionError"] = function_error
    return {
        "version": "1.0",
        "timestamp": iso_millis(timestamp or datetime.now(UTC)),
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "requestPayload": request_payload,
        "responseContext": response_context,
        "responsePayload": response_payload,
    }


def dead_letter_attributes(request_id: str, error_message: str) -> dict[str, dict[str, str]]:
    """The message attributes of an event sent to a dead-letter queue (SQS's shape)."""
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": error_message[:DLQ_MESSAGE_LIMIT]},
    }


def destination_kind(arn: str) -> str | None:
    """sqs | sns | lambda | events (an event bus) | s3, from a destination ARN."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service = parts[2]
    if service == "events":
        return "events" if parts[5].startswith("event-bus/") else None
    return service if service in ("sqs", "sns", "lambda", "s3") else None


def iso_millis(when: datetime) -> str:
    when = when.astimezone(UTC)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"
