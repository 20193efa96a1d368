"""What CloudWatch sends when an alarm changes state, compared key by key with real AWS documents.

Samples: ``shared/reference/events`` (1-cloudwatch-alarm-sns: SNS notifications delivered to Lambda,
aws-lambda-go; 1b: Lambda alarm-action payloads, aws-lambda-java-libs and powertools; 2: the
``CloudWatch Alarm State Change`` events of "Alarm events and EventBridge", cloudwatch-and-eventbridge).
Where those older samples predate keys AWS sends today, the key sets and order are those of recorded
notifications: LocalStack's AWS-validated snapshot ``test_cloudwatch.snapshot.json`` (alarm-state-sqs-msg)
and real notifications quoted below. Rules: "Using Amazon CloudWatch alarms" (AlarmThatSendsEmail,
Alarm actions); "Invoke a Lambda function from an alarm" (alarms-and-actions-Lambda).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mlalab.engines.cloudwatch.notifications import (
    StateSnapshot,
    TriggeringChild,
    actions_for,
    alarm_data,
    alarm_notification,
    aws_time,
    lambda_action_payload,
    notification_message,
    notification_subject,
    region_long_name,
    state_change_detail,
)
from tests.reference import REFERENCE as REFERENCE_ROOT

REFERENCE = REFERENCE_ROOT / "events"
ACCOUNT = "123456789012"
CHANGED = datetime(2015, 6, 3, 17, 43, 27, 123000, tzinfo=UTC)
BEFORE = StateSnapshot("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", None,
                       datetime(2015, 6, 3, 17, 40, 0, tzinfo=UTC))
AFTER = StateSnapshot("ALARM", "Threshold Crossed: 1 out of the last 1 datapoints [1234.0 (06/03/15 17:43:27)] "
                      "was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
                      None, CHANGED)

#: Key order of a real notification of 2024 (CloudWatch alarm -> SNS -> HTTPS, AlarmDescription null,
#: DatapointsToAlarm set); the same keys as LocalStack's AWS-validated alarm-state-sqs-msg snapshot.
REAL_MESSAGE_KEYS = ["AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp",
                     "NewStateValue", "NewStateReason", "StateChangeTime", "Region", "AlarmArn", "OldStateValue",
                     "OKActions", "AlarmActions", "InsufficientDataActions", "Trigger"]
REAL_TRIGGER_KEYS = ["MetricName", "Namespace", "StatisticType", "Statistic", "Unit", "Dimensions", "Period",
                     "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator", "Threshold", "TreatMissingData",
                     "EvaluateLowSampleCountPercentile"]
#: A composite alarm's published message as recorded in its alarm history (2022): actions before
#: OldStateValue, then AlarmRule and TriggeringChildren, no Trigger.
REAL_COMPOSITE_KEYS = ["AlarmName", "AlarmDescription", "AWSAccountId", "NewStateValue", "NewStateReason",
                       "StateChangeTime", "Region", "AlarmArn", "OKActions", "AlarmActions",
                       "InsufficientDataActions", "OldStateValue", "AlarmRule", "TriggeringChildren"]


def _sample(folder: str, name: str) -> dict:
    path = REFERENCE / folder / name
    if not path.exists():
        pytest.skip(f"reference sample {folder}/{name} not available")
    return json.loads(path.read_text())


def _sns_message(name: str) -> dict:
    return json.loads(_sample("1-cloudwatch-alarm-sns", name)["Records"][0]["Sns"]["Message"])


def _types(value):
    """The shape of a document: keys and JSON types, recursively (values dropped)."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(value[0])] if value else []
    return type(value).__name__


def _is_subsequence(part: list[str], whole: list[str]) -> bool:
    iterator = iter(whole)
    return all(key in iterator for key in part)


def _single_metric_alarm(**overrides) -> dict:
    """The alarm of the aws-lambda-go single-metric sample, in DescribeAlarms' shape."""
    alarm = {
        "AlarmName": "EXAMPLE", "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:EXAMPLE",
        "AlarmDescription": "EXAMPLE", "ActionsEnabled": True, "OKActions": [],
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"], "InsufficientDataActions": [],
        "AlarmConfigurationUpdatedTimestamp": datetime(2015, 6, 1, 9, 0, tzinfo=UTC),
        "MetricName": "NetworkOut", "Namespace": "AWS/EC2", "Statistic": "Average", "Unit": "Bytes",
        "Dimensions": [{"Name": "InstanceId", "Value": "TestInstance"}], "Period": 60, "EvaluationPeriods": 1,
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0.0,
    }
    alarm.update(overrides)
    return alarm


def _math_alarm() -> dict:
    """The alarm of the aws-lambda-go multiple-metrics sample (e1 = m1*1)."""
    alarm = _single_metric_alarm()
    for key in ("MetricName", "Namespace", "Statistic", "Unit", "Dimensions", "Period"):
        alarm.pop(key)
    alarm["Metrics"] = [
        {"Id": "e1", "Expression": "m1*1", "Label": "Expression1", "ReturnData": True},
        {"Id": "m1", "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "AWS/EC2", "MetricName": "NetworkOut",
                       "Dimensions": [{"Name": "InstanceId", "Value": "TestInstance"}]},
            "Period": 60, "Stat": "Average"}},
    ]
    return alarm


# ---------------------------------------------------------------------------------------------
# SNS notification.


def test_single_metric_trigger_matches_the_real_sample_value_for_value() -> None:
    sample = _sns_message("aws-aws-lambda-go__cloudwatch-alarm-sns-payload-single-metric.json")
    ours = alarm_notification(_single_metric_alarm(), BEFORE, AFTER, ACCOUNT, "us-east-1")
    trigger, expected = ours["Trigger"], sample["Trigger"]
    # The 2015 sample's TreatMissingData is a console artefact; today unset settings are "".
    for key in expected:
        if key != "TreatMissingData":
            assert trigger[key] == expected[key], key
    assert _is_subsequence(list(expected), list(trigger))
    assert trigger["Statistic"] == "AVERAGE" and trigger["Dimensions"] == [{"value": "TestInstance",
                                                                            "name": "InstanceId"}]
    assert {k: type(v) for k, v in trigger.items() if k in expected and k != "TreatMissingData"} == \
        {k: type(v) for k, v in expected.items() if k != "TreatMissingData"}


def test_message_keys_are_the_keys_aws_sends_today_in_its_order() -> None:
    sample = _sns_message("aws-aws-lambda-go__cloudwatch-alarm-sns-payload-single-metric.json")
    ours = alarm_notification(_single_metric_alarm(DatapointsToAlarm=1), BEFORE, AFTER, ACCOUNT, "us-east-1")
    assert list(ours) == REAL_MESSAGE_KEYS
    assert list(ours["Trigger"]) == REAL_TRIGGER_KEYS
    assert _is_subsequence(list(sample), list(ours))
    for key in sample:
        assert type(ours[key]) is type(sample[key]), key
    assert ours["StateChangeTime"] == "2015-06-03T17:43:27.123+0000" == sample["StateChangeTime"]
    assert ours["AlarmConfigurationUpdatedTimestamp"] == "2015-06-01T09:00:00.000+0000"
    assert ours["Region"] == "US East (N. Virginia)"
    assert (ours["NewStateValue"], ours["OldStateValue"]) == ("ALARM", "INSUFFICIENT_DATA")


def test_unset_settings_are_null_or_empty_as_aws_writes_them() -> None:
    """Real notifications: AlarmDescription null, Unit null, TreatMissingData "" and no DatapointsToAlarm
    when the alarm does not set them."""
    ours = alarm_notification(_single_metric_alarm(AlarmDescription=None, Unit=None), BEFORE, AFTER, ACCOUNT,
                              "eu-south-1")
    assert ours["AlarmDescription"] is None and ours["Trigger"]["Unit"] is None
    assert ours["Trigger"]["TreatMissingData"] == "" and ours["Trigger"]["EvaluateLowSampleCountPercentile"] == ""
    assert "DatapointsToAlarm" not in ours["Trigger"]
    assert ours["Region"] == "EU (Milan)"
    text = notification_message(ours)
    assert '"AlarmDescription":null' in text and json.loads(text) == ours


def test_percentile_alarm_names_its_extended_statistic() -> None:
    """A real notification of an ExtendedStatistic alarm: StatisticType "ExtendedStatistic" and the
    statistic under "ExtendedStatistic", as written (p99 stays lower case)."""
    alarm = _single_metric_alarm(Statistic=None, ExtendedStatistic="p99")
    trigger = alarm_notification(alarm, BEFORE, AFTER, ACCOUNT, "us-east-1")["Trigger"]
    assert trigger["StatisticType"] == "ExtendedStatistic" and trigger["ExtendedStatistic"] == "p99"
    assert "Statistic" not in trigger


def test_metric_math_trigger_matches_the_real_sample() -> None:
    sample = _sns_message("aws-aws-lambda-go__cloudwatch-alarm-sns-payload-multiple-metrics.json")
    trigger = alarm_notification(_math_alarm(), BEFORE, AFTER, ACCOUNT, "us-east-1")["Trigger"]
    assert trigger["Metrics"] == sample["Trigger"]["Metrics"]
    assert [list(q) for q in trigger["Metrics"]] == [list(q) for q in sample["Trigger"]["Metrics"]]
    assert list(trigger["Metrics"][1]["MetricStat"]["Metric"]) == ["Dimensions", "MetricName", "Namespace"]
    assert [k for k in trigger if k != "TreatMissingData"] == \
        [k for k in sample["Trigger"] if k != "TreatMissingData"]
    for key in ("Period", "EvaluationPeriods", "ComparisonOperator", "Threshold"):
        assert trigger[key] == sample["Trigger"][key]


def test_composite_notification_has_rule_and_triggering_children_and_no_trigger() -> None:
    alarm = {"AlarmName": "node-monitor", "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:node-monitor",
             "AlarmDescription": "", "AlarmRule": "ALARM(failure) OR ALARM(latency)", "ActionsEnabled": True,
             "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"], "OKActions": [],
             "InsufficientDataActions": []}
    child = TriggeringChild(f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:failure", "ALARM",
                            datetime(2021, 11, 10, 2, 45, 55, 640000, tzinfo=UTC))
    old = StateSnapshot("OK", "rule false", None, datetime(2021, 11, 10, 2, 0, tzinfo=UTC))
    new = StateSnapshot("ALARM", f"{child.arn} transitioned to ALARM at Wednesday 10 November, 2021 02:45:55 UTC",
                        None, child.timestamp)
    ours = alarm_notification(alarm, old, new, ACCOUNT, "us-east-1", [child])
    assert list(ours) == REAL_COMPOSITE_KEYS
    assert "Trigger" not in ours
    # TriggeringChildren as a real 2021 composite notification spells them.
    assert ours["TriggeringChildren"] == [{"Arn": child.arn, "State": {"Value": "ALARM",
                                                                       "Timestamp": "2021-11-10T02:45:55.640+0000"}}]
    assert ours["AlarmRule"] == "ALARM(failure) OR ALARM(latency)"


def test_subject_names_state_alarm_and_region_and_fits_sns() -> None:
    assert notification_subject("HighCPU", "ALARM", "us-east-1") == 'ALARM: "HighCPU" in US East (N. Virginia)'
    assert notification_subject("api", "OK", "us-east-1") == 'OK: "api" in US East (N. Virginia)'
    # A real subject, exactly 100 characters, the alarm name cut with "...".
    long_name = ("SharedInfra-Alpha-Database-DatabaseInstanceObservabilityHighDatabaseConnectionsAlarm5CD1334F"
                 "-FetIEoRn5hgP")
    subject = notification_subject(long_name, "ALARM", "eu-south-1")
    assert subject == ('ALARM: "SharedInfra-Alpha-Database-DatabaseInstanceObservabilityHighDatabaseConnec..." '
                       "in EU (Milan)")
    assert len(subject) == 100


def test_region_long_names_and_time_format() -> None:
    assert region_long_name("eu-west-1") == "EU (Ireland)"
    assert region_long_name("ap-southeast-1") == "Asia Pacific (Singapore)"
    assert region_long_name("xx-nowhere-9") == "xx-nowhere-9"
    assert aws_time(datetime(2023, 8, 4, 12, 36, 15, 490999)) == "2023-08-04T12:36:15.490+0000"


def test_actions_follow_the_new_state_and_actions_enabled() -> None:
    """Alarm actions: AlarmActions on ALARM, OKActions on OK, InsufficientDataActions on INSUFFICIENT_DATA;
    none while ActionsEnabled is false."""
    alarm = _single_metric_alarm(OKActions=["ok"], AlarmActions=["alarm"], InsufficientDataActions=["data"])
    assert actions_for(alarm, "ALARM") == ["alarm"]
    assert actions_for(alarm, "OK") == ["ok"]
    assert actions_for(alarm, "INSUFFICIENT_DATA") == ["data"]
    assert actions_for({**alarm, "ActionsEnabled": False}, "ALARM") == []


# ---------------------------------------------------------------------------------------------
# EventBridge detail.


def _event_sample(block: int) -> dict:
    return _sample("2-eventbridge-alarm-state-change",
                   f"awsdocs-amazon-cloudwatch-user-guide__cloudwatch-and-eventbridge.md.block{block}.json")


def _snapshot(state: dict) -> StateSnapshot:
    stamp = datetime.strptime(state["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    return StateSnapshot(state["value"], state["reason"], state.get("reasonData"), stamp)


def test_event_detail_of_a_metric_alarm_matches_the_documented_event() -> None:
    sample = _event_sample(0)["detail"]
    alarm = {"AlarmName": "ServerCpuTooHigh", "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:cpu",
             "AlarmDescription": "Goes into alarm when server CPU utilization is too high!",
             "MetricName": "CPUUtilization",
             "Namespace": "AWS/EC2", "Statistic": "Average", "Period": 300, "EvaluationPeriods": 1,
             "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678901234567"}],
             "ComparisonOperator": "GreaterThanThreshold", "Threshold": 50.0}
    ours = state_change_detail(alarm, _snapshot(sample["previousState"]), _snapshot(sample["state"]))
    assert ours["state"] == sample["state"] and ours["previousState"] == sample["previousState"]
    (metric,) = ours["configuration"]["metrics"]
    (expected,) = sample["configuration"]["metrics"]
    assert len(metric.pop("id")) == len(expected["id"])  # a UUID, as in the sample
    assert metric == {k: v for k, v in expected.items() if k != "id"}
    assert ours["configuration"]["description"] == sample["configuration"]["description"]
    assert _types(ours) == _types({**sample, "configuration": ours["configuration"]})
    assert isinstance(ours["state"]["reasonData"], str)


def test_event_detail_of_a_math_alarm_matches_the_documented_event() -> None:
    sample = _event_sample(1)["detail"]
    dims = [{"Name": "InstanceId", "Value": "i-12345678901234567"}]
    alarm = {"AlarmName": "TotalNetworkTrafficTooHigh", "AlarmArn": "arn:x",
             "AlarmDescription": "Goes into alarm if total network traffic exceeds 10Kb", "EvaluationPeriods": 1,
             "ComparisonOperator": "GreaterThanThreshold", "Threshold": 10000.0, "Metrics": [
                 {"Id": "e1", "Expression": "SUM(METRICS())", "Label": "Total Network Traffic", "ReturnData": True},
                 {"Id": "m1", "ReturnData": False, "MetricStat": {"Metric": {
                     "Namespace": "AWS/EC2", "MetricName": "NetworkIn", "Dimensions": dims}, "Period": 300,
                     "Stat": "Maximum"}},
                 {"Id": "m2", "ReturnData": False, "MetricStat": {"Metric": {
                     "Namespace": "AWS/EC2", "MetricName": "NetworkOut", "Dimensions": dims}, "Period": 300,
                     "Stat": "Maximum"}}]}
    ours = state_change_detail(alarm, _snapshot(sample["previousState"]), _snapshot(sample["state"]))
    assert ours["configuration"] == sample["configuration"]
    # No reasonData when the state has none (the initial state of the sample).
    assert ours["previousState"] == sample["previousState"] and "reasonData" not in ours["previousState"]
    assert list(ours) == ["alarmName", "state", "previousState", "configuration"]


def test_event_detail_of_a_composite_alarm_matches_the_documented_event() -> None:
    sample = _event_sample(3)["detail"]
    alarm = {"AlarmName": "ServiceAggregatedAlarm", "AlarmArn": "arn:x",
             "AlarmRule": "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
             "ActionsSuppressor": "ServiceMaintenanceAlarm", "ActionsSuppressorWaitPeriod": 120,
             "ActionsSuppressorExtensionPeriod": 180}
    ours = state_change_detail(alarm, _snapshot(sample["previousState"]), _snapshot(sample["state"]))
    assert ours["configuration"] == sample["configuration"]
    assert list(ours["configuration"]) == list(sample["configuration"])
    suppression = ("actionsSuppressedBy", "actionsSuppressedReason")
    assert ours["state"] == {k: v for k, v in sample["state"].items() if k not in suppression}


# ---------------------------------------------------------------------------------------------
# Lambda alarm-action payload.


def test_lambda_payload_of_a_metric_alarm_matches_the_real_sample() -> None:
    sample = _sample("1b-cloudwatch-alarm-lambda-action", "aws-aws-lambda-java-libs__cloudwatch_metric_alarm.json")
    data = sample["alarmData"]
    alarm = {"AlarmName": data["alarmName"], "AlarmArn": sample["alarmArn"],
             "AlarmDescription": "Metric Alarm to test Lambda actions", "MetricName": "CallCount",
             "Namespace": "AWS/Logs", "Statistic": "Average", "Unit": "Percent", "Period": 60,
             "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678"}], "EvaluationPeriods": 5,
             "ComparisonOperator": "GreaterThanThreshold", "Threshold": 5.0}
    ours = lambda_action_payload(alarm, _snapshot(data["previousState"]), _snapshot(data["state"]),
                                 sample["accountId"], sample["region"])
    assert list(ours) == list(sample)
    assert {k: ours[k] for k in ("source", "alarmArn", "accountId", "time", "region")} == \
        {k: sample[k] for k in ("source", "alarmArn", "accountId", "time", "region")}
    assert list(ours["alarmData"]) == list(data)
    assert ours["alarmData"]["state"] == data["state"] and ours["alarmData"]["previousState"] == data["previousState"]
    (metric,) = ours["alarmData"]["configuration"]["metrics"]
    (expected,) = data["configuration"]["metrics"]
    metric.pop("id")
    assert metric == {k: v for k, v in expected.items() if k != "id"}
    assert list(metric["metricStat"]) == list(expected["metricStat"])


def test_lambda_payload_of_a_math_alarm_matches_the_real_sample() -> None:
    sample = _sample("1b-cloudwatch-alarm-lambda-action",
                     "aws-powertools-powertools-lambda-python__cloudWatchAlarmEventSingleMetric.json")
    data = sample["alarmData"]

    def stat(name: str) -> dict:
        return {"Metric": {"Namespace": "AWS/Lambda", "MetricName": name, "Dimensions": []}, "Period": 60,
                "Stat": "SampleCount"}

    alarm = {"AlarmName": data["alarmName"], "AlarmArn": sample["alarmArn"],
             "AlarmDescription": data["configuration"]["description"], "EvaluationPeriods": 1,
             "ComparisonOperator": "LessThanThreshold", "Threshold": 10.0, "Metrics": [
                 {"Id": "e1", "Expression": "m1/m2", "Label": "Expression1", "ReturnData": True},
                 {"Id": "m1", "MetricStat": stat("Invocations"), "ReturnData": False},
                 {"Id": "m2", "MetricStat": stat("Duration"), "ReturnData": False}]}
    ours = alarm_data(alarm, _snapshot(data["previousState"]), _snapshot(data["state"]))
    assert ours == data
    assert [list(m) for m in ours["configuration"]["metrics"]] == [list(m) for m in data["configuration"]["metrics"]]


def test_lambda_payload_of_a_composite_alarm_matches_the_real_sample() -> None:
    sample = _sample("1b-cloudwatch-alarm-lambda-action", "aws-aws-lambda-java-libs__cloudwatch_composite_alarm.json")
    data = sample["alarmData"]
    alarm = {"AlarmName": data["alarmName"], "AlarmArn": sample["alarmArn"],
             **{key[0].upper() + key[1:]: value for key, value in data["configuration"].items()}}
    ours = lambda_action_payload(alarm, _snapshot(data["previousState"]), _snapshot(data["state"]),
                                 sample["accountId"], sample["region"])
    assert ours["alarmData"]["configuration"] == data["configuration"]
    assert ours["alarmData"]["state"] == data["state"]
    assert ours["time"] == sample["time"] and ours["source"] == "aws.cloudwatch"
    previous = ours["alarmData"]["previousState"]  # the sample's carries the suppression fields
    assert _types(ours) == _types({**sample, "alarmData": {**data, "previousState": previous}})
