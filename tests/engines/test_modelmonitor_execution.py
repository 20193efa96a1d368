"""One monitoring execution's outcome: status, exit message, reports and CloudWatch datums
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-cw.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-cloudwatch.html)."""

from __future__ import annotations

import json
import math
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from mlalab.engines.modelmonitor import execution as ex
from tests.reference import REFERENCE as REFERENCE_ROOT

REFERENCE = REFERENCE_ROOT / "model-monitor"
WHEN = datetime(2024, 5, 6, 14, tzinfo=UTC)
DIMS = [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "sched"}]


@dataclass(frozen=True)
class P:
    encoding: str
    data: str


@dataclass(frozen=True)
class R:
    input: P | None
    output: P | None = None
    event_id: str = "e"
    inference_id: str | None = None


def test_exit_messages() -> None:
    assert ex.exit_message(60) == "CompletedWithViolations: Job completed successfully with 60 violations."
    assert ex.exit_message(1) == "CompletedWithViolations: Job completed successfully with 1 violations."
    assert ex.exit_message(0) == "Completed: Job completed successfully with no violations."


def test_publish_enabled_unless_disabled() -> None:
    assert ex.publish_enabled(None) is True
    assert ex.publish_enabled({}) is True
    assert ex.publish_enabled({"publish_cloudwatch_metrics": "Enabled"}) is True
    assert ex.publish_enabled({"publish_cloudwatch_metrics": "Disabled"}) is False
    assert ex.publish_enabled({"publish_cloudwatch_metrics": " disabled "}) is False


STATS = {
    "version": 0.0,
    "dataset": {"item_count": 4},
    "features": [
        {"name": "age", "inferred_type": "Integral", "numerical_statistics": {
            "common": {"num_present": 3, "num_missing": 1}, "mean": 20.0, "sum": 60.0, "std_dev": 8.16,
            "min": 10.0, "max": 30.0}},
        {"name": "city", "inferred_type": "String", "string_statistics": {
            "common": {"num_present": 4, "num_missing": 0}, "distinct_count": 2.0}},
        {"name": "empty", "inferred_type": "Unknown", "numerical_statistics": {
            "common": {"num_present": 0, "num_missing": 4}}},
    ],
}


def test_data_metrics_names_values_dimensions() -> None:
    datums = ex.data_metrics(STATS, {"age": 0.25, "city": 0.5}, {"monitoring_config": {"emit_metrics": "Enabled"}},
                             endpoint="ep", schedule="sched", timestamp=WHEN)
    by_name = {d["MetricName"]: d for d in datums}
    assert [d["MetricName"] for d in datums] == [
        "feature_data_age", "feature_non_null_age", "feature_baseline_drift_age",
        "feature_non_null_city", "feature_baseline_drift_city", "feature_non_null_empty",
    ]
    assert by_name["feature_data_age"]["StatisticValues"] == {
        "SampleCount": 3.0, "Sum": 60.0, "Minimum": 10.0, "Maximum": 30.0}
    assert "Value" not in by_name["feature_data_age"]
    assert by_name["feature_non_null_age"]["Value"] == 0.75
    assert by_name["feature_non_null_city"]["Value"] == 1.0
    assert by_name["feature_non_null_empty"]["Value"] == 0.0
    assert by_name["feature_baseline_drift_city"]["Value"] == 0.5
    assert all(d["Dimensions"] == DIMS and d["Timestamp"] == WHEN for d in datums)


def test_emit_metrics_disabled_globally_or_per_feature() -> None:
    assert ex.data_metrics(STATS, {}, {"monitoring_config": {"emit_metrics": "Disabled"}},
                           endpoint="ep", schedule="sched", timestamp=WHEN) == []
    constraints = {"monitoring_config": {"emit_metrics": "Enabled"}, "features": [
        {"name": "age", "num_constraints": {"monitoring_config_overrides": {"emit_metrics": "Disabled"}}}]}
    names = [d["MetricName"] for d in ex.data_metrics(STATS, {"age": 0.3}, constraints, endpoint="ep",
                                                      schedule="sched", timestamp=WHEN)]
    assert names == ["feature_non_null_city", "feature_non_null_empty"]


def test_nan_distance_is_not_published() -> None:
    datums = ex.data_metrics(STATS, {"age": float("nan")}, None, endpoint="ep", schedule="sched", timestamp=WHEN)
    assert "feature_baseline_drift_age" not in [d["MetricName"] for d in datums]


def test_model_metrics_from_the_reference_statistics() -> None:
    statistics = json.loads((REFERENCE / "model-quality-regression/statistics.json").read_text())
    datums = ex.model_metrics(statistics, endpoint="ep", schedule="sched", timestamp=WHEN)
    assert [(d["MetricName"], d["Value"]) for d in datums] == [
        ("mae", 0.5040653554420981), ("mse", 0.33364933609800973), ("rmse", 0.5776238707827177),
        ("r2", -3.208758170289026)]
    assert all(d["Dimensions"] == DIMS for d in datums)


def test_model_metrics_skip_non_numeric_entries() -> None:
    statistics = {"binary_classification_metrics": {
        "confusion_matrix": {"0": {"0": 3, "1": 1}}, "f1": {"value": 0.8, "standard_deviation": 0.01},
        "auc": {"value": "NaN"}}}
    assert [d["MetricName"] for d in ex.model_metrics(statistics, endpoint="ep", schedule="sched",
                                                      timestamp=WHEN)] == ["f1"]


def test_distances_from_violation_descriptions() -> None:
    report = {"violations": [
        {"feature_name": "a", "constraint_check_type": "baseline_drift_check",
         "description": "Baseline drift distance: 0.4285714 exceeds threshold: 0.1"},
        {"feature_name": "b", "constraint_check_type": "data_type_check", "description": "distance: 0.9"},
        {"feature_name": "c", "constraint_check_type": "baseline_drift_check", "description": "no number"},
    ]}
    assert ex.distances_from_violations(report) == {"a": 0.4285714}
    real = json.loads((REFERENCE / "data-quality-strings/constraint_violations.json").read_text())
    assert all(isinstance(v, float) for v in ex.distances_from_violations(real).values())


# --- whole executions with stand-in analysis modules --------------------------------------------------


@pytest.fixture
def standins(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def read_payloads(payloads: Any, names: Any) -> dict:
        seen["payloads"], seen["names"] = list(payloads), names
        return {"x": [p[1] for p in seen["payloads"]]}

    def evaluate(constraints: dict, baseline: dict, current: dict) -> dict:
        seen["evaluated"] = (constraints, baseline, current)
        return {"violations": [{"feature_name": "x", "constraint_check_type": "baseline_drift_check",
                                "description": "distance: 0.5 exceeds threshold: 0.1"}] * seen.get("n", 2)}

    modules = {
        "datasets": types.SimpleNamespace(read_payloads=read_payloads),
        "statistics": types.SimpleNamespace(compute=lambda table: {"features": [
            {"name": "x", "numerical_statistics": {"common": {"num_present": len(table["x"]), "num_missing": 0},
                                                   "sum": 3.0, "min": 1.0, "max": 2.0}}]}),
        "constraints": types.SimpleNamespace(suggest=lambda stats: {"suggested": True}),
        "violations": types.SimpleNamespace(evaluate=evaluate),
        "drift": types.SimpleNamespace(feature_distances=lambda c, b, cur: {"x": 0.45}),
    }
    monkeypatch.setattr(ex, "_module", lambda name: modules[name])
    seen["modules"] = modules
    return seen


BASE_STATS = {"features": [{"name": "x"}, {"name": "y"}]}


def test_no_captured_input_fails_with_no_data(standins: dict) -> None:
    outcome = ex.data_quality([], BASE_STATS, {}, endpoint="ep", schedule="sched", timestamp=WHEN)
    assert (outcome.status, outcome.failure_reason, outcome.exit_message) == ("Failed", "Job inputs had no data", None)
    assert outcome.reports == {} and outcome.metrics == []
    outcome = ex.data_quality([R(None, P("CSV", "1"))], BASE_STATS, {}, endpoint="ep", schedule="sched",
                              timestamp=WHEN)
    assert outcome.failure_reason == ex.NO_DATA


def test_violations_make_completed_with_violations(standins: dict) -> None:
    records = [R(P("CSV", "1,2")), R(P("CSV", "3,4"))]
    outcome = ex.data_quality(records, BASE_STATS, {"c": 1}, endpoint="ep", schedule="sched", timestamp=WHEN)
    assert standins["payloads"] == [("CSV", "1,2"), ("CSV", "3,4")]
    assert standins["names"] == ["x", "y"]
    assert outcome.status == "CompletedWithViolations"
    assert outcome.exit_message == "CompletedWithViolations: Job completed successfully with 2 violations."
    assert outcome.violation_count == 2
    assert sorted(outcome.reports) == sorted(ex.REPORT_FILES)
    assert outcome.reports["constraints.json"] == {"suggested": True}
    assert outcome.namespace == "aws/sagemaker/Endpoints/data-metrics"
    drift = [d for d in outcome.metrics if d["MetricName"] == "feature_baseline_drift_x"]
    assert drift[0]["Value"] == 0.45  # the drift engine's distance wins over the description's


def test_no_violations_completed_and_publish_off(standins: dict) -> None:
    standins["n"] = 0
    outcome = ex.data_quality([R(P("CSV", "1"))], BASE_STATS, {"c": 1}, endpoint="ep", schedule="sched",
                              timestamp=WHEN, publish=False)
    assert (outcome.status, outcome.exit_message) == (
        "Completed", "Completed: Job completed successfully with no violations.")
    assert outcome.metrics == []


def test_without_baseline_no_check_runs(standins: dict) -> None:
    outcome = ex.data_quality([R(P("CSV", "1"))], None, None, endpoint="ep", schedule="sched", timestamp=WHEN)
    assert outcome.status == "Completed"
    assert "evaluated" not in standins
    assert standins["names"] is None
    assert outcome.reports["constraint_violations.json"] == {"violations": []}


def test_distance_falls_back_to_violation_description(standins: dict) -> None:
    standins["modules"]["drift"] = types.SimpleNamespace()
    outcome = ex.data_quality([R(P("CSV", "1"))], BASE_STATS, {"c": 1}, endpoint="ep", schedule="sched",
                              timestamp=WHEN)
    drift = [d["Value"] for d in outcome.metrics if d["MetricName"] == "feature_baseline_drift_x"]
    assert drift == [0.5]


def test_unreadable_data_fails_as_algorithm_error(standins: dict) -> None:
    def broken(payloads: Any, names: Any) -> dict:
        raise ValueError("row 3 has 5 columns, expected 4")

    standins["modules"]["datasets"] = types.SimpleNamespace(read_payloads=broken)
    outcome = ex.data_quality([R(P("CSV", "1"))], BASE_STATS, {}, endpoint="ep", schedule="sched", timestamp=WHEN)
    assert (outcome.status, outcome.failure_reason) == ("Failed", "AlgorithmError: row 3 has 5 columns, expected 4")


def test_model_quality_with_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, Any] = {}
    mq = types.SimpleNamespace(
        merge=lambda records, text: [(r, "1") for r in records] if text else [],
        compute=lambda problem, pairs, **kw: calls.setdefault("compute", (problem, len(pairs), kw)) and {
            "binary_classification_metrics": {"f1": {"value": 0.5, "standard_deviation": 0.0}}},
        evaluate=lambda constraints, stats: {"violations": [{"metric_name": "f1"}]},
        suggest=lambda stats, problem: {"binary_classification_constraints": {}},
    )
    monkeypatch.setattr(ex, "_module", lambda name: mq)
    records = [R(P("CSV", "1"), P("CSV", "0.9"))]
    kwargs: dict[str, Any] = {"problem_type": "BinaryClassification", "endpoint": "ep", "schedule": "sched",
                              "timestamp": WHEN}
    attrs = {"probability_attribute": "0", "inference_attribute": None, "probability_threshold_attribute": 0.5}
    outcome = ex.model_quality(records, "gt", {"c": 1}, attributes=attrs, **kwargs)
    assert calls["compute"] == ("BinaryClassification", 1,
                                {"probability_attribute": "0", "probability_threshold_attribute": 0.5})
    assert outcome.status == "CompletedWithViolations"
    assert outcome.namespace == "aws/sagemaker/Endpoints/model-metrics"
    assert [(d["MetricName"], d["Value"]) for d in outcome.metrics] == [("f1", 0.5)]
    assert ex.model_quality(records, "", {"c": 1}, attributes={}, **kwargs).failure_reason == ex.NO_DATA
    assert ex.model_quality([], "gt", {"c": 1}, attributes={}, **kwargs).failure_reason == ex.NO_DATA


def test_real_analysis_of_a_shifted_hour() -> None:
    """With the real analysis modules: baseline 1..10, an hour of 11..20 (no overlap), so the L-infinity
    distance is 1 and Robust gives 1 - 1.8 * sqrt((10 + 10) / (10 * 10)) (Deequ's KS correction)."""
    from mlalab.engines.modelmonitor import constraints, statistics

    base = statistics.compute({"_c0": [str(float(i)) for i in range(1, 11)]})
    records = [R(P("CSV", str(float(i)))) for i in range(11, 21)]
    outcome = ex.data_quality(records, base, constraints.suggest(base), endpoint="ep", schedule="sched",
                              timestamp=WHEN)
    expected = 1 - 1.8 * math.sqrt(20 / 100)
    assert outcome.status == "CompletedWithViolations"
    assert outcome.exit_message == "CompletedWithViolations: Job completed successfully with 1 violations."
    violation = outcome.reports["constraint_violations.json"]["violations"][0]
    assert (violation["feature_name"], violation["constraint_check_type"]) == ("_c0", "baseline_drift_check")
    by_name = {d["MetricName"]: d for d in outcome.metrics}
    assert by_name["feature_baseline_drift__c0"]["Value"] == pytest.approx(expected, abs=1e-12)
    assert by_name["feature_data__c0"]["StatisticValues"] == {
        "SampleCount": 10.0, "Sum": 155.0, "Minimum": 11.0, "Maximum": 20.0}
    assert by_name["feature_non_null__c0"]["Value"] == 1.0
    assert outcome.reports["statistics.json"]["dataset"]["item_count"] == 10
