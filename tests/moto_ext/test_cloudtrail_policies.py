"""Wire tests of what CloudTrail checks before it accepts a trail (fixtures/moto_ext/cloudtrail/policies.py):
the bucket policy ("Amazon S3 bucket policy for CloudTrail",
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html) and the
KMS key policy ("Configure AWS KMS key policies for CloudTrail",
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html), each
decided by the IAM engine with the trail's aws:SourceArn; AWS's error codes and messages (CreateTrail API
reference, Errors); the key stored as its ARN; delivery stopped by a bucket policy changed later."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fixtures.moto_ext.cloudtrail.policies import bucket_policy_for_cloudtrail
from mlalab.server import LabServer

ACCOUNT, REGION = "123456789012", "us-east-1"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"


@pytest.fixture
def client(server):
    LabServer.reset()

    def make(service: str):
        return boto3.client(service, endpoint_url=server.endpoint_url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 1}))

    return make


def _bucket(client, policy: str | dict | None, name: str = "audit-logs") -> str:
    s3 = client("s3")
    s3.create_bucket(Bucket=name)
    if policy is not None:
        s3.put_bucket_policy(Bucket=name, Policy=policy if isinstance(policy, str) else json.dumps(policy))
    return name


def _refused(call, code: str) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["Error"]["Code"] == code
    return refused.value.response["Error"]["Message"]


def _statements(policy: str) -> list[dict]:
    return json.loads(policy)["Statement"]


def test_documented_bucket_policy_is_accepted(client):
    bucket = _bucket(client, bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    trail = client("cloudtrail").create_trail(Name="audit", S3BucketName=bucket)
    assert trail["TrailARN"] == TRAIL_ARN


def test_no_bucket_policy_is_refused_with_awss_message(client):
    bucket = _bucket(client, None)
    message = _refused(lambda: client("cloudtrail").create_trail(Name="audit", S3BucketName=bucket),
                       "InsufficientS3BucketPolicyException")
    assert message == "Incorrect S3 bucket policy is detected for bucket: audit-logs"
    assert client("cloudtrail").list_trails()["Trails"] == []  # nothing created


@pytest.mark.parametrize("change", [
    "no-acl-check",  # CloudTrail needs s3:GetBucketAcl on the bucket
    "other-trail",  # aws:SourceArn names another trail
    "wrong-prefix",  # PutObject granted under a prefix the trail does not write to
    "no-acl-condition-value",  # s3:x-amz-acl must be bucket-owner-full-control: a wrong value denies
])
def test_insufficient_bucket_policies_are_refused(client, change):
    statements = _statements(bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    if change == "no-acl-check":
        statements = statements[1:]
    elif change == "other-trail":
        for s in statements:
            s["Condition"]["StringEquals"]["aws:SourceArn"] = TRAIL_ARN.replace("audit", "other")
    elif change == "wrong-prefix":
        statements[1]["Resource"] = "arn:aws:s3:::audit-logs/logs/AWSLogs/*"
    else:
        statements[1]["Condition"]["StringEquals"]["s3:x-amz-acl"] = "private"
    bucket = _bucket(client, {"Version": "2012-10-17", "Statement": statements})
    _refused(lambda: client("cloudtrail").create_trail(Name="audit", S3BucketName=bucket),
             "InsufficientS3BucketPolicyException")


def test_key_prefix_must_be_in_the_granted_path(client):
    bucket = _bucket(client, bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN, prefix="trails"))
    ct = client("cloudtrail")
    _refused(lambda: ct.create_trail(Name="audit", S3BucketName=bucket), "InsufficientS3BucketPolicyException")
    assert ct.create_trail(Name="audit", S3BucketName=bucket, S3KeyPrefix="trails")["S3KeyPrefix"] == "trails"


def test_source_account_condition_is_accepted_too(client):
    """AWS accepts aws:SourceAccount (the user guide recommends aws:SourceArn, but both are valid)."""
    policy = bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN).replace(
        f'"aws:SourceArn": "{TRAIL_ARN}"', f'"aws:SourceAccount": "{ACCOUNT}"')
    bucket = _bucket(client, policy)
    assert client("cloudtrail").create_trail(Name="audit", S3BucketName=bucket)["Name"] == "audit"


def _key(client, cloudtrail_statements: list[dict]) -> str:
    kms = client("kms")
    arn = kms.create_key(Description="trail key")["KeyMetadata"]["Arn"]
    policy = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    policy["Statement"] += cloudtrail_statements
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    return arn


ENCRYPT = {"Sid": "Encrypt", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
           "Action": "kms:GenerateDataKey*", "Resource": "*",
           "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN},
                         "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                        f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}}}
DESCRIBE = {"Sid": "Describe", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey", "Resource": "*"}


def test_key_policy_for_cloudtrail_is_accepted_and_the_key_kept_as_its_arn(client):
    bucket = _bucket(client, bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    arn = _key(client, [ENCRYPT, DESCRIBE])
    client("kms").create_alias(AliasName="alias/trail", TargetKeyId=arn)
    ct = client("cloudtrail")
    created = ct.create_trail(Name="audit", S3BucketName=bucket, KmsKeyId="alias/trail")
    assert created["KmsKeyId"] == arn  # AWS answers and stores the key's ARN
    assert ct.get_trail(Name="audit")["Trail"]["KmsKeyId"] == arn


OTHER_TRAIL_ENCRYPT = dict(ENCRYPT, Condition={"StringEquals": {"aws:SourceArn": TRAIL_ARN.replace("audit", "other")}})


@pytest.mark.parametrize("statements", [[], [DESCRIBE], [ENCRYPT], [OTHER_TRAIL_ENCRYPT, DESCRIBE]],
                         ids=["default-policy", "describe-only", "encrypt-only", "other-trail"])
def test_insufficient_key_policies_are_refused_with_awss_message(client, statements):
    """The default key policy delegates to the account's IAM policies, which cannot grant a service principal."""
    bucket = _bucket(client, bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    arn = _key(client, statements)
    message = _refused(lambda: client("cloudtrail").create_trail(Name="audit", S3BucketName=bucket, KmsKeyId=arn),
                       "InsufficientEncryptionPolicyException")
    assert message == f"Insufficient permissions to access S3 bucket audit-logs or KMS key {arn}."


def test_unknown_key_is_refused(client):
    bucket = _bucket(client, bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    _refused(lambda: client("cloudtrail").create_trail(Name="audit", S3BucketName=bucket, KmsKeyId="alias/none"),
             "KmsKeyNotFoundException")


def test_update_trail_checks_the_new_key_and_bucket(client):
    bucket = _bucket(client, bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    ct = client("cloudtrail")
    ct.create_trail(Name="audit", S3BucketName=bucket)
    bare = client("kms").create_key()["KeyMetadata"]["Arn"]
    _refused(lambda: ct.update_trail(Name="audit", KmsKeyId=bare), "InsufficientEncryptionPolicyException")
    other = _bucket(client, None, name="other-logs")
    _refused(lambda: ct.update_trail(Name="audit", S3BucketName=other), "InsufficientS3BucketPolicyException")
    good = _key(client, [ENCRYPT, DESCRIBE])
    assert ct.update_trail(Name="audit", KmsKeyId=good)["KmsKeyId"] == good
    assert ct.update_trail(Name="audit", EnableLogFileValidation=True)["LogFileValidationEnabled"] is True


def test_a_bucket_policy_changed_later_stops_delivery(client):
    bucket = _bucket(client, bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    ct, s3 = client("cloudtrail"), client("s3")
    ct.create_trail(Name="audit", S3BucketName=bucket)
    s3.delete_bucket_policy(Bucket=bucket)
    ct.start_logging(Name="audit")
    client("sns").create_topic(Name="after")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy_for_cloudtrail("audit-logs", ACCOUNT, TRAIL_ARN))
    client("sns").create_topic(Name="again")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any("/CloudTrail/" in k for k in keys)
