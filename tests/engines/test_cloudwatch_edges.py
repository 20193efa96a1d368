"""Edges of mlalab.engines.cloudwatch that the rule-by-rule suites leave open: every validation error
with its message, reason texts word for word, and the arithmetic at boundaries (written while mutation
testing the engine: each case here fails for some change of the code that the other suites miss).
The AWS page behind each rule is named on its test."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mlalab.engines.cloudwatch import (
    MetricStore,
    Sample,
    aggregate,
    alarm_name_from_reference,
    breaches,
    decide_state,
    dumps_reason_data,
    evaluate_composite_rule,
    evaluate_expression,
    evaluate_metric_alarm,
    lookup_state,
    math_datapoints,
    math_period,
    parse_composite_rule,
    parse_percentile,
    period_starts,
    replay,
    returned_query,
)
from mlalab.engines.cloudwatch.composite import CompositeRule

AT = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
NS = "MlaLabs/Test"
STARTS = [AT + timedelta(minutes=i) for i in range(5)]
USING_METRIC_MATH = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html"


def ev(expression: str, **series):
    return evaluate_expression(expression, series, STARTS)


def alarm(**overrides) -> dict:
    base = {"AlarmName": "lat", "Namespace": NS, "MetricName": "Latency", "Dimensions": [],
            "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold"}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def store_of(*values: float | None, period: int = 60) -> MetricStore:
    """One datapoint per period (oldest first, ending at AT); None leaves the period empty."""
    store = MetricStore()
    for start, value in zip(period_starts(AT, period, len(values)), values, strict=True):
        if value is not None:
            store.add(NS, "Latency", {}, start + timedelta(seconds=1), value)
    return store


# ---- metric math: errors, each with its message (USING_METRIC_MATH, syntax and functions) ----------

MATH_ERRORS = [
    ("", "Empty expression"),
    ("m1 $ 2", "Unsupported character '$'"),
    ("m1 m1", "Unexpected 'm1'"),
    ("REPEAT", "is not a value"),
    ('"text"', "is not a value"),
    (")", "Unexpected ')'"),
    ("(m1", "Unexpected end"),
    ("FILL(m1 0)", "Expected ')' but found '0'"),
    ("m1 + REPEAT", "cannot be used with '+'"),
    ("ABS(m1, m1)", "ABS takes 1 argument, got 2"),
    ("AVG(m1, m1)", "AVG takes 1 argument, got 2"),
    ("MINUTE(m1, m1)", "MINUTE takes 1 argument, got 2"),
    ("MINUTE([m1])", "MINUTE needs a time series, got"),
    ("DATAPOINT_COUNT(m1, m1)", "DATAPOINT_COUNT takes 1 argument"),
    ("METRIC_COUNT(METRICS(), m1)", "METRIC_COUNT takes 1 argument"),
    ("METRIC_COUNT(m1)", "METRIC_COUNT needs an array"),
    ('METRICS("a", "b")', "METRICS takes 0 to 1 argument, got 2"),
    ("PERIOD(m1, m1)", "PERIOD takes 1 argument"),
    ("PERIOD([m1])", "PERIOD needs a time series, got"),
    ("TIME_SERIES(1, 2)", "TIME_SERIES takes 1 argument"),
    ("DIFF(m1, m1)", "DIFF takes 1 argument"),
    ("RUNNING_SUM(m1, m1)", "RUNNING_SUM takes 1 argument"),
    ("FILL(m1, 0, 0)", "FILL takes 2 arguments, got 3"),
    ('FILL(m1, "x")', "FILL takes a time series and a number"),
    ("FIRST(METRICS(), m1)", "FIRST takes 1 argument"),
    ("REMOVE_EMPTY(METRICS(), m1)", "REMOVE_EMPTY takes 1 argument"),
    ("REMOVE_EMPTY(m1)", "REMOVE_EMPTY needs an array"),
    ("SORT(METRICS(), AVG, DESC, 1, 2)", "SORT takes 3 to 4 arguments, got 5"),
    ("SORT(m1, AVG, DESC)", "SORT takes an array"),
    ("SORT(METRICS(), REPEAT, DESC)", "SORT takes an array"),
    ("SORT(METRICS(), AVG, 1)", "SORT takes an array"),
    ("SLICE(METRICS())", "SLICE takes 2 to 3 arguments, got 1"),
    ("SLICE(METRICS(), 0, 1, 2)", "SLICE takes 2 to 3 arguments, got 4"),
    ("SLICE(m1, 1)", "SLICE takes an array and one or two numbers"),
    ("SLICE(METRICS(), m1)", "SLICE takes an array and one or two numbers"),
    ("IF(m1, 1, 0, 0)", "IF takes 2 to 3 arguments, got 4"),
    ("IF(METRICS(), 1, 0)", "IF takes numbers or single time series"),
    ("nothere + 1", "references unknown id 'nothere'"),
]


@pytest.mark.parametrize(("expression", "message"), MATH_ERRORS)
def test_metric_math_errors_name_the_problem(expression, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ev(expression, m1={0: 1.0})


def test_unary_plus_strings_and_nested_arrays():
    assert ev("+m1", m1={0: 2.0}) == {0: 2.0}
    assert ev('METRIC_COUNT(METRICS("e"))', e1={0: 1.0}, x={0: 2.0}) == 1.0
    assert ev('METRIC_COUNT([x, METRICS("e")])', e1={}, e2={}, x={}) == 3.0
    assert ev('FIRST(METRICS("zzz"))', m1={0: 1.0}) == {}
    assert ev('m1 + FIRST(METRICS("zzz"))', m1={0: 1.0}) == {0: 1.0}


def test_non_finite_results_are_dropped():
    """Basic arithmetic: a datapoint whose value cannot be computed is dropped (here an overflow)."""
    assert ev("m1 * 10", m1={0: 1e308, 1: 1.0}) == {1: 10.0}
    assert ev("m1 ^ 2", m1={0: 1e200, 1: 3.0}) == {1: 9.0}


def test_slice_bounds():
    ids = {"a": {0: 1.0}, "b": {0: 2.0}, "c": {0: 3.0}}
    assert ev("METRIC_COUNT(SLICE(METRICS(), 1))", **ids) == 2.0
    assert ev("METRIC_COUNT(SLICE(METRICS(), 0, 1))", **ids) == 1.0
    assert ev("FIRST(SLICE(METRICS(), 2))", **ids) == {0: 3.0}


def test_fill_repeat_and_linear_between_unequal_values():
    assert ev("FILL(m1, REPEAT)", m1={}) == {}
    assert ev("FILL(m1, REPEAT)", m1={0: 1.0, 2: 5.0}) == {0: 1.0, 1: 1.0, 2: 5.0}
    assert ev("FILL(m1, LINEAR)", m1={1: 2.0, 3: 6.0}) == {1: 2.0, 2: 4.0, 3: 6.0}


def test_period_defaults_to_a_minute():
    assert ev("m1 / PERIOD(m1)", m1={0: 120.0}) == {0: 2.0}


def _stat(query_id: str, metric: str = "Latency", period: int = 60) -> dict:
    return {"Id": query_id, "ReturnData": False,
            "MetricStat": {"Metric": {"Namespace": NS, "MetricName": metric}, "Period": period, "Stat": "Sum"}}


def test_math_period_sources_and_conflicts():
    """PutMetricAlarm (Metrics): every MetricStat of an alarm uses one period; an expression may carry it —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html"""
    assert math_period({"Metrics": [{"Id": "e", "Expression": "TIME_SERIES(1)", "Period": 300}]}) == 300
    assert math_period({"Period": 120, "Metrics": [{"Id": "e", "Expression": "TIME_SERIES(1)"}]}) == 120
    assert math_period({"Metrics": [_stat("a", period=60), _stat("b", period=60)]}) == 60
    with pytest.raises(ValueError, match="needs a Period"):
        math_period({"Metrics": [{"Id": "e", "Expression": "TIME_SERIES(1)"}]})
    with pytest.raises(ValueError, match=re.escape("same period, got [60, 300]")):
        math_period({"Metrics": [_stat("a", period=60), _stat("b", period=300)]})
    with pytest.raises(ValueError, match=re.escape("same period, got [60, 300]")):
        math_period({"Metrics": [_stat("a", period=60), {"Id": "e", "Expression": "a", "Period": 300}]})


def test_returned_query_selection():
    """PutMetricAlarm (Metrics): exactly one query returns data; a lone expression without ReturnData
    is the one the console marks."""
    lone = {"Id": "e", "Expression": "a"}
    assert returned_query([_stat("a"), lone]) is lone
    with pytest.raises(ValueError, match="ReturnData"):
        returned_query([_stat("a"), lone, {"Id": "f", "Expression": "a"}])
    with pytest.raises(ValueError, match="ReturnData"):
        returned_query([_stat("a"), {"Id": "e", "Expression": "a", "ReturnData": False}])
    with pytest.raises(ValueError, match="ReturnData"):
        returned_query([{**_stat("a"), "ReturnData": None}])


def test_math_sample_counts_add_up_each_metric_once():
    store = MetricStore()
    store.add(NS, "Latency", {}, AT + timedelta(seconds=1), 2.0)
    store.add(NS, "Errors", {}, AT + timedelta(seconds=1), 1.0)
    queries = [_stat("a"), _stat("b", "Errors"), {"Id": "e", "Expression": "a + a + b", "ReturnData": True}]
    first, empty = math_datapoints(queries, store, [AT, AT + timedelta(minutes=1)], 60)
    assert (first.value, first.sample_count) == (5.0, 2.0)
    assert (empty.value, empty.sample_count) == (None, 0.0)
    with pytest.raises(ValueError, match="Query 'x' has neither MetricStat nor Expression"):
        math_datapoints([{"Id": "x", "ReturnData": False}, {"Id": "e", "Expression": "x", "ReturnData": True}],
                        store, [AT], 60)
    with pytest.raises(ValueError, match="unknown id 'zz'"):
        math_datapoints([{"Id": "e", "Expression": "zz", "ReturnData": True}], store, [AT], 60)


# ---- metrics and statistics ----------------------------------------------------------------------


def test_periods_align_to_the_unix_epoch_and_must_be_positive():
    """Evaluating an alarm: datapoints are aggregated per period; periods start at multiples of the
    period since the epoch (1970-01-01T00:00:00Z)."""
    at = datetime(2025, 3, 10, 12, 0, 3, tzinfo=UTC)
    (start,) = period_starts(at, 7, 1)
    assert int(start.timestamp()) % 7 == 0 and at - timedelta(seconds=14) < start <= at - timedelta(seconds=7)
    assert period_starts(at, 1, 2) == [at - timedelta(seconds=2), at - timedelta(seconds=1)]
    assert period_starts(at.replace(tzinfo=None), 60, 1) == period_starts(at, 60, 1)
    with pytest.raises(ValueError, match="Period must be a positive number of seconds, got 0"):
        period_starts(at, 0, 1)


def test_naive_times_are_utc_whatever_the_local_zone(monkeypatch):
    """moto and boto3 hand over naive UTC datetimes; the machine's zone must not shift them."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert period_starts(AT.replace(tzinfo=None), 60, 1) == [AT - timedelta(minutes=1)]
        tokyo = AT.astimezone(ZoneInfo("Asia/Tokyo"))
        assert period_starts(tokyo, 60, 1) == [AT - timedelta(minutes=1)]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_store_sees_samples_added_after_a_query_and_naive_times_are_utc():
    store = MetricStore()
    store.add(NS, "Latency", {}, AT.replace(tzinfo=None), 1.0)
    window = (AT, AT + timedelta(minutes=1))
    assert store.period_statistic(NS, "Latency", {}, *window, "Sum") == (1.0, 1.0)
    store.add(NS, "Latency", {}, AT, 2.0)
    assert store.period_statistic(NS, "Latency", {}, *window, "Sum") == (3.0, 2.0)


def test_percentile_range_and_weighted_ranks():
    """Statistics definitions (percentiles p0..p100) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html"""
    assert parse_percentile("p100") == 100
    with pytest.raises(ValueError, match="Percentile out of range"):
        parse_percentile("p100.5")
    weighted = [Sample(AT, 1.0, 3.0), Sample(AT, 10.0, 1.0)]
    assert aggregate(weighted, "p75") == 1.0 and aggregate(weighted, "p76") == 10.0
    assert aggregate([Sample(AT, 1.0, 3.0), Sample(AT, 10.0, 2.0)], "p60") == 1.0  # no count of 1 at all
    assert aggregate([Sample(AT, 1.0, 1.0), Sample(AT, 5.0, 2.0)], "p10") == 1.0
    # Rank ceil(1 + 1/128) = 2 is past the cumulative count of (exact) float counts: the largest value.
    assert aggregate([Sample(AT, 1.0, 1.0), Sample(AT, 9.0, 0.0078125)], "p100") == 9.0
    assert aggregate([Sample(AT, 5.0, 0.0)], "Maximum") is None


# ---- metric alarms --------------------------------------------------------------------------------

ALARM_ERRORS = [
    (dict(ComparisonOperator="Above"), ValueError, "Unknown ComparisonOperator 'Above'"),
    (dict(Statistic=None), ValueError, "has neither Statistic nor ExtendedStatistic"),
    (dict(TreatMissingData="skip"), ValueError, "Unknown TreatMissingData 'skip'"),
    (dict(ThresholdMetricId="ad1"), NotImplementedError, "anomaly detection band"),
    (dict(EvaluationPeriods=0), ValueError, "Need 1 <= DatapointsToAlarm"),
    (dict(EvaluationPeriods=2, DatapointsToAlarm=3), ValueError, "Need 1 <= DatapointsToAlarm (3)"),
]


@pytest.mark.parametrize(("overrides", "error", "message"), ALARM_ERRORS)
def test_invalid_alarms_are_refused(overrides, error, message):
    """PutMetricAlarm parameters —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"""
    with pytest.raises(error, match=re.escape(message)):
        evaluate_metric_alarm(alarm(**overrides), store_of(9.0), AT)


def test_previous_state_must_be_a_state():
    with pytest.raises(ValueError, match="previous_state must be one of"):
        evaluate_metric_alarm(alarm(), store_of(9.0), AT, "PENDING")


def test_breaches_compares_with_the_threshold():
    assert breaches(alarm(), 6.0) is True
    assert breaches(alarm(), 5.0) is False


def test_reason_data_names_the_statistic_and_times_are_utc():
    """Alarm state change events: StateReasonData holds "statistic" or "extendedStatistic" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"""
    basic = evaluate_metric_alarm(alarm(), store_of(9.0), AT.replace(tzinfo=None))
    assert basic.reason_data["statistic"] == "Maximum" and "extendedStatistic" not in basic.reason_data
    assert basic.timestamp == AT
    extended = evaluate_metric_alarm(alarm(Statistic=None, ExtendedStatistic="p99"), store_of(9.0), AT)
    assert extended.reason_data["extendedStatistic"] == "p99" and "statistic" not in extended.reason_data
    assert json.loads(dumps_reason_data(extended)) == extended.reason_data
    assert "," + " " not in dumps_reason_data(extended)


@pytest.mark.parametrize(("values", "overrides", "state", "reason"), [
    ((None, None, None), dict(TreatMissingData="ignore"), "ALARM",
     "Unchanged: missing data is ignored (TreatMissingData=ignore); state stays ALARM."),
    ((None, None, None), dict(), "INSUFFICIENT_DATA", "Insufficient Data: 3 datapoints were unknown."),
    ((None, None, 9.0), dict(EvaluationPeriods=2), "INSUFFICIENT_DATA",
     "Insufficient Data: 3 datapoints were unknown."),
    ((1.0, 9.0, None), dict(EvaluationPeriods=1), "ALARM", "Threshold Crossed: 1 out of the last 1 datapoints "
     "[9.0 (10/03/25 11:58:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM "
     "transition)."),
    ((None, None, 9.0), dict(EvaluationPeriods=3, TreatMissingData="breaching"), "ALARM",
     "Threshold Crossed: 1 out of the last 3 datapoints [9.0 (10/03/25 11:59:00)] was greater than the threshold "
     "(5.0) and 2 missing datapoints were treated as [Breaching] (minimum 3 datapoints for OK -> ALARM transition)."),
    ((None, 1.0, 1.0), dict(EvaluationPeriods=3, TreatMissingData="notBreaching"), "OK",
     "Threshold Crossed: 2 out of the last 3 datapoints [1.0 (10/03/25 11:59:00), 1.0 (10/03/25 11:58:00)] were "
     "not greater than the threshold (5.0) and 1 missing datapoint was treated as [NonBreaching] (minimum 1 "
     "datapoint for ALARM -> OK transition)."),
    ((None, None, None), dict(EvaluationPeriods=2, TreatMissingData="breaching"), "ALARM",
     "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as "
     "[Breaching] (minimum 2 datapoints for OK -> ALARM transition)."),
])
def test_state_reasons_word_for_word(values, overrides, state, reason):
    """Alarm state reasons as CloudWatch writes them (StateReason of DescribeAlarms; the docs' example
    event in "How partial data from a Metrics Insights query is evaluated")."""
    result = evaluate_metric_alarm(alarm(**overrides), store_of(*values), AT, "ALARM")
    assert (result.state, result.reason) == (state, reason)


def test_unit_note_only_for_an_alarm_with_a_unit():
    """PutMetricAlarm, Unit: an alarm without Unit retrieves every unit, so it never gets the note."""
    store = MetricStore()
    store.add(NS, "Latency", {}, AT - timedelta(hours=1), 9.0, unit="Seconds")
    assert "No datapoint" not in evaluate_metric_alarm(alarm(), store, AT).reason
    assert "No datapoint has Unit Percent" in evaluate_metric_alarm(alarm(Unit="Percent"), store, AT).reason


@pytest.mark.parametrize(("window", "mode", "state"), [
    ([True, None, None], "missing", "ALARM"),
    ([True, None, None, None], "missing", "ALARM"),
    ([None, None, True], "missing", "ALARM"),
    ([None, None, None], "missing", "INSUFFICIENT_DATA"),
    ([None, None, None], "ignore", "OK"),
])
def test_missing_and_ignore_never_fill(window, mode, state):
    """How alarm state is evaluated when data is missing: 'missing' and 'ignore' invent no datapoints."""
    decision = decide_state(window, 3, len(window) - 2, mode, "OK")
    assert (decision.state, decision.filled) == (state, 0)


# ---- composite rules ------------------------------------------------------------------------------

RULE_ERRORS = [
    ("   ", "AlarmRule is empty"),
    ("ALARM(a) XYZ", "Unsupported token 'XYZ' at char 9"),
    ("ALARM(a) AND ", "Unexpected end of rule at char 13"),
    ("ALARM(", "Missing alarm name"),
    ('ALARM("a\\"', "Unterminated quoted alarm name"),
    ('ALARM("a\\', "Unterminated quoted alarm name"),
    ("AT_LEAST(1, ALARM, (a", "Expected ')' but found 'end of rule'"),
    ("AT_LEAST(1, ALARM, (a,,b))", "Missing alarm name"),
]


@pytest.mark.parametrize(("rule", "message"), RULE_ERRORS)
def test_rule_errors(rule, message):
    """PutCompositeAlarm, AlarmRule syntax —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html"""
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_composite_rule(rule)


def test_rule_is_required():
    with pytest.raises(ValueError, match="AlarmRule is required"):
        parse_composite_rule(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("rule", [
    '  ALARM ( "a" )  AND  ( OK( b ) )  ', "ALARM(a)AND OK(b)", "AT_LEAST( 2 , ALARM , ( a , c ) ) AND NOT ALARM (b)",
    "AT_LEAST(2,ALARM,(a,c))", 'ALARM("a") AND NOT  ALARM("b")', 'AT_LEAST(2, ALARM, ("a" , "c" ))'])
def test_rules_read_through_whitespace(rule):
    assert evaluate_composite_rule(rule, {"a": "ALARM", "b": "OK", "c": "ALARM"}) is True


def test_escaped_quotes_fractional_percentages_and_arn_lookup():
    assert parse_composite_rule('ALARM("a\\"b")').references == ('a"b',)
    assert parse_composite_rule('ALARM("a\\"b") OR OK(c)').references == ('a"b', "c")
    assert evaluate_composite_rule("AT_LEAST(50.5%, ALARM, (a, b))", {"a": "ALARM", "b": "OK"}) is False
    assert alarm_name_from_reference("my:alarm:name") == "my:alarm:name"
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
    assert alarm_name_from_reference(arn + "a:alarm:b") == "a:alarm:b"
    eu = arn.replace("us-east-1", "eu-west-1")
    states = {arn + "cpu": "ALARM", eu + "cpu": "OK"}
    assert lookup_state(eu + "cpu", states) == "OK"
    with pytest.raises(TypeError, match="Not a composite rule node"):
        evaluate_composite_rule(CompositeRule("x", object(), ()), {})


# ---- replay ---------------------------------------------------------------------------------------


def test_replay_timelines_transitions_and_steps():
    store = store_of(1.0, 9.0, 9.0, 1.0, None, period=60)
    result = replay([alarm()], [], store, AT - timedelta(minutes=4), AT.replace(tzinfo=None))
    assert [s for _, s in result.transitions("lat")] == ["OK", "ALARM", "OK"]
    assert result.transitions("lat")[1][0] == AT - timedelta(minutes=3)
    assert result.state_at("lat", (AT - timedelta(minutes=2)).replace(tzinfo=None)) == "ALARM"
    assert result.state_at("lat", AT - timedelta(hours=1)) == "INSUFFICIENT_DATA"
    assert result.ever_in("lat", "ALARM") and not result.ever_in("lat", "INSUFFICIENT_DATA")
    with pytest.raises(KeyError, match="Alarm 'nope' was not part of the replay"):
        result.state_at("nope", AT)
    with pytest.raises(ValueError, match="step_seconds must be positive"):
        replay([alarm()], [], store, AT, AT, step_seconds=0)
    one_second = replay([alarm()], [], store, AT - timedelta(seconds=2), AT, step_seconds=1)
    assert len(one_second.states["lat"]) == 3


@pytest.mark.parametrize("batches", [
    [[(0, 1.0), (10, 2.0)], [(20, 3.0), (20, 4.0)]],                   # in order: appended
    [[(30, 1.0), (40, 2.0)], [(5, 3.0), (35, 4.0)]],                    # a late batch: merged by time
    [[(50, 1.0), (10, 2.0), (10, 5.0)], [(10, 3.0)]],                    # unordered, equal stamps
    [[(0, 1.0), (20, 2.0), (10, 3.0)]],                                  # only one neighbouring pair out of order
    [[], [(0, 7.0)]],                                                    # an empty batch changes nothing
])
def test_add_many_is_add_repeated(batches):
    """``add_many`` (the recorded timelines' bulk path) keeps exactly what ``add`` one value at a time
    keeps: time order, publishing order among equal timestamps, the unit, and fresh aggregates."""
    one, many = MetricStore(), MetricStore()
    dims = {"EndpointName": "e"}
    many.add(NS, "M", dims, AT, 0.5, unit="Microseconds")
    one.add(NS, "M", dims, AT, 0.5, unit="Microseconds")
    assert many.period_statistic(NS, "M", dims, AT, AT + timedelta(minutes=1), "Sum") == (0.5, 1.0)
    for batch in batches:
        values = [(AT + timedelta(seconds=s), v) for s, v in batch]
        many.add_many(NS, "M", dims, values, unit="Microseconds")
        for stamp, value in values:
            one.add(NS, "M", dims, stamp, value, unit="Microseconds")
    window = (AT - timedelta(minutes=1), AT + timedelta(minutes=2))
    assert many.samples(NS, "M", dims, *window) == one.samples(NS, "M", dims, *window)
    assert many.period_statistic(NS, "M", dims, AT, AT + timedelta(minutes=1), "Sum") == \
        one.period_statistic(NS, "M", dims, AT, AT + timedelta(minutes=1), "Sum")
    assert many.units(NS, "M", dims) == {"Microseconds"}
