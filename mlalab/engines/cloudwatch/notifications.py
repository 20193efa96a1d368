"""What CloudWatch sends when an alarm changes state, in AWS's real shapes (pure: no moto, no clock).

Three documents, one per way an alarm acts:

* the **SNS notification** an alarm action publishes ("Using Amazon CloudWatch alarms", Alarm
  actions; AlarmThatSendsEmail): the ``Message`` is a JSON document *in a string*, the ``Subject`` is
  ``ALARM: "name" in US East (N. Virginia)``. Keys, order and value conventions are those of real
  notifications (``shared/reference/events/1-cloudwatch-alarm-sns`` and recorded notifications in
  LocalStack's AWS-validated snapshots): ``Region`` is the region's long name, times look like
  ``2021-11-10T02:45:55.640+0000``, ``AlarmDescription`` is ``null`` when unset, ``Trigger.Statistic``
  is upper case, ``Trigger.Dimensions`` are ``{value, name}``, a metric-math alarm's ``Trigger`` has
  ``Metrics[]`` and a composite alarm's message has ``AlarmRule`` and ``TriggeringChildren`` and no
  ``Trigger``;
* the EventBridge ``CloudWatch Alarm State Change`` event's ``detail`` ("Alarm events and
  EventBridge", cloudwatch-and-eventbridge): ``alarmName``, ``state``, ``previousState`` (each with
  ``reasonData`` as a string), ``configuration`` (``metrics[]`` with dimensions as a map, or
  ``alarmRule``);
* the payload a **Lambda alarm action** receives ("Invoke a Lambda function from an alarm",
  alarms-and-actions-Lambda): ``source``, ``alarmArn``, ``accountId``, ``time``, ``region`` (the code),
  ``alarmData`` (the same four members as the event detail).

Alarms are given in DescribeAlarms' shape (``MetricAlarms`` / ``CompositeAlarms`` entries as boto3
returns them), so a test can feed a described alarm straight in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .metric_math import math_period

#: SNS refuses a Subject longer than 100 characters; CloudWatch shortens the alarm name with "..."
#: (a real subject: ``ALARM: "SharedInfra-...HighDatabaseConnec..." in EU (Milan)`` is exactly 100).
SUBJECT_MAX = 100

#: The long region names CloudWatch writes in notifications ("EU (Ireland)", not "Europe (Ireland)").
#: Rows marked * were read in real notifications; the others follow the same naming.
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",  # *
    "us-east-2": "US East (Ohio)",  # *
    "us-west-1": "US West (N. California)",  # *
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-southeast-1": "Asia Pacific (Singapore)",  # *
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",  # *
    "ap-northeast-2": "Asia Pacific (Seoul)",  # *
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ca-central-1": "Canada (Central)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)",
    "eu-west-1": "EU (Ireland)",  # *
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",  # *
    "eu-south-2": "EU (Spain)",
    "il-central-1": "Israel (Tel Aviv)",
    "me-south-1": "Middle East (Bahrain)",
    "me-central-1": "Middle East (UAE)",
    "sa-east-1": "South America (Sao Paulo)",  # *
}


@dataclass(frozen=True)
class StateSnapshot:
    """An alarm's state at one moment: what DescribeAlarms shows as StateValue, StateReason,
    StateReasonData (a JSON string or None) and StateUpdatedTimestamp."""

    value: str
    reason: str
    reason_data: str | None
    timestamp: datetime


def region_long_name(region: str) -> str:
    """The name CloudWatch writes in ``Region`` and the Subject (the code itself when unknown)."""
    return REGION_NAMES.get(region, region)


def aws_time(at: datetime) -> str:
    """CloudWatch's timestamp format in notifications and alarm events: ``2023-08-04T12:36:15.490+0000``."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def notification_subject(alarm_name: str, state: str, region: str) -> str:
    """``ALARM: "name" in US East (N. Virginia)``, the name shortened with "..." to fit SNS's 100 characters."""
    suffix = f'" in {region_long_name(region)}'
    prefix = f'{state}: "'
    subject = prefix + alarm_name + suffix
    if len(subject) <= SUBJECT_MAX:
        return subject
    room = SUBJECT_MAX - len(prefix) - len(suffix) - 3
    return prefix + alarm_name[: max(room, 0)] + "..." + suffix


def is_composite(alarm: Mapping[str, Any]) -> bool:
    return "AlarmRule" in alarm


# ---------------------------------------------------------------------------------------------
# The SNS notification (Message).


def _dimensions_list(dimensions: Sequence[Mapping[str, str]] | None) -> list[dict[str, str]]:
    # Notifications spell dimensions {value, name}, value first (every real sample).
    return [{"value": d["Value"], "name": d["Name"]} for d in dimensions or []]


def _query_for_trigger(query: Mapping[str, Any]) -> dict[str, Any]:
    """A MetricDataQuery as ``Trigger.Metrics[]`` spells it: PascalCase, keys in alphabetical order."""
    out: dict[str, Any] = {}
    if query.get("AccountId"):
        out["AccountId"] = query["AccountId"]
    if query.get("Expression"):
        out["Expression"] = query["Expression"]
    out["Id"] = query["Id"]
    if query.get("Label"):
        out["Label"] = query["Label"]
    stat = query.get("MetricStat")
    if stat:
        metric = stat["Metric"]
        rendered: dict[str, Any] = {
            "Metric": {
                "Dimensions": _dimensions_list(metric.get("Dimensions")),
                "MetricName": metric["MetricName"],
                "Namespace": metric["Namespace"],
            },
            "Period": stat["Period"],
            "Stat": stat["Stat"],
        }
        if stat.get("Unit"):
            rendered["Unit"] = stat["Unit"]
        out["MetricStat"] = rendered
    if query.get("Period") and not stat:
        out["Period"] = query["Period"]
    out["ReturnData"] = _returns_data(query)
    return out


def _returns_data(query: Mapping[str, Any]) -> bool:
    # PutMetricAlarm: ReturnData defaults to true (MetricDataQuery, API reference).
    value = query.get("ReturnData")
    return True if value is None else bool(value)


def _alarm_period(alarm: Mapping[str, Any]) -> int | None:
    """A metric-math alarm's period: its own, else its queries' (None when they disagree)."""
    if alarm.get("Period"):
        return int(alarm["Period"])
    try:
        return math_period(alarm)
    except ValueError:
        return None


def _trigger(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """``Trigger``: the alarm's metric (or metric-math queries) and its threshold settings."""
    trigger: dict[str, Any] = {}
    metrics = alarm.get("Metrics")
    if metrics:
        trigger["Period"] = _alarm_period(alarm)
    else:
        trigger["MetricName"] = alarm["MetricName"]
        trigger["Namespace"] = alarm["Namespace"]
        if alarm.get("ExtendedStatistic"):
            trigger["StatisticType"] = "ExtendedStatistic"
            trigger["ExtendedStatistic"] = alarm["ExtendedStatistic"]
        else:
            trigger["StatisticType"] = "Statistic"
            trigger["Statistic"] = str(alarm.get("Statistic") or "").upper()
        trigger["Unit"] = alarm.get("Unit")
        trigger["Dimensions"] = _dimensions_list(alarm.get("Dimensions"))
        trigger["Period"] = int(alarm["Period"])
    trigger["EvaluationPeriods"] = int(alarm["EvaluationPeriods"])
    if alarm.get("DatapointsToAlarm"):
        trigger["DatapointsToAlarm"] = int(alarm["DatapointsToAlarm"])
    trigger["ComparisonOperator"] = alarm["ComparisonOperator"]
    if alarm.get("ThresholdMetricId"):
        trigger["ThresholdMetricId"] = alarm["ThresholdMetricId"]
    else:
        trigger["Threshold"] = float(alarm["Threshold"])
    # Unset settings are written as empty strings, not omitted (real notifications).
    trigger["TreatMissingData"] = alarm.get("TreatMissingData") or ""
    trigger["EvaluateLowSampleCountPercentile"] = alarm.get("EvaluateLowSampleCountPercentile") or ""
    if metrics:
        trigger["Metrics"] = [_query_for_trigger(q) for q in metrics]
    return trigger


def metric_alarm_notification(
    alarm: Mapping[str, Any], old: StateSnapshot, new: StateSnapshot, account: str, region: str
) -> dict[str, Any]:
    """The notification of a metric (or metric-math) alarm, keys in AWS's order."""
    updated = alarm.get("AlarmConfigurationUpdatedTimestamp")
    message: dict[str, Any] = {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": aws_time(updated) if updated else None,
        "NewStateValue": new.value,
        "NewStateReason": new.reason,
        "StateChangeTime": aws_time(new.timestamp),
        "Region": region_long_name(region),
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": old.value,
        "OKActions": list(alarm.get("OKActions") or []),
        "AlarmActions": list(alarm.get("AlarmActions") or []),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions") or []),
        "Trigger": _trigger(alarm),
    }
    return message


@dataclass(frozen=True)
class TriggeringChild:
    """A child alarm named in a composite's notification (``TriggeringChildren[]``)."""

    arn: str
    value: str
    timestamp: datetime


def composite_alarm_notification(
    alarm: Mapping[str, Any],
    old: StateSnapshot,
    new: StateSnapshot,
    account: str,
    region: str,
    triggering_children: Sequence[TriggeringChild] = (),
) -> dict[str, Any]:
    """The notification of a composite alarm: no ``Trigger``; ``AlarmRule`` and ``TriggeringChildren``
    instead, and the action lists before ``OldStateValue`` (the order of a recorded composite
    notification)."""
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "NewStateValue": new.value,
        "NewStateReason": new.reason,
        "StateChangeTime": aws_time(new.timestamp),
        "Region": region_long_name(region),
        "AlarmArn": alarm["AlarmArn"],
        "OKActions": list(alarm.get("OKActions") or []),
        "AlarmActions": list(alarm.get("AlarmActions") or []),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions") or []),
        "OldStateValue": old.value,
        "AlarmRule": alarm["AlarmRule"],
        "TriggeringChildren": [
            {"Arn": c.arn, "State": {"Value": c.value, "Timestamp": aws_time(c.timestamp)}}
            for c in triggering_children
        ],
    }


def alarm_notification(
    alarm: Mapping[str, Any],
    old: StateSnapshot,
    new: StateSnapshot,
    account: str,
    region: str,
    triggering_children: Sequence[TriggeringChild] = (),
) -> dict[str, Any]:
    """The notification of any alarm (composite or metric)."""
    if is_composite(alarm):
        return composite_alarm_notification(alarm, old, new, account, region, triggering_children)
    return metric_alarm_notification(alarm, old, new, account, region)


def notification_message(notification: Mapping[str, Any]) -> str:
    """The SNS ``Message``: the notification as compact JSON text."""
    return json.dumps(notification, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# EventBridge detail and the Lambda action payload (camelCase, dimensions as a map).


def _state(snapshot: StateSnapshot) -> dict[str, Any]:
    out: dict[str, Any] = {"value": snapshot.value, "reason": snapshot.reason}
    if snapshot.reason_data and snapshot.reason_data != "{}":
        out["reasonData"] = snapshot.reason_data  # a JSON document in a string
    out["timestamp"] = aws_time(snapshot.timestamp)
    return out


def _metric_stat(stat: Mapping[str, Any]) -> dict[str, Any]:
    metric = stat["Metric"]
    out: dict[str, Any] = {
        "metric": {
            "namespace": metric["Namespace"],
            "name": metric["MetricName"],
            "dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []},
        },
        "period": stat["Period"],
        "stat": stat["Stat"],
    }
    if stat.get("Unit"):
        out["unit"] = stat["Unit"]
    return out


def _configuration_metrics(alarm: Mapping[str, Any]) -> list[dict[str, Any]]:
    queries = alarm.get("Metrics")
    if not queries:
        # A single-metric alarm appears as one query whose id is a UUID (every real sample); derived
        # from the ARN so that all events of one alarm agree.
        stat = {
            "Metric": {"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                       "Dimensions": alarm.get("Dimensions") or []},
            "Period": alarm["Period"],
            "Stat": alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
            "Unit": alarm.get("Unit"),
        }
        return [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm["AlarmArn"])), "metricStat": _metric_stat(stat),
                 "returnData": True}]
    out = []
    for query in queries:
        entry: dict[str, Any] = {"id": query["Id"]}
        if query.get("Expression"):
            entry["expression"] = query["Expression"]
        if query.get("MetricStat"):
            entry["metricStat"] = _metric_stat(query["MetricStat"])
        if query.get("Label"):
            entry["label"] = query["Label"]
        entry["returnData"] = _returns_data(query)
        out.append(entry)
    return out


def _configuration(alarm: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if alarm.get("AlarmDescription"):
        config["description"] = alarm["AlarmDescription"]
    if is_composite(alarm):
        config["alarmRule"] = alarm["AlarmRule"]
        if alarm.get("ActionsSuppressor"):
            config["actionsSuppressor"] = alarm["ActionsSuppressor"]
            config["actionsSuppressorWaitPeriod"] = alarm.get("ActionsSuppressorWaitPeriod")
            config["actionsSuppressorExtensionPeriod"] = alarm.get("ActionsSuppressorExtensionPeriod")
    else:
        config["metrics"] = _configuration_metrics(alarm)
    return config


def alarm_data(alarm: Mapping[str, Any], old: StateSnapshot, new: StateSnapshot) -> dict[str, Any]:
    """The state change as the event ``detail`` and the Lambda payload's ``alarmData`` carry it."""
    return {
        "alarmName": alarm["AlarmName"],
        "state": _state(new),
        "previousState": _state(old),
        "configuration": _configuration(alarm),
    }


def state_change_detail(alarm: Mapping[str, Any], old: StateSnapshot, new: StateSnapshot) -> dict[str, Any]:
    """``detail`` of the ``CloudWatch Alarm State Change`` event (source ``aws.cloudwatch``,
    resources ``[AlarmArn]``)."""
    return alarm_data(alarm, old, new)


STATE_CHANGE_DETAIL_TYPE = "CloudWatch Alarm State Change"
EVENT_SOURCE = "aws.cloudwatch"


def lambda_action_payload(
    alarm: Mapping[str, Any], old: StateSnapshot, new: StateSnapshot, account: str, region: str
) -> dict[str, Any]:
    """The event a Lambda alarm action is invoked with."""
    return {
        "source": EVENT_SOURCE,
        "alarmArn": alarm["AlarmArn"],
        "accountId": account,
        "time": aws_time(new.timestamp),
        "region": region,
        "alarmData": alarm_data(alarm, old, new),
    }


def actions_for(alarm: Mapping[str, Any], state: str) -> list[str]:
    """The actions a transition into ``state`` runs ("Alarm actions": AlarmActions on ALARM, OKActions on
    OK, InsufficientDataActions on INSUFFICIENT_DATA); none while ActionsEnabled is false."""
    if alarm.get("ActionsEnabled") is False:
        return []
    key = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
    return list(alarm.get(key) or [])


__all__ = [
    "EVENT_SOURCE", "REGION_NAMES", "STATE_CHANGE_DETAIL_TYPE", "SUBJECT_MAX", "StateSnapshot", "TriggeringChild",
    "actions_for", "alarm_data", "alarm_notification", "aws_time", "composite_alarm_notification", "is_composite",
    "lambda_action_payload", "metric_alarm_notification", "notification_message", "notification_subject",
    "region_long_name", "state_change_detail",
]
