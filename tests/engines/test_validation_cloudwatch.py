"""Conformance of the request validation engine for CloudWatch: each case cites the API reference
page whose rule it checks (PutMetricAlarm, MetricDataQuery, PutCompositeAlarm, MetricDatum)."""

from __future__ import annotations

import pytest

from mlalab.engines.validation import validate

PUT = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
MDQ = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html"
DATUM = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html"

SINGLE = dict(AlarmName="latency", MetricName="ModelLatency", Namespace="AWS/SageMaker", ExtendedStatistic="p99",
              Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=300000.0,
              ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")


def _stat(query_id: str, metric: str, **extra) -> dict:
    return {"Id": query_id, "ReturnData": False, **extra, "MetricStat": {
        "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric}, "Period": 60, "Stat": "Sum"}}


MATH = dict(AlarmName="errors", EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=5.0,
            ComparisonOperator="GreaterThanThreshold",
            Metrics=[_stat("errors", "Invocation5XXErrors"), _stat("invocations", "Invocations"),
                     {"Id": "rate", "Expression": "100 * errors / invocations", "ReturnData": True}])


def put(**changes) -> tuple[str, str] | None:
    base = dict(MATH if "Metrics" in changes or changes.pop("math", False) else SINGLE)
    base.update(changes)
    params = {k: v for k, v in base.items() if v is not None}
    rejection = validate("cloudwatch", "PutMetricAlarm", params)
    return (rejection.code, rejection.message) if rejection else None


def test_the_lab_01_alarms_are_accepted():
    """Both shapes the reference solution of lab 01 uses pass every rule (PutMetricAlarm)."""
    assert put() is None
    assert put(math=True) is None


@pytest.mark.parametrize("changes, code, message", [
    pytest.param(dict(Statistic="Average"), "InvalidParameterCombination",
                 "Exactly one of Statistic or ExtendedStatistic must be specified.",
                 id=f"statistic-and-extended {PUT}"),
    pytest.param(dict(ExtendedStatistic=None), "ValidationError",
                 "Exactly one of Statistic or ExtendedStatistic must be specified.", id=f"no-statistic {PUT}"),
    pytest.param(dict(ExtendedStatistic=None, Statistic="p99"), "ValidationError",
                 "1 validation error detected: Value 'p99' at 'statistic' failed to satisfy constraint: Member must "
                 "satisfy enum value set: [SampleCount, Average, Sum, Minimum, Maximum]", id=f"statistic-enum {PUT}"),
    pytest.param(dict(ExtendedStatistic="99th"), "InvalidParameterValue",
                 "The value 99th for parameter ExtendedStatistic is not supported.", id=f"extended-format {PUT}"),
    pytest.param(dict(Period=45), "ValidationError", "Period must be 10, 30 or a multiple of 60", id=f"period {PUT}"),
    pytest.param(dict(DatapointsToAlarm=4), "ValidationError",
                 "DatapointsToAlarm must be less than or equal to EvaluationPeriods.", id=f"m-out-of-n {PUT}"),
    pytest.param(dict(Period=86400, EvaluationPeriods=8, DatapointsToAlarm=1), "ValidationError",
                 "The evaluation period of the alarm (EvaluationPeriods * Period) cannot exceed 604800 seconds.",
                 id=f"seven-days {PUT}"),
    pytest.param(dict(TreatMissingData="notbreaching"), "ValidationError",
                 "The value notbreaching is not supported for TreatMissingData parameter. Supported values are "
                 "[breaching, notBreaching, ignore, missing].", id=f"treat-missing {PUT}"),
    pytest.param(dict(EvaluateLowSampleCountPercentile="yes"), "ValidationError",
                 "Option yes is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are "
                 "evaluate and ignore.", id=f"low-sample {PUT}"),
    pytest.param(dict(MetricName=None), "ValidationError", "MetricName must not be null", id=f"no-metric {PUT}"),
    pytest.param(dict(AlarmName="x" * 256), "ValidationError",
                 "1 validation error detected: Value '" + "x" * 256 + "' at 'alarmName' failed to satisfy constraint: "
                 "Member must have length less than or equal to 255", id=f"name-length {PUT}"),
    pytest.param(dict(ComparisonOperator="GreaterThan"), "ValidationError",
                 "1 validation error detected: Value 'GreaterThan' at 'comparisonOperator' failed to satisfy "
                 "constraint: "
                 "Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, "
                 "LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, "
                 "LessThanLowerThreshold, GreaterThanUpperThreshold]", id=f"operator-enum {PUT}"),
])
def test_single_metric_rules(changes, code, message):
    assert put(**changes) == (code, message)


@pytest.mark.parametrize("extended", ["p99", "p99.9", "p0.0", "p100", "tm90", "TM(10%:90%)", "wm99", "PR(100:2000)"])
def test_documented_extended_statistics_are_accepted(extended):
    """ExtendedStatistic accepts percentiles p0.0-p100 and trimmed/winsorized forms (PutMetricAlarm)."""
    assert put(ExtendedStatistic=extended) is None


def _metrics(*queries) -> list:
    return list(queries)


@pytest.mark.parametrize("changes, code, message", [
    pytest.param(dict(MetricName="ModelLatency"), "ValidationError",
                 "MetricName should not be set if list of Metrics is set.", id=f"metrics-and-metricname {PUT}"),
    pytest.param(dict(Statistic="Sum"), "ValidationError",
                 "Statistic should not be set if list of Metrics is set.", id=f"metrics-and-statistic {PUT}"),
    pytest.param(dict(Metrics=_metrics(_stat("errors", "E"), {"Id": "rate", "Expression": "errors * 2"},
                                       {"Id": "other", "Expression": "errors * 3"})), "ValidationError",
                 "Exactly one element of the metrics list should return data.", id=f"two-return-data {MDQ}"),
    pytest.param(dict(Metrics=_metrics(_stat("errors", "E"), {"Id": "rate", "Expression": "errors * 2",
                                                             "ReturnData": False})), "ValidationError",
                 "Exactly one element of the metrics list should return data.", id=f"none-return-data {MDQ}"),
    pytest.param(dict(Metrics=_metrics(_stat("Errors", "E"), {"Id": "rate", "Expression": "Errors * 2"})),
                 "ValidationError", "Invalid metrics list", id=f"id-uppercase {MDQ}"),
    pytest.param(dict(Metrics=_metrics(_stat("e", "E"), _stat("e", "F"), {"Id": "rate", "Expression": "e"})),
                 "ValidationError", "Invalid metrics list", id=f"id-duplicate {MDQ}"),
    pytest.param(dict(Metrics=_metrics(_stat("errors", "E"), {"Id": "rate", "Expression": "100 * 5"})),
                 "ValidationError", "Error in expression 'rate': the expression must use at least one metric of the "
                 "Metrics list.", id=f"expression-without-metric {MDQ}"),
    pytest.param(dict(Metrics=_metrics(_stat("errors", "E"), {"Id": "rate", "Expression": "errors / invocations"})),
                 "ValidationError", "Error in expression 'rate': Unrecognized metric 'invocations'.",
                 id=f"expression-unknown-id {MDQ}"),
    pytest.param(dict(Metrics=_metrics({"Id": "rate", "ReturnData": True})), "ValidationError",
                 "Exactly one of MetricStat and Expression must be specified for Id rate.", id=f"neither {MDQ}"),
])
def test_metrics_list_rules(changes, code, message):
    changes.setdefault("Metrics", MATH["Metrics"])
    assert put(**changes) == (code, message)


def test_expression_functions_and_numbers_are_not_metric_ids():
    """Function names, exponents and SEARCH() expressions are not Ids (metric math syntax)."""
    queries = [_stat("errors", "E"), {"Id": "rate", "Expression": "FILL(errors, 0) * 1e2 + PERIOD(errors)"}]
    assert put(Metrics=queries) is None
    assert put(Metrics=[{"Id": "s", "Expression": "SEARCH('{AWS/EC2,InstanceId} CPU', 'Average', 300)"}]) is None


def test_composite_alarm_rule_length():
    """AlarmRule is at most 10240 characters (PutCompositeAlarm API reference; model constraint)."""
    rule = " OR ".join(f'ALARM("a{i:05d}")' for i in range(800))
    rejection = validate("cloudwatch", "PutCompositeAlarm", {"AlarmName": "p", "AlarmRule": rule})
    assert rejection is not None and rejection.code == "ValidationError"
    assert "at 'alarmRule' failed to satisfy constraint: Member must have length less than or equal to 10240" \
        in rejection.message


def test_metric_datum_value_and_values_are_exclusive():
    """Value and Values cannot both be given; Values and Counts have the same size (MetricDatum)."""
    both = validate("cloudwatch", "PutMetricData", {"Namespace": "N", "MetricData": [
        {"MetricName": "M", "Value": 1.0, "Values": [1.0]}]})
    assert both.code == "InvalidParameterCombination"
    assert both.message == ("The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually "
                            "exclusive and you have specified both.")
    sizes = validate("cloudwatch", "PutMetricData", {"Namespace": "N", "MetricData": [
        {"MetricName": "M", "Values": [1.0, 2.0], "Counts": [1.0]}]})
    assert sizes.code == "InvalidParameterValue"


@pytest.mark.parametrize("operation, params, path", [
    ("SetAlarmState", {"AlarmName": "a", "StateValue": "FIRING", "StateReason": "r"}, "stateValue"),
    ("DescribeAlarms", {"StateValue": "alarm"}, "stateValue"),
    ("DescribeAlarms", {"AlarmNames": ["a"] * 101}, "alarmNames"),
    ("DeleteAlarms", {"AlarmNames": ["x" * 256]}, "alarmNames.1.member"),
])
def test_model_constraints_of_other_alarm_operations(operation, params, path):
    """Enums and lengths of SetAlarmState, DescribeAlarms and DeleteAlarms come from the model (API reference
    pages of each operation: StateValue enum, AlarmNames up to 100 items of 1-255 characters)."""
    rejection = validate("cloudwatch", operation, params)
    assert rejection is not None and rejection.code == "ValidationError"
    assert f"at '{path}' failed to satisfy constraint" in rejection.message


@pytest.mark.parametrize("period, ok", [(10, True), (20, True), (30, True), (60, True), (120, True),
                                        (11, False), (21, False), (31, False), (59, False)])
def test_period_values(period, ok):
    """Period: "Valid values are 10, 20, 30, and any multiple of 60" (PutMetricAlarm, Period)."""
    expected = None if ok else ("ValidationError", "Period must be 10, 30 or a multiple of 60")
    assert put(Period=period) == expected


@pytest.mark.parametrize("changes", [
    pytest.param(dict(DatapointsToAlarm=3, EvaluationPeriods=3), id=f"m-equals-n {PUT}"),
    pytest.param(dict(Period=86400, EvaluationPeriods=7, DatapointsToAlarm=1), id=f"exactly-seven-days {PUT}"),
])
def test_boundaries_that_are_accepted(changes):
    """M out of N with M = N, and an evaluation window of exactly 604,800 seconds (PutMetricAlarm,
    DatapointsToAlarm and EvaluationPeriods)."""
    assert put(**changes) is None


def test_an_unknown_id_with_capitals_is_still_an_id():
    """Ids start with a lower-case letter and may hold capitals later (MetricDataQuery, Id), so "eRate"
    in an expression is an Id, and one the list does not have."""
    queries = [_stat("errors", "E"), {"Id": "rate", "Expression": "errors / eRate", "ReturnData": True}]
    assert put(Metrics=queries) == ("ValidationError", "Error in expression 'rate': Unrecognized metric 'eRate'.")


def test_anomaly_detection_alarm_returns_the_metric_and_the_band():
    """An anomaly-detection alarm names the band in ThresholdMetricId; the metric and the band both return
    data (PutMetricAlarm, ThresholdMetricId; its "Anomaly Detection Model Alarm" example)."""
    metrics = [{**_stat("m1", "ModelLatency"), "ReturnData": True},
               {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True}]
    assert put(Metrics=metrics, ThresholdMetricId="ad1", Threshold=None,
               ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold") is None


@pytest.mark.parametrize("datum", [
    pytest.param({"Values": [1.0, 2.0]}, id=f"values-without-counts {DATUM}"),
    pytest.param({"Values": [1.0, 2.0], "Counts": [3.0, 1.0]}, id=f"same-size {DATUM}"),
])
def test_values_without_counts_or_of_the_same_size_are_accepted(datum):
    """Counts is optional (each value then counts once); when given it has the size of Values (MetricDatum)."""
    assert validate("cloudwatch", "PutMetricData", {"Namespace": "N", "MetricData": [
        {"MetricName": "M", **datum}]}) is None
