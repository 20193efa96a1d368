"""Conformance of the operation -> (action, resource) mapping and of the access-denied answer.

Sources: Service Authorization Reference (actions, ARN formats); CloudWatch Logs User Guide "Using
identity-based policies" (log-group ARNs end in ':*'); SageMaker "API Permissions" (lower-case names in
ARNs); S3 User Guide "Policy actions for Amazon S3" (HeadObject -> s3:GetObject, ListObjectsV2 ->
s3:ListBucket with s3:prefix); CloudWatch "cloudwatch:namespace"; STS "GetCallerIdentity"; IAM User
Guide "Troubleshoot access denied error messages"; AWS common errors.
"""

from __future__ import annotations

import pytest

from mlalab.engines.iam import parse_policy
from mlalab.engines.iam.authorization import Authorization, authorizations, covered_operations, decide, error_code

ACCOUNT, REGION = "123456789012", "us-east-1"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/fn"


def one(service: str, operation: str, params: dict) -> Authorization:
    (found,) = authorizations(service, operation, params, ACCOUNT, REGION)
    return found


@pytest.mark.parametrize(("service", "operation", "params", "action", "resource"), [
    ("sagemaker", "UpdateEndpointWeightsAndCapacities", {"EndpointName": "Churn-A"},
     "sagemaker:UpdateEndpointWeightsAndCapacities", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/churn-a"),
    ("sagemaker", "DescribeEndpoint", {"EndpointName": "e"}, "sagemaker:DescribeEndpoint",
     f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/e"),
    ("sns", "Publish", {"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:t"}, "sns:Publish",
     f"arn:aws:sns:{REGION}:{ACCOUNT}:t"),
    ("sqs", "SendMessage", {"QueueUrl": f"http://localhost:5000/{ACCOUNT}/q"}, "sqs:SendMessage",
     f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"),
    ("sqs", "SendMessageBatch", {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/210987654321/q"},
     "sqs:SendMessage", f"arn:aws:sqs:{REGION}:210987654321:q"),
    ("sqs", "GetQueueUrl", {"QueueName": "q"}, "sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"),
    ("logs", "CreateLogGroup", {"logGroupName": "/aws/lambda/f"}, "logs:CreateLogGroup",
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f:log-stream:"),
    ("logs", "CreateLogStream", {"logGroupName": "/g", "logStreamName": "s"}, "logs:CreateLogStream",
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/g:log-stream:s"),
    ("logs", "PutLogEvents", {"logGroupName": "/g", "logStreamName": "s", "logEvents": []}, "logs:PutLogEvents",
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/g:log-stream:s"),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k/x"}, "s3:GetObject", "arn:aws:s3:::b/k/x"),
    ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, "s3:GetObject", "arn:aws:s3:::b/k"),
    ("s3", "PutObject", {"Bucket": "b", "Key": "k"}, "s3:PutObject", "arn:aws:s3:::b/k"),
    ("s3", "ListObjectsV2", {"Bucket": "b"}, "s3:ListBucket", "arn:aws:s3:::b"),
    ("cloudwatch", "PutMetricData", {"Namespace": "ML"}, "cloudwatch:PutMetricData", "*"),
    ("sagemaker", "ListEndpoints", {}, "sagemaker:ListEndpoints", "*"),  # no resource type: "*"
])
def test_mapping(service: str, operation: str, params: dict, action: str, resource: str) -> None:
    found = one(service, operation, params)
    assert (found.action, found.resource) == (action, resource)


def test_condition_keys_from_the_request() -> None:
    assert one("cloudwatch", "PutMetricData", {"Namespace": "ML"}).context == {"cloudwatch:namespace": "ML"}
    assert one("s3", "ListObjectsV2", {"Bucket": "b", "prefix": "data/"}).context == {"s3:prefix": "data/"}
    assert one("s3", "PutObject", {"Bucket": "b", "Key": "k", "ServerSideEncryption": "aws:kms"}).context == {
        "s3:x-amz-server-side-encryption": "aws:kms"}


def test_get_caller_identity_needs_nothing_and_unknown_operations_are_unmapped() -> None:
    assert authorizations("sts", "GetCallerIdentity", {}, ACCOUNT, REGION) == []
    assert authorizations("sns", "CreateTopic", {"Name": "t"}, ACCOUNT, REGION) is None  # needs a resource
    assert authorizations("sns", "Publish", {}, ACCOUNT, REGION) is None  # nothing to name the resource
    assert "sns:Publish" in covered_operations() and "logs:PutLogEvents" in covered_operations()


def policy(kind: str, *statements: dict):
    return parse_policy(kind, {"Version": "2012-10-17", "Statement": list(statements)}, kind=kind)


TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"
PUBLISH = Authorization("sns:Publish", TOPIC)


def test_implicit_deny_message_names_the_identity_policy() -> None:
    denial = decide(PUBLISH, SESSION, identity=[policy("identity", {"Effect": "Allow", "Action": "sqs:*",
                                                                      "Resource": "*"})], service="sns")
    assert denial is not None and denial.message == (
        f"User: {SESSION} is not authorized to perform: SNS:Publish on resource: {TOPIC} because no "
        "identity-based policy allows the SNS:Publish action")


def test_allowed_is_none_and_boundary_and_resource_denials_are_named() -> None:
    allow = policy("identity", {"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC})
    assert decide(PUBLISH, SESSION, identity=[allow]) is None
    boundary = policy("boundary", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    denial = decide(PUBLISH, SESSION, identity=[allow], boundary=boundary)
    assert denial is not None
    assert denial.message.endswith("because no permissions boundary allows the sns:Publish action")
    deny = policy("resource", {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC})
    denial = decide(PUBLISH, SESSION, identity=[allow], resource=[deny])
    assert denial is not None and denial.message.endswith("with an explicit deny in a resource-based policy")


def test_resource_policy_naming_the_role_grants_within_the_account() -> None:
    grant = policy("resource", {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/fn-role"},
                                "Action": "sns:Publish", "Resource": TOPIC})
    assert decide(PUBLISH, SESSION, resource=[grant]) is None


def test_error_codes_per_protocol() -> None:
    assert error_code("sns", "query") == ("AuthorizationError", 403)
    assert error_code("sagemaker", "json") == ("AccessDeniedException", 400)
    assert error_code("sqs", "json", query_compatible=True) == ("AccessDenied", 403)
    assert error_code("s3", "rest-xml") == ("AccessDenied", 403)
