"""Notification and composite-reason rules that mutation testing showed unpinned
(``make mutate --engine cloudwatch``).

Sources: "Using Amazon CloudWatch alarms" (AlarmThatSendsEmail, Alarm actions); the PutMetricAlarm and
MetricDataQuery API references (ReturnData defaults to true; ThresholdMetricId for anomaly-detection
alarms; EvaluateLowSampleCountPercentile; MetricStat.Unit); Amazon SNS Publish (Subject at most 100
characters, a real 100-character CloudWatch subject in test_cloudwatch_notifications); "Alarm events and
EventBridge" (cloudwatch-and-eventbridge: composite reasonData, triggeringAlarms newest first).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from mlalab.engines.cloudwatch import ChildState, composite_reason_data
from mlalab.engines.cloudwatch.notifications import (
    StateSnapshot,
    alarm_data,
    alarm_notification,
    notification_subject,
)

ACCOUNT = "123456789012"
ARN = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:"
OLD = StateSnapshot("OK", "ok", None, datetime(2024, 1, 1, 0, 0, tzinfo=UTC))
NEW = StateSnapshot("ALARM", "Threshold Crossed", None, datetime(2024, 1, 1, 0, 5, tzinfo=UTC))
DIMS = [{"Name": "EndpointName", "Value": "churn"}]


def _metric_alarm(**overrides) -> dict:
    alarm = {"AlarmName": "latency", "AlarmArn": f"{ARN}latency", "ActionsEnabled": True,
             "OKActions": ["arn:aws:sns:us-east-1:123456789012:ok"],
             "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:page"],
             "InsufficientDataActions": ["arn:aws:sns:us-east-1:123456789012:data"],
             "MetricName": "ModelLatency", "Namespace": "AWS/SageMaker", "Statistic": "Average",
             "Dimensions": DIMS, "Period": 60, "EvaluationPeriods": 3, "ComparisonOperator": "GreaterThanThreshold",
             "Threshold": 500.0}
    alarm.update(overrides)
    return alarm


def _stat(unit: str | None = None, period: int = 60) -> dict:
    stat = {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Dimensions": DIMS},
            "Period": period, "Stat": "p90"}
    if unit:
        stat["Unit"] = unit
    return stat


def test_a_subject_of_exactly_100_characters_is_sent_whole() -> None:
    """SNS Publish: a Subject may hold up to 100 characters, so CloudWatch only shortens longer ones."""
    prefix, suffix = 'ALARM: "', '" in US East (N. Virginia)'
    name = "n" * (100 - len(prefix) - len(suffix))
    assert notification_subject(name, "ALARM", "us-east-1") == prefix + name + suffix
    assert len(notification_subject(name + "x", "ALARM", "us-east-1")) == 100


def test_every_action_list_is_in_the_message() -> None:
    """AlarmThatSendsEmail: the message carries the alarm's OKActions, AlarmActions and
    InsufficientDataActions, for metric and composite alarms alike."""
    alarm = _metric_alarm()
    composite = {key: alarm[key] for key in ("AlarmName", "AlarmArn", "OKActions", "AlarmActions",
                                              "InsufficientDataActions")}
    for ours in (alarm_notification(alarm, OLD, NEW, ACCOUNT, "us-east-1"),
                 alarm_notification({**composite, "AlarmRule": "ALARM(a)"}, OLD, NEW, ACCOUNT, "us-east-1")):
        assert ours["OKActions"] == alarm["OKActions"]
        assert ours["AlarmActions"] == alarm["AlarmActions"]
        assert ours["InsufficientDataActions"] == alarm["InsufficientDataActions"]


def test_settings_the_alarm_sets_are_written_as_set() -> None:
    """PutMetricAlarm: TreatMissingData and EvaluateLowSampleCountPercentile appear with their values
    when set (empty strings only when unset), DatapointsToAlarm when set."""
    trigger = alarm_notification(_metric_alarm(TreatMissingData="breaching", DatapointsToAlarm=2,
                                               ExtendedStatistic="p90", Statistic=None,
                                               EvaluateLowSampleCountPercentile="ignore"),
                                 OLD, NEW, ACCOUNT, "us-east-1")["Trigger"]
    assert trigger["TreatMissingData"] == "breaching"
    assert trigger["EvaluateLowSampleCountPercentile"] == "ignore"
    assert trigger["DatapointsToAlarm"] == 2 and trigger["EvaluationPeriods"] == 3
    assert trigger["StatisticType"] == "ExtendedStatistic" and trigger["ExtendedStatistic"] == "p90"


def test_anomaly_detection_alarm_names_its_threshold_metric() -> None:
    """PutMetricAlarm, ThresholdMetricId: an anomaly-detection alarm compares with the band of the
    ANOMALY_DETECTION_BAND query instead of a Threshold."""
    alarm = _metric_alarm(ComparisonOperator="GreaterThanUpperThreshold", ThresholdMetricId="ad1", Threshold=None,
                          Metrics=[{"Id": "m1", "MetricStat": _stat(), "ReturnData": True},
                                   {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "Label": "band",
                                    "ReturnData": True}])
    for key in ("MetricName", "Namespace", "Statistic", "Dimensions", "Period"):
        alarm.pop(key)
    trigger = alarm_notification(alarm, OLD, NEW, ACCOUNT, "us-east-1")["Trigger"]
    assert trigger["ThresholdMetricId"] == "ad1" and "Threshold" not in trigger
    assert trigger["Period"] == 60
    assert [q["Id"] for q in trigger["Metrics"]] == ["m1", "ad1"]
    assert trigger["Metrics"][1]["Expression"] == "ANOMALY_DETECTION_BAND(m1, 2)"


def test_metric_math_queries_keep_unit_and_default_return_data() -> None:
    """MetricDataQuery (API reference): ReturnData defaults to true; MetricStat.Unit is part of the
    query and is kept in ``Trigger.Metrics[]`` and ``configuration.metrics[]``."""
    alarm = _metric_alarm(Metrics=[{"Id": "e1", "Expression": "m1 / 1000"},
                                   {"Id": "m1", "MetricStat": _stat("Microseconds"), "ReturnData": False}])
    for key in ("MetricName", "Namespace", "Statistic", "Dimensions", "Period"):
        alarm.pop(key)
    trigger = alarm_notification(alarm, OLD, NEW, ACCOUNT, "us-east-1")["Trigger"]
    first, second = trigger["Metrics"]
    assert first == {"Expression": "m1 / 1000", "Id": "e1", "ReturnData": True}
    assert second["MetricStat"]["Unit"] == "Microseconds" and second["ReturnData"] is False
    metrics = alarm_data(alarm, OLD, NEW)["configuration"]["metrics"]
    assert metrics[0] == {"id": "e1", "expression": "m1 / 1000", "returnData": True}
    assert metrics[1]["metricStat"]["unit"] == "Microseconds" and metrics[1]["returnData"] is False


def test_reason_data_orders_children_by_instant_whatever_their_offset() -> None:
    """cloudwatch-and-eventbridge, composite examples: triggeringAlarms are listed most recently changed
    first, timestamps written in UTC."""
    early = ChildState(f"{ARN}a", "ALARM", datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
    late = ChildState(f"{ARN}b", "ALARM", datetime(2024, 1, 1, 11, 0, tzinfo=UTC))
    alarms = composite_reason_data("ALARM", [early, late])["triggeringAlarms"]
    assert [a["arn"] for a in alarms] == [late.arn, early.arn]
    assert alarms[1]["state"]["timestamp"] == "2024-01-01T10:00:00.000+0000"


def test_cross_account_and_metrics_insights_queries_keep_their_members() -> None:
    """MetricDataQuery (API reference): AccountId names the account that holds the metric a PutMetricAlarm
    query watches; Period is the query's own for an expression such as a Metrics Insights SELECT (a
    MetricStat query has its period inside MetricStat)."""
    insights = {"Id": "q1", "Expression": 'SELECT AVG(ModelLatency) FROM SCHEMA("AWS/SageMaker")', "Period": 300,
                "ReturnData": True}
    remote = {"Id": "m1", "AccountId": "210987654321", "MetricStat": _stat(), "Period": 60, "ReturnData": False}
    alarm = _metric_alarm(Metrics=[insights, remote])
    for key in ("MetricName", "Namespace", "Statistic", "Dimensions", "Period"):
        alarm.pop(key)
    first, second = alarm_notification(alarm, OLD, NEW, ACCOUNT, "us-east-1")["Trigger"]["Metrics"]
    assert first == {"Expression": insights["Expression"], "Id": "q1", "Period": 300, "ReturnData": True}
    assert list(second) == ["AccountId", "Id", "MetricStat", "ReturnData"]
    assert second["AccountId"] == "210987654321" and second["MetricStat"]["Period"] == 60
