"""The tag restrictions every service shares (mlalab.engines.validation.tagging), from "Tag naming limits
and requirements", https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions:
at most 50 tags per resource; the prefix aws: (any case) reserved for keys and values, its tags not
counted against the quota."""

from __future__ import annotations

import pytest

from mlalab.engines.validation import validate
from mlalab.engines.validation.tagging import MAX_TAGS

ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn"
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/churn"


def has(keys):
    """A lookup that answers the resource's existing tag keys (and records what it was asked)."""
    asked = []

    def lookup(kind, **kwargs):
        asked.append((kind, kwargs))
        return list(keys) if kind == "tags" else None

    lookup.asked = asked
    return lookup


def tags(n, prefix="k"):
    return [{"Key": f"{prefix}{i}", "Value": "v"} for i in range(n)]


@pytest.mark.parametrize("key", ["aws:cost", "AWS:cost", "aWs:cost"])
def test_reserved_key_prefix_in_any_case_is_refused(key):
    rejection = validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": [{"Key": key, "Value": "v"}]})
    assert rejection.code == "ValidationException" and f"'{key}'" in rejection.message


def test_reserved_prefix_in_a_value_is_refused_and_a_similar_key_is_not():
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": [{"Key": "team", "Value": "AWS:ml"}]})
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": [{"Key": "awsteam", "Value": "aws"}]}) is None
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": [{"Key": "team:aws:", "Value": "v"}]}) is None


def test_quota_counts_existing_tags_and_ignores_updates():
    lookup = has([f"k{i}" for i in range(MAX_TAGS - 1)])
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": tags(1, "new")}, lookup) is None
    assert lookup.asked == [("tags", {"service": "sagemaker", "resource": ARN})]
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": tags(2, "new")}, lookup).code \
        == "ValidationException"
    # Re-setting existing keys adds nothing to the count.
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": tags(MAX_TAGS - 1)}, lookup) is None


def test_aws_tags_a_resource_has_do_not_count():
    lookup = has([*(f"k{i}" for i in range(MAX_TAGS - 1)), "aws:cloudformation:stack-name", "AWS:x"])
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": tags(1, "new")}, lookup) is None


def test_without_state_the_quota_is_skipped_not_guessed():
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": tags(MAX_TAGS)}) is None
    assert validate("sagemaker", "AddTags", {"ResourceArn": ARN, "Tags": tags(MAX_TAGS)}, has([])) is None


def test_creation_tags_are_checked_without_state():
    params = {"EndpointName": "churn", "EndpointConfigName": "cfg", "Tags": [{"Key": "AWS:x", "Value": "1"}]}
    assert validate("sagemaker", "CreateEndpoint", params).code == "ValidationException"


def test_ec2_answers_in_its_own_words():
    rejection = validate("ec2", "CreateTags", {"Resources": ["vpc-1"], "Tags": [{"Key": "Aws:x", "Value": "1"}]},
                         model=False)
    assert (rejection.code, rejection.message) == (
        "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
    rejection = validate("ec2", "CreateTags", {"Resources": ["vpc-1", "subnet-2"], "Tags": tags(1, "new")},
                         has([f"k{i}" for i in range(MAX_TAGS)]), model=False)
    assert (rejection.code, rejection.message) == (
        "TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
    spec = {"TagSpecifications": [{"ResourceType": "vpc", "Tags": tags(MAX_TAGS + 1)}], "CidrBlock": "10.0.0.0/16"}
    assert validate("ec2", "CreateVpc", spec, model=False).code == "TagLimitExceeded"
    spec["TagSpecifications"][0]["Tags"] = tags(MAX_TAGS)
    assert validate("ec2", "CreateVpc", spec, model=False) is None


def test_logs_answers_too_many_tags_for_maps_of_tags():
    lookup = has([f"k{i}" for i in range(MAX_TAGS)])
    rejection = validate("logs", "TagResource", {"resourceArn": GROUP, "tags": {"extra": "v"}}, lookup)
    assert (rejection.code, rejection.message) == ("TooManyTagsException", "A resource can have no more than 50 tags.")
    assert validate("logs", "TagResource", {"resourceArn": GROUP, "tags": {"k3": "changed"}}, lookup) is None
    assert validate("logs", "CreateLogGroup", {"logGroupName": "/x", "tags": {"aws:x": "v"}}).code \
        == "InvalidParameterException"


def test_tagging_api_refuses_reserved_keys():
    rejection = validate("resourcegroupstaggingapi", "TagResources",
                         {"ResourceARNList": [ARN], "Tags": {"AWS:cost": "x"}})
    assert rejection.code == "InvalidParameterException"
