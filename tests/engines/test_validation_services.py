"""Conformance of the request validation engine for S3, KMS, CloudWatch Logs and SageMaker, and the
rule that every service of every lab gets at least the model validation."""

from __future__ import annotations

import json

import pytest

from mlalab.catalog import load_labs
from mlalab.engines.validation import rules_table, service_model, validate

RETENTION = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html"
NAMING = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
CREATE_KEY = "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html"


# The values listed on the PutRetentionPolicy page (RETENTION), copied here rather than imported from the
# engine so that a wrong value in the engine fails these tests.
DOCUMENTED_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                             2922, 3288, 3653)
NEIGHBOURS = sorted({d + step for d in DOCUMENTED_RETENTION_DAYS for step in (-1, 1)} - set(DOCUMENTED_RETENTION_DAYS))


def _retention(days: int):
    return validate("logs", "PutRetentionPolicy", {"logGroupName": "/aws/sagemaker/TrainingJobs",
                                                   "retentionInDays": days})


def test_documented_retention_days_are_accepted():
    """Every value the PutRetentionPolicy page lists (RETENTION) is accepted."""
    assert [days for days in DOCUMENTED_RETENTION_DAYS if _retention(days) is not None] == []


@pytest.mark.parametrize("days", [*NEIGHBOURS, 45, 3650, 10000])
def test_other_retention_days_are_refused(days):
    # retentionInDays is an enum of days (the PutRetentionPolicy page, RETENTION): each documented value's
    # neighbours are refused, with the documented values listed.
    rejection = _retention(days)
    assert rejection.code == "InvalidParameterException"
    assert rejection.message == (
        f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member "
        f"must satisfy enum value set: [{', '.join(map(str, DOCUMENTED_RETENTION_DAYS))}]")


def test_log_group_name_pattern():
    """logGroupName: 1-512 characters of [.-_/#A-Za-z0-9] (CreateLogGroup API reference)."""
    assert validate("logs", "CreateLogGroup", {"logGroupName": "/aws/sagemaker/TrainingJobs"}) is None
    rejection = validate("logs", "CreateLogGroup", {"logGroupName": "training logs"})
    assert rejection.code == "InvalidParameterException" and "regular expression pattern" in rejection.message


@pytest.mark.parametrize("name, ok", [
    ("training-data-123", True), ("a.b.c", True), ("ab", False), ("a" * 64, False), ("Upper", False),
    ("under_score", False), ("-start", False), ("end-", False), ("two..dots", False), ("192.168.5.4", False),
    ("xn--punycode", False), ("bucket-s3alias", False), ("bucket--ol-s3", False),
])
def test_bucket_naming_rules(name, ok):
    # Bucket naming rules (NAMING).
    rejection = validate("s3", "CreateBucket", {"Bucket": name}, model=False)
    assert (rejection is None) is ok
    if not ok:
        assert (rejection.code, rejection.message) == ("InvalidBucketName", "The specified bucket is not valid.")


@pytest.mark.parametrize("policy, message", [
    ("nope", "Policies must be valid JSON and the first byte must be '{'"),
    (json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}),
     "Missing required field Principal"),
    (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::other/*"}]}), "Policy has invalid resource"),
])
def test_bucket_policy_rules(policy, message):
    """PutBucketPolicy: a JSON policy with a Principal and resources in this bucket (PutBucketPolicy API reference)."""
    rejection = validate("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": policy}, model=False)
    assert (rejection.code, rejection.message) == ("MalformedPolicy", message)


@pytest.mark.parametrize("statement, message", [
    pytest.param("s3:GetObject", "Policies must be valid JSON and the first byte must be '{'",
                 id="statement-not-object https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html"),
    pytest.param({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                  "Resource": "arn:aws:sqs:us-east-1:123456789012:queue"}, "Policy has invalid resource",
                 id="not-an-s3-resource https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html"),
])
def test_bucket_policy_statement_rules(statement, message):
    """Each statement is an object whose resources are in this bucket (PutBucketPolicy API reference)."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    rejection = validate("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": policy}, model=False)
    assert (rejection.code, rejection.message) == ("MalformedPolicy", message)


def test_truncated_json_policy_is_refused():
    """A policy that starts with '{' but is not JSON is refused like any non-JSON policy (PutBucketPolicy)."""
    rejection = validate("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": '{"Statement": ['}, model=False)
    assert (rejection.code, rejection.message) == (
        "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")


def test_bucket_policy_without_a_policy_is_not_judged_here():
    """No Policy to read (moto answers the missing body): the rule adds nothing."""
    assert validate("s3", "PutBucketPolicy", {"Bucket": "b"}, model=False) is None


def test_single_statement_object_and_wildcard_resource_are_accepted():
    """Statement may be one object rather than a list (IAM policy grammar, which bucket policies use), and
    "*" covers this bucket (the engine's reading of PutBucketPolicy's resource rule; not recorded from AWS)."""
    policy = {"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}}
    assert validate("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": json.dumps(policy)}, model=False) is None


def test_valid_bucket_policy_is_accepted():
    policy = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                             "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    assert validate("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": json.dumps(policy)}, model=False) is None


@pytest.mark.parametrize("params, ok", [
    ({}, True), ({"KeyUsage": "ENCRYPT_DECRYPT"}, True),
    ({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}, True),
    ({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}, True), ({"KeyUsage": "SIGN_VERIFY"}, False),
    ({"KeySpec": "HMAC_256"}, False), ({"KeySpec": "ECC_SECG_P256K1", "KeyUsage": "ENCRYPT_DECRYPT"}, False),
])
def test_kms_key_usage_fits_key_spec(params, ok):
    # KeyUsage depends on KeySpec (CREATE_KEY).
    rejection = validate("kms", "CreateKey", params)
    assert (rejection is None) is ok
    if not ok:
        assert rejection.code == "ValidationException"


def test_kms_model_and_policy():
    """KeyUsage enum (model) answers ValidationException; a non-JSON key policy is MalformedPolicyDocumentException
    (CreateKey/PutKeyPolicy API reference)."""
    enum = validate("kms", "CreateKey", {"KeyUsage": "ENCRYPT"})
    assert enum.code == "ValidationException" and "at 'keyUsage'" in enum.message
    policy = validate("kms", "PutKeyPolicy", {"KeyId": "k", "Policy": "{", "PolicyName": "default"})
    assert policy.code == "MalformedPolicyDocumentException"
    no_statement = validate("kms", "PutKeyPolicy", {"KeyId": "k", "Policy": '{"Version": "2012-10-17"}'})
    assert no_statement.code == "MalformedPolicyDocumentException"
    key_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                                          "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}
    assert validate("kms", "PutKeyPolicy", {"KeyId": "k", "Policy": json.dumps(key_policy)}) is None


def test_sagemaker_model_constraints():
    """SageMaker gets the model constraints (CreateEndpointConfig API reference: InitialInstanceCount >= 1,
    EndpointConfigName pattern)."""
    params = {"EndpointConfigName": "bad name", "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 0, "InstanceType": "ml.m5.large"}]}
    rejection = validate("sagemaker", "CreateEndpointConfig", params)
    assert rejection.code == "ValidationException"
    assert rejection.message.startswith("2 validation errors detected: ")
    assert "at 'endpointConfigName'" in rejection.message
    assert "at 'productionVariants.1.member.initialInstanceCount'" in rejection.message


def test_every_lab_service_has_a_model_and_rules_are_listed():
    """The standard for every lab: each service of every lab.yaml is validated at least against its model."""
    services = {service for lab in load_labs() for service in lab.services}
    assert services >= {"cloudwatch", "iam", "s3", "kms", "logs", "sagemaker"}
    for service in services:
        assert service_model(service).operation_names, service
    table = rules_table()
    assert "PutMetricAlarm" in table["cloudwatch"] and "CreateRole" in table["iam"]


def test_unknown_operation_is_not_refused():
    assert validate("cloudwatch", "NoSuchOperation", {"X": 1}) is None


@pytest.mark.parametrize("value, refused", [(0, True), (1, False), (50, False), (51, True)])
def test_cloudtrail_lookup_events_max_results(value, refused):
    """CloudTrail LookupEvents API reference: MaxResults 1 through 50, else InvalidMaxResultsException
    (CloudTrail's own error, not the generic ValidationException)."""
    rejection = validate("cloudtrail", "LookupEvents", {"MaxResults": value})
    assert (rejection is not None) == refused
    if refused:
        assert rejection.code == "InvalidMaxResultsException"
