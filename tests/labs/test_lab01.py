"""Lab 01: grading behaviour specific to this lab (its wrong solutions, one per check, are in the lab's
own folder: ``mutations.py``)."""


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


def test_alarm_the_evaluator_cannot_replay_fails_with_a_reason(tmp_path, lab01):
    """RATE() is valid metric math, but not one the evaluator replays: a failure, never a grader error."""
    source = apply(lab01.solution_path.read_text(), [('"100 * errors / invocations"', '"100 * RATE(errors)"')])
    result = grade_source(tmp_path, lab01, source)
    assert all(c.status != "error" for c in result.checks)
    quiet = next(c for c in result.checks if c.id == "quiet-day")
    assert quiet.status == "fail"
    assert quiet.message.startswith("your alarms could not be replayed through CloudWatch's evaluation rules: "
                                    "Metric math function RATE is not supported by the alarm evaluator")


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
    assert "A rule with OR fires on either symptom alone; page only when both hold: AND" in text
