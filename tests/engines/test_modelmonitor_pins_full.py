"""More pins on Model Monitor engine rules, from the survivors of the full mutation run
(``python -m mlalab.dev.mutate --engine modelmonitor --all``). Expectations are hand-computed in comments.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mlalab.engines.modelmonitor import constraints as cs
from mlalab.engines.modelmonitor import drift
from mlalab.engines.modelmonitor import execution as ex
from mlalab.engines.modelmonitor import model_quality as mq
from mlalab.engines.modelmonitor import schedule as sc
from mlalab.engines.modelmonitor import statistics as st
from mlalab.engines.modelmonitor import violations as vi
from mlalab.engines.modelmonitor.capture import CaptureRecord, Payload

IST = timezone(timedelta(hours=5, minutes=30))


# --- violations: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-violations.html ---

def test_a_distance_equal_to_the_threshold_does_not_exceed_it():
    # "distance: <d> exceeds threshold: <t>": 1,2,3,4 vs 3,4,5,6 has linf_simple 0.5; threshold 0.5 is not exceeded.
    base = st.compute({"x": ["1", "2", "3", "4"]})
    constraints = cs.suggest(base)
    constraints["monitoring_config"]["distribution_constraints"].update(
        {"comparison_method": "Simple", "comparison_threshold": 0.5})
    current = st.compute({"x": ["3", "4", "5", "6"]})
    assert vi.evaluate(constraints, base, current)["violations"] == []
    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.49
    assert [v["description"] for v in vi.evaluate(constraints, base, current)["violations"]] == [
        "Baseline drift distance: 0.5 exceeds threshold: 0.49"]


def test_completeness_without_item_count_comes_from_the_feature_counts():
    # No dataset.item_count: completeness = num_present / (num_present + num_missing) = 3 / 4.
    constraints = {"features": [{"name": "x", "inferred_type": "Integral", "completeness": 1.0}]}
    current = {"features": [{"name": "x", "inferred_type": "Integral",
                             "numerical_statistics": {"common": {"num_present": 3, "num_missing": 1}}}]}
    assert vi.evaluate(constraints, {"features": []}, current)["violations"] == [{
        "feature_name": "x", "constraint_check_type": "completeness_check",
        "description": "Value: 0.75 does not meet the constraint requirement! "}]


def test_an_unknown_baseline_type_has_no_data_type_check():
    # A baseline column that was all null has inferred_type Unknown: no type to hold the current values to.
    constraints = {"features": [{"name": "x", "inferred_type": "Unknown"}]}
    current = st.compute({"x": ["1", "2"]})
    assert vi.evaluate(constraints, {"features": []}, current)["violations"] == []


# --- executions ---

def test_a_model_quality_execution_with_unreadable_ground_truth_fails():
    record = CaptureRecord("e1", "2024-05-01T10:00:00Z", None, Payload("text/csv", "INPUT", "1", "CSV"),
                           Payload("text/csv", "OUTPUT", "0.5", "CSV"))
    outcome = ex.model_quality([record], "not json", None, problem_type="Regression",
                               attributes={"inference_attribute": "0"}, endpoint="ep", schedule="s",
                               timestamp=datetime(2024, 5, 1, 11, tzinfo=UTC))
    assert outcome.status == "Failed"
    assert outcome.failure_reason.startswith("AlgorithmError: ground truth line 1 is not a ground-truth record")
    assert outcome.namespace == "aws/sagemaker/Endpoints/model-metrics"


# --- model quality ---

def test_json_ground_truth_that_is_not_json_is_refused():
    line = '{"groundTruthData": {"data": "{oops", "encoding": "JSON"}, "eventMetadata": {"eventId": "a"}}'
    with pytest.raises(mq.ModelQualityError, match="line 1: data is not JSON"):
        mq.parse_ground_truth(line)


@pytest.mark.parametrize("label", ["inf", "-inf", "nan", float("inf")])
def test_a_label_that_is_not_finite_is_not_a_class(label):
    with pytest.raises(mq.ModelQualityError, match="is not a class"):
        mq.normalize_label(label)


def test_suggest_refuses_an_unknown_problem_type():
    stats = {"regression_metrics": {"mae": {"value": 1.0}}}
    with pytest.raises(mq.ModelQualityError, match="problem type 'Ranking' is not one of"):
        mq.suggest(stats, "Ranking")


def test_curves_merge_a_tie_at_the_lowest_score():
    # scores 0.9 (pos), 0.5 (neg), 0.5 (pos): thresholds 0.9 -> tp 1 fp 0; 0.5 -> tp 2 fp 1 (one point for the tie)
    fpr, tpr, precisions, recalls = mq.curves([0.9, 0.5, 0.5], [True, False, True])
    assert (fpr, tpr) == ([0.0, 0.0, 1.0, 1.0], [0.0, 0.5, 1.0, 1.0])
    assert (precisions, recalls) == ([1.0, 1.0, 2 / 3], [0.0, 0.5, 1.0])


# --- schedule times are UTC: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html ---

def test_first_run_and_capture_hours_of_naive_and_offset_times_are_utc():
    hourly = sc.parse("cron(0 * ? * * *)")
    assert sc.first_run(hourly, datetime(2024, 5, 1, 10, 30)) == datetime(2024, 5, 1, 11, tzinfo=UTC)
    assert sc.first_run(hourly, datetime(2024, 5, 1, 10, 30)).tzinfo is UTC
    assert sc.capture_hours(datetime(2024, 5, 1, 10, 30), datetime(2024, 5, 1, 12)) == [
        datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(2024, 5, 1, 11, tzinfo=UTC)]
    # 10:30 at +05:30 is 05:00 UTC
    assert sc.top_of_hour(datetime(2024, 5, 1, 10, 30, tzinfo=IST)) == datetime(2024, 5, 1, 5, tzinfo=UTC)


# --- drift (Deequ Distance.scala) ---

def test_categorical_linf_with_a_single_current_value_and_values_it_lacks():
    # baseline a 1, b 3 (n 4); current a 1, c 1 (m 2): |.25 - .5| = .25, |.75 - 0| = .75, |0 - .5| = .5 -> .75
    assert drift.categorical_linf({"a": 1, "b": 3}, {"a": 1, "c": 1}, "Simple") == 0.75
    # one current value: baseline a 1, b 1 vs current a 1 -> |.5 - 1| = .5
    assert drift.categorical_linf({"a": 1, "b": 1}, {"a": 1}, "Simple") == 0.5


def test_chi_squared_three_categories_use_the_yates_rule():
    # 3 categories: at most int(0.2 * 3) = 0 expected counts below 5; c expects 8 -> nothing merged.
    # chi2 = (40-46)^2/46 + (52-46)^2/46 + 0 = 72/46; dof 2: p = exp(-chi2 / 2)
    statistic, p_value = drift.chi_squared({"a": 46, "b": 46, "c": 8}, {"a": 40, "b": 52, "c": 8})
    assert statistic == pytest.approx(72 / 46, rel=1e-12)
    assert p_value == pytest.approx(math.exp(-36 / 46), rel=1e-9)


def test_chi_squared_counts_a_baseline_category_the_current_data_lacks():
    # expected a 50, b 50 (rescaled to the current total 100); observed a 100, b 0: 50^2/50 + 50^2/50 = 100
    statistic, _ = drift.chi_squared({"a": 50, "b": 50}, {"a": 100})
    assert statistic == pytest.approx(100.0, rel=1e-12)


def test_chi_squared_merges_small_categories_the_current_data_lacks():
    # 6 categories, Yates allows int(0.2 * 6) = 1 expected count below 5; e and f (400/402 each) are two, so
    # e merges into f (expected 800/402, observed 0 + 0). a..d expect 40000/402 and observe 100:
    # 4 * (200/402)^2 / (40000/402) + (800/402)^2 / (800/402) = 4/402 + 800/402 = 2
    statistic, p_value = drift.chi_squared({"a": 100, "b": 100, "c": 100, "d": 100, "e": 1, "f": 1},
                                           {"a": 100, "b": 100, "c": 100, "d": 100})
    assert statistic == pytest.approx(2.0, rel=1e-12)
    assert p_value == pytest.approx(math.exp(-1) * (1 + 1), rel=1e-9)  # dof 4: e^(-x/2) (1 + x/2)


def test_chi_squared_skips_a_category_expected_zero_times():
    # A baseline category with count 0 expects nothing and adds no term (no division by zero).
    statistic, p_value = drift.chi_squared({"a": 100, "b": 100, "c": 100, "d": 100, "e": 0},
                                           {"a": 100, "b": 100, "c": 100, "d": 100})
    assert (statistic, p_value) == (0.0, 1.0)
