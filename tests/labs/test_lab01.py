"""Lab 01 is graded correctly: full marks for the reference, none for the starter, and each check
caught by a wrong solution that fails that check and no other."""

import pytest

from tests.conftest import apply, failing, grade_source

# One wrong solution per check: the edits to the reference, and the only check that must fail.
MUTATIONS = {
    "latency-metric": [('ExtendedStatistic="p99"', 'ExtendedStatistic="p90"')],
    "latency-thresholds": [("(warning_alarm_name, 300)", "(warning_alarm_name, 350)")],
    "latency-window": [("EvaluationPeriods=3,\n            DatapointsToAlarm=2,\n            Threshold=threshold_ms",
                        "EvaluationPeriods=5,\n            DatapointsToAlarm=2,\n            Threshold=threshold_ms")],
    "missing-data": [('        Threshold=5,\n        ComparisonOperator="GreaterThanThreshold",\n'
                      '        TreatMissingData="notBreaching",',
                      '        Threshold=5,\n        ComparisonOperator="GreaterThanThreshold",\n'
                      '        TreatMissingData="breaching",')],
    "alarm-actions": [("            AlarmActions=[warning_topic_arn],\n        )",
                       "            AlarmActions=[warning_topic_arn, 'arn:aws:sns:us-east-1:123456789012:x'],\n"
                       "        )")],
    "error-rate-math": [('"Period": 60, "Stat": "Sum"}}', '"Period": 60, "Stat": "Average"}}')],
    "pager-composite": [("AlarmActions=[pager_topic_arn],",
                         "AlarmActions=[pager_topic_arn, pager_topic_arn + '-old'],")],
    # Behaviour-only mistakes: the configuration checks cannot see them, the replays can.
    "quiet-day": [('            ComparisonOperator="GreaterThanThreshold",\n            TreatMissingData',
                   '            ComparisonOperator="LessThanThreshold" if threshold_ms == 300 else '
                   '"GreaterThanThreshold",\n            TreatMissingData')],
    "spike-no-page": [
        ("        EvaluationPeriods=3,\n        DatapointsToAlarm=2,\n        Threshold=5,",
         "        EvaluationPeriods=1,\n        DatapointsToAlarm=1,\n        Threshold=5,"),
        ('AlarmRule=f\'ALARM("{critical_alarm_name}") AND ALARM("{error_rate_alarm_name}")\'',
         'AlarmRule=f\'ALARM("{error_rate_alarm_name}") AND (ALARM("{critical_alarm_name}") OR '
         'ALARM("{error_rate_alarm_name}"))\''),
    ],
    "slow-only-no-page": [(") AND ALARM(", ") OR ALARM(")],
    "incident-pages": [("        Threshold=5,\n", "        Threshold=50,\n")],
}


def test_reference_earns_full_marks(tmp_path, lab01):
    result = grade_source(tmp_path, lab01, lab01.solution_path.read_text())
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]
    assert result.score == result.max_score == 23
    assert result.problems == []


def test_untouched_starter_earns_nothing(tmp_path, lab01):
    result = grade_source(tmp_path, lab01, lab01.starter_text())
    assert result.score == 0
    assert failing(result) == {c.id for c in lab01.checks}
    assert "create_latency_alarms is not written yet (it raises NotImplementedError)" in result.problems


def test_every_check_has_a_mutation():
    from mlalab.catalog import find_lab

    assert set(MUTATIONS) == {c.id for c in find_lab(1).checks}


@pytest.mark.parametrize("check_id", sorted(MUTATIONS))
def test_wrong_solution_fails_exactly_its_check(tmp_path, lab01, check_id):
    source = apply(lab01.solution_path.read_text(), MUTATIONS[check_id])
    result = grade_source(tmp_path, lab01, source)
    assert failing(result) == {check_id}


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
