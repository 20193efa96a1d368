"""Event envelopes (mlalab.engines.events.envelope) against the AWS pages they follow:
EB  = EventBridge User Guide "Amazon EventBridge events" (eb-events): the envelope
CT  = EventBridge User Guide "Events from AWS services via CloudTrail" (eb-service-event-cloudtrail)
      and the CloudTrail User Guide "CloudTrail record contents" (readOnly)
SM  = SageMaker Developer Guide "Automating Amazon SageMaker AI with Amazon EventBridge": the
      "SageMaker Training Job State Change" and "SageMaker Endpoint State Change" samples (detail keys in
      the sample's order, times in epoch milliseconds, Tags as a map, endpoint status IN_SERVICE).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from mlalab.engines.events import build_event, cloudtrail_event, endpoint_detail, is_read_only, training_job_detail

# 2020-03-10T09:18:09.050Z, the SM sample's "1583831889050".
AT = datetime(2020, 3, 10, 9, 18, 9, 50000, tzinfo=UTC)
AT_MILLIS = 1583831889050
ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/kmeans-1"

JOB = {
    "TrainingJobName": "kmeans-1",
    "TrainingJobArn": ARN,
    "SecondaryStatus": "Completed",
    "HyperParameters": {"k": "10"},
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
    "RoleArn": "arn:aws:iam::123456789012:role/SMRole",
    "InputDataConfig": [{"ChannelName": "train"}],
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 3, "VolumeSizeInGB": 20},
    "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
    "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    "CreationTime": AT,  # aware datetime
    "TrainingStartTime": "2020-03-10T09:18:09.050Z",  # ISO text, as a JSON round trip gives it
    "TrainingEndTime": datetime(2020, 3, 10, 9, 18, 9, 50000),  # naive: UTC, as boto3 times are
    "LastModifiedTime": AT,
    "SecondaryStatusTransitions": [{"Status": "Starting", "StartTime": AT, "StatusMessage": "Preparing"}],
}
TRAINING_KEYS = [
    "TrainingJobName", "TrainingJobArn", "TrainingJobStatus", "SecondaryStatus", "HyperParameters",
    "AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig", "VpcConfig",
    "StoppingCondition", "CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime",
    "SecondaryStatusTransitions", "Tags",
]  # fmt: skip


def test_training_job_detail_follows_the_sample() -> None:
    """SM training job sample: the job's settings as given, every time in epoch milliseconds."""
    detail = training_job_detail(JOB, "Completed", None, tags=[{"Key": "team", "Value": "ml"}])
    assert list(detail) == TRAINING_KEYS
    for key in ("HyperParameters", "AlgorithmSpecification", "InputDataConfig", "OutputDataConfig",
                "ResourceConfig", "VpcConfig", "StoppingCondition", "RoleArn"):  # fmt: skip
        assert detail[key] == JOB[key], key
    for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime"):
        assert detail[key] == AT_MILLIS, key
    assert detail["SecondaryStatusTransitions"] == [
        {"Status": "Starting", "StartTime": AT_MILLIS, "StatusMessage": "Preparing"}
    ]
    assert detail["Tags"] == {"team": "ml"}


def test_training_job_in_progress_has_no_end_time_and_empty_settings() -> None:
    """SM sample: absent settings are empty objects ("VpcConfig": {}), a time not reached yet is null."""
    job = {"TrainingJobName": "j", "TrainingJobArn": ARN, "CreationTime": AT}
    detail = training_job_detail(job, "InProgress", None)
    assert detail["TrainingEndTime"] is None and detail["CreationTime"] == AT_MILLIS
    assert detail["VpcConfig"] == {} and detail["SecondaryStatusTransitions"] == [] and detail["Tags"] == {}
    assert "FailureReason" not in detail


def test_failed_training_job_carries_failure_reason() -> None:
    """DescribeTrainingJob FailureReason, carried by the Failed state change."""
    detail = training_job_detail(JOB, "Failed", "AlgorithmError: out of memory")
    assert detail["TrainingJobStatus"] == "Failed" and detail["FailureReason"] == "AlgorithmError: out of memory"


def test_endpoint_detail_follows_the_sample() -> None:
    """SM endpoint sample: variants with their desired weight and count, IN_SERVICE, epoch milliseconds."""
    endpoint = {
        "EndpointName": "MyEndpoint",
        "EndpointArn": "arn:aws:sagemaker:us-west-2:123456789012:endpoint/myendpoint",
        "EndpointConfigName": "MyEndpointConfig",
        "ProductionVariants": [{"VariantName": "AllTraffic", "DesiredWeight": 1.0, "DesiredInstanceCount": 1}],
        "CreationTime": AT,
        "LastModifiedTime": AT,
    }
    detail = endpoint_detail(endpoint, "InService", None, tags={"team": "ml"})
    assert list(detail) == [
        "EndpointName", "EndpointArn", "EndpointConfigName", "ProductionVariants", "EndpointStatus",
        "CreationTime", "LastModifiedTime", "Tags",
    ]  # fmt: skip
    variant = detail["ProductionVariants"][0]
    assert variant["DesiredWeight"] == 1.0 and variant["DesiredInstanceCount"] == 1
    assert detail["EndpointStatus"] == "IN_SERVICE" and detail["CreationTime"] == AT_MILLIS
    assert detail["Tags"] == {"team": "ml"} and "FailureReason" not in detail
    failed = endpoint_detail(endpoint, "Failed", "Image not found")
    assert failed["EndpointStatus"] == "FAILED" and failed["FailureReason"] == "Image not found"


def test_envelope_id_and_time() -> None:
    """EB: id is a unique UUID per event; time is ISO 8601 to the second in UTC."""
    event = build_event("com.example", "Thing", {}, account="123456789012", region="us-east-1", time=AT)
    assert str(uuid.UUID(event["id"])) == event["id"] and event["time"] == "2020-03-10T09:18:09Z"
    given = build_event("com.example", "Thing", {}, account="1", region="r", event_id="fixed-id")
    assert given["id"] == "fixed-id"


def test_cloudtrail_event_kinds() -> None:
    """CT: detail-type by eventType; the account of the caller when no recipient is given; Insights
    events are not delivered to EventBridge."""
    record = {
        "eventType": "AwsServiceEvent",
        "eventSource": "sagemaker.amazonaws.com",
        "userIdentity": {"accountId": "111122223333"},
        "eventTime": "2024-01-01T00:00:00Z",
    }
    event = cloudtrail_event(record)
    assert event["detail-type"] == "AWS Service Event via CloudTrail" and event["account"] == "111122223333"
    assert event["time"] == "2024-01-01T00:00:00Z" and event["source"] == "aws.sagemaker"
    assert cloudtrail_event(record | {"eventType": "AwsCloudTrailInsight"}) is None
    assert cloudtrail_event({"eventName": "CreateModel"}) is None


def test_read_only_flag_decides_over_the_name() -> None:
    """CT record contents: readOnly says whether the call is read-only, whatever its name."""
    assert is_read_only({"eventName": "BatchDescribeModelPackage", "readOnly": True})
    assert is_read_only({"eventName": "ListModels"}) and not is_read_only({"eventName": "CreateModel"})


def test_naive_times_are_utc_whatever_the_host_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """SM: detail times are epoch milliseconds of the UTC instant; botocore's naive times are UTC, so the
    simulator's own time zone must not shift them."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        detail = training_job_detail(JOB, "Completed", None)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert detail["TrainingEndTime"] == AT_MILLIS
