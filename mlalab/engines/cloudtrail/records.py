"""CloudTrail records in AWS's format, built from what is known about one API call.

The fields, their types and their order follow "CloudTrail record contents for management, data, and
network activity events" (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and the real samples in ``shared/reference/events/3-cloudtrail``: ``eventVersion``, ``userIdentity``,
``eventTime`` (ISO 8601 UTC to the second, ``Z``), ``eventSource`` (``{service}.amazonaws.com``),
``eventName``, ``awsRegion``, ``sourceIPAddress``, ``userAgent``, ``errorCode``/``errorMessage`` (failed
calls only), ``requestParameters`` and ``responseElements`` (objects or null), ``requestID``, ``eventID``
(a UUID), ``readOnly`` and ``managementEvent`` (JSON booleans), ``eventType`` AwsApiCall,
``recipientAccountId``, ``eventCategory`` (Management or Data), and for data events ``resources``.

The approximation rule for ``requestParameters``/``responseElements`` (AWS writes them per service,
undocumented): the API's input (output) members with every key's first letter lower-cased, as AWS does
for most services (``CreateTopic`` ``Name`` -> ``name``; the Control Tower sample shows ``SSOUserEmail``
-> ``sSOUserEmail``, i.e. only the first letter changes); nested structures alike; timestamps as ISO
strings; binary payloads left out; secret members replaced by ``HIDDEN_DUE_TO_SECURITY_REASONS`` as AWS
does. ``responseElements`` is null for read-only calls (AWS omits the often large answers of
Describe/List/Get calls), for failed calls and for empty answers. S3 follows its own documented layout
(``bucketName``, ``Host``, ``key`` and the sub-resources of the query string).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

EVENT_VERSION = "1.08"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

# Endpoint prefixes whose CloudTrail event source differs (SageMaker Runtime logs as sagemaker).
_SOURCE_OVERRIDES = {"api.sagemaker": "sagemaker", "runtime.sagemaker": "sagemaker", "runtime.lex": "lex"}
_READ_PREFIXES = ("Get", "Describe", "List", "Head", "Lookup", "Search", "BatchGet", "Query", "Scan", "Select",
                  "Test", "Validate", "Simulate", "Estimate", "Preview", "Check")
# KMS cryptographic operations are read-only management events (KMS developer guide, "Logging AWS KMS
# API calls with AWS CloudTrail": Decrypt, Encrypt, GenerateDataKey entries have "readOnly": true).
_READ_ONLY_ACTIONS = {("kms", "Decrypt"), ("kms", "Encrypt"), ("kms", "GenerateDataKey"),
                      ("kms", "GenerateDataKeyWithoutPlaintext"), ("kms", "ReEncrypt"),
                      ("sts", "GetCallerIdentity"), ("sqs", "ReceiveMessage")}
_WRITE_ACTIONS = {("sts", "AssumeRole")}
_SECRET_MEMBERS = {"SecretString", "SecretBinary", "Password", "NewPassword", "OldPassword", "PrivateKey",
                   "Plaintext", "CiphertextBlob", "SecretAccessKey", "SessionToken"}

# Data events (CloudTrail user guide, "Logging data events", table of data event resource types):
# S3 object-level operations (AWS::S3::Object), Lambda Invoke, SNS Publish/PublishBatch, SQS message
# operations. Every other call is a management event.
S3_OBJECT_ACTIONS = frozenset({
    "GetObject", "PutObject", "DeleteObject", "DeleteObjects", "HeadObject", "CopyObject", "GetObjectAcl",
    "PutObjectAcl", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", "GetObjectAttributes",
    "RestoreObject", "SelectObjectContent", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
    "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts", "GetObjectRetention", "PutObjectRetention",
    "GetObjectLegalHold", "PutObjectLegalHold", "GetObjectTorrent"})
_DATA_EVENTS = {
    "lambda": ({"Invoke", "InvokeAsync", "InvokeWithResponseStream"}, "AWS::Lambda::Function"),
    "sns": ({"Publish", "PublishBatch"}, "AWS::SNS::Topic"),
    "sqs": ({"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
             "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}, "AWS::SQS::Queue"),
}


def iso(moment: datetime) -> str:
    """CloudTrail's time format: ISO 8601 in UTC to the second, with ``Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_source(endpoint_prefix: str) -> str:
    """``eventSource`` from botocore's ``endpointPrefix`` (CloudWatch's is ``monitoring``, as in AWS)."""
    return f"{_SOURCE_OVERRIDES.get(endpoint_prefix, endpoint_prefix)}.amazonaws.com"


def is_read_only(service: str, action: str) -> bool:
    if (service, action) in _WRITE_ACTIONS:
        return False
    return (service, action) in _READ_ONLY_ACTIONS or action.startswith(_READ_PREFIXES)


def data_resource_type(service: str, action: str) -> str | None:
    """The data event resource type of a call, or None for a management event."""
    if service == "s3":
        return "AWS::S3::Object" if action in S3_OBJECT_ACTIONS else None
    actions, kind = _DATA_EVENTS.get(service, ((), None))
    return kind if action in actions else None


def camel_keys(value: Any, depth: int = 0) -> Any:
    """The approximation rule of the module docstring, applied to a parsed input or output."""
    if depth > 40:
        return None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, (bytes, bytearray)) or hasattr(item, "read"):
                continue
            name = key[:1].lower() + key[1:] if isinstance(key, str) else key
            out[name] = HIDDEN if key in _SECRET_MEMBERS else camel_keys(item, depth + 1)
        return out
    if isinstance(value, list):
        return [camel_keys(item, depth + 1) for item in value if not isinstance(item, (bytes, bytearray))]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def s3_request_parameters(params: dict[str, Any], host: str) -> dict[str, Any]:
    """S3's layout (S3 user guide, "CloudTrail log file entries for Amazon S3"): ``bucketName``,
    ``Host``, ``key``, and the query string's sub-resources as they came."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name == "Bucket":
            out["bucketName"] = value
        elif name == "Key":
            out["key"] = value
        elif name != "Policy":
            out[name] = value
    out["Host"] = host
    return out


def s3_resources(account: str, bucket: str | None, key: str | None) -> list[dict[str, str]]:
    """The ``resources`` of an S3 data event (object first, then its bucket, as in AWS's HeadObject sample)."""
    resources = []
    if bucket and key is not None:
        resources.append({"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"})
    if bucket:
        resources.append({"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"})
    return resources


def build_record(*, identity: dict[str, Any], time: datetime, source: str, name: str, region: str,
                 source_ip: str, user_agent: str, request_parameters: dict[str, Any] | None,
                 response_elements: dict[str, Any] | None, read_only: bool, account: str,
                 category: str = "Management", error_code: str | None = None, error_message: str | None = None,
                 request_id: str | None = None, event_id: str | None = None,
                 resources: list[dict[str, str]] | None = None,
                 additional_event_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """One record, keys in AWS's order."""
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION, "userIdentity": identity, "eventTime": iso(time), "eventSource": source,
        "eventName": name, "awsRegion": region, "sourceIPAddress": source_ip, "userAgent": user_agent,
    }
    if error_code:
        record["errorCode"] = error_code
        record["errorMessage"] = error_message or ""
    record["requestParameters"] = request_parameters or None
    record["responseElements"] = None if (error_code or read_only) else (response_elements or None)
    if additional_event_data:
        record["additionalEventData"] = additional_event_data
    record["requestID"] = request_id or str(uuid.uuid4())
    record["eventID"] = event_id or str(uuid.uuid4())
    record["readOnly"] = read_only
    if resources:
        record["resources"] = resources
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = category == "Management"
    record["recipientAccountId"] = account
    record["eventCategory"] = category
    return record
