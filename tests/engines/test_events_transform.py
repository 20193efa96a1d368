"""Target input (mlalab.engines.events.transform) against the EventBridge User Guide "Amazon EventBridge
input transformation" (eb-transform-target-input, IT below): its example EC2 event, Input Path and the
output column of its template table; and envelopes (eb-events)."""

from __future__ import annotations

import json

import pytest

from mlalab.engines.events import RuleContext, build_event, cloudtrail_event, is_read_only, target_input
from mlalab.engines.events.envelope import endpoint_event_status

EVENT = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}  # fmt: skip
PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}
RULE = RuleContext("example", "arn:aws:events:us-east-2:123456789012:rule/example", "2015-11-11T21:29:55Z")


def transformed(template: str, paths: dict | None = None) -> str:
    target = {"Id": "t", "Arn": "x", "InputTransformer": {"InputPathsMap": paths or PATHS, "InputTemplate": template}}
    return target_input(target, EVENT, RULE)


TEMPLATES = [
    ("IT-simple-string", '"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    (
        "IT-string-escaped-quotes",
        '"instance \\"<instance>\\" is in <state>"',
        '"instance \\"i-0123456789\\" is in RUNNING"',
    ),
    ("IT-including-reserved-in-string", '"<aws.events.rule-name> triggered"', '"example triggered"'),
]


@pytest.mark.parametrize(("template", "expected"), [c[1:] for c in TEMPLATES], ids=[c[0] for c in TEMPLATES])
def test_string_templates(template: str, expected: str) -> None:
    assert transformed(template) == expected


JSON_TEMPLATES = [
    ("IT-simple-json", '{"instance" : <instance>, "state": <state>}', {"instance": "i-0123456789", "state": "RUNNING"}),
    (
        "IT-json-strings-and-variables",
        '{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
        {"instance": "i-0123456789", "state": "RUNNING", "instanceStatus": 'instance "i-0123456789" is in RUNNING'},
    ),
    (
        "IT-json-mixed-static",
        '{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
        {"instance": "i-0123456789", "state": [9, "RUNNING", True], "Transformed": "Yes"},
    ),
    (
        "IT-reserved-in-json",
        '{"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>}',
        {"ruleArn": "arn:aws:events:us-east-2:123456789012:rule/example", "ruleName": "example"},
    ),
    ("IT-missing-path-not-created", '{"x": <gone>, "y": "a<gone>b"}', {"x": None, "y": "ab"}),
    ("IT-object-value", '{"d": <d>}', {"d": {"instance-id": "i-0123456789", "state": "RUNNING"}}),
    ("IT-ingestion-time", '{"t": <aws.events.event.ingestion-time>}', {"t": "2015-11-11T21:29:55Z"}),
]


@pytest.mark.parametrize(("template", "expected"), [c[1:] for c in JSON_TEMPLATES], ids=[c[0] for c in JSON_TEMPLATES])
def test_json_templates(template: str, expected: dict) -> None:
    paths = PATHS | {"gone": "$.detail.nothing", "d": "$.detail"}
    assert json.loads(transformed(template, paths)) == expected


def test_original_event_variables() -> None:
    """IT predefined variables: aws.events.event is the event without detail; .json the whole event."""
    out = json.loads(transformed('{"e": <aws.events.event>, "j": <aws.events.event.json>}'))
    assert "detail" not in out["e"] and out["e"]["id"] == EVENT["id"]
    assert out["j"] == EVENT


def test_no_input_setting_sends_the_minified_event() -> None:
    """IT common issues: "The JSON that is passed to the target is minified"."""
    text = target_input({"Id": "t", "Arn": "x"}, EVENT, RULE)
    assert json.loads(text) == EVENT and ", " not in text and '": ' not in text


def test_input_is_constant_and_input_path_selects() -> None:
    """API Reference Target: Input (constant JSON) and InputPath (JSONPath into the event)."""
    assert target_input({"Id": "t", "Arn": "x", "Input": '{"a": 1}'}, EVENT, RULE) == '{"a": 1}'
    assert target_input({"Id": "t", "Arn": "x", "InputPath": "$.detail.state"}, EVENT, RULE) == '"RUNNING"'
    assert (
        target_input({"Id": "t", "Arn": "x", "InputPath": "$.resources[0]"}, EVENT, RULE)
        == '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'
    )


def test_envelope_keys_in_aws_order() -> None:
    """eb-events: version, id, detail-type, source, account, time, region, resources, detail."""
    event = build_event("com.example", "Thing", {"a": 1}, account="123456789012", region="us-east-1")
    assert list(event) == list(EVENT)
    assert event["time"].endswith("Z") and len(event["time"]) == 20


def test_cloudtrail_record_envelope() -> None:
    """eb-service-event-cloudtrail: detail-type "AWS API Call via CloudTrail", source aws.<service>."""
    record = {
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": "DeleteEndpoint",
        "eventType": "AwsApiCall",
        "awsRegion": "us-east-1",
        "eventTime": "2024-01-01T00:00:00Z",
        "recipientAccountId": "123456789012",
        "readOnly": False,
    }
    event = cloudtrail_event(record)
    assert event["detail-type"] == "AWS API Call via CloudTrail" and event["source"] == "aws.sagemaker"
    assert event["detail"] is record and event["resources"] == []
    assert not is_read_only(record) and is_read_only({"eventName": "DescribeEndpoint"})


def test_endpoint_status_spelling_of_the_samples() -> None:
    assert endpoint_event_status("InService") == "IN_SERVICE"
    assert endpoint_event_status("OutOfService") == "OUT_OF_SERVICE"


def test_target_input_settings_are_validated() -> None:
    """API Reference Target: Input, InputPath and InputTransformer are mutually exclusive; the
    predefined variable names are reserved (IT "Predefined variables")."""
    from mlalab.engines.events import TransformError, validate_target_input

    validate_target_input({"Id": "t", "InputTransformer": {"InputPathsMap": PATHS, "InputTemplate": "<state>"}})
    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "Input": "{}", "InputPath": "$.detail"})
    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "InputTransformer": {"InputPathsMap": {"aws.events.rule-name": "$.id"}}})
    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "InputPath": "detail.state"})


def test_input_path_wildcard_selects_a_list() -> None:
    """IT: InputPath supports wildcards; an indefinite path gives every value it reaches, as an array."""
    assert (
        json.loads(target_input({"Id": "t", "Arn": "x", "InputPath": "$.resources[*]"}, EVENT, RULE))
        == EVENT["resources"]
    )
    assert sorted(json.loads(target_input({"Id": "t", "Arn": "x", "InputPath": "$.detail.*"}, EVENT, RULE))) == [
        "RUNNING",
        "i-0123456789",
    ]


def test_put_targets_refuses_bad_input_settings() -> None:
    """API Reference Target: Input is "Valid JSON text"; InputPath is a JSONPath (it starts at $).
    API Reference InputTransformer: InputPathsMap has at most 100 key-value pairs and its keys cannot start
    with "AWS."."""
    from mlalab.engines.events import TransformError, validate_target_input

    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "Input": "instance is running"})
    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "InputPath": "@.detail"})
    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "InputPath": "$.detail[state]"})
    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "InputTransformer": {"InputPathsMap": {"aws.custom": "$.id"}}})
    hundred = {f"v{i}": "$.id" for i in range(100)}
    validate_target_input({"Id": "t", "InputTransformer": {"InputPathsMap": hundred, "InputTemplate": "<v0>"}})
    with pytest.raises(TransformError):
        validate_target_input({"Id": "t", "InputTransformer": {"InputPathsMap": hundred | {"v100": "$.id"}}})
