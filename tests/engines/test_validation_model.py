"""Conformance of the model layer of request validation (:mod:`mlalab.engines.validation.model`): the
constraints of botocore's model are AWS's documented constraints of each member (the "Length
Constraints", "Valid Range", "Array Members" and "Required" lines of each operation's API reference
page), checked at both sides of every boundary and answered in AWS's ("Coral") message format."""

from __future__ import annotations

import pytest

from mlalab.engines.validation import model_error_code, rules_table, validate
from mlalab.engines.validation.model import _show

DELETE_ALARMS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html"
ASSUME_ROLE = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"
ENCRYPT = "https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html"
ENDPOINT_CONFIG = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html"
TRAINING_JOB = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html"

ROLE = "arn:aws:iam::123456789012:role/r"
TRAINING = {"TrainingJobName": "j", "RoleArn": ROLE, "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "image"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}}
VARIANT = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}


def _message(service: str, operation: str, params: dict) -> str | None:
    rejection = validate(service, operation, params)
    return rejection.message if rejection else None


def _assume(seconds) -> str | None:
    return _message("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "ok", "DurationSeconds": seconds})


@pytest.mark.parametrize("seconds, message", [
    pytest.param(900, None, id=f"min {ASSUME_ROLE}"),
    pytest.param(43200, None, id=f"max {ASSUME_ROLE}"),
    pytest.param(899, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: "
                 "Member must have value greater than or equal to 900", id=f"below-min {ASSUME_ROLE}"),
    pytest.param(43201, "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy "
                 "constraint: Member must have value less than or equal to 43200", id=f"above-max {ASSUME_ROLE}"),
])
def test_number_range_boundaries(seconds, message):
    """AssumeRole DurationSeconds: valid range 900-43200, both ends included."""
    assert _assume(seconds) == message


@pytest.mark.parametrize("names, message", [
    pytest.param(["x" * 255], None, id=f"name-max {DELETE_ALARMS}"),
    pytest.param(["a"] * 100, None, id=f"items-max {DELETE_ALARMS}"),
    pytest.param(["a"] * 101, "1 validation error detected: Value '[" + ", ".join(["a"] * 101) + "]' at 'alarmNames' "
                 "failed to satisfy constraint: Member must have length less than or equal to 100",
                 id=f"items-above-max {DELETE_ALARMS}"),
    pytest.param([""], "1 validation error detected: Value '' at 'alarmNames.1.member' failed to satisfy constraint: "
                 "Member must have length greater than or equal to 1", id=f"name-below-min {DELETE_ALARMS}"),
])
def test_string_and_list_length_boundaries(names, message):
    """DeleteAlarms AlarmNames: at most 100 names of 1-255 characters; a list is shown as Java prints it."""
    assert _message("cloudwatch", "DeleteAlarms", {"AlarmNames": names}) == message


def test_required_member_is_not_null():
    """A member the API reference marks "Required: Yes" is answered with "Member must not be null"
    (DeleteAlarms, AlarmNames)."""
    assert _message("cloudwatch", "DeleteAlarms", {}) == \
        "1 validation error detected: Value null at 'alarmNames' failed to satisfy constraint: Member must not be null"


def test_a_member_of_the_url_path_is_not_reported_missing():
    """Members bound to the URL path (REST services: S3's Key of GetObject) cannot be missing from a request
    that reached the operation: the path would not have routed to it, so the model layer does not report them."""
    assert validate("s3", "GetObject", {"Bucket": "b"}) is None


def test_at_most_ten_violations_are_listed():
    """AWS lists at most ten violations in one message ("10 validation errors detected: ...")."""
    message = _message("cloudwatch", "DeleteAlarms", {"AlarmNames": ["x" * 256] * 12})
    assert message.startswith("10 validation errors detected: Value '" + "x" * 256 + "' at 'alarmNames.1.member'")
    assert message.count("failed to satisfy constraint") == 10
    assert "alarmNames.10.member" in message and "alarmNames.11.member" not in message


@pytest.mark.parametrize("plaintext, message", [
    pytest.param(b"x" * 4096, None, id=f"max {ENCRYPT}"),
    pytest.param(b"x", None, id=f"min {ENCRYPT}"),
    pytest.param(b"x" * 4097, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
                 "Member must have length less than or equal to 4096", id=f"above-max {ENCRYPT}"),
    pytest.param(b"", "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
                 "Member must have length greater than or equal to 1", id=f"below-min {ENCRYPT}"),
])
def test_blob_length_and_sensitive_value(plaintext, message):
    """Encrypt Plaintext: 1-4096 bytes. Plaintext is sensitive: AWS does not repeat its value ("Value at
    'plaintext'", as AWS answers an oversized Plaintext)."""
    assert _message("kms", "Encrypt", {"KeyId": "alias/k", "Plaintext": plaintext}) == message


@pytest.mark.parametrize("count, message", [
    pytest.param(1, None, id=f"min {ENDPOINT_CONFIG}"),
    pytest.param(10, None, id=f"max {ENDPOINT_CONFIG}"),
    pytest.param(11, "Member must have length less than or equal to 10", id=f"above-max {ENDPOINT_CONFIG}"),
    pytest.param(0, "Member must have length greater than or equal to 1", id=f"below-min {ENDPOINT_CONFIG}"),
])
def test_list_item_count_boundaries(count, message):
    """CreateEndpointConfig ProductionVariants: 1 to 10 items."""
    params = {"EndpointConfigName": "c", "ProductionVariants": [VARIANT] * count}
    found = _message("sagemaker", "CreateEndpointConfig", params)
    if message is None:
        assert found is None
    else:
        assert found.startswith("1 validation error detected: Value '[") and found.endswith(
            f"]' at 'productionVariants' failed to satisfy constraint: {message}")


def _training(**changes) -> str | None:
    return _message("sagemaker", "CreateTrainingJob", {**TRAINING, **changes})


HYPER_KEYS = ("[Member must have length less than or equal to 256, Member must have length greater than or equal to "
              "0, Member must satisfy regular expression pattern: .*]")
HYPER_VALUES = ("[Member must have length less than or equal to 2500, Member must have length greater than or equal "
                "to 0, Member must satisfy regular expression pattern: .*]")


def test_the_training_job_of_the_tests_is_valid():
    assert _training() is None
    assert _training(HyperParameters={f"k{i}": "v" for i in range(100)}, Environment={"MODE": "train"}) is None
    assert _training(HyperParameters={"k" * 256: "v" * 2500}) is None


def test_map_entry_count():
    """CreateTrainingJob HyperParameters: at most 100 entries; a map is shown as Java prints it ({k=v})."""
    params = {f"k{i}": "v" for i in range(101)}
    shown = "{" + ", ".join(f"k{i}=v" for i in range(101)) + "}"
    assert _training(HyperParameters=params) == (
        f"1 validation error detected: Value '{shown}' at 'hyperParameters' failed to satisfy constraint: "
        "Member must have length less than or equal to 100")


@pytest.mark.parametrize("hyper, side, constraints", [
    pytest.param({"k" * 257: "v", "x" * 300: "v"}, "keys", HYPER_KEYS, id=f"keys {TRAINING_JOB}"),
    pytest.param({"a": "v" * 2501, "b": "v" * 2600}, "value", HYPER_VALUES, id=f"values {TRAINING_JOB}"),
])
def test_map_keys_and_values_are_reported_once(hyper, side, constraints):
    """HyperParameters keys are at most 256 characters and values at most 2,500; however many entries
    break the rule, AWS reports the keys once and the values once, listing every constraint."""
    shown = "{" + ", ".join(f"{k}={v}" for k, v in hyper.items()) + "}"
    assert _training(HyperParameters=hyper) == (
        f"1 validation error detected: Value '{shown}' at 'hyperParameters' failed to satisfy constraint: "
        f"Map {side} must satisfy constraint: {constraints}")


def test_map_key_pattern():
    """CreateTrainingJob Environment: keys match [a-zA-Z_][a-zA-Z0-9_]* (at most 512 characters)."""
    assert _training(Environment={"1MODE": "x"}) == (
        "1 validation error detected: Value '{1MODE=x}' at 'environment' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must have length less than or equal to 512, Member must have length greater "
        "than or equal to 0, Member must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*]")


def test_map_key_enum():
    """CreateResiliencyPolicy policy: keys are the disruption types Software, Hardware, AZ and Region
    (https://docs.aws.amazon.com/resilience-hub/latest/APIReference/API_CreateResiliencyPolicy.html); AWS answers
    "Map keys must satisfy constraint: [Member must satisfy enum value set: [...]]" (values in its own order,
    here the model's)."""
    targets = {"rpoInSecs": 60, "rtoInSecs": 300}
    params = {"policyName": "ml-endpoint", "tier": "Critical", "policy": {"AZ": targets}}
    assert validate("resiliencehub", "CreateResiliencyPolicy", params) is None
    assert _message("resiliencehub", "CreateResiliencyPolicy", {**params, "policy": {"Cloud": targets}}) == (
        "1 validation error detected: Value '{Cloud={rpoInSecs=60, rtoInSecs=300}}' at 'policy' failed to satisfy "
        "constraint: Map keys must satisfy constraint: [Member must satisfy enum value set: [Software, Hardware, AZ, "
        "Region]]")


@pytest.mark.parametrize("service, operation, params", [
    ("cloudwatch", "DescribeAlarms", {"AlarmNamePrefix": 5}),
    ("cloudwatch", "DescribeAlarms", {"AlarmNames": "x" * 300}),
    ("cloudwatch", "DescribeAlarms", {"MaxRecords": "1000"}),
    ("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "ok", "DurationSeconds": True}),
    ("kms", "Encrypt", {"KeyId": "alias/k", "Plaintext": "x" * 5000}),
    ("sagemaker", "CreateEndpointConfig", {"EndpointConfigName": "c", "ProductionVariants": ["x"]}),
    ("sagemaker", "CreateTrainingJob", {**TRAINING, "HyperParameters": [("k" * 300, "v")] * 101}),
])
def test_a_value_of_the_wrong_type_is_left_to_the_client(service, operation, params):
    """Types are checked by botocore's client before a request is sent (ParamValidationError), and a
    request parsed from the wire has its model's types: this layer neither reports nor trips over them."""
    assert validate(service, operation, params) is None


def test_values_are_shown_as_java_prints_them():
    """The "Value '...'" of AWS's messages is Java's rendering of the value."""
    assert _show(None) == "null"
    assert _show([True, None, 1.5, ["a"]]) == "[true, null, 1.5, [a]]"
    assert _show({"k": [False]}) == "{k=[false]}"
    assert _show(b"abc") == "java.nio.HeapByteBuffer"


def test_model_error_codes_by_protocol():
    """Query services answer ValidationError (CloudWatch too: it is query-compatible), JSON services
    ValidationException, CloudWatch Logs InvalidParameterException."""
    codes = {s: model_error_code(s) for s in ("iam", "cloudwatch", "sagemaker", "kms", "logs")}
    assert codes == {"iam": "ValidationError", "cloudwatch": "ValidationError", "sagemaker": "ValidationException",
                     "kms": "ValidationException", "logs": "InvalidParameterException"}


def test_a_service_without_rules_gets_the_model_only():
    """Services with no rule module (SNS) are checked against their model and nothing else (CreateTopic, Name)."""
    assert validate("sns", "CreateTopic", {"Name": "alarms"}) is None
    assert validate("sns", "CreateTopic", {}).message == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")


def test_rules_table_lists_each_rule_by_its_first_docstring_line():
    first_line = "retentionInDays is one of the documented values (PutRetentionPolicy, retentionInDays)."
    tags = "CloudWatch Logs: no tag key or value starts with 'aws:', and a log group holds at most 50 tags"
    assert rules_table()["logs"] == {"PutRetentionPolicy": [first_line], "TagResource": [tags],
                                     "TagLogGroup": [tags], "CreateLogGroup": [tags]}
    assert rules_table()["resourcegroupstaggingapi"] == {
        "TagResources": ["Resource Groups Tagging API: no tag key or value starts with 'aws:' (TagResources)"]}
