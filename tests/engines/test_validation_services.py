"""Conformance of the request validation engine for S3, KMS, CloudWatch Logs and SageMaker, and the
rule that every service of every lab gets at least the model validation."""

from __future__ import annotations

import json

import pytest

from mlalab.catalog import load_labs
from mlalab.engines.validation import rules_table, service_model, validate
from mlalab.engines.validation.logs import RETENTION_DAYS

RETENTION = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html"
NAMING = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
CREATE_KEY = "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html"


@pytest.mark.parametrize("days", RETENTION_DAYS)
def test_documented_retention_days_are_accepted(days):
    assert validate("logs", "PutRetentionPolicy", {"logGroupName": "/aws/sagemaker/TrainingJobs",
                                                   "retentionInDays": days}) is None


@pytest.mark.parametrize("days", [0, 2, 31, 45, 366, 3650, 10000])
def test_other_retention_days_are_refused(days):
    # retentionInDays is an enum of days (the PutRetentionPolicy page, RETENTION).
    rejection = validate("logs", "PutRetentionPolicy", {"logGroupName": "g", "retentionInDays": days})
    assert rejection.code == "InvalidParameterException"
    assert rejection.message.startswith(f"1 validation error detected: Value '{days}' at 'retentionInDays' failed")


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
