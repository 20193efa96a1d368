"""CloudTrail engine: records, identities, selectors and delivery files compared with AWS's documented
shapes (CloudTrail user guide, "CloudTrail record contents", "CloudTrail userIdentity element",
"CloudTrail digest file structure") and the real samples in shared/reference/events/3-cloudtrail."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mlalab.engines import cloudtrail as ct
from mlalab.engines.cloudtrail import delivery, identity

REFERENCE = Path("/work/shared/reference/events/3-cloudtrail")
WHEN = datetime(2026, 3, 2, 14, 5, 9, 123456, tzinfo=UTC)


def _sample(name: str) -> dict:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"reference sample {name} not available")
    return json.loads(path.read_text())


def _types(value):
    """The shape of a document: keys and JSON types, recursively (values dropped)."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(value[0])] if value else []
    return type(value).__name__


def _management_record(**overrides) -> dict:
    args = dict(identity=identity.assumed_role("123456789000", "ops", "me@dev.com", "ASIAEXAMPLE", WHEN),
                time=WHEN, source=ct.event_source("sagemaker"), name="DeleteEndpoint", region="eu-west-1",
                source_ip="198.51.100.7", user_agent="aws-cli/2", request_parameters={"endpointName": "e"},
                response_elements={"x": "y"}, read_only=False, account="123456789000")
    args.update(overrides)
    return ct.build_record(**args)


def test_management_record_matches_the_real_1_08_sample_shape():
    sample = _sample("awslabs-aws-lambda-rust-runtime__example-cloudwatch-cloudtrail-assumed-role.json")
    record = _management_record()
    # Same keys in the same order, minus the console-only flag (no console here).
    assert list(record) == [k for k in sample if k != "sessionCredentialFromConsole"]
    ours, theirs = _types(record), _types(sample)
    for key in ("eventVersion", "eventTime", "readOnly", "managementEvent", "eventCategory", "eventType"):
        assert ours[key] == theirs[key], key
    # userIdentity: same keys and nesting (invokedBy only when a service called on the user's behalf).
    theirs_identity = {k: v for k, v in theirs["userIdentity"].items() if k != "invokedBy"}
    assert ours["userIdentity"] == theirs_identity
    assert record["eventVersion"] == "1.08" and record["eventTime"] == "2026-03-02T14:05:09Z"
    assert uuid.UUID(record["eventID"]).version == 4
    assert record["userIdentity"]["principalId"].endswith(":me@dev.com")
    assert record["userIdentity"]["arn"] == "arn:aws:sts::123456789000:assumed-role/ops/me@dev.com"
    assert record["userIdentity"]["sessionContext"]["attributes"] == {"creationDate": "2026-03-02T14:05:09Z",
                                                                      "mfaAuthenticated": "false"}


def test_data_event_matches_the_real_s3_sample_shape():
    sample = _sample("aws-powertools-powertools-lambda-python__tests-functional-validator-conftest.py"
                     ".lines333-404.DERIVED.json")["detail"]
    record = ct.build_record(
        identity=identity.iam_user("123456789012", "ana", "AKIAEXAMPLE"), time=WHEN, source="s3.amazonaws.com",
        name="HeadObject", region="us-west-1", source_ip="10.0.0.1", user_agent="Boto3",
        request_parameters=ct.s3_request_parameters({"Bucket": "b", "Key": "p/f.zip"}, "b.s3.amazonaws.com"),
        response_elements=None, read_only=True, account="123456789012", category="Data",
        resources=ct.s3_resources("123456789012", "b", "p/f.zip"),
        additional_event_data={"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader",
                               "bytesTransferredIn": 0, "bytesTransferredOut": 0})
    # No VPC endpoint and no TLS here (plain HTTP on loopback): those optional keys are absent.
    assert set(record) == set(sample) - {"vpcEndpointId"}
    assert [_types(r) for r in record["resources"]] == [_types(r) for r in sample["resources"]]
    assert set(record["requestParameters"]) == set(sample["requestParameters"])
    assert record["managementEvent"] is False and record["eventCategory"] == "Data" and record["readOnly"] is True
    assert record["responseElements"] is None


def test_iam_user_identity_matches_the_s3_guide_sample():
    sample = _sample("awsdocs-amazon-s3-userguide__cloudtrail-logging-understanding-s3-entries.md.block0.json")
    theirs = sample["Records"][0]["userIdentity"]
    ours = identity.iam_user("111122223333", "myUserName", "AKIAIOSFODNN7EXAMPLE")
    assert list(ours) == list(theirs)
    assert ours["arn"] == theirs["arn"] and ours["principalId"].startswith("AIDA")


def test_camel_case_rule_and_secrets():
    params = {"EndpointName": "e", "SSOUserEmail": "x", "Tags": [{"Key": "k", "Value": "v"}],
              "SecretString": "s3cr3t", "Body": b"bytes", "When": WHEN}
    assert ct.camel_keys(params) == {"endpointName": "e", "sSOUserEmail": "x", "tags": [{"key": "k", "value": "v"}],
                                     "secretString": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                     "when": "2026-03-02T14:05:09Z"}


@pytest.mark.parametrize(("service", "action", "read_only", "kind"), [
    ("sagemaker", "DeleteEndpoint", False, None),
    ("sagemaker", "DescribeEndpoint", True, None),
    ("s3", "GetObject", True, "AWS::S3::Object"),
    ("s3", "PutObject", False, "AWS::S3::Object"),
    ("s3", "CreateBucket", False, None),
    ("s3", "ListObjectsV2", True, None),
    ("sns", "Publish", False, "AWS::SNS::Topic"),
    ("lambda", "Invoke", False, "AWS::Lambda::Function"),
    ("kms", "Decrypt", True, None),
    ("sts", "AssumeRole", False, None),
])
def test_read_only_and_category(service, action, read_only, kind):
    assert ct.is_read_only(service, action) is read_only
    assert ct.data_resource_type(service, action) == kind


def test_failed_call_has_error_fields_and_no_response_elements():
    record = _management_record(error_code="ValidationException", error_message="bad")
    assert record["errorCode"] == "ValidationException" and record["errorMessage"] == "bad"
    assert record["responseElements"] is None
    assert list(record).index("errorCode") == list(record).index("userAgent") + 1


def test_event_source_of_cloudwatch_is_monitoring():
    assert ct.event_source("monitoring") == "monitoring.amazonaws.com"
    assert ct.event_source("runtime.sagemaker") == "sagemaker.amazonaws.com"
    assert ct.event_source("api.sagemaker") == "sagemaker.amazonaws.com"


# --- selectors (PutEventSelectors API reference: EventSelector, AdvancedFieldSelector) ---------------

def _s3(action: str, key: str, bucket: str = "train") -> dict:
    kind = ct.data_resource_type("s3", action)
    return ct.build_record(identity=identity.root("1"), time=WHEN, source="s3.amazonaws.com", name=action,
                           region="us-east-1", source_ip="", user_agent="", request_parameters=None,
                           response_elements=None, read_only=ct.is_read_only("s3", action), account="1",
                           category="Data" if kind else "Management",
                           resources=ct.s3_resources("1", bucket, key) if kind else None)


DATA_ONLY = [{"Name": "objects", "FieldSelectors": [
    {"Field": "eventCategory", "Equals": ["Data"]},
    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::train/data/"]}]}]


def test_default_trail_logs_management_events_only():
    assert ct.selects(_management_record())
    assert not ct.selects(_s3("GetObject", "data/x"))


def test_advanced_selector_for_a_prefix():
    assert ct.selects(_s3("PutObject", "data/x"), advanced_event_selectors=DATA_ONLY)
    assert not ct.selects(_s3("PutObject", "other/x"), advanced_event_selectors=DATA_ONLY)
    assert not ct.selects(_s3("PutObject", "data/x", bucket="else"), advanced_event_selectors=DATA_ONLY)
    # Advanced selectors replace the default: management events are no longer logged without a selector.
    assert not ct.selects(_management_record(), advanced_event_selectors=DATA_ONLY)
    write_only = [{"FieldSelectors": DATA_ONLY[0]["FieldSelectors"] + [{"Field": "readOnly", "Equals": ["false"]}]}]
    assert not ct.selects(_s3("GetObject", "data/x"), advanced_event_selectors=write_only)
    assert ct.selects(_s3("DeleteObject", "data/x"), advanced_event_selectors=write_only)


def test_advanced_negative_operators_all_must_hold():
    selectors = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                     {"Field": "eventName", "NotEquals": ["DescribeEndpoint", "DeleteEndpoint"]}]}]
    assert not ct.selects(_management_record(), advanced_event_selectors=selectors)
    assert ct.selects(_management_record(name="CreateEndpoint"), advanced_event_selectors=selectors)


def test_basic_selectors():
    data = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
             "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::train/data/"]}]}]
    assert ct.selects(_s3("PutObject", "data/x"), event_selectors=data)
    assert not ct.selects(_s3("GetObject", "data/x"), event_selectors=data)
    assert not ct.selects(_management_record(), event_selectors=data)
    everything = [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]
    assert ct.selects(_s3("GetObject", "any"), event_selectors=everything)
    assert ct.selects(_management_record(), event_selectors=everything)
    excluded = [{"ExcludeManagementEventSources": ["sagemaker.amazonaws.com"]}]
    assert not ct.selects(_management_record(), event_selectors=excluded)


# --- delivery files ----------------------------------------------------------------------------------

def test_log_file_key_and_body():
    key = delivery.log_file_key("111122223333", "us-east-2", WHEN, prefix="audit/")
    assert re.fullmatch(r"audit/AWSLogs/111122223333/CloudTrail/us-east-2/2026/03/02/"
                        r"111122223333_CloudTrail_us-east-2_20260302T1405Z_[A-Za-z0-9]{16}\.json\.gz", key)
    body, sha = delivery.log_file([_management_record()])
    raw = gzip.decompress(body)
    assert list(json.loads(raw)) == ["Records"] and hashlib.sha256(raw).hexdigest() == sha


def test_digest_chain_and_signature():
    log = delivery.DeliveredLog("b", "k1", "ab" * 32, WHEN, WHEN)
    first = delivery.digest_file(account="111122223333", region="us-east-2", trail_name="t", home_region="us-east-2",
                                 bucket="b", prefix=None, start=WHEN, end=WHEN, logs=[log], previous=None)
    assert first.key == ("AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/03/02/"
                         "111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20260302T140509Z.json.gz")
    document = json.loads(gzip.decompress(first.body))
    assert set(document) == {
        "awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
        "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "newestEventTime", "oldestEventTime",
        "previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm",
        "previousDigestSignature", "logFiles"}
    assert document["previousDigestSignature"] is None and document["digestSignatureAlgorithm"] == "SHA256withRSA"
    assert document["logFiles"][0] == {"s3Bucket": "b", "s3Object": "k1", "hashValue": "ab" * 32,
                                       "hashAlgorithm": "SHA-256", "newestEventTime": "2026-03-02T14:05:09Z",
                                       "oldestEventTime": "2026-03-02T14:05:09Z"}
    assert delivery.verify(delivery.signing_string(WHEN, "b", first.key, first.sha256, None), first.signature)
    assert not delivery.verify(delivery.signing_string(WHEN, "b", first.key, "00" * 32, None), first.signature)
    second = delivery.digest_file(account="111122223333", region="us-east-2", trail_name="t", home_region="us-east-2",
                                  bucket="b", prefix=None, start=WHEN, end=WHEN, logs=[], previous=first)
    chained = json.loads(gzip.decompress(second.body))
    assert chained["previousDigestSignature"] == first.signature
    assert chained["previousDigestHashValue"] == first.sha256 and chained["previousDigestS3Object"] == first.key
