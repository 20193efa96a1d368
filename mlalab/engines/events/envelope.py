"""Events in AWS's envelope, and the envelopes of the events AWS services emit.

The envelope ("Amazon EventBridge events", eb-events): ``version`` "0", ``id`` (a UUID), ``detail-type``,
``source``, ``account``, ``time`` (ISO 8601 to the second, ``Z``), ``region``, ``resources`` (ARNs)
and ``detail`` (an object), in that order. Shapes of the service events are taken from the AWS
samples in ``shared/reference/events`` (CloudTrail: "AWS API Call via CloudTrail" with the record as
``detail``; SageMaker: PascalCase ``detail`` with times in epoch milliseconds).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

CLOUDTRAIL_DETAIL_TYPES = {
    # eventType -> detail-type ("Events from AWS services", eb-service-event)
    "AwsApiCall": "AWS API Call via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
    "AwsConsoleAction": "AWS Console Action via CloudTrail",
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
}
READ_ONLY_PREFIXES = ("Get", "List", "Describe")


def event_time(at: datetime | None = None) -> str:
    """The envelope's ``time``: ISO 8601 to the second, UTC, ``Z``."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_millis(at: datetime | str | None) -> int | None:
    """SageMaker's detail times: epoch milliseconds."""
    if at is None:
        return None
    if isinstance(at, str):
        at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


def build_event(
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    *,
    account: str,
    region: str,
    resources: Iterable[str] = (),
    time: str | datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """One event in the envelope, keys in AWS's order."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time if isinstance(time, str) else event_time(time),
        "region": region,
        "resources": list(resources),
        "detail": detail,
    }


def cloudtrail_source(event_source: str) -> str:
    """``sagemaker.amazonaws.com`` -> ``aws.sagemaker`` (the event's ``source``)."""
    return "aws." + event_source.split(".", 1)[0]


def cloudtrail_event(record: dict[str, Any]) -> dict[str, Any] | None:
    """The event CloudTrail puts on the default bus for one record (None for record kinds that
    do not go to EventBridge, such as Insights events)."""
    detail_type = CLOUDTRAIL_DETAIL_TYPES.get(record.get("eventType", "AwsApiCall"))
    if detail_type is None or not record.get("eventSource"):
        return None
    identity = record.get("userIdentity") or {}
    return build_event(
        cloudtrail_source(record["eventSource"]),
        detail_type,
        record,
        account=record.get("recipientAccountId") or identity.get("accountId") or "",
        region=record.get("awsRegion", ""),
        resources=(),
        time=record.get("eventTime"),
    )


def is_read_only(record: dict[str, Any]) -> bool:
    """Read-only management events reach only rules in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
    ("Receiving read-only management events from AWS services"); CloudTrail's ``readOnly`` flag
    decides, the name prefix when the flag is absent."""
    flag = record.get("readOnly")
    if isinstance(flag, bool):
        return flag
    return str(record.get("eventName", "")).startswith(READ_ONLY_PREFIXES)


# SageMaker state changes ("Automating Amazon SageMaker AI with Amazon EventBridge").
TRAINING_JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
ENDPOINT_STATUSES = (
    "OutOfService", "Creating", "Updating", "SystemUpdating", "RollingBack", "InService", "Deleting", "Failed",
    "UpdateRollbackFailed",
)  # fmt: skip
# The event spells endpoint statuses the way both samples do (IN_SERVICE), not as the API does (InService).
_ENDPOINT_EVENT_STATUS = {s: "_".join(w.upper() for w in re.findall(r"[A-Z][a-z]*", s)) for s in ENDPOINT_STATUSES}


def endpoint_event_status(status: str) -> str:
    """``InService`` -> ``IN_SERVICE`` (reference/events/4-sagemaker-events, both endpoint samples)."""
    return _ENDPOINT_EVENT_STATUS.get(status, status)


def _millis_deep(value: Any) -> Any:
    """Nested times (SecondaryStatusTransitions) in the detail's convention too."""
    if isinstance(value, datetime):
        return epoch_millis(value)
    if isinstance(value, dict):
        return {k: _millis_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_millis_deep(v) for v in value]
    return value


def _tags(tags: Iterable[dict[str, str]] | dict[str, str] | None) -> dict[str, str]:
    """The detail's ``Tags`` is a map, not the API's list of Key/Value."""
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t.get("Value", "") for t in tags or () if isinstance(t, dict) and "Key" in t}


def training_job_detail(
    job: dict[str, Any], status: str, failure_reason: str | None, tags: Any = None
) -> dict[str, Any]:
    """``SageMaker Training Job State Change`` detail from a DescribeTrainingJob-shaped dict (keys and
    order of the documented sample; times as epoch milliseconds)."""
    detail: dict[str, Any] = {
        "TrainingJobName": job["TrainingJobName"],
        "TrainingJobArn": job["TrainingJobArn"],
        "TrainingJobStatus": status,
        "SecondaryStatus": job.get("SecondaryStatus", status),
        "HyperParameters": job.get("HyperParameters") or {},
        "AlgorithmSpecification": job.get("AlgorithmSpecification") or {},
        "RoleArn": job.get("RoleArn"),
        "InputDataConfig": job.get("InputDataConfig") or [],
        "OutputDataConfig": job.get("OutputDataConfig") or {},
        "ResourceConfig": job.get("ResourceConfig") or {},
        "VpcConfig": job.get("VpcConfig") or {},
        "StoppingCondition": job.get("StoppingCondition") or {},
        "CreationTime": epoch_millis(job.get("CreationTime")),
        "TrainingStartTime": epoch_millis(job.get("TrainingStartTime")),
        "TrainingEndTime": epoch_millis(job.get("TrainingEndTime")),
        "LastModifiedTime": epoch_millis(job.get("LastModifiedTime")),
        "SecondaryStatusTransitions": _millis_deep(job.get("SecondaryStatusTransitions") or []),
        "Tags": _tags(tags),
    }
    if failure_reason is not None:
        detail["FailureReason"] = failure_reason
    return _millis_deep(detail)


def endpoint_detail(
    endpoint: dict[str, Any], status: str, failure_reason: str | None, tags: Any = None
) -> dict[str, Any]:
    """``SageMaker Endpoint State Change`` detail from a DescribeEndpoint-shaped dict."""
    variants = [
        {key: variant[key] for key in ("VariantName", "DesiredWeight", "DesiredInstanceCount") if key in variant}
        for variant in endpoint.get("ProductionVariants") or []
    ]
    detail: dict[str, Any] = {
        "EndpointName": endpoint["EndpointName"],
        "EndpointArn": endpoint["EndpointArn"],
        "EndpointConfigName": endpoint.get("EndpointConfigName"),
        "ProductionVariants": variants,
        "EndpointStatus": endpoint_event_status(status),
        "CreationTime": epoch_millis(endpoint.get("CreationTime")),
        "LastModifiedTime": epoch_millis(endpoint.get("LastModifiedTime")),
        "Tags": _tags(tags),
    }
    if failure_reason is not None:
        detail["FailureReason"] = failure_reason
    return _millis_deep(detail)
