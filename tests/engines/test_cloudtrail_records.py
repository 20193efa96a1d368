"""CloudTrail engine: records, identities, selectors and delivery files compared with AWS's documented
shapes (CloudTrail user guide, "CloudTrail record contents", "CloudTrail userIdentity element",
"CloudTrail digest file structure") and the real samples in shared/reference/events/3-cloudtrail."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mlalab.engines import cloudtrail as ct
from mlalab.engines.cloudtrail import delivery, identity
from tests.reference import REFERENCE as REFERENCE_ROOT

REFERENCE = REFERENCE_ROOT / "events" / "3-cloudtrail"
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


# --- record fields (CloudTrail record contents:
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html) ----

def test_event_time_is_in_utc_whatever_the_caller_clock_zone():
    """``eventTime``: "The date and time the request was completed, in coordinated universal time (UTC)"."""
    paris = WHEN.astimezone(timezone(timedelta(hours=1)))
    assert ct.iso(paris) == "2026-03-02T14:05:09Z"
    assert _management_record(time=paris)["eventTime"] == "2026-03-02T14:05:09Z"


def test_dates_in_parameters_are_json_strings():
    """A record is JSON: a date parameter is written as its ISO text."""
    params = ct.camel_keys({"Day": date(2026, 3, 2), "Window": {"From": WHEN}})
    assert params == {"day": "2026-03-02", "window": {"from": "2026-03-02T14:05:09Z"}}
    json.dumps(params)


def test_deeply_nested_parameters_are_logged_whole():
    """``requestParameters``: "The parameters, if any, that were sent with the request": a structure nested
    40 levels deep (dicts and lists) is logged whole, keys camel-cased at every level."""
    sent, logged = "leaf", "leaf"
    for level in range(40):
        sent, logged = ({"Level": sent}, {"level": logged}) if level % 2 else ([sent], [logged])
    assert ct.camel_keys(sent) == logged


def test_recording_never_fails_on_a_pathologically_deep_request():
    """CloudTrail records a call after it is answered and a record never changes the call's outcome, so
    building one must not raise, even for a request nested thousands of levels deep."""
    sent = "leaf"
    for _ in range(3000):
        sent = {"Level": [sent]}
    logged = ct.camel_keys(sent)
    assert list(logged) == ["level"] and isinstance(logged["level"], list)


def test_a_successful_write_call_keeps_its_response_elements():
    """``responseElements``: "The response element for actions that make changes (create, update, or delete
    actions)"."""
    record = _management_record(name="CreateEndpoint", response_elements={"endpointArn": "arn:aws:sagemaker:e"})
    assert record["responseElements"] == {"endpointArn": "arn:aws:sagemaker:e"}


def test_request_id_is_the_service_one_or_a_generated_one():
    """``requestID``: "The value that identifies the request. The service being called generates this value"."""
    assert _management_record(request_id="6b1b42b9-EXAMPLE")["requestID"] == "6b1b42b9-EXAMPLE"
    generated = _management_record()["requestID"]
    assert isinstance(generated, str) and uuid.UUID(generated)


def test_s3_parameters_keep_sub_resources_and_drop_the_policy_body():
    """S3 user guide, "CloudTrail log file entries for Amazon S3": ``bucketName``, ``Host`` and the query
    string's sub-resources (``"policy": ""`` for PutBucketPolicy); the request body is not a parameter
    named ``Policy``."""
    params = ct.s3_request_parameters({"Bucket": "b", "policy": "", "Policy": '{"Version": "2012-10-17"}'},
                                      "b.s3.amazonaws.com")
    assert params == {"bucketName": "b", "policy": "", "Host": "b.s3.amazonaws.com"}


def test_s3_resources_of_a_bucket_call_name_only_the_bucket():
    """A bucket-level call is about the bucket alone: no ``AWS::S3::Object`` resource."""
    assert ct.s3_resources("111122223333", "b", None) == [
        {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}]
    assert ct.s3_resources("111122223333", "b", "k")[0] == {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/k"}
    assert ct.s3_resources("111122223333", None, None) == []


# --- more selectors (EventSelector/DataResource, AdvancedFieldSelector API references) ----------------

def _lambda(function: str) -> dict:
    arn = f"arn:aws:lambda:us-east-1:1:function:{function}"
    return ct.build_record(identity=identity.root("1"), time=WHEN, source="lambda.amazonaws.com", name="Invoke",
                           region="us-east-1", source_ip="", user_agent="", request_parameters=None,
                           response_elements=None, read_only=False, account="1", category="Data",
                           resources=[{"accountId": "1", "type": "AWS::Lambda::Function", "ARN": arn}])


def test_basic_data_resources_match_their_type_and_bucket():
    """``DataResource.Type`` names the resource type a selector logs; an S3 value is a bucket (or
    ``bucket/prefix``) ARN that the object ARN starts with."""
    lambdas = [{"IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]
    assert ct.selects(_lambda("score"), event_selectors=lambdas)
    assert not ct.selects(_s3("GetObject", "data/x"), event_selectors=lambdas)
    other_bucket = [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::else/"]}]}]
    assert not ct.selects(_s3("GetObject", "data/x"), event_selectors=other_bucket)


def test_a_lambda_function_arn_selects_that_function_only():
    """``DataResource.Values`` for Lambda: ``arn:aws:lambda`` for all functions, else a function's ARN,
    which logs that function only (not every function whose name starts the same)."""
    one = [{"DataResources": [{"Type": "AWS::Lambda::Function",
                               "Values": ["arn:aws:lambda:us-east-1:1:function:score"]}]}]
    assert ct.selects(_lambda("score"), event_selectors=one)
    assert not ct.selects(_lambda("score-v2"), event_selectors=one)


def test_a_data_event_about_no_resource_is_not_selected_by_resource():
    """A data event is logged for the resources a selector names; one whose record names no resource
    matches no DataResource and no ``resources.*`` condition."""
    bare = ct.build_record(identity=identity.root("1"), time=WHEN, source="sns.amazonaws.com", name="Publish",
                           region="us-east-1", source_ip="", user_agent="", request_parameters=None,
                           response_elements=None, read_only=False, account="1", category="Data")
    topics = [{"DataResources": [{"Type": "AWS::SNS::Topic", "Values": ["arn:aws:sns"]}]}]
    assert not ct.selects(bare, event_selectors=topics)
    typed = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                 {"Field": "resources.type", "Equals": ["AWS::SNS::Topic"]}]}]
    assert not ct.selects(bare, advanced_event_selectors=typed)


def test_advanced_selector_on_the_caller_arn():
    """``userIdentity.arn`` field: log only the data events of one role's sessions."""
    session = identity.assumed_role("1", "trainer", "s1", "ASIAEXAMPLE", WHEN)
    record = ct.build_record(identity=session, time=WHEN, source="s3.amazonaws.com", name="PutObject",
                             region="us-east-1", source_ip="", user_agent="", request_parameters=None,
                             response_elements=None, read_only=False, account="1", category="Data",
                             resources=ct.s3_resources("1", "train", "data/x"))
    sessions = "arn:aws:sts::1:assumed-role/trainer/"
    trainer = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                   {"Field": "userIdentity.arn", "StartsWith": [sessions]}]}]
    assert ct.selects(record, advanced_event_selectors=trainer)
    assert not ct.selects(_s3("PutObject", "data/x"), advanced_event_selectors=trainer)


# --- digest signatures ("Custom implementations of CloudTrail log file integrity validation":
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html) -----

def test_a_digest_verifies_with_the_published_public_key_as_aws_describes():
    """RSA over the SHA-256 of the data signing string (SHA256withRSA), hex-encoded, checked with the public
    key alone. The key is 2048-bit RSA like AWS's (the ``list-public-keys`` example's key is a 2048-bit
    modulus), so a signature is 256 bytes: 512 hex characters."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    log = delivery.DeliveredLog("b", "k1", "ab" * 32, WHEN, WHEN)
    digest = delivery.digest_file(account="111122223333", region="us-east-2", trail_name="t", home_region="us-east-2",
                                  bucket="b", prefix="audit", start=WHEN, end=WHEN, logs=[log], previous=None)
    assert digest.key.startswith("audit/AWSLogs/111122223333/CloudTrail-Digest/")
    document = json.loads(gzip.decompress(digest.body))
    assert hashlib.sha256(gzip.decompress(digest.body)).hexdigest() == digest.sha256
    public_key = serialization.load_pem_public_key(delivery.public_key_pem())
    assert public_key.key_size == 2048 and len(digest.signature) == 512
    data = f"{document['digestEndTime']}\n{document['digestS3Bucket']}/{document['digestS3Object']}\n" \
           f"{digest.sha256}\nnull"
    public_key.verify(bytes.fromhex(digest.signature), data.encode(), padding.PKCS1v15(), hashes.SHA256())
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert document["digestPublicKeyFingerprint"] == hashlib.md5(der).hexdigest()


def test_verify_answers_false_for_a_tampered_or_malformed_signature():
    data = delivery.signing_string(WHEN, "b", "k", "00" * 32, None)
    signature = delivery.sign(data)
    assert delivery.verify(data, signature) is True
    assert delivery.verify(data.replace("00", "01", 1), signature) is False
    assert delivery.verify(data, "not hex") is False
