"""Lab 01: grading behaviour specific to this lab (its wrong solutions, one per check, are in the lab's
own folder: ``mutations.py``)."""


import pytest

from mlalab.catalog import find_lab, lab_module
from tests.conftest import apply, failing, grade_source

_mutations = lab_module(find_lab(1).path, "mutations")
MUTATIONS = _mutations.MUTATIONS



def test_hard_coded_names_fail(tmp_path, lab01):
    """Names from one run (seed 1) used in another run (seed 2): the alarms land on the wrong names."""
    from mlalab.grading import grade

    first = tmp_path / "first"
    first.mkdir()
    (first / "lab01.py").write_text(lab01.solution_path.read_text())
    grade(first, [lab01], seed=1)  # a learner copies names from this run's report...
    source = apply(lab01.solution_path.read_text(), [
        ("def create_latency_alarms(endpoint_name, variant_name, warning_alarm_name, critical_alarm_name,\n"
         "                          warning_topic_arn):\n",
         "def create_latency_alarms(endpoint_name, variant_name, warning_alarm_name, critical_alarm_name,\n"
         "                          warning_topic_arn):\n"
         "    endpoint_name, warning_alarm_name = 'churn-xgb-hardcoded', 'latency-warning-hardcoded'\n"),
    ])
    result = grade_source(tmp_path, lab01, source, seed=2)
    assert {"latency-metric", "latency-thresholds", "quiet-day"} <= failing(result)
    message = next(c.message for c in result.checks if c.id == "latency-thresholds")
    assert "no warning latency alarm named 'latency-warning-" in message
    assert "names change on every run" in message


def test_millisecond_threshold_is_explained(tmp_path, lab01):
    source = apply(lab01.solution_path.read_text(), [("Threshold=threshold_ms * 1000,", "Threshold=threshold_ms,")])
    result = grade_source(tmp_path, lab01, source)
    message = next(c.message for c in result.checks if c.id == "latency-thresholds")
    assert "Threshold 300; expected 300000" in message
    assert "A threshold of 500 would mean 0.5 ms, not 500 ms" in message
    assert "quiet-day" in failing(result)


def test_alarm_cloudwatch_rejects_fails_with_its_message(tmp_path, lab01):
    """A SEARCH expression: "You can't create an alarm based on a SEARCH expression" (Using metric math,
    functions table); the replay checks fail with the message PutMetricAlarm gives, never a grader error."""
    source = apply(lab01.solution_path.read_text(), [
        ('"100 * errors / invocations"', '"100 * errors / invocations + 0 * SUM(SEARCH(\'x\', \'Sum\', 60))"')])
    result = grade_source(tmp_path, lab01, source)
    assert all(c.status != "error" for c in result.checks)
    quiet = next(c for c in result.checks if c.id == "quiet-day")
    assert quiet.status == "fail"
    assert quiet.message == ("your alarms could not be replayed through CloudWatch's evaluation rules: "
                             "SEARCH is not supported on Metric Alarms.")


def test_valid_metric_math_is_replayed_not_refused(tmp_path, lab01):
    """Using metric math, functions table: IF, FILL, RATE, comparisons ... are valid in alarms. A rate
    written with IF and FILL is replayed and earns full marks."""
    result = lab01_result(tmp_path, lab01, [
        ('"100 * errors / invocations"', '"IF(FILL(invocations, 0) > 0, 100 * FILL(errors, 0) / invocations, 0)"')])
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]


def lab01_result(tmp_path, lab01, edits):
    return grade_source(tmp_path, lab01, apply(lab01.solution_path.read_text(), edits))


def message(result, check_id: str) -> str:
    return next(c.message for c in result.checks if c.id == check_id)


def test_alternative_correct_forms_earn_full_marks(tmp_path, lab01):
    """Equivalent solutions AWS and the exam accept: >= operator, the rate as a fraction, ARNs and bare
    names in the composite rule, a percentile written p99.0, a latency alarm as a one-query Metrics list."""
    result = lab01_result(tmp_path, lab01, [
        ('ComparisonOperator="GreaterThanThreshold",\n            TreatMissingData',
         'ComparisonOperator="GreaterThanOrEqualToThreshold",\n            TreatMissingData'),
        ('"100 * errors / invocations"', '"errors / invocations"'),
        ("        Threshold=5,\n", "        Threshold=0.05,\n"),
        ('AlarmRule=f\'ALARM("{critical_alarm_name}") AND ALARM("{error_rate_alarm_name}")\'',
         'AlarmRule=f"ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:{critical_alarm_name}) AND '
         'ALARM({error_rate_alarm_name})"'),
    ])
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]
    one_query = lab01_result(tmp_path, lab01, [
        ('            Namespace=NAMESPACE,\n            MetricName="ModelLatency",\n'
         '            Dimensions=[{"Name": "EndpointName", "Value": endpoint_name},\n'
         '                        {"Name": "VariantName", "Value": variant_name}],\n'
         '            ExtendedStatistic="p99",\n            Period=60,\n',
         '            Metrics=[{"Id": "p99", "ReturnData": True, "MetricStat": {"Metric": {\n'
         '                "Namespace": NAMESPACE, "MetricName": "ModelLatency", "Dimensions": [\n'
         '                    {"Name": "EndpointName", "Value": endpoint_name},\n'
         '                    {"Name": "VariantName", "Value": variant_name}]}, "Period": 60, "Stat": "p99.0"}}],\n'),
    ])
    assert failing(one_query) == set(), [c.message for c in one_query.checks if c.status != "pass"]


def test_unit_does_not_convert(tmp_path, lab01):
    result = lab01_result(tmp_path, lab01, [('ExtendedStatistic="p99",',
                                             'ExtendedStatistic="p99", Unit="Milliseconds",')])
    assert "latency-metric" in failing(result)
    assert "has Unit='Milliseconds', but ModelLatency is published in Microseconds. Unit does not convert" in \
        message(result, "latency-metric")
    # The replay agrees: the alarm sees no datapoint, so the incident never reaches the critical alarm.
    assert "incident-pages" in failing(result)
    assert "No datapoint has Unit Milliseconds: ModelLatency is published in Microseconds" in \
        message(result, "incident-pages")


def test_percentile_in_statistic_is_explained(tmp_path, lab01):
    result = lab01_result(tmp_path, lab01, [('ExtendedStatistic="p99",', 'Statistic="Maximum",')])
    assert "uses Statistic 'Maximum'; expected ExtendedStatistic 'p99'. Latency SLOs are about the tail: Maximum " \
           "is the single slowest request of the minute" in message(result, "latency-metric")


def test_alarm_without_static_threshold_fails_with_a_reason():
    """An anomaly-detection alarm has ThresholdMetricId and no Threshold: a failure, not a crash."""
    from checks import cloudwatch as cw

    verdict = cw.threshold({"AlarmName": "latency-warning-x", "ThresholdMetricId": "band"}, 300_000, "note")
    assert not verdict.passed
    assert verdict.message == ("alarm latency-warning-x has no static Threshold (an anomaly-detection band, "
                               "ThresholdMetricId?); this lab asks for the static threshold 300000. note")


def test_missing_composite_costs_only_the_composite_checks(tmp_path, lab01):
    result = lab01_result(tmp_path, lab01, [("    boto3.client(\"cloudwatch\").put_composite_alarm(",
                                             "    return\n    boto3.client(\"cloudwatch\").put_composite_alarm(")])
    assert failing(result) == {"pager-composite", "spike-no-page", "slow-only-no-page", "incident-pages"}


def test_or_rule_message_says_and(tmp_path, lab01):
    result = lab01_result(tmp_path, lab01, MUTATIONS["slow-only-no-page"])
    text = message(result, "slow-only-no-page")
    assert "was ALARM" in text and "was OK" in text
    assert "so it pages on one symptom alone; page only when both hold: AND" in text


def test_or_rule_is_judged_on_meaning_not_spelling(tmp_path, lab01):
    """NOT (OK(a) AND OK(b)) is an OR in disguise: the truth table, not the word OR, names the mistake."""
    result = lab01_result(tmp_path, lab01, [(
        'AlarmRule=f\'ALARM("{critical_alarm_name}") AND ALARM("{error_rate_alarm_name}")\'',
        'AlarmRule=f\'NOT (OK("{critical_alarm_name}") AND OK("{error_rate_alarm_name}"))\'')])
    assert "its rule is true when only" in message(result, "slow-only-no-page")


def test_inverted_ratio_is_named(tmp_path, lab01):
    """invocations / errors passes a spelling check (both ids used) but computes the wrong thing: the
    configuration check and the replays say so in words."""
    result = lab01_result(tmp_path, lab01, [('"100 * errors / invocations"', '"invocations / errors"')])
    assert "the ratio is inverted: 'invocations / errors' computes Invocations / Invocation5XXErrors" in \
        message(result, "error-rate-math")
    assert "Why: the ratio is inverted" in message(result, "quiet-day")


def test_fraction_threshold_on_a_percentage_is_explained(tmp_path, lab01):
    result = lab01_result(tmp_path, lab01, [("        Threshold=5,\n", "        Threshold=0.05,\n")])
    assert {"quiet-day", "error-rate-threshold"} <= failing(result)
    assert "fires above an error rate of 0.05%, not 5%" in message(result, "error-rate-threshold")


def test_latency_alarm_converting_units_in_an_expression_is_correct(tmp_path, lab01):
    """m1 / 1000 turns ModelLatency microseconds into milliseconds; with Threshold 300 (ms) it is the same
    alarm as Threshold 300000 on the metric: full marks. With Threshold 300000 it would fire at 300 s."""
    convert = [
        ('            Namespace=NAMESPACE,\n            MetricName="ModelLatency",\n'
         '            Dimensions=[{"Name": "EndpointName", "Value": endpoint_name},\n'
         '                        {"Name": "VariantName", "Value": variant_name}],\n'
         '            ExtendedStatistic="p99",\n            Period=60,\n',
         '            Metrics=[{"Id": "m1", "ReturnData": False, "MetricStat": {"Metric": {\n'
         '                "Namespace": NAMESPACE, "MetricName": "ModelLatency", "Dimensions": [\n'
         '                    {"Name": "EndpointName", "Value": endpoint_name},\n'
         '                    {"Name": "VariantName", "Value": variant_name}]}, "Period": 60, "Stat": "p99"}},\n'
         '                {"Id": "ms", "Expression": "m1 / 1000", "ReturnData": True}],\n'),
    ]
    result = lab01_result(tmp_path, lab01, [*convert, ("Threshold=threshold_ms * 1000,", "Threshold=threshold_ms,")])
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]
    wrong = lab01_result(tmp_path, lab01, convert)
    assert "it fires when ModelLatency is above about 3e+08" in message(wrong, "latency-thresholds")


def test_each_missing_data_mode_is_explained_on_its_own(tmp_path, lab01):
    """Configuring how CloudWatch alarms treat missing data: what each mode does on a silent night."""
    from checks import cloudwatch as cw

    texts = {mode: cw.treats_missing_data({"AlarmName": "a", "TreatMissingData": mode}, "notBreaching", "").message
             for mode in ("missing", "ignore", "breaching")}
    assert "goes to INSUFFICIENT_DATA every night" in texts["missing"]
    assert "stays in ALARM" in texts["ignore"]
    assert "goes to ALARM a few minutes after traffic stops" in texts["breaching"]
    assert len(set(texts.values())) == 3
    assert cw.treats_missing_data({"AlarmName": "a"}, "notBreaching", "").message == texts["missing"]


def _rate_alarm(expression: str, threshold: float) -> dict:
    def stat(query_id: str, metric: str) -> dict:
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": []}, "Period": 60,
            "Stat": "Sum"}}

    return {"AlarmName": "rate", "Threshold": threshold, "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3, "Metrics": [stat("errors", "Invocation5XXErrors"), stat("calls", "Invocations"),
                                                {"Id": "e", "Expression": expression, "ReturnData": True}]}


@pytest.mark.parametrize(("expression", "threshold"), [
    ("100 * errors / calls", 5), ("errors / calls", 0.05), ("1 - (calls - errors) / calls", 0.05),
    ("errors * 100 / calls", 5), ("IF(calls > 0, errors / calls * 100, 0)", 5)])
def test_equivalent_error_rates_mean_the_same(expression, threshold):
    """Grade meaning, not spelling: every form of errors / invocations above 5 % is the same alarm."""
    from checks import cloudwatch as cw

    alarm = _rate_alarm(expression, threshold)
    assert cw.ratio_problem(alarm, "Invocation5XXErrors", "Invocations") is None
    assert cw.rate_trigger(alarm, "Invocation5XXErrors", "Invocations") == pytest.approx(0.05, rel=1e-6)
    assert cw.error_rate_notes(alarm, "Invocation5XXErrors", "Invocations", 0.05) == ""


@pytest.mark.parametrize(("expression", "problem"), [
    ("calls / errors", "the ratio is inverted"),
    ("100 * calls / errors", "the ratio is inverted"),
    ("errors + 0 * calls", "does not fall when Invocations rises"),
    ("calls / 1000 + 0 * errors", "does not rise when Invocation5XXErrors rises"),
])
def test_wrong_ratios_are_named(expression, problem):
    from checks import cloudwatch as cw

    assert problem in cw.ratio_problem(_rate_alarm(expression, 5), "Invocation5XXErrors", "Invocations")


def test_an_alarm_that_never_fires_is_named():
    from checks import cloudwatch as cw

    note = cw.error_rate_notes(_rate_alarm("100 * errors / calls", 500), "Invocation5XXErrors", "Invocations", 0.05)
    assert note == "Why: the alarm does not fire even when every call fails."
