"""Composite alarm state reasons in CloudWatch's wording. Source: the composite examples of "Alarm
events and EventBridge" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html):
``...:alarm:SuppressionDemo.EventBridge.FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC``,
``...:alarm:SuppressionDemo.EventBridge.Main was created and its alarm rule evaluates to OK`` and
``triggeringAlarms`` entries ``{"arn", "state": {"value", "timestamp": "2022-07-22T15:57:45.394+0000"}}``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from mlalab.engines.cloudwatch import (
    ChildState,
    composite_configured_reason,
    composite_reason_data,
    composite_transition_reason,
)
from mlalab.engines.cloudwatch.composite import reason_time

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def test_transition_reason_matches_the_documented_example() -> None:
    child = ChildState(f"{ARN}SuppressionDemo.EventBridge.FirstChild", "ALARM",
                       datetime(2022, 7, 22, 15, 57, 45, 394000, tzinfo=UTC))
    assert composite_transition_reason(child) == (
        f"{ARN}SuppressionDemo.EventBridge.FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC")


def test_reason_time_pads_the_day_and_converts_to_utc() -> None:
    assert reason_time(datetime(2023, 8, 4, 12, 54, 46)) == "Friday 04 August, 2023 12:54:46 UTC"  # naive = UTC
    assert reason_time(datetime(2023, 8, 4, 14, 54, 46, tzinfo=timezone(timedelta(hours=2)))) == \
        "Friday 04 August, 2023 12:54:46 UTC"


def test_created_and_updated_reasons() -> None:
    assert composite_configured_reason(f"{ARN}Main", "OK") == (
        f"{ARN}Main was created and its alarm rule evaluates to OK")
    assert composite_configured_reason(f"{ARN}Main", "ALARM", created=False) == (
        f"{ARN}Main was updated and its alarm rule evaluates to ALARM")


def test_reason_data_lists_the_children_that_explain_the_state_newest_first() -> None:
    cpu = ChildState(f"{ARN}ServerCpuTooHigh", "OK", datetime(2022, 7, 14, 16, 28, 54, 191000, tzinfo=UTC))
    net = ChildState(f"{ARN}TotalNetworkTrafficTooHigh", "OK", datetime(2022, 7, 14, 16, 28, 57, 770000, tzinfo=UTC))
    # The documented OK example: both OK children, the most recently changed first.
    assert composite_reason_data("OK", [cpu, net]) == {"triggeringAlarms": [
        {"arn": net.arn, "state": {"value": "OK", "timestamp": "2022-07-14T16:28:57.770+0000"}},
        {"arn": cpu.arn, "state": {"value": "OK", "timestamp": "2022-07-14T16:28:54.191+0000"}}]}
    fired = ChildState(cpu.arn, "ALARM", datetime(2022, 7, 22, 15, 57, 45, 394000))
    # ALARM: only the children in ALARM.
    assert composite_reason_data("ALARM", [fired, net]) == {"triggeringAlarms": [
        {"arn": cpu.arn, "state": {"value": "ALARM", "timestamp": "2022-07-22T15:57:45.394+0000"}}]}
