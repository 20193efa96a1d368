"""REQUIRED_TAGS as AWS Config documents it: "required-tags"
(https://docs.aws.amazon.com/config/latest/developerguide/required-tags.html), the rule's Scope
(https://docs.aws.amazon.com/config/latest/APIReference/API_Scope.html) and the rule's overall
compliance (https://docs.aws.amazon.com/config/latest/APIReference/API_Compliance.html)."""

from __future__ import annotations

import pytest

from mlalab.engines.config import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    ParameterError,
    RecordedResource,
    Rule,
    config_resource,
    evaluate_rule,
    parse_parameters,
    rule_compliance,
)

MODEL = "AWS::SageMaker::Model"


def model(name: str, **tags: str) -> RecordedResource:
    return RecordedResource(MODEL, name, tags)


def rule(params: str, **scope) -> Rule:
    return Rule("r", parse_parameters(params), **scope)


@pytest.mark.parametrize("tags, expected", [
    ({"CostCenter": "CC-1"}, COMPLIANT),
    ({}, NON_COMPLIANT),
    ({"costcenter": "CC-1"}, NON_COMPLIANT),  # keys are case-sensitive
    ({"CostCenter": ""}, COMPLIANT),  # no tag1Value: any value, the empty one too
], ids=["key-present", "no-tags", "wrong-case-key", "empty-value"])
def test_one_required_key(tags, expected):
    [result] = evaluate_rule(rule('{"tag1Key": "CostCenter"}'), [model("m", **tags)])
    assert result.compliance == expected


@pytest.mark.parametrize("value, expected", [("prod", COMPLIANT), ("dev", COMPLIANT), ("Prod", NON_COMPLIANT),
                                             ("test", NON_COMPLIANT)])
def test_allowed_values_are_comma_separated(value, expected):
    """tagNValue: "Separate multiple values with commas"; values compare exactly."""
    [result] = evaluate_rule(rule('{"tag1Key": "Environment", "tag1Value": "prod, dev"}'),
                             [model("m", Environment=value)])
    assert result.compliance == expected


def test_every_required_key_must_be_present():
    params = '{"tag1Key": "Project", "tag2Key": "Owner", "tag3Key": "CostCenter"}'
    results = evaluate_rule(rule(params), [model("a", Project="p", Owner="o", CostCenter="c"),
                                           model("b", Project="p", Owner="o")])
    assert [(r.resource_id, r.compliance) for r in results] == [("a", COMPLIANT), ("b", NON_COMPLIANT)]
    assert "missing tag CostCenter" in results[1].annotation


def test_scope_by_resource_type_leaves_others_without_result():
    bucket = RecordedResource("AWS::S3::Bucket", "b", {})
    results = evaluate_rule(rule('{"tag1Key": "Project"}', resource_types=(MODEL,)), [model("m"), bucket])
    assert [r.resource_id for r in results] == ["m"]


def test_scope_by_tag_key_and_value():
    scoped = rule('{"tag1Key": "Owner"}', tag_key="Environment", tag_value="prod")
    results = evaluate_rule(scoped, [model("p", Environment="prod"), model("d", Environment="dev"), model("n")])
    assert [(r.resource_id, r.compliance) for r in results] == [("p", NON_COMPLIANT)]


def test_scope_by_resource_id():
    results = evaluate_rule(rule('{"tag1Key": "Owner"}', resource_types=(MODEL,), resource_id="b"),
                            [model("a"), model("b")])
    assert [r.resource_id for r in results] == ["b"]


def test_deleted_resource_is_not_applicable():
    gone = RecordedResource(MODEL, "old", {}, deleted=True)
    [result] = evaluate_rule(rule('{"tag1Key": "Owner"}'), [gone])
    assert result.compliance == NOT_APPLICABLE


@pytest.mark.parametrize("params, message", [
    ("{}", "tag1Key"),
    ('{"tag2Key": "Owner"}', "tag1Key"),
    ('{"tag1Key": "A", "tag7Key": "B"}', "Unknown parameters"),
    ('{"tag1Key": "A", "tag2Value": "x"}', "tag2Value"),
    ("not json", "Invalid json"),
], ids=["empty", "no-tag1Key", "seventh-tag", "value-without-key", "bad-json"])
def test_parameters_config_refuses(params, message):
    with pytest.raises(ParameterError, match=message):
        parse_parameters(params)


def test_rule_compliance():
    assert rule_compliance([]) == ("INSUFFICIENT_DATA", 0)
    results = evaluate_rule(rule('{"tag1Key": "Owner"}'), [model("a", Owner="x"), model("b"), model("c")])
    assert rule_compliance(results) == (NON_COMPLIANT, 2)
    assert rule_compliance(results[:1]) == (COMPLIANT, 0)


@pytest.mark.parametrize("arn, expected", [
    ("arn:aws:sagemaker:us-east-1:1:model/m", (MODEL, "m")),
    ("arn:aws:sagemaker:us-east-1:1:notebook-instance/n", ("AWS::SageMaker::NotebookInstance", "n")),
    ("arn:aws:sagemaker:us-east-1:1:endpoint/e", ("AWS::SageMaker::Endpoint", "e")),
    ("arn:aws:s3:::bucket", ("AWS::S3::Bucket", "bucket")),
    ("arn:aws:logs:us-east-1:1:log-group:/aws/x", ("AWS::Logs::LogGroup", "/aws/x")),
    ("arn:aws:sagemaker:us-east-1:1:training-job/t", None),  # not a Config resource type
    ("arn:aws:sagemaker:us-east-1:1:processing-job/p", None),
])
def test_config_resource_types(arn, expected):
    assert config_resource(arn) == expected


def test_mapping_input_parameters() -> None:
    """InputParameters as the wire layer may already hold them (a mapping) are read like the JSON
    string PutConfigRule takes; none at all lack the required tag1Key (required-tags: tag1Key is
    required)."""
    assert parse_parameters({"tag1Key": "CostCenter", "tag1Value": "CC-1,CC-2"}) == (
        ("CostCenter", frozenset({"CC-1", "CC-2"})),)
    with pytest.raises(ParameterError, match="tag1Key"):
        parse_parameters(None)


@pytest.mark.parametrize("params", ['["tag1Key"]', '"CostCenter"', "1"], ids=["array", "string", "number"])
def test_input_parameters_must_be_a_json_object(params: str) -> None:
    """InputParameters is "a string, in JSON format" of parameter names and values (API_ConfigRule):
    JSON that is not an object is refused like invalid JSON."""
    with pytest.raises(ParameterError, match="Invalid json"):
        parse_parameters(params)


def test_up_to_six_tags_are_checked() -> None:
    """"You can check up to 6 tags at a time" (required-tags): tag6Key is a real parameter and is
    enforced like tag1Key."""
    keys = ["Project", "Owner", "CostCenter", "Environment", "Team", "DataClass"]
    params = "{" + ", ".join(f'"tag{i}Key": "{key}"' for i, key in enumerate(keys, 1)) + "}"
    all_tags = {key: "x" for key in keys}
    no_sixth = {key: "x" for key in keys[:5]}
    results = evaluate_rule(rule(params), [model("all", **all_tags), model("five", **no_sixth)])
    assert [(r.resource_id, r.compliance) for r in results] == [("all", COMPLIANT), ("five", NON_COMPLIANT)]
    assert "missing tag DataClass" in results[1].annotation


def test_a_wrong_case_key_is_named_in_the_annotation() -> None:
    """Tag keys are case-sensitive ("Tag naming limits and requirements",
    https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html): the annotation names the
    near-miss key the resource has, not another of its tags."""
    [result] = evaluate_rule(rule('{"tag1Key": "CostCenter"}'), [model("m", Owner="o", costcenter="CC-1")])
    assert result.compliance == NON_COMPLIANT
    assert "found 'costcenter'" in result.annotation and "case-sensitive" in result.annotation
    [plain] = evaluate_rule(rule('{"tag1Key": "CostCenter"}'), [model("m", Owner="o")])
    assert plain.annotation == "missing tag CostCenter"


@pytest.mark.parametrize("arn", [
    "not-an-arn",
    "arn:aws:s3",
    "arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/abc123",  # an execution, not a resource Config records
])
def test_arns_that_name_no_recorded_resource(arn: str) -> None:
    assert config_resource(arn) is None


@pytest.mark.parametrize("arn, not_this", [
    ("arn:aws:s3:::bucket/key.csv", "AWS::S3::Bucket"),  # an object is not a bucket
    ("arn:aws:sqs:us-east-1:1:queue", "AWS::S3::Bucket"),
    ("arn:aws:logs:us-east-1:1:destination:d", "AWS::Logs::LogGroup"),
    ("arn:aws:lookoutvision:us-east-1:1:model/project/1", "AWS::SageMaker::Model"),
])
def test_only_the_service_own_resources_get_its_type(arn: str, not_this: str) -> None:
    """A Config resource type belongs to one service's resource ("Supported Resource Types",
    https://docs.aws.amazon.com/config/latest/developerguide/resource-config-reference.html): an S3
    object, an SQS queue, a Logs destination or another service's model get none of these types."""
    found = config_resource(arn)
    assert found is None or found[0] != not_this
