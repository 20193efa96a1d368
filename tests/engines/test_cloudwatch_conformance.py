"""Conformance suite for mlalab.engines.cloudwatch: each test encodes one documented
CloudWatch rule, and its docstring names the page (title + URL) the rule comes from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from mlalab.engines.cloudwatch import (
    AlarmState,
    MetricStore,
    Sample,
    aggregate,
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
ARN_PREFIX = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def metric_alarm(**overrides) -> dict:
    alarm = {
        "AlarmName": "latency-high",
        "Namespace": NS,
        "MetricName": "Latency",
        "Dimensions": [{"Name": "Endpoint", "Value": "ep-1"}],
        "Statistic": "Maximum",
        "Period": 300,
        "EvaluationPeriods": 3,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
    }
    alarm.update(overrides)
    return {k: v for k, v in alarm.items() if v is not None}


def store_from_pattern(pattern: str, period: int = 300, at: datetime = AT) -> MetricStore:
    """Docs notation, oldest first: X = breaching (10 > 5), 0 = not breaching (1), - = missing."""
    marks = pattern.split()
    store = MetricStore()
    for start, mark in zip(period_starts(at, period, len(marks)), marks, strict=True):
        if mark != "-":
            store.add(
                NS,
                "Latency",
                {"Endpoint": "ep-1"},
                start + timedelta(seconds=30),
                10.0 if mark == "X" else 1.0,
            )
    return store


MODES = ("missing", "ignore", "breaching", "notBreaching")  # the docs' table columns, in order
INS, RETAIN = "INSUFFICIENT_DATA", "RETAIN"  # RETAIN = "Retain current state"

# "Configuring how CloudWatch alarms treat missing data", first table: Datapoints to Alarm and
# Evaluation Periods are both 3; CloudWatch retrieves the 5 most recent data points.
#   data points    MISSING  IGNORE   BREACHING  NOT BREACHING
TABLE_3_OF_3 = [
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("0 - - - -", "OK", "OK", "OK", "OK"),
    ("- - - - -", INS, RETAIN, "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - - - X", INS, RETAIN, "ALARM", "OK"),
    ("X - - - -", "ALARM", RETAIN, "ALARM", "OK"),
]

# Same page, second table: Datapoints to Alarm 2, Evaluation Periods 3 (2 out of 3).
TABLE_2_OF_3 = [
    ("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 - X - -", "OK", "OK", "ALARM", "OK"),
    ("- - - - 0", "OK", "OK", "ALARM", "OK"),
    ("- - - - X", INS, RETAIN, "ALARM", "OK"),
]


def _cells(table: list[tuple[str, ...]]) -> list:
    return [
        pytest.param(row[0], mode, row[1 + i], id=f"{row[0]}|{mode}")
        for row in table
        for i, mode in enumerate(MODES)
    ]


def _check_cell(pattern: str, mode: str, expected: str, datapoints_to_alarm: int) -> None:
    alarm = metric_alarm(TreatMissingData=mode, DatapointsToAlarm=datapoints_to_alarm)
    store = store_from_pattern(pattern)
    # RETAIN keeps whatever state the alarm had; any other documented outcome must not depend on it.
    for previous in ("ALARM", "OK", "INSUFFICIENT_DATA"):
        want = previous if expected == RETAIN else expected
        assert evaluate_metric_alarm(alarm, store, AT, previous).state == want, previous


@pytest.mark.parametrize(("pattern", "mode", "expected"), _cells(TABLE_3_OF_3))
def test_missing_data_table_3_out_of_3(pattern: str, mode: str, expected: str) -> None:
    """Configuring how CloudWatch alarms treat missing data —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
    Rule: first table ("How alarm state is evaluated when data is missing"), Datapoints to Alarm =
    Evaluation Periods = 3, five datapoints retrieved; one case per cell (row x TreatMissingData)."""
    _check_cell(pattern, mode, expected, datapoints_to_alarm=3)


@pytest.mark.parametrize(("pattern", "mode", "expected"), _cells(TABLE_2_OF_3))
def test_missing_data_table_2_out_of_3(pattern: str, mode: str, expected: str) -> None:
    """Configuring how CloudWatch alarms treat missing data —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
    Rule: second table, a 2 out of 3 (M out of N) alarm; one case per cell (row x TreatMissingData)."""
    _check_cell(pattern, mode, expected, datapoints_to_alarm=2)


def test_breaching_fill_goes_to_alarm_once_the_ok_point_ages_out() -> None:
    """Configuring how CloudWatch alarms treat missing data —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
    Rule: "The next time this alarm is evaluated, if the data is still missing it will go to ALARM, as
    that non-breaching data point will no longer be among the 5 most recent data points retrieved."""
    alarm = metric_alarm(TreatMissingData="breaching")
    store = store_from_pattern("0 - - - -")
    assert evaluate_metric_alarm(alarm, store, AT, "OK").state == "OK"
    assert evaluate_metric_alarm(alarm, store, AT + timedelta(seconds=300), "OK").state == "ALARM"


def test_enough_real_datapoints_ignore_treat_missing_data() -> None:
    """Configuring how CloudWatch alarms treat missing data —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
    Rule: with at least Evaluation Periods existing datapoints in the range, the most recent existing
    ones are evaluated and the missing-data setting "is not needed and is ignored"."""
    store = store_from_pattern("X X - X -")
    for mode in MODES:
        result = evaluate_metric_alarm(metric_alarm(TreatMissingData=mode), store, AT, "OK")
        assert result.state == "ALARM", mode


def test_treat_missing_data_defaults_to_missing() -> None:
    """PutMetricAlarm — https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    Rule: "If TreatMissingData is omitted, the default behavior of missing is used" — no data at all
    therefore means INSUFFICIENT_DATA."""
    alarm = metric_alarm(TreatMissingData=None)
    assert evaluate_metric_alarm(alarm, MetricStore(), AT, "OK").state == "INSUFFICIENT_DATA"


def test_dynamodb_alarms_always_ignore_missing_data() -> None:
    """PutMetricAlarm (TreatMissingData) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    Rule: "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing data even
    if you choose a different option for TreatMissingData" — they remain in their current state."""
    alarm = metric_alarm(
        Namespace="AWS/DynamoDB", MetricName="ThrottledRequests", TreatMissingData="breaching"
    )
    assert evaluate_metric_alarm(alarm, MetricStore(), AT, "OK").state == "OK"
    assert evaluate_metric_alarm(alarm, MetricStore(), AT, "ALARM").state == "ALARM"


def test_evaluating_an_alarm_figure_three_out_of_three() -> None:
    """Using Amazon CloudWatch alarms, "Evaluating an alarm" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    Rule: threshold 3, Evaluation Periods = Datapoints to Alarm = 3: ALARM once periods 3-5 all breach,
    OK at period 6 when a value dips below, and a single breach in period 9 keeps it OK."""
    start = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)
    values = [1, 2, 4, 5, 4, 2, 1, 2, 4, 2]  # periods 1..10, breaching (> 3) in 3, 4, 5 and 9
    store = MetricStore()
    for i, value in enumerate(values):
        store.add(NS, "Latency", {}, start + timedelta(minutes=i, seconds=5), value)
    alarm = metric_alarm(Dimensions=None, Period=60, Threshold=3.0, DatapointsToAlarm=None)
    result = replay([alarm], [], store, start + timedelta(minutes=1), start + timedelta(minutes=10))
    states = [s.state for s in result.states["latency-high"]]
    # Step k (k = 1..10) evaluates the periods completed so far, the newest being period k.
    assert states[4] == "ALARM"  # after period 5: periods 3, 4, 5 breach
    # Before that, fewer than 3 breaching datapoints and at least one non-breaching one: OK.
    assert states[:4] == ["OK", "OK", "OK", "OK"]
    assert states[5:] == ["OK", "OK", "OK", "OK", "OK"]
    assert result.first_time_in("latency-high", "ALARM") == start + timedelta(minutes=5)


def test_m_out_of_n_breaches_need_not_be_consecutive() -> None:
    """Using Amazon CloudWatch alarms, "Evaluating an alarm" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    Rule: "The breaching data points do not have to be consecutive, they just must all be within the
    last number of data points equal to Evaluation Period"; fewer than M breaching gives OK."""
    alarm = metric_alarm(EvaluationPeriods=4, DatapointsToAlarm=2)
    assert evaluate_metric_alarm(alarm, store_from_pattern("0 0 X 0 X 0"), AT).state == "ALARM"
    assert evaluate_metric_alarm(alarm, store_from_pattern("X X 0 0 X 0"), AT).state == "OK"


def test_datapoints_to_alarm_defaults_to_evaluation_periods() -> None:
    """PutMetricAlarm (DatapointsToAlarm) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    Rule: DatapointsToAlarm is only needed for an "M out of N" alarm; without it every one of the
    Evaluation Periods datapoints must breach."""
    alarm = metric_alarm(DatapointsToAlarm=None)
    assert evaluate_metric_alarm(alarm, store_from_pattern("0 0 X 0 X"), AT).state == "OK"
    assert evaluate_metric_alarm(alarm, store_from_pattern("0 0 X X X"), AT).state == "ALARM"


def test_only_complete_periods_aligned_to_the_epoch_are_evaluated() -> None:
    """Using Amazon CloudWatch alarms, "Evaluating an alarm" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    Rule: Period is "the length of time to evaluate the metric ... to create each individual data
    point"; our alignment: datapoint = [t, t+Period) with t a multiple of Period since the epoch, and
    only periods ending at or before the evaluation time count."""
    store = MetricStore()
    store.add(NS, "Latency", {}, datetime(2025, 3, 10, 12, 4, 59, tzinfo=UTC), 50.0)
    alarm = metric_alarm(Dimensions=None, Period=300, EvaluationPeriods=1)
    # [12:00, 12:05) is incomplete at 12:04:59 and complete at 12:05:00.
    assert evaluate_metric_alarm(alarm, store, datetime(2025, 3, 10, 12, 4, 59, tzinfo=UTC)).state == (
        "INSUFFICIENT_DATA"
    )
    assert evaluate_metric_alarm(alarm, store, datetime(2025, 3, 10, 12, 5, tzinfo=UTC)).state == "ALARM"
    # A sample stamped exactly 12:05:00 opens the next period instead.
    store2 = MetricStore()
    store2.add(NS, "Latency", {}, datetime(2025, 3, 10, 12, 5, tzinfo=UTC), 50.0)
    assert evaluate_metric_alarm(alarm, store2, datetime(2025, 3, 10, 12, 5, tzinfo=UTC)).state == (
        "INSUFFICIENT_DATA"
    )
    assert period_starts(datetime(2025, 3, 10, 12, 7, 30, tzinfo=UTC), 300, 2) == [
        datetime(2025, 3, 10, 11, 55, tzinfo=UTC),
        datetime(2025, 3, 10, 12, 0, tzinfo=UTC),
    ]


SAMPLES = [Sample(AT, v) for v in (4.0, 8.0, 15.0, 16.0, 23.0, 42.0)]


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [("SampleCount", 6.0), ("Sum", 108.0), ("Average", 18.0), ("Minimum", 4.0), ("Maximum", 42.0)],
)
def test_basic_statistics(statistic: str, expected: float) -> None:
    """CloudWatch statistics definitions —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
    Rule: SampleCount is the number of data points, Sum their total, Average = Sum/SampleCount,
    Minimum/Maximum the lowest/highest value in the period."""
    assert aggregate(SAMPLES, statistic) == expected


def test_statistics_weight_counted_values() -> None:
    """PutMetricData (Values and Counts) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
    Rule: each value in Values is counted the number of times given in Counts, so SampleCount, Sum
    and Average weigh it accordingly."""
    samples = [Sample(AT, 2.0, count=3), Sample(AT, 10.0)]
    assert aggregate(samples, "SampleCount") == 4.0
    assert aggregate(samples, "Sum") == 16.0
    assert aggregate(samples, "Average") == 4.0
    assert aggregate(samples, "p75") == 2.0  # 3 of 4 samples are <= 2.0
    assert aggregate(samples, "p76") == 10.0


def test_no_samples_means_no_datapoint() -> None:
    """CloudWatch concepts, "Statistics" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Statistic
    Rule: statistics are aggregations of the data points in a period; a period without data has no
    datapoint (it is missing, not zero)."""
    assert aggregate([], "Sum") is None
    assert aggregate([], "p99") is None


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [
        ("p50", 50.0),
        ("p90", 90.0),
        ("p99", 99.0),
        ("p99.5", 100.0),
        ("p0", 1.0),
        ("p100", 100.0),
        ("p0.5", 1.0),
    ],
)
def test_percentiles_nearest_rank(statistic: str, expected: float) -> None:
    """CloudWatch concepts, "Percentiles" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles
    Rule: "p95 ... means that 95 percent of the data within the period is lower than this value".
    Our method (nearest rank on raw values): the smallest value with at least p% of samples <= it."""
    samples = [Sample(AT, float(v)) for v in range(100, 0, -1)]  # 1..100, unsorted on purpose
    assert aggregate(samples, statistic) == expected


def test_percentile_on_a_small_sample_is_an_observed_value() -> None:
    """CloudWatch statistics definitions, Percentile (p) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
    Rule: percentiles report the relative standing of a value in the dataset; with nearest rank the
    result is always one of the reported values (no interpolation between 20 and 30)."""
    samples = [Sample(AT, v) for v in (10.0, 20.0, 30.0, 40.0)]
    assert [aggregate(samples, p) for p in ("p25", "p50", "p51", "p75", "p99")] == [
        10.0,
        20.0,
        30.0,
        30.0,
        40.0,
    ]


def test_unsupported_extended_statistics_are_refused_clearly() -> None:
    """CloudWatch statistics definitions —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
    Rule: trimmed mean (tm), winsorized mean (wm), trimmed count/sum (tc/ts) and percentile rank (PR)
    exist; the evaluator does not model them and says so instead of guessing."""
    for statistic in ("tm99", "wm98", "TC(0.005:0.030)", "PR(:300)", "IQM"):
        with pytest.raises(NotImplementedError, match="not supported"):
            aggregate(SAMPLES, statistic)
    with pytest.raises(ValueError):
        aggregate(SAMPLES, "Median")


@pytest.mark.parametrize(
    ("operator", "at_threshold", "above", "below"),
    [
        ("GreaterThanThreshold", "OK", "ALARM", "OK"),
        ("GreaterThanOrEqualToThreshold", "ALARM", "ALARM", "OK"),
        ("LessThanThreshold", "OK", "OK", "ALARM"),
        ("LessThanOrEqualToThreshold", "ALARM", "OK", "ALARM"),
    ],
)
def test_comparison_operators(operator: str, at_threshold: str, above: str, below: str) -> None:
    """PutMetricAlarm (ComparisonOperator) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    Rule: "The arithmetic operation to use when comparing the specified statistic and threshold";
    strict operators do not breach at the threshold, OrEqualTo operators do."""
    alarm = metric_alarm(
        Dimensions=None, Period=60, EvaluationPeriods=1, Threshold=5.0, ComparisonOperator=operator
    )
    for value, expected in ((5.0, at_threshold), (6.0, above), (4.0, below)):
        store = MetricStore()
        store.add(NS, "Latency", {}, AT - timedelta(seconds=30), value)
        assert evaluate_metric_alarm(alarm, store, AT).state == expected, value


@pytest.mark.parametrize(
    "operator",
    ["LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"],
)
def test_anomaly_band_operators_are_out_of_scope(operator: str) -> None:
    """PutMetricAlarm (ComparisonOperator) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    Rule: these three operators "are used only for alarms based on anomaly detection models"; the
    evaluator refuses them with a clear message."""
    with pytest.raises(NotImplementedError, match="anomaly detection"):
        evaluate_metric_alarm(metric_alarm(ComparisonOperator=operator), MetricStore(), AT)


@pytest.mark.parametrize(
    ("statistic", "minimum"),
    [("p99", 1000), ("p90", 100), ("p50", 20), ("p99.9", 10000), ("p10", 100), ("p25", 40)],
)
def test_low_sample_thresholds(statistic: str, minimum: int) -> None:
    """Percentile-based alarms and low data samples —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html
    Rule: for percentiles in [0.5, 1.00) the setting applies below 10/(1-percentile) data points (p99:
    1000); for percentiles in (0, 0.5) below 10/percentile data points."""
    assert low_sample_threshold(statistic) == Fraction(minimum)
    assert low_sample_threshold("p100") is None
    assert low_sample_threshold("Average") is None


def _percentile_store(samples: int) -> MetricStore:
    store = MetricStore()
    for period_start in period_starts(AT, 60, 3):
        for i in range(samples):
            store.add(NS, "Latency", {}, period_start + timedelta(milliseconds=i), 100.0)
    return store


def test_low_sample_percentile_ignore_keeps_state_until_enough_samples() -> None:
    """Percentile-based alarms and low data samples —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html
    Rule: with EvaluateLowSampleCountPercentile=ignore "the alarm state does not change during periods
    with too few data points" (p99: fewer than 1000); at 1000 samples it is evaluated again."""
    alarm = metric_alarm(
        Dimensions=None,
        Statistic=None,
        ExtendedStatistic="p99",
        Period=60,
        EvaluationPeriods=1,
        Threshold=50.0,
        EvaluateLowSampleCountPercentile="ignore",
    )
    thin = evaluate_metric_alarm(alarm, _percentile_store(999), AT, "OK")
    assert thin.state == "OK"
    assert "EvaluateLowSampleCountPercentile=ignore" in thin.reason
    assert evaluate_metric_alarm(alarm, _percentile_store(1000), AT, "OK").state == "ALARM"


def test_low_sample_percentile_evaluate_is_the_default() -> None:
    """Percentile-based alarms and low data samples —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html
    Rule: "If evaluate or this parameter is not used, the alarm is always evaluated and possibly
    changes state no matter how many data points are available" (here 5 samples on a p99 alarm)."""
    base = {"Dimensions": None, "Statistic": None, "ExtendedStatistic": "p99", "Period": 60}
    for setting in (None, "evaluate"):
        alarm = metric_alarm(
            **base, EvaluationPeriods=1, Threshold=50.0, EvaluateLowSampleCountPercentile=setting
        )
        assert evaluate_metric_alarm(alarm, _percentile_store(5), AT, "OK").state == "ALARM"


def _math_alarm(expression: str, **overrides) -> dict:
    queries = [
        {
            "Id": "errors",
            "MetricStat": {"Metric": {"Namespace": NS, "MetricName": "Errors"}, "Period": 60, "Stat": "Sum"},
            "ReturnData": False,
        },
        {
            "Id": "requests",
            "MetricStat": {
                "Metric": {"Namespace": NS, "MetricName": "Requests"},
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        },
        {"Id": "e1", "Expression": expression, "Label": "error rate", "ReturnData": True},
    ]
    alarm = metric_alarm(
        Namespace=None,
        MetricName=None,
        Dimensions=None,
        Statistic=None,
        Period=None,
        Metrics=queries,
        EvaluationPeriods=1,
        Threshold=5.0,
    )
    alarm.update(overrides)
    return alarm


def _traffic(errors: float | None, requests: float | None) -> MetricStore:
    store = MetricStore()
    when = AT - timedelta(seconds=30)
    if errors is not None:
        store.add(NS, "Errors", {}, when, errors)
    if requests is not None:
        store.add(NS, "Requests", {}, when, requests)
    return store


def test_metric_math_error_rate_alarm() -> None:
    """Create a CloudWatch alarm based on a metric math expression —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html
    Rule: the alarm compares the one expression selected (ReturnData) with the threshold; here
    100 * errors / requests, per the Lambda error-rate example of metric math."""
    alarm = _math_alarm("100 * errors / requests")
    assert evaluate_metric_alarm(alarm, _traffic(6, 100), AT).state == "ALARM"
    assert evaluate_metric_alarm(alarm, _traffic(4, 100), AT).state == "OK"


def test_metric_math_division_by_zero_drops_the_datapoint() -> None:
    """Using math expressions with CloudWatch metrics, "Basic arithmetic functions" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
    Rule: "If the value of a data point causes a function to attempt to divide by zero, the data point
    is dropped" — so a 0-request minute is missing data, not an infinite error rate."""
    alarm = _math_alarm("100 * errors / requests")
    assert evaluate_metric_alarm(alarm, _traffic(3, 0), AT).state == "INSUFFICIENT_DATA"
    alarm = _math_alarm("100 * errors / requests", TreatMissingData="breaching")
    assert evaluate_metric_alarm(alarm, _traffic(3, 0), AT).state == "ALARM"


def test_metric_math_missing_values_count_as_zero() -> None:
    """Using math expressions with CloudWatch metrics, "Basic arithmetic functions" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
    Rule: "Missing values in a time series are treated as 0" when combined with another series; a
    period where neither series has data stays missing."""
    alarm = _math_alarm("errors + requests")
    assert evaluate_metric_alarm(alarm, _traffic(None, 6), AT).state == "ALARM"  # 0 + 6 > 5
    assert evaluate_metric_alarm(alarm, _traffic(None, None), AT).state == "INSUFFICIENT_DATA"


def test_metric_math_fill_precedence_and_unary_minus() -> None:
    """Using math expressions with CloudWatch metrics (FILL, arithmetic operators, unary subtraction) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
    Rule: FILL(ts, value) fills the missing values of a time series; * and / bind tighter than + and -,
    ^ tighter still; unary minus negates."""
    fill = _math_alarm("FILL(errors, 0)", ComparisonOperator="LessThanOrEqualToThreshold", Threshold=0.0)
    assert evaluate_metric_alarm(fill, _traffic(None, 100), AT).state == "ALARM"  # filled 0 <= 0
    # -1 + 2 * 4^2 / 2 = 15: exactly reaches 15 but not 15.5 (other groupings give 31 or -17).
    reaches = _math_alarm(
        "-errors + 2 * requests ^ 2 / (4 - 2)",
        Threshold=15.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    assert evaluate_metric_alarm(reaches, _traffic(1, 4), AT).state == "ALARM"
    short = _math_alarm("-errors + 2 * requests ^ 2 / (4 - 2)", Threshold=15.5)
    assert evaluate_metric_alarm(short, _traffic(1, 4), AT).state == "OK"
    assert (
        evaluate_metric_alarm(_math_alarm("requests / PERIOD(requests)"), _traffic(0, 360), AT).state
        == "ALARM"
    )


def test_metric_math_needs_exactly_one_returned_series() -> None:
    """PutMetricAlarm (Metrics) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    Rule: "One item in the Metrics array is the expression that the alarm watches ... set ReturnData to
    true for this object in the array"; two returned series are a configuration error."""
    alarm = _math_alarm("errors")
    alarm["Metrics"][0]["ReturnData"] = True
    with pytest.raises(ValueError, match="ReturnData"):
        evaluate_metric_alarm(alarm, _traffic(1, 1), AT)


def test_metric_store_matches_dimensions_exactly() -> None:
    """CloudWatch concepts, "Dimensions" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension
    Rule: each unique combination of dimensions is a separate metric; CloudWatch can't aggregate data
    published with {A, B} when you ask for {A}."""
    store = MetricStore()
    store.add(NS, "Latency", {"Endpoint": "ep-1", "Variant": "v1"}, AT, 1.0)
    store.add(NS, "Latency", {"Endpoint": "ep-1"}, AT, 2.0)
    window = (AT - timedelta(minutes=1), AT + timedelta(minutes=1))
    assert [s.value for s in store.samples(NS, "Latency", {"Endpoint": "ep-1"}, *window)] == [2.0]
    assert [
        s.value for s in store.samples(NS, "Latency", {"Variant": "v1", "Endpoint": "ep-1"}, *window)
    ] == [1.0]
    assert store.samples(NS, "Latency", {}, *window) == []


def test_state_reason_matches_cloudwatch_format() -> None:
    """How partial data from a Metrics Insights query is evaluated (example alarm event) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-alarms-partial-data.html
    Rule: StateReason reads "Threshold Crossed: 3 out of the last 3 datapoints [20000.0 (08/11/22
    11:25:00), ...] were greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM
    transition)." with datapoints newest first and dd/mm/yy timestamps of the period starts."""
    at = datetime(2022, 11, 8, 11, 26, 5, 399000, tzinfo=UTC)
    store = MetricStore()
    for minute in (23, 24, 25):
        store.add(NS, "Latency", {}, datetime(2022, 11, 8, 11, minute, 10, tzinfo=UTC), 20000.0)
    alarm = metric_alarm(Dimensions=None, Period=60, EvaluationPeriods=3, DatapointsToAlarm=1, Threshold=0.0)
    result = evaluate_metric_alarm(alarm, store, at, "OK")
    assert result == AlarmState(at, "ALARM", result.reason, result.reason_data)
    assert result.reason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [20000.0 (08/11/22 11:25:00), 20000.0 (08/11/22 "
        "11:24:00), 20000.0 (08/11/22 11:23:00)] were greater than the threshold (0.0) (minimum 1 datapoint "
        "for OK -> ALARM transition)."
    )
    assert result.reason_data["startDate"] == "2022-11-08T11:23:00.000+0000"
    assert result.reason_data["queryDate"] == "2022-11-08T11:26:05.399+0000"
    assert result.reason_data["recentDatapoints"] == [20000.0, 20000.0, 20000.0]


@pytest.mark.parametrize(
    ("rule", "states", "expected"),
    [
        # The three AlarmRule examples of the PutCompositeAlarm reference / composite alarm guide.
        (
            "ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)",
            {"CPUUtilizationTooHigh": "ALARM", "DiskReadOpsTooHigh": "OK"},
            False,
        ),
        (
            "ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)",
            {"CPUUtilizationTooHigh": "ALARM", "DeploymentInProgress": "OK"},
            True,
        ),
        (
            '(ALARM("CPUUtilizationTooHigh") OR ALARM("DiskReadOpsTooHigh")) AND OK("NetworkOutTooHigh")',
            {"CPUUtilizationTooHigh": "OK", "DiskReadOpsTooHigh": "ALARM", "NetworkOutTooHigh": "OK"},
            True,
        ),
        ("INSUFFICIENT_DATA(a) OR FALSE", {"a": "INSUFFICIENT_DATA"}, True),
        ("TRUE AND NOT FALSE", {}, True),
        ("false", {}, False),
        (f'ALARM({ARN_PREFIX}a) AND OK("{ARN_PREFIX}b")', {"a": "ALARM", "b": "OK"}, True),
        (
            "ALARM(a) OR ALARM(b) AND ALARM(c)",
            {"a": "ALARM", "b": "OK", "c": "OK"},
            True,
        ),  # AND binds tighter
        ("(ALARM(a) OR ALARM(b)) AND ALARM(c)", {"a": "ALARM", "b": "OK", "c": "OK"}, False),
        ("NOT ALARM(a) AND ALARM(b)", {"a": "OK", "b": "OK"}, False),  # NOT binds tighter than AND
        ('ALARM("name with spaces (prod)")', {"name with spaces (prod)": "ALARM"}, True),
        ("AT_LEAST(2, ALARM, (a, b, c))", {"a": "ALARM", "b": "OK", "c": "ALARM"}, True),
        ("AT_LEAST(50%, NOT OK, (a, b, c))", {"a": "OK", "b": "OK", "c": "ALARM"}, False),
    ],
)
def test_composite_rules(rule: str, states: dict[str, str], expected: bool) -> None:
    """Composite alarms / Create a composite alarm —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-combining.html and
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html
    Rule: ALARM(x)/OK(x)/INSUFFICIENT_DATA(x) test a child's state, TRUE/FALSE are constants, AND/OR/NOT
    combine and parentheses group; names may be quoted or not, or be ARNs (PutCompositeAlarm API).
    Precedence (undocumented; our choice): NOT > AND > OR."""
    assert evaluate_composite_rule(rule, states) is expected


@pytest.mark.parametrize(
    "rule", ["ALARM(a) AND", "()", "ALARM(a) XOR ALARM(b)", 'ALARM("a)', "ALARM()", "ALARM(a", "", "a"]
)
def test_composite_rule_syntax_errors(rule: str) -> None:
    """PutCompositeAlarm (AlarmRule) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
    Rule: an AlarmRule must be built from the documented functions and operators; anything else is
    rejected (AWS answers "Error in AlarmRule [Unsupported token ...]")."""
    with pytest.raises(ValueError):
        parse_composite_rule(rule)


def test_referenced_alarms_lists_each_child_once() -> None:
    """PutCompositeAlarm (AlarmRule) —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
    Rule: the rule references child alarms by name or ARN (at most 100 children); the children are
    what must exist when the composite is saved."""
    rule = f'ALARM(cpu) OR OK("cpu") OR (ALARM({ARN_PREFIX}disk) AND NOT INSUFFICIENT_DATA(net)) OR TRUE'
    assert referenced_alarms(rule) == ["cpu", f"{ARN_PREFIX}disk", "net"]
    assert parse_composite_rule('ALARM("q\\"uote")').references == ('q"uote',)


def test_replay_composites_of_composites_in_dependency_order() -> None:
    """Composite alarms —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-combining.html
    Rule: "A rule expression can refer to both metric alarms and other composite alarms" — a parent
    sees its child composite's state from the same evaluation, whatever the list order."""
    start = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)
    store = MetricStore()
    for minute in range(3, 6):
        store.add(NS, "Latency", {}, start + timedelta(minutes=minute, seconds=1), 9.0)
    latency = metric_alarm(Dimensions=None, Period=60, EvaluationPeriods=1)
    errors = metric_alarm(
        AlarmName="errors-high",
        MetricName="Errors",
        Dimensions=None,
        Period=60,
        EvaluationPeriods=1,
        TreatMissingData="notBreaching",
    )
    composites = [
        {"AlarmName": "page-oncall", "AlarmRule": "ALARM(service-degraded)"},  # parent listed first
        {
            "AlarmName": "service-degraded",
            "AlarmRule": f"ALARM(latency-high) OR ALARM({ARN_PREFIX}errors-high)",
        },
    ]
    result = replay(
        [latency, errors], composites, store, start + timedelta(minutes=1), start + timedelta(minutes=10)
    )
    # Data stops after minute 5, but the 3-period evaluation range still holds real datapoints for two
    # more evaluations (the docs' note on re-evaluating the last datapoints), then the child has none.
    assert [s.state for s in result.states["service-degraded"]] == ["OK"] * 3 + ["ALARM"] * 5 + ["OK"] * 2
    assert result.states["latency-high"][-1].state == "INSUFFICIENT_DATA"
    assert [s.state for s in result.states["page-oncall"]] == [
        s.state for s in result.states["service-degraded"]
    ]
    assert result.first_time_in("page-oncall", "ALARM") == start + timedelta(minutes=4)
    assert result.ever_in("errors-high", "ALARM") is False
    assert result.state_at("page-oncall", start + timedelta(minutes=6, seconds=30)) == "ALARM"


def test_replay_composite_cycle_is_not_evaluated() -> None:
    """PutCompositeAlarm —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
    Rule: "the evaluation of composite alarms stops if CloudWatch detects a cycle in the evaluation
    path" — alarms in the cycle keep their (initial INSUFFICIENT_DATA) state."""
    composites = [
        {"AlarmName": "a", "AlarmRule": "ALARM(b) OR TRUE"},
        {"AlarmName": "b", "AlarmRule": "ALARM(a)"},
        {"AlarmName": "c", "AlarmRule": "TRUE"},
    ]
    result = replay([], composites, MetricStore(), AT, AT + timedelta(minutes=2))
    assert {s.state for s in result.states["a"]} == {"INSUFFICIENT_DATA"}
    assert {s.state for s in result.states["b"]} == {"INSUFFICIENT_DATA"}
    assert [s.state for s in result.states["c"]] == ["ALARM"] * 3


def test_replay_rejects_unknown_children() -> None:
    """PutCompositeAlarm —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
    Rule: every alarm a rule references must exist (AWS: "Could not save the composite alarm as alarms
    [...] in the alarm rule do not exist")."""
    with pytest.raises(ValueError, match="ghost"):
        replay([], [{"AlarmName": "x", "AlarmRule": "ALARM(ghost)"}], MetricStore(), AT, AT)
