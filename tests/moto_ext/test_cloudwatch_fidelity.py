"""Wire tests, boto3 through a moto server, for where moto's CloudWatch answers differ from AWS's:

* a new alarm is INSUFFICIENT_DATA with StateReason "Unchecked: Initial alarm creation" (AWS-recorded
  DescribeAlarms after PutMetricAlarm: localstack/localstack
  tests/aws/services/cloudwatch/test_cloudwatch.snapshot.json, test_put_metric_alarm/describe-alarm);
* PutMetricAlarm on an existing alarm keeps its state and ignores Tags ("PutMetricAlarm",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html);
* an evaluation at a simulated time stamps that time (StateUpdatedTimestamp, the event's ``time``,
  the notification's StateChangeTime);
* a composite's StateReason names the child that made it change and when, and StateReasonData's
  ``triggeringAlarms`` carry each child's state timestamp ("Alarm events and EventBridge",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html,
  composite examples).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from fixtures.moto_ext import cloudwatch as cloudwatch_ext
from fixtures.moto_ext import events as events_ext
from fixtures.moto_ext.cloudwatch import actions, advance_clock, evaluate_alarms

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
DIMS = [{"Name": "EndpointName", "Value": "churn"}, {"Name": "VariantName", "Value": "challenger"}]
#: A fixed simulated clock: Friday 4 August 2023, 12:54:46 UTC.
T0 = datetime(2023, 8, 4, 12, 50, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    cloudwatch_ext.install()
    events_ext.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(server: str) -> dict[str, Any]:
    """Clients of a freshly reset server (moto's reset clears alarms and metric data; the extensions'
    records are cleared by their own reset)."""
    urllib.request.urlopen(urllib.request.Request(f"{server}/moto-api/reset", method="POST"), timeout=10).close()
    cloudwatch_ext.reset()
    events_ext.reset()
    return {name: boto3.client(name, region_name=REGION, endpoint_url=server, aws_access_key_id="testing",
                               aws_secret_access_key="testing") for name in ("cloudwatch", "sns", "sqs")}


def alarm(aws: dict[str, Any], name: str, **extra: Any) -> None:
    config = dict(AlarmName=name, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors", Dimensions=DIMS,
                  Statistic="Sum", Period=60, EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=5.0,
                  ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    aws["cloudwatch"].put_metric_alarm(**{**config, **extra})


def described(aws: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = aws["cloudwatch"].describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found


def composite(aws: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = aws["cloudwatch"].describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    return found


def publish(aws: dict[str, Any], values: list[float]) -> None:
    aws["cloudwatch"].put_metric_data(Namespace="AWS/SageMaker", MetricData=[
        {"MetricName": "Invocation5XXErrors", "Dimensions": DIMS, "Timestamp": T0 + timedelta(minutes=i, seconds=30),
         "Value": value} for i, value in enumerate(values)])


def topic_with_queue(aws: dict[str, Any], name: str) -> tuple[str, str]:
    topic = aws["sns"].create_topic(Name=name)["TopicArn"]
    url = aws["sqs"].create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


def messages(aws: dict[str, Any], url: str) -> list[dict[str, Any]]:
    received = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(json.loads(m["Body"])["Message"]) for m in received]


# ---- 1. the initial state ---------------------------------------------------------------------------


def test_a_new_metric_alarm_is_insufficient_data(aws: dict[str, Any]) -> None:
    alarm(aws, "fresh")
    found = described(aws, "fresh")
    assert (found["StateValue"], found["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    assert "StateReasonData" not in found  # the recorded AWS answer has none
    assert found["StateTransitionedTimestamp"] == found["StateUpdatedTimestamp"]
    assert aws["cloudwatch"].describe_alarms(StateValue="INSUFFICIENT_DATA")["MetricAlarms"][0]["AlarmName"] == "fresh"
    assert actions.transitions("fresh") == []  # creation is not a state change


def test_a_new_composite_is_evaluated_at_once_with_the_created_reason(aws: dict[str, Any]) -> None:
    alarm(aws, "child")
    aws["cloudwatch"].put_composite_alarm(AlarmName="parent", AlarmRule="ALARM(child)")
    found = composite(aws, "parent")
    assert found["StateValue"] == "OK"
    assert found["StateReason"] == f"{ARN}parent was created and its alarm rule evaluates to OK"
    entries = json.loads(found["StateReasonData"])["triggeringAlarms"]
    assert [(e["arn"], e["state"]["value"]) for e in entries] == [(f"{ARN}child", "INSUFFICIENT_DATA")]
    (created,) = actions.transitions("parent")
    assert (created.old.value, created.old.reason) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")


# ---- 2. an update keeps the state -------------------------------------------------------------------


def test_put_metric_alarm_on_an_existing_alarm_keeps_its_state(aws: dict[str, Any]) -> None:
    alarm(aws, "kept", Tags=[{"Key": "team", "Value": "ml"}])
    aws["cloudwatch"].set_alarm_state(AlarmName="kept", StateValue="ALARM", StateReason="drill",
                                      StateReasonData='{"drill":1}')
    before = described(aws, "kept")
    alarm(aws, "kept", Threshold=9.0, AlarmDescription="raised", Tags=[{"Key": "team", "Value": "other"}])
    after = described(aws, "kept")
    assert (after["Threshold"], after["AlarmDescription"]) == (9.0, "raised")  # the configuration is replaced
    for key in ("StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp",
                "StateTransitionedTimestamp"):
        assert after[key] == before[key], key
    assert after["AlarmConfigurationUpdatedTimestamp"] >= before["AlarmConfigurationUpdatedTimestamp"]
    tags = aws["cloudwatch"].list_tags_for_resource(ResourceARN=f"{ARN}kept")["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]  # "any tags you specify in this parameter are ignored"
    assert [t.new.value for t in actions.transitions("kept")] == ["ALARM"]


def test_set_alarm_state_moves_the_transitioned_timestamp_only_on_a_change(aws: dict[str, Any]) -> None:
    alarm(aws, "drilled")
    aws["cloudwatch"].set_alarm_state(AlarmName="drilled", StateValue="ALARM", StateReason="first")
    first = described(aws, "drilled")
    aws["cloudwatch"].set_alarm_state(AlarmName="drilled", StateValue="ALARM", StateReason="second")
    second = described(aws, "drilled")
    assert second["StateReason"] == "second"
    assert second["StateTransitionedTimestamp"] == first["StateTransitionedTimestamp"]


# ---- 3. simulated time ------------------------------------------------------------------------------


def test_evaluation_stamps_the_simulated_time_everywhere(aws: dict[str, Any]) -> None:
    topic, inbox = topic_with_queue(aws, "sim-warnings")
    alarm(aws, "simulated", AlarmActions=[topic])
    publish(aws, [0, 9, 12])
    at = T0 + timedelta(minutes=3)
    assert evaluate_alarms(ACCOUNT, REGION, at=at)["simulated"] == "ALARM"
    found = described(aws, "simulated")
    assert found["StateUpdatedTimestamp"] == at and found["StateTransitionedTimestamp"] == at
    (message,) = messages(aws, inbox)
    assert message["StateChangeTime"] == "2023-08-04T12:53:00.000+0000"
    (transition,) = actions.transitions("simulated")
    assert transition.event["time"] == "2023-08-04T12:53:00Z"
    assert transition.event["detail"]["state"]["timestamp"] == "2023-08-04T12:53:00.000+0000"


def test_advance_clock_stamps_each_step(aws: dict[str, Any]) -> None:
    alarm(aws, "stepped")
    publish(aws, [0, 0, 9, 9, 0, 0])
    walked = advance_clock(T0, T0 + timedelta(minutes=7), account_id=ACCOUNT, region_name=REGION)
    assert [(t.new.value, t.new.timestamp) for t in walked] == [
        ("OK", T0 + timedelta(minutes=1)), ("ALARM", T0 + timedelta(minutes=4)), ("OK", T0 + timedelta(minutes=5))]


# ---- 4. composite reasons ---------------------------------------------------------------------------


def test_composite_reason_names_the_child_and_its_time(aws: dict[str, Any]) -> None:
    alarm(aws, "errors")
    aws["cloudwatch"].put_metric_alarm(
        AlarmName="latency", Namespace="AWS/SageMaker", MetricName="ModelLatency", Dimensions=DIMS,
        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching")
    aws["cloudwatch"].put_composite_alarm(AlarmName="page", AlarmRule="ALARM(errors) OR ALARM(latency)")
    publish(aws, [0, 9, 12])
    fired_at = T0 + timedelta(minutes=4, seconds=46)
    evaluate_alarms(ACCOUNT, REGION, at=fired_at)
    found = composite(aws, "page")
    assert found["StateValue"] == "ALARM"
    assert found["StateReason"] == f"{ARN}errors transitioned to ALARM at Friday 04 August, 2023 12:54:46 UTC"
    assert json.loads(found["StateReasonData"]) == {"triggeringAlarms": [
        {"arn": f"{ARN}errors", "state": {"value": "ALARM", "timestamp": "2023-08-04T12:54:46.000+0000"}}]}
    assert found["StateUpdatedTimestamp"] == fired_at  # the composite follows at its child's moment

    recovered_at = T0 + timedelta(minutes=9)
    evaluate_alarms(ACCOUNT, REGION, at=recovered_at)
    found = composite(aws, "page")
    assert found["StateValue"] == "OK"
    assert found["StateReason"] == f"{ARN}errors transitioned to OK at Friday 04 August, 2023 12:59:00 UTC"
    entries = json.loads(found["StateReasonData"])["triggeringAlarms"]
    assert {e["arn"]: e["state"]["value"] for e in entries} == {f"{ARN}errors": "OK", f"{ARN}latency": "OK"}
    assert all(e["state"]["timestamp"].endswith("+0000") for e in entries)
