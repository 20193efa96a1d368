"""Rules of the operation -> (action, resource) mapping and of the access-denied answer that mutation
testing showed unpinned (``make mutate --engine iam``). Each test names the AWS page it follows.
"""

from __future__ import annotations

import pytest

from mlalab.engines.iam import parse_policy
from mlalab.engines.iam.authorization import Authorization, authorizations, decide

ACCOUNT, REGION = "123456789012", "us-east-1"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"
PUBLISH = Authorization("sns:Publish", TOPIC)


def policy(kind: str, *statements: dict):
    return parse_policy(kind, {"Version": "2012-10-17", "Statement": list(statements)}, kind=kind)


ALLOW_PUBLISH = policy("identity", {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"})


@pytest.mark.parametrize("operation", ["Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"])
def test_kms_operations_are_authorized_on_the_key_arn(operation: str) -> None:
    """Service Authorization Reference, AWS KMS: these actions take the ``key`` resource type
    (``arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}``); an alias is not the resource a key
    operation is authorized on (KMS Developer Guide, "Using aliases to control access to KMS keys")."""
    assert authorizations("kms", operation, {"KeyId": KEY}, ACCOUNT, REGION) == [
        Authorization(f"kms:{operation}", KEY)]
    alias = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ml"
    assert authorizations("kms", operation, {"KeyId": alias}, ACCOUNT, REGION) is None
    assert authorizations("kms", operation, {"KeyId": "alias/ml"}, ACCOUNT, REGION) is None


@pytest.mark.parametrize(("operation", "params"), [
    ("ListObjectsV2", {"Prefix": "data/"}),
    ("GetObject", {"Key": "k"}),
    ("GetObject", {"Bucket": "b"}),
    ("CreateLogStream", {"logGroupName": "/g"}),
    ("CreateLogStream", {"logStreamName": "s"}),
    ("SendMessage", {"MessageBody": "x"}),
])
def test_no_authorization_without_the_resource_named(operation: str, params: dict) -> None:
    """Service Authorization Reference: S3 ListBucket is authorized on the bucket ARN, GetObject on
    ``arn:aws:s3:::BUCKET/KEY``, CreateLogStream on the stream's ARN, SendMessage on the queue: without the
    parameters that name the resource there is no resource to authorize on."""
    service = {"ListObjectsV2": "s3", "GetObject": "s3", "CreateLogStream": "logs", "SendMessage": "sqs"}[operation]
    assert authorizations(service, operation, params, ACCOUNT, REGION) is None


def test_get_queue_url_for_another_accounts_queue() -> None:
    """SQS API Reference, GetQueueUrl: ``QueueOwnerAWSAccountId`` names the account that owns the queue,
    so the queue ARN carries that account."""
    (found,) = authorizations("sqs", "GetQueueUrl", {"QueueName": "q", "QueueOwnerAWSAccountId": "210987654321"},
                              ACCOUNT, REGION)
    assert found == Authorization("sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:210987654321:q")


def test_s3_condition_keys_of_an_object_write() -> None:
    """Amazon S3 condition key examples: s3:x-amz-server-side-encryption-aws-kms-key-id and s3:x-amz-acl
    come from the request headers; absent headers set no key."""
    (found,) = authorizations("s3", "PutObject", {"Bucket": "b", "Key": "k", "SSEKMSKeyId": KEY, "ACL": "private"},
                              ACCOUNT, REGION)
    assert found.context == {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY, "s3:x-amz-acl": "private"}
    (listing,) = authorizations("s3", "ListObjectsV2", {"Bucket": "b"}, ACCOUNT, REGION)
    assert listing.context == {}


def test_explicit_deny_in_a_resource_policy_is_named_even_without_an_identity_allow() -> None:
    """IAM User Guide, "Troubleshoot access denied error messages": an explicit deny is reported as
    ``with an explicit deny in a resource-based policy`` whatever the identity-based policies say."""
    deny = policy("resource", {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC})
    denial = decide(PUBLISH, USER, resource=[deny])
    assert denial is not None and denial.decision.decision == "explicit_deny"
    assert denial.message == (f"User: {USER} is not authorized to perform: sns:Publish on resource: {TOPIC} "
                              "with an explicit deny in a resource-based policy")


def test_explicit_deny_in_a_boundary_and_implicit_deny_by_a_session_policy() -> None:
    """IAM User Guide, "Troubleshoot access denied error messages": the message names the policy type
    (``permissions boundary``, ``session policy``) that denies."""
    boundary = policy("boundary", {"Effect": "Deny", "Action": "sns:*", "Resource": "*"})
    denial = decide(PUBLISH, USER, boundary=boundary)
    assert denial is not None and denial.message.endswith("with an explicit deny in a permissions boundary")
    session = policy("session", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    denial = decide(PUBLISH, USER, identity=[ALLOW_PUBLISH], session=session)
    assert denial is not None and denial.message.endswith("because no session policy allows the sns:Publish action")


def test_resource_star_is_not_named_in_the_message() -> None:
    """IAM User Guide, "Troubleshoot access denied error messages": for an action with no resource
    (PutMetricData, authorized on "*") the message has no ``on resource:`` part."""
    denial = decide(Authorization("cloudwatch:PutMetricData", "*"), USER)
    assert denial is not None and denial.message == (
        f"User: {USER} is not authorized to perform: cloudwatch:PutMetricData because no identity-based policy "
        "allows the cloudwatch:PutMetricData action")


def test_aws_userid_of_the_root_user_is_the_account_id() -> None:
    """AWS global condition context keys, aws:userid: the account root user's is the account ID; an IAM
    user's is its unique ID (AIDA...), never the account ID."""
    deny = policy("identity", {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"},
                  {"Effect": "Deny", "Action": "sns:Publish", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:userid": ACCOUNT}}})
    denial = decide(PUBLISH, ROOT, identity=[deny])
    assert denial is not None and denial.decision.decision == "explicit_deny"
    assert decide(PUBLISH, USER, identity=[deny]) is None


def test_cross_account_deny_names_the_resource_policy() -> None:
    """IAM User Guide, "Cross-account policy evaluation logic" and "Troubleshoot access denied error
    messages": across accounts the resource-based policy must allow too; when only it does not, the
    message says ``because no resource-based policy allows`` the action."""
    topic = "arn:aws:sns:us-east-1:210987654321:shared"
    other = policy("resource", {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                "Action": "sns:Publish", "Resource": topic})
    denial = decide(Authorization("sns:Publish", topic), USER, identity=[ALLOW_PUBLISH], resource=[other],
                    service="sns")
    assert denial is not None and denial.message == (
        f"User: {USER} is not authorized to perform: SNS:Publish on resource: {topic} because no "
        "resource-based policy allows the SNS:Publish action")
