"""Lambda's service-side behaviour around a handler, as pure functions: the runtime's payloads and
log lines (``runtime``) and asynchronous invocation (``asynchronous``: retries, event age,
destination records, dead-letter attributes). No moto, no boto3: the wire layer is
``fixtures.moto_ext.lambda_`` and the handler itself runs in ``mlalab.sandbox.handler``."""

from mlalab.engines.lambda_.asynchronous import (
    DETAIL_TYPES,
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    SUCCESS,
    AsyncConfig,
    after_failure,
    attempt_age,
    dead_letter_attributes,
    destination_kind,
    invocation_record,
)
from mlalab.engines.lambda_.runtime import (
    MAX_SYNC_RESPONSE_BYTES,
    RESPONSE_TOO_LARGE,
    FunctionConfig,
    Outcome,
    error_payload,
    invocation_log_lines,
    log_stream_name,
    log_tail,
    timeout_payload,
)

__all__ = ["DETAIL_TYPES", "EVENT_AGE_EXCEEDED", "MAX_SYNC_RESPONSE_BYTES", "RESPONSE_TOO_LARGE", "RETRIES_EXHAUSTED",
           "SUCCESS", "AsyncConfig", "FunctionConfig", "Outcome", "after_failure", "attempt_age",
           "dead_letter_attributes", "destination_kind", "error_payload", "invocation_log_lines", "invocation_record",
           "log_stream_name", "log_tail", "timeout_payload"]
