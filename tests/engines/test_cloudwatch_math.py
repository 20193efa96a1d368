"""Conformance suite for metric math (mlalab.engines.cloudwatch.metric_math). Source for every rule,
unless a test says otherwise: "Using metric math", sections "Metric math syntax and functions",
"Comparison and logical operators", "Functions supported for metric math" and "Using IF expressions" —
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from mlalab.engines.cloudwatch import (
    SEARCH_REFUSED,
    MetricStore,
    SeriesArray,
    evaluate_expression,
    evaluate_metric_alarm,
    math_datapoints,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
STARTS = [START + timedelta(minutes=i) for i in range(5)]


def ev(expression: str, **series: dict[int, float]):
    return evaluate_expression(expression, series, STARTS, 60)


# "metric1 has values of [30, 20, 0, 0] and metric2 has values of [20, -, 20, -]" (docs' example)
M1 = {0: 30.0, 1: 20.0, 2: 0.0, 3: 0.0}
M2 = {0: 20.0, 2: 20.0}


@pytest.mark.parametrize(("expression", "expected"), [
    ("metric1 < metric2", {0: 0.0, 1: 0.0, 2: 1.0, 3: 0.0}),
    ("metric1 >= 30", {0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0}),
    ("metric1 > 15 AND metric2 > 15", {0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0}),
    ("metric1 > 15 && metric2 > 15", {0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0}),
    ("metric1 > 25 OR metric2 > 15", {0: 1.0, 1: 0.0, 2: 1.0, 3: 0.0}),
    ("metric1 > 25 || metric2 > 15", {0: 1.0, 1: 0.0, 2: 1.0, 3: 0.0}),
    ("metric1 == 0", {0: 0.0, 1: 0.0, 2: 1.0, 3: 1.0}),
    ("metric1 != 0", {0: 1.0, 1: 1.0, 2: 0.0, 3: 0.0}),
    ("metric1 <= 20", {0: 0.0, 1: 1.0, 2: 1.0, 3: 1.0}),
])
def test_comparison_and_logical_operators_docs_table(expression, expected):
    """Rule: comparisons return 1 (true) or 0 per datapoint; a value missing from one series counts as 0."""
    assert ev(expression, metric1=M1, metric2=M2) == expected


def test_comparison_of_scalars_is_a_scalar():
    assert ev("3 > 2") == 1.0 and ev("3 < 2") == 0.0


def test_missing_right_hand_series_counts_as_zero():
    """Rule (Basic arithmetic functions): "Missing values in a time series are treated as 0"."""
    assert ev("m1 - m2", m1={0: 5.0, 1: 7.0}, m2={0: 1.0}) == {0: 4.0, 1: 7.0}
    assert ev("m1 * m2", m1={0: 5.0, 1: 7.0}, m2={}) == {0: 0.0, 1: 0.0}
    # Division by a missing (0) value drops the datapoint.
    assert ev("m1 / m2", m1={0: 5.0, 1: 7.0}, m2={0: 2.0}) == {0: 2.5}


def test_arrays_and_scalar_arithmetic():
    result = ev("[m1, m2] * 2", m1={0: 1.0}, m2={1: 3.0})
    assert isinstance(result, SeriesArray)
    assert [s for _, s in result.items] == [{0: 2.0}, {1: 6.0}]
    assert ev("SUM(-[m1, m2])", m1={0: 1.0}, m2={0: 3.0}) == {0: -4.0}


@pytest.mark.parametrize(("expression", "expected"), [
    ("ABS(m1)", {0: 2.5, 1: 0.0, 2: 3.0}),
    ("CEIL(m1)", {0: -2.0, 1: 0.0, 2: 3.0}),
    ("FLOOR(m1)", {0: -3.0, 1: 0.0, 2: 3.0}),
    ("ABS(-2)", 2.0),
    ("CEIL(2.1)", 3.0),
    ("FLOOR(2.9)", 2.0),
])
def test_abs_ceil_floor(expression, expected):
    """Rule: ABS / CEIL / FLOOR apply to each datapoint (CEIL: smallest integer >= value; FLOOR:
    largest integer <= value)."""
    assert ev(expression, m1={0: -2.5, 1: 0.0, 2: 3.0}) == expected


def test_log_and_log10_drop_undefined_points():
    assert ev("LOG10(m1)", m1={0: 100.0, 1: 0.0, 2: -1.0}) == {0: 2.0}
    assert ev("LOG(m1)", m1={0: math.e}) == {0: 1.0}


def test_fill_with_a_number_only_fills_gaps_never_overwrites():
    """Rule: FILL fills the *missing* values of a time series; real values stay as they are."""
    assert ev("FILL(m1, 0)", m1={1: 7.0, 3: 9.0}) == {0: 0.0, 1: 7.0, 2: 0.0, 3: 9.0, 4: 0.0}


def test_fill_with_a_series_repeat_and_linear():
    assert ev("FILL(m1, m2)", m1={0: 1.0}, m2={0: 5.0, 2: 6.0}) == {0: 1.0, 2: 6.0}
    assert ev("FILL(m1, REPEAT)", m1={1: 2.0, 3: 4.0}) == {1: 2.0, 2: 2.0, 3: 4.0}
    assert ev("FILL(m1, LINEAR)", m1={0: 0.0, 4: 8.0}) == {0: 0.0, 1: 2.0, 2: 4.0, 3: 6.0, 4: 8.0}
    filled = ev("FILL(METRICS(), 0)", m1={0: 1.0}, m2={})
    assert [s for _, s in filled.items] == [{0: 1.0, 1: 0, 2: 0, 3: 0, 4: 0}, dict.fromkeys(range(5), 0)]


def test_reducers_of_one_series_are_scalars_and_of_arrays_are_series():
    series = {0: 1.0, 1: 3.0, 3: 5.0}
    assert ev("m1 - AVG(m1)", m1=series) == {0: -2.0, 1: 0.0, 3: 2.0}
    assert ev("m1 / MAX(m1)", m1={0: 2.0, 1: 4.0}) == {0: 0.5, 1: 1.0}
    assert ev("m1 - MIN(m1)", m1={0: 2.0, 1: 4.0}) == {0: 0.0, 1: 2.0}
    assert ev("m1 / SUM(m1)", m1={0: 1.0, 1: 3.0}) == {0: 0.25, 1: 0.75}
    assert ev("m1 / STDDEV(m1)", m1={0: 1.0, 1: 3.0}) == {0: 1.0, 1: 3.0}
    # AVG of an array: "Missing values are treated as 0".
    assert ev("AVG([m1, m2])", m1={0: 4.0, 1: 2.0}, m2={0: 2.0}) == {0: 3.0, 1: 1.0}
    assert ev("MAX([m1, m2])", m1={0: 4.0, 1: 2.0}, m2={0: 6.0}) == {0: 6.0, 1: 2.0}
    assert ev("MIN([m1, m2])", m1={0: 4.0, 1: 2.0}, m2={0: 6.0}) == {0: 4.0, 1: 2.0}
    assert ev("SUM([m1, m2])", m1={0: 4.0, 1: 2.0}, m2={0: 6.0}) == {0: 10.0, 1: 2.0}


def test_diff_diff_time_rate_running_sum():
    series = {0: 10.0, 1: 16.0, 3: 10.0}
    assert ev("DIFF(m1)", m1=series) == {1: 6.0, 3: -6.0}
    assert ev("DIFF_TIME(m1)", m1=series) == {1: 60.0, 3: 120.0}
    assert ev("RATE(m1)", m1=series) == {1: 0.1, 3: -0.05}
    assert ev("RUNNING_SUM(m1)", m1=series) == {0: 10.0, 1: 26.0, 3: 36.0}


def test_metrics_function_with_and_without_filter():
    result = ev('SUM(METRICS("errors"))', errors4xx={0: 1.0}, errors5xx={0: 2.0}, requests={0: 100.0})
    assert result == {0: 3.0}
    assert ev("METRIC_COUNT(METRICS())", a={0: 1.0}, b={}) == 2.0
    assert ev("DATAPOINT_COUNT(m1)", m1={0: 1.0, 2: 1.0}) == 2.0
    assert ev("DATAPOINT_COUNT([m1, m2])", m1={0: 1.0, 2: 1.0}, m2={0: 5.0}) == {0: 2.0, 2: 1.0}


def test_if_docs_tables():
    """Rule ("Using IF expressions"): the docs' three worked tables, value for value."""
    metric1 = {0: 1.0, 1: 1.0, 2: 0.0, 3: 0.0}
    metric2 = {0: 30.0, 2: 0.0, 3: 0.0, 4: 30.0}
    metric3 = {0: 0.0, 1: 0.0, 2: 20.0, 4: 20.0}
    assert ev("IF(metric1, metric2, metric3)", metric1=metric1, metric2=metric2, metric3=metric3) == \
        {0: 30.0, 1: 0.0, 2: 20.0}
    assert ev("IF(metric1, 5, metric3)", metric1=metric1, metric3=metric3) == {0: 5.0, 1: 5.0, 2: 20.0}
    assert ev("IF(metric1, metric2, 5)", metric1=metric1, metric2=metric2) == {0: 30.0, 1: 0.0, 2: 5.0, 3: 5.0}
    assert ev("IF(metric1, metric2)", metric1=metric1, metric2=metric2) == {0: 30.0, 1: 0.0}
    assert ev("IF(m1 < 400, m1)", m1={0: 100.0, 1: 500.0}) == {0: 100.0}
    assert ev("IF(1, m1, m2)", m1={0: 1.0}, m2={0: 2.0}) == {0: 1.0}
    assert ev("IF(0, m1, 7)", m1={0: 1.0}) == dict.fromkeys(range(5), 7.0)
    assert ev("IF(0, m1)", m1={0: 1.0}) == {}


def test_clock_functions_time_series_first_last_sort_slice_remove_empty():
    assert ev("MINUTE(m1)", m1={}) == {i: float(i) for i in range(5)}
    assert ev("HOUR(m1)", m1={})[0] == 9.0
    assert ev("DAY(m1)", m1={})[0] == 1.0  # Monday; "IF(DAY(m1)<6,m1) returns metrics only from weekdays"
    assert ev("DATE(m1)", m1={})[0] == 2.0
    assert ev("MONTH(m1)", m1={})[0] == 3.0
    assert ev("YEAR(m1)", m1={})[0] == 2026.0
    assert ev("EPOCH(m1)", m1={})[0] == START.timestamp()
    assert ev("TIME_SERIES(10)") == dict.fromkeys(range(5), 10.0)
    assert ev("m1 / PERIOD(m1)", m1={0: 120.0}) == {0: 2.0}
    arrays = {"a": {0: 1.0}, "b": {0: 9.0}, "c": {}}
    assert ev("FIRST(SORT(METRICS(), MAX, DESC))", **arrays) == {0: 9.0}
    assert ev("LAST(SORT(METRICS(), MAX, DESC))", **arrays) == {}
    assert ev("FIRST(SLICE(SORT(METRICS(), SUM, ASC), 1, 2))", **arrays) == {0: 1.0}
    assert ev("METRIC_COUNT(REMOVE_EMPTY(METRICS()))", **arrays) == 2.0
    assert ev("METRIC_COUNT(SORT(METRICS(), AVG, DESC, 1))", **arrays) == 1.0


def test_data_the_replay_does_not_hold_is_no_data():
    """INSIGHT_RULE_METRIC and SERVICE_QUOTA are valid in alarms; a replay has no such data, so the alarm
    sees none (missing data), exactly what AWS would show without it."""
    assert ev("INSIGHT_RULE_METRIC(\"rule\", \"UniqueContributors\")") == {}
    assert ev("SERVICE_QUOTA(m1)", m1={0: 1.0}) == {}


def test_search_is_refused_with_cloudwatchs_message():
    """Rule (functions table, SEARCH): "You can't create an alarm based on a SEARCH expression";
    PutMetricAlarm answers "SEARCH is not supported on Metric Alarms."."""
    with pytest.raises(ValueError) as error:
        ev("SEARCH('{AWS/EC2,InstanceId} CPUUtilization', 'Average', 300)")
    assert str(error.value) == SEARCH_REFUSED


def test_anomaly_band_and_unknown_functions_are_refused():
    with pytest.raises(ValueError, match="ThresholdMetricId"):
        ev("ANOMALY_DETECTION_BAND(m1)", m1={})
    with pytest.raises(ValueError, match="SQRT is not a CloudWatch metric math function"):
        ev("SQRT(m1)", m1={})


@pytest.mark.parametrize("expression", ["", "m1 +", "(m1", "m1 $ 2", "FILL(m1)", "ABS(m1, m2)", "[1, 2]",
                                        "[m1] + [m1]", "SORT(METRICS(), AVG)", "METRICS(1)", "PERIOD(3)",
                                        "TIME_SERIES(m1)", "FIRST(m1)", "unknown_id"])
def test_malformed_expressions_are_errors(expression):
    with pytest.raises(ValueError):
        ev(expression, m1={0: 1.0})


def _store(unit_errors: str | None = None) -> MetricStore:
    store = MetricStore()
    store.add("NS", "Errors", {}, START + timedelta(seconds=10), 6.0, unit=unit_errors)
    store.add("NS", "Requests", {}, START + timedelta(seconds=10), 100.0, unit="Count")
    return store


def _query(query_id: str, metric: str, unit: str | None = None) -> dict:
    stat = {"Metric": {"Namespace": "NS", "MetricName": metric}, "Period": 60, "Stat": "Sum"}
    if unit:
        stat["Unit"] = unit
    return {"Id": query_id, "MetricStat": stat, "ReturnData": False}


def test_metric_stat_unit_filters_math_inputs():
    """PutMetricAlarm, MetricStat.Unit: "if you specify a unit, the alarm only sees datapoints with that
    unit" — https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html"""
    queries = [_query("e", "Errors", "Count"), _query("r", "Requests", "Count"),
               {"Id": "rate", "Expression": "100 * e / r", "ReturnData": True}]
    assert math_datapoints(queries, _store("Count"), [START], 60)[0].value == 6.0
    # Errors published without a unit ("None") are invisible to a query asking for Count: 0 errors.
    assert math_datapoints(queries, _store(None), [START], 60)[0].value == 0.0


def test_an_alarm_on_an_array_or_a_number_is_refused():
    queries = [_query("e", "Errors"), _query("r", "Requests"), {"Id": "x", "Expression": "METRICS()",
                                                                 "ReturnData": True}]
    with pytest.raises(ValueError, match="returns 2 time series"):
        math_datapoints(queries, _store(), [START], 60)
    queries[-1]["Expression"] = "MAX(e)"
    with pytest.raises(ValueError, match="must produce a time series"):
        math_datapoints(queries, _store(), [START], 60)


def test_comparison_expression_alarm_end_to_end():
    """An alarm on IF(...) and comparisons evaluates like any expression alarm."""
    alarm = {"AlarmName": "a", "EvaluationPeriods": 1, "Threshold": 0.5, "ComparisonOperator": "GreaterThanThreshold",
             "Metrics": [_query("e", "Errors"), _query("r", "Requests"),
                         {"Id": "x", "Expression": "IF(r > 50, e / r > 0.05, 0)", "ReturnData": True}]}
    assert evaluate_metric_alarm(alarm, _store(), START + timedelta(minutes=1)).state == "ALARM"
