"""Conformance cases that pin behaviour of mlalab.engines.cloudwatch no other test pins: Unit filtering,
partial evaluation ranges under each TreatMissingData mode, AT_LEAST, the low-sample percentile rule at
other percentiles, and composite references by name or ARN. Each test names its AWS page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from mlalab.engines.cloudwatch import (
    MetricStore,
    decide_state,
    evaluate_composite_rule,
    evaluate_metric_alarm,
    low_sample_threshold,
    parse_composite_rule,
    period_starts,
    referenced_alarms,
    replay,
)

AT = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
NS = "MlaLabs/Test"
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def alarm(**overrides) -> dict:
    base = {"AlarmName": "lat", "Namespace": NS, "MetricName": "Latency", "Dimensions": [],
            "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold"}
    return {**base, **overrides}


# ---- Unit ------------------------------------------------------------------------------------------


def _unit_store() -> MetricStore:
    store = MetricStore()
    store.add(NS, "Latency", {}, AT - timedelta(seconds=30), 900.0, unit="Microseconds")
    store.add(NS, "Latency", {}, AT - timedelta(seconds=20), 9.0, unit="Milliseconds")
    return store


def test_unit_selects_only_datapoints_published_in_that_unit():
    """PutMetricAlarm, Unit: "If you specify a unit, the alarm only sees datapoints with that unit";
    without Unit every unit is retrieved —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"""
    store = _unit_store()
    assert evaluate_metric_alarm(alarm(Unit="Milliseconds"), store, AT).reason_data["recentDatapoints"] == [9.0]
    assert evaluate_metric_alarm(alarm(Unit="Microseconds"), store, AT).reason_data["recentDatapoints"] == [900.0]
    assert evaluate_metric_alarm(alarm(), store, AT).reason_data["recentDatapoints"] == [900.0]


def test_a_unit_nobody_publishes_sees_no_data_and_says_why():
    """Same page: "Otherwise, the CloudWatch alarm can get stuck in the INSUFFICIENT DATA state"."""
    result = evaluate_metric_alarm(alarm(Unit="Seconds"), _unit_store(), AT)
    assert result.state == "INSUFFICIENT_DATA"
    assert "No datapoint has Unit Seconds: Latency is published in Microseconds, Milliseconds" in result.reason
    assert "No datapoint" not in evaluate_metric_alarm(alarm(Unit="Seconds"), MetricStore(), AT).reason


def test_unpublished_unit_is_none():
    """PutMetricData, MetricDatum.Unit: a datum sent without a unit has unit None —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html"""
    store = MetricStore()
    store.add(NS, "Latency", {}, AT - timedelta(seconds=30), 9.0)
    assert evaluate_metric_alarm(alarm(Unit="None"), store, AT).state == "ALARM"
    assert evaluate_metric_alarm(alarm(Unit="Count"), store, AT).state == "INSUFFICIENT_DATA"


# ---- fewer than N real datapoints with M breaching ---------------------------------------------


@pytest.mark.parametrize(("mode", "expected"), [
    ("missing", "ALARM"), ("ignore", "ALARM"), ("breaching", "ALARM"), ("notBreaching", "ALARM")])
def test_fewer_than_n_points_with_m_breaching_alarm_in_every_mode(mode, expected):
    """How alarm state is evaluated when data is missing: with fewer than EvaluationPeriods real
    datapoints, DatapointsToAlarm real breaching ones are enough for ALARM whatever the mode —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data"""
    # 3 out of 5, range of 7: two real breaching points and one OK point, four missing.
    window = [None, True, None, False, None, True, None]
    for previous in ("OK", "ALARM", "INSUFFICIENT_DATA"):
        decision = decide_state(window, 5, 2, mode, previous)
        assert decision.state == expected
        assert decision.evaluated == (1, 3, 5)


@pytest.mark.parametrize(("mode", "state", "filled", "breaching"), [
    ("missing", "OK", 0, 1), ("ignore", "OK", 0, 1), ("breaching", "ALARM", 2, 3), ("notBreaching", "OK", 2, 1)])
def test_fewer_than_n_points_fewer_than_m_breaching(mode, state, filled, breaching):
    """Same page: 'breaching' fills the missing datapoints as breaching, 'notBreaching' as good;
    'missing' and 'ignore' fill nothing and an OK point gives OK."""
    decision = decide_state([None, True, None, False, None], 4, 3, mode, "ALARM")
    assert (decision.state, decision.filled, decision.breaching) == (state, filled, breaching)
    assert not decision.retained


def test_ignore_keeps_state_and_missing_gives_insufficient_data_with_no_point():
    assert decide_state([None, None, None], 1, 1, "ignore", "ALARM").retained
    assert decide_state([None, None, None], 1, 1, "ignore", "ALARM").state == "ALARM"
    assert decide_state([None, None, None], 1, 1, "missing", "ALARM").state == "INSUFFICIENT_DATA"
    assert decide_state([None, None, True, None], 3, 2, "missing", "OK").state == "INSUFFICIENT_DATA"


# ---- low sample percentiles --------------------------------------------------------------------


@pytest.mark.parametrize(("statistic", "minimum"), [
    ("p50", Fraction(20)), ("p90", Fraction(100)), ("p95", Fraction(200)), ("p99.9", Fraction(10000)),
    ("p10", Fraction(100)), ("p25", Fraction(40)), ("p49", Fraction(1000, 49)), ("p0", None), ("p100", None),
    ("Average", None)])
def test_low_sample_threshold_at_other_percentiles(statistic, minimum):
    """Percentile-based alarms and low data samples: 10/(1-p) for 0.5 <= p < 1, 10/p for 0 < p < 0.5 —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#percentiles-with-low-samples"""
    assert low_sample_threshold(statistic) == minimum


@pytest.mark.parametrize(("statistic", "enough"), [("p90", 100), ("p10", 100), ("p50", 20)])
def test_low_sample_ignore_at_other_percentiles(statistic, enough):
    store_thin, store_full = MetricStore(), MetricStore()
    for i in range(enough):
        stamp = AT - timedelta(seconds=59) + timedelta(milliseconds=i)
        store_full.add(NS, "Latency", {}, stamp, 10.0)
        if i < enough - 1:
            store_thin.add(NS, "Latency", {}, stamp, 10.0)
    a = alarm(Statistic=None, ExtendedStatistic=statistic, EvaluateLowSampleCountPercentile="ignore")
    thin = evaluate_metric_alarm(a, store_thin, AT, "OK")
    assert thin.state == "OK" and f"rests on {enough - 1} samples" in thin.reason
    assert evaluate_metric_alarm(a, store_full, AT, "OK").state == "ALARM"


# ---- AT_LEAST -----------------------------------------------------------------------------------

STATES = {"a": "ALARM", "b": "ALARM", "c": "OK", "d": "INSUFFICIENT_DATA"}


@pytest.mark.parametrize(("rule", "expected"), [
    ("AT_LEAST(2, ALARM, (a, b, c, d))", True),
    ("AT_LEAST(3, ALARM, (a, b, c, d))", False),
    ("AT_LEAST(1, OK, (a, b, c, d))", True),
    ("AT_LEAST(2, OK, (a, b, c, d))", False),
    ("AT_LEAST(2, NOT OK, (a, b, c, d))", True),
    ("AT_LEAST(4, NOT OK, (a, b, c, d))", False),
    ("AT_LEAST(3, NOT OK, (a, b, c, d))", True),
    ("AT_LEAST(1, INSUFFICIENT_DATA, (a, b, c, d))", True),
    ("AT_LEAST(50%, ALARM, (a, b, c, d))", True),
    ("AT_LEAST(51%, ALARM, (a, b, c, d))", False),
    ("AT_LEAST(75%, NOT OK, (a, b, c, d))", True),
    ("AT_LEAST(76%, NOT OK, (a, b, c, d))", False),
    ("AT_LEAST(0, ALARM, (c))", True),
    ("at_least(1, alarm, (a))", True),
])
def test_at_least_counts_and_percentages(rule, expected):
    """PutCompositeAlarm, AlarmRule: AT_LEAST(M, STATE, (alarms)) is TRUE when at least M (a number or a
    percentage) of the listed alarms are in (or, with NOT, not in) STATE —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html"""
    assert evaluate_composite_rule(rule, STATES) is expected


@pytest.mark.parametrize(("rule", "message"), [
    ("AT_LEAST(ALARM, (a))", "AT_LEAST needs a count or a percentage"),
    ("AT_LEAST(1 ALARM, (a))", "Expected ','"),
    ("AT_LEAST(1, BROKEN, (a))", "Unsupported token 'BROKEN'"),
    ("AT_LEAST(1, ALARM, a)", "Expected '('"),
    ("AT_LEAST(1, ALARM, (a)", "Expected ')'"),
    ("AT_LEAST(1, ALARM, (a, ))", "Missing alarm name"),
    ("AT_LEAST(1, ALARM, (a)) AND", "Unexpected end of rule"),
])
def test_at_least_parse_errors(rule, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_composite_rule(rule)


# ---- names and ARNs -----------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [
    "ALARM(cpu) AND ALARM(mem)", 'ALARM("cpu") AND ALARM("mem")', f"ALARM({ARN}cpu) AND ALARM({ARN}mem)",
    f'ALARM("{ARN}cpu") AND ALARM(mem)'])
@pytest.mark.parametrize("keyed_by_arn", [False, True])
def test_rule_names_and_arns_refer_to_the_same_alarm(rule, keyed_by_arn):
    """PutCompositeAlarm, AlarmRule: an alarm is referenced by name or by ARN."""
    key = (lambda n: ARN + n) if keyed_by_arn else (lambda n: n)
    assert evaluate_composite_rule(rule, {key("cpu"): "ALARM", key("mem"): "ALARM"}) is True
    assert evaluate_composite_rule(rule, {key("cpu"): "ALARM", key("mem"): "OK"}) is False


def test_references_keep_their_spelling_and_unknown_ones_raise():
    assert referenced_alarms(f'ALARM("{ARN}cpu") OR OK(cpu)') == [f"{ARN}cpu", "cpu"]
    with pytest.raises(KeyError, match="No state for alarm 'gpu'"):
        evaluate_composite_rule("ALARM(gpu)", {"cpu": "OK"})


def test_replay_resolves_arn_references_to_metric_alarms():
    store = MetricStore()
    for start in period_starts(AT, 60, 5):
        store.add(NS, "Latency", {}, start, 10.0)
    metric = alarm(AlarmArn=ARN + "lat")
    composite = {"AlarmName": "page", "AlarmRule": f"ALARM({ARN}lat)"}
    result = replay([metric], [composite], store, AT, AT)
    assert result.state_at("page", AT) == "ALARM"
    assert result.states["page"][0].reason == f"Alarm rule evaluated to TRUE; children in ALARM: {ARN}lat."
