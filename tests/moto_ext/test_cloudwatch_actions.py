"""Wire tests for alarm actions: boto3 against moto with the extensions installed.

AWS sources: "Using Amazon CloudWatch alarms" (AlarmThatSendsEmail: Alarm actions, ActionsEnabled);
"SetAlarmState" (API reference: the action runs when the new state differs from the previous one);
"Alarm events and EventBridge" (cloudwatch-and-eventbridge: an event on every state change);
"Invoke a Lambda function from an alarm" (alarms-and-actions-Lambda: resource policy for
lambda.alarms.cloudwatch.amazonaws.com); "Amazon SNS message and JSON formats" (the envelope an SQS
subscriber receives, shared/reference/events/6-sns-envelope).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import moto
import pytest

from fixtures.moto_ext import cloudwatch as cloudwatch_ext
from fixtures.moto_ext import events as events_ext
from fixtures.moto_ext import lambda_ as lambda_ext
from fixtures.moto_ext.cloudwatch import actions, advance_clock, evaluate_alarms

REGION = "us-east-1"
ACCOUNT = "123456789012"
DIMS = [{"Name": "EndpointName", "Value": "churn"}, {"Name": "VariantName", "Value": "challenger"}]
#: Keys of the SNS envelope as an SQS subscriber receives it (6-sns-envelope, raw delivery disabled).
ENVELOPE_KEYS = {"Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature",
                 "SigningCertURL", "UnsubscribeURL"}


@pytest.fixture(autouse=True, scope="module")
def _installed() -> Iterator[None]:
    cloudwatch_ext.install()
    events_ext.install()
    yield


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with moto.mock_aws():
        cloudwatch_ext.reset()
        events_ext.reset()
        yield {name: boto3.client(name, region_name=REGION)
               for name in ("cloudwatch", "sns", "sqs", "events", "lambda", "iam")}


def queue(aws: dict[str, Any], name: str) -> tuple[str, str]:
    url = aws["sqs"].create_queue(QueueName=name)["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def topic_with_queue(aws: dict[str, Any], name: str) -> tuple[str, str]:
    """A topic with an SQS subscriber; returns (topic ARN, queue URL)."""
    topic = aws["sns"].create_topic(Name=name)["TopicArn"]
    url, arn = queue(aws, f"{name}-inbox")
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


def drain(aws: dict[str, Any], url: str) -> list[dict[str, Any]]:
    bodies = []
    while True:
        messages = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            aws["sqs"].delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def error_rate_alarm(aws: dict[str, Any], name: str = "challenger-5xx", **extra: Any) -> None:
    aws["cloudwatch"].put_metric_alarm(
        AlarmName=name, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors", Dimensions=DIMS,
        Statistic="Sum", Period=60, EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", **extra)


def publish_errors(aws: dict[str, Any], start: datetime, values: list[float]) -> None:
    aws["cloudwatch"].put_metric_data(Namespace="AWS/SageMaker", MetricData=[
        {"MetricName": "Invocation5XXErrors", "Dimensions": DIMS, "Timestamp": start + timedelta(minutes=i),
         "Value": value} for i, value in enumerate(values)])


def test_set_alarm_state_delivers_the_notification_through_sns_to_sqs(aws: dict[str, Any]) -> None:
    topic, inbox = topic_with_queue(aws, "warnings")
    error_rate_alarm(aws, AlarmActions=[topic], AlarmDescription="challenger errors")
    aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="ALARM", StateReason="drill")

    (envelope,) = drain(aws, inbox)
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert envelope["Subject"] == 'ALARM: "challenger-5xx" in US East (N. Virginia)'
    assert isinstance(envelope["Message"], str)  # a JSON document in a string
    message = json.loads(envelope["Message"])
    assert message["AlarmName"] == "challenger-5xx" and message["AlarmDescription"] == "challenger errors"
    assert message["NewStateValue"] == "ALARM" and message["NewStateReason"] == "drill"
    assert message["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:challenger-5xx"
    assert message["AWSAccountId"] == ACCOUNT and message["Region"] == "US East (N. Virginia)"
    assert message["AlarmActions"] == [topic]
    assert message["Trigger"]["Statistic"] == "SUM" and message["Trigger"]["DatapointsToAlarm"] == 2
    assert message["Trigger"]["Dimensions"] == [{"value": "churn", "name": "EndpointName"},
                                                {"value": "challenger", "name": "VariantName"}]


def test_setting_the_same_state_again_is_no_change(aws: dict[str, Any]) -> None:
    """SetAlarmState: actions run only when the updated state differs from the previous value."""
    topic, inbox = topic_with_queue(aws, "warnings")
    error_rate_alarm(aws, AlarmActions=[topic])
    for reason in ("first", "second"):
        aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="ALARM", StateReason=reason)
    assert [json.loads(b["Message"])["NewStateReason"] for b in drain(aws, inbox)] == ["first"]
    assert len(actions.transitions("challenger-5xx")) == 1


def test_updating_an_alarm_is_not_a_state_change(aws: dict[str, Any]) -> None:
    """PutMetricAlarm: "When you update an existing alarm, its state is left unchanged" (moto resets it;
    that reset must not look like a transition to OK)."""
    ok_topic, ok_inbox = topic_with_queue(aws, "all-clear")
    error_rate_alarm(aws, OKActions=[ok_topic])
    aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="ALARM", StateReason="up")
    error_rate_alarm(aws, OKActions=[ok_topic], AlarmDescription="now documented")
    aws["cloudwatch"].describe_alarms()
    assert drain(aws, ok_inbox) == []
    assert [t.new.value for t in actions.transitions("challenger-5xx")] == ["ALARM"]


def test_ok_actions_run_on_ok_and_alarm_actions_on_alarm(aws: dict[str, Any]) -> None:
    alarm_topic, alarm_inbox = topic_with_queue(aws, "pager")
    ok_topic, ok_inbox = topic_with_queue(aws, "all-clear")
    error_rate_alarm(aws, AlarmActions=[alarm_topic], OKActions=[ok_topic])
    aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="ALARM", StateReason="up")
    aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="OK", StateReason="down")
    assert [json.loads(b["Message"])["NewStateValue"] for b in drain(aws, alarm_inbox)] == ["ALARM"]
    (ok,) = drain(aws, ok_inbox)
    assert ok["Subject"] == 'OK: "challenger-5xx" in US East (N. Virginia)'
    assert json.loads(ok["Message"])["OldStateValue"] == "ALARM"


def test_data_driven_alarm_notifies_once_and_emits_one_routed_event(aws: dict[str, Any]) -> None:
    topic, inbox = topic_with_queue(aws, "warnings")
    events_url, events_arn = queue(aws, "alarm-events")
    aws["sqs"].set_queue_attributes(QueueUrl=events_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                "Action": "sqs:SendMessage", "Resource": events_arn}]})})
    error_rate_alarm(aws, AlarmActions=[topic])
    error_rate_alarm(aws, name="other-alarm")  # same data, no actions, filtered out by the rule
    aws["events"].put_rule(Name="challenger-alarm", EventPattern=json.dumps({
        "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": ["challenger-5xx"], "state": {"value": ["ALARM"]}}}))
    aws["events"].put_targets(Rule="challenger-alarm", Targets=[{"Id": "q", "Arn": events_arn}])

    t0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    publish_errors(aws, t0, [0, 1, 9, 12, 14])
    states = evaluate_alarms(ACCOUNT, REGION, at=t0 + timedelta(minutes=5))
    assert states["challenger-5xx"] == "ALARM"
    evaluate_alarms(ACCOUNT, REGION, at=t0 + timedelta(minutes=5, seconds=30))  # still ALARM: no new action

    (envelope,) = drain(aws, inbox)
    message = json.loads(envelope["Message"])
    assert message["NewStateValue"] == "ALARM"
    assert message["NewStateReason"].startswith("Threshold Crossed: 2 out of the last 2 datapoints [14.0")
    (event,) = drain(aws, events_url)
    assert event["detail-type"] == "CloudWatch Alarm State Change" and event["source"] == "aws.cloudwatch"
    assert event["resources"] == [message["AlarmArn"]] and event["time"].endswith("Z")
    detail = event["detail"]
    assert list(detail) == ["alarmName", "state", "previousState", "configuration"]
    assert detail["alarmName"] == "challenger-5xx" and detail["state"]["value"] == "ALARM"
    reason_data = json.loads(detail["state"]["reasonData"])  # a JSON document in a string
    assert reason_data["recentDatapoints"] == [12.0, 14.0]
    (metric,) = detail["configuration"]["metrics"]
    assert metric["metricStat"]["metric"]["dimensions"] == {"EndpointName": "churn", "VariantName": "challenger"}


def test_actions_disabled_send_nothing_but_the_event_still_flows(aws: dict[str, Any]) -> None:
    """ActionsEnabled=false silences the actions; EventBridge still gets every state change."""
    topic, inbox = topic_with_queue(aws, "warnings")
    error_rate_alarm(aws, AlarmActions=[topic], ActionsEnabled=False)
    aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="ALARM", StateReason="quiet")
    assert drain(aws, inbox) == []
    (transition,) = actions.transitions("challenger-5xx")
    assert transition.actions == [] and transition.event is not None
    # DisableAlarmActions on an enabled alarm does the same.
    aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="OK", StateReason="reset")
    aws["cloudwatch"].enable_alarm_actions(AlarmNames=["challenger-5xx"])
    aws["cloudwatch"].disable_alarm_actions(AlarmNames=["challenger-5xx"])
    aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="ALARM", StateReason="quiet again")
    assert drain(aws, inbox) == []


def test_composite_alarm_notification_names_rule_and_triggering_children(aws: dict[str, Any]) -> None:
    topic, inbox = topic_with_queue(aws, "pager")
    error_rate_alarm(aws, name="errors")
    error_rate_alarm(aws, name="latency")
    aws["cloudwatch"].put_composite_alarm(AlarmName="page-me", AlarmRule="ALARM(errors) AND ALARM(latency)",
                                          AlarmActions=[topic])
    aws["cloudwatch"].set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="errors up")
    assert drain(aws, inbox) == []  # one child is not enough
    aws["cloudwatch"].set_alarm_state(AlarmName="latency", StateValue="ALARM", StateReason="latency up")

    (envelope,) = drain(aws, inbox)
    assert envelope["Subject"] == 'ALARM: "page-me" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert "Trigger" not in message
    assert message["AlarmRule"] == "ALARM(errors) AND ALARM(latency)"
    assert message["NewStateValue"] == "ALARM" and message["AlarmActions"] == [topic]
    children = {child["Arn"].rsplit(":", 1)[1]: child["State"]["Value"] for child in message["TriggeringChildren"]}
    assert children == {"errors": "ALARM", "latency": "ALARM"}
    # Created, the composite evaluates its rule at once (INSUFFICIENT_DATA -> OK; the documented event's
    # previousState reads "... was created and its alarm rule evaluates to OK"), then follows its children.
    created, fired = actions.transitions("page-me")
    assert [(t.old.value, t.new.value) for t in (created, fired)] == [("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM")]
    assert fired.event["detail"]["configuration"] == {"alarmRule": "ALARM(errors) AND ALARM(latency)"}


def test_advance_clock_sees_a_spike_that_came_and_went(aws: dict[str, Any]) -> None:
    topic, inbox = topic_with_queue(aws, "warnings")
    ok_topic, ok_inbox = topic_with_queue(aws, "all-clear")
    error_rate_alarm(aws, AlarmActions=[topic], OKActions=[ok_topic])
    t0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    publish_errors(aws, t0, [0, 0, 9, 9, 0, 0, 0])
    # Evaluated only at the end, the spike is invisible: the new alarm goes INSUFFICIENT_DATA -> OK, nothing more.
    assert evaluate_alarms(ACCOUNT, REGION, at=t0 + timedelta(minutes=8))["challenger-5xx"] == "OK"
    assert drain(aws, inbox) == []
    (first,) = drain(aws, ok_inbox)
    assert json.loads(first["Message"])["OldStateValue"] == "INSUFFICIENT_DATA"
    walked = advance_clock(t0, t0 + timedelta(minutes=8), account_id=ACCOUNT, region_name=REGION)
    assert [(t.old.value, t.new.value) for t in walked] == [("OK", "ALARM"), ("ALARM", "OK")]
    assert len(drain(aws, inbox)) == 1 and len(drain(aws, ok_inbox)) == 1


def _function(aws: dict[str, Any], name: str) -> str:
    role = aws["iam"].create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return aws["lambda"].create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                                         Code={"ZipFile": code.getvalue()})["FunctionArn"]


def test_lambda_action_is_invoked_only_when_the_function_policy_allows_cloudwatch(aws: dict[str, Any]) -> None:
    previous = lambda_ext.register_executor(None)
    try:
        allowed, denied = _function(aws, "rollback"), _function(aws, "forgotten")
        alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:challenger-5xx"
        aws["lambda"].add_permission(FunctionName="rollback", StatementId="AlarmAction",
                                     Action="lambda:InvokeFunction", Principal=actions.LAMBDA_PRINCIPAL,
                                     SourceArn=alarm_arn, SourceAccount=ACCOUNT)
        error_rate_alarm(aws, AlarmActions=[allowed, denied])
        aws["cloudwatch"].set_alarm_state(AlarmName="challenger-5xx", StateValue="ALARM", StateReason="drill")
        (transition,) = actions.transitions("challenger-5xx")
        assert [(a.kind, a.status) for a in transition.actions] == [("lambda", "invoked"), ("lambda", "failed")]
        assert actions.LAMBDA_PRINCIPAL in transition.actions[1].reason
        (invocation,) = [i for i in lambda_ext.invocations(allowed) if i.source == "cloudwatch"]
        payload = json.loads(invocation.payload)
        assert list(payload) == ["source", "alarmArn", "accountId", "time", "region", "alarmData"]
        assert payload["alarmArn"] == alarm_arn and payload["region"] == REGION
        assert payload["alarmData"]["state"]["value"] == "ALARM" and invocation.invocation_type == "Event"
        assert lambda_ext.invocations(denied) == []
        lambda_ext.settle(30)
    finally:
        lambda_ext.register_executor(previous)


def test_server_mode_set_alarm_state_reaches_the_subscriber() -> None:
    """The same path through the lab's server (the after-hook sees server requests too)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        clients = {name: boto3.client(name, region_name=REGION, endpoint_url=f"http://{host}:{port}",
                                      aws_access_key_id="testing", aws_secret_access_key="testing")
                   for name in ("cloudwatch", "sns", "sqs")}
        topic, inbox = topic_with_queue(clients, "server-warnings")
        error_rate_alarm(clients, name="server-alarm", AlarmActions=[topic])
        clients["cloudwatch"].set_alarm_state(AlarmName="server-alarm", StateValue="ALARM", StateReason="drill")
        (envelope,) = drain(clients, inbox)
        assert json.loads(envelope["Message"])["AlarmName"] == "server-alarm"
    finally:
        server.stop()
