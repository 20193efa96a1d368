"""Pins on Model Monitor engine rules that the topic suites left open (each found as a surviving mutant of
``make mutate``, ``python -m mlalab.dev.mutate --engine modelmonitor``). Every expectation is computed by
hand in a comment from the AWS (or Java/Deequ) rule cited next to it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from mlalab.engines.modelmonitor import constraints as cs
from mlalab.engines.modelmonitor import drift
from mlalab.engines.modelmonitor import execution as ex
from mlalab.engines.modelmonitor import model_quality as mq
from mlalab.engines.modelmonitor import schedule as sc
from mlalab.engines.modelmonitor import statistics as st
from mlalab.engines.modelmonitor import violations as vi
from mlalab.engines.modelmonitor.capture import CaptureRecord, Payload
from mlalab.engines.modelmonitor.documents import is_analyzer_image

WHEN = datetime(2024, 5, 1, 11, tzinfo=UTC)


def json_capture(event_id: str, output: str) -> CaptureRecord:
    return CaptureRecord(event_id=event_id, inference_time="2024-05-01T10:00:00Z", inference_id=None,
                         input=Payload("application/json", "INPUT", "[1, 2]", "JSON"),
                         output=Payload("application/json", "OUTPUT", output, "JSON"))


# --- execution: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-results.html ---

def test_a_failed_execution_has_no_violations():
    # An hour with no captured data fails ("Job inputs had no data", aws/sagemaker-python-sdk#2634): it wrote
    # no constraint_violations.json, so it counts no violation and has no exit message.
    outcome = ex.data_quality([], None, None, endpoint="ep", schedule="s", timestamp=WHEN)
    assert (outcome.status, outcome.failure_reason, outcome.violation_count) == ("Failed", "Job inputs had no data", 0)
    assert outcome.exit_message is None and outcome.reports == {} and outcome.metrics == []
    assert ex.failed().violation_count == 0
    assert ex.model_quality([], "", None, problem_type="Regression", attributes={}, endpoint="ep", schedule="s",
                            timestamp=WHEN).violation_count == 0


# --- model quality labels and predictions ---
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html: binary classes
# are 0 and 1; a JSON boolean or the CSV text true/false is that class.

@pytest.mark.parametrize(("raw", "label"), [("true", "1"), ("False", "0"), (" TRUE ", "1"), ("false", "0"),
                                            (True, "1"), (False, "0")])
def test_boolean_labels_are_the_binary_classes(raw, label):
    assert mq.normalize_label(raw) == label


def test_boolean_ground_truth_and_predictions_give_binary_metrics():
    # labels true,false,true,false ; predicted 1,1,0,0 -> tp 1, fp 1, fn 1, tn 1: recall = precision = 0.5
    pairs = [(["1"], "true"), (["1"], "false"), (["0"], "TRUE"), (["0"], "False")]
    metrics = mq.compute(mq.BINARY, pairs, inference_attribute="0")["binary_classification_metrics"]
    assert metrics["confusion_matrix"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 1}}
    assert metrics["recall"]["value"] == 0.5 and metrics["precision"]["value"] == 0.5


def test_boolean_numbers_read_as_one_and_zero():
    assert mq.to_number(True, "prediction") == 1.0
    assert mq.to_number(False, "prediction") == 0.0
    # regression on JSON booleans: predictions true,false against labels 1,1 -> errors 0,-1: mae 0.5, mse 0.5
    pairs = [(json_capture("a", '{"p": true}'), "1"), (json_capture("b", '{"p": false}'), "1")]
    metrics = mq.compute(mq.REGRESSION, pairs, inference_attribute="p")["regression_metrics"]
    assert metrics["mae"]["value"] == 0.5 and metrics["mse"]["value"] == 0.5


def test_json_path_member_named_by_digits_is_an_object_member():
    # EndpointInput.InferenceAttribute is a JSONPath
    # (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_EndpointInput.html): in
    # ``scores.1`` the 1 names the member "1" of the object ``scores``; only ``[1]`` (or a list) indexes.
    pairs = [(json_capture("a", '{"scores": {"0": 0.1, "1": 0.8}}'), "1"),
             (json_capture("b", '{"scores": {"0": 0.6, "1": 0.3}}'), "0")]
    doc = mq.compute(mq.BINARY, pairs, probability_attribute="scores.1", probability_threshold_attribute=0.5)
    metrics = doc["binary_classification_metrics"]
    # 0.8 >= 0.5 -> 1 (actual 1), 0.3 < 0.5 -> 0 (actual 0): a perfect model
    assert metrics["accuracy"]["value"] == 1.0 and metrics["auc"]["value"] == 1.0
    listed = [(json_capture("a", '{"scores": [0.1, 0.8]}'), "1"), (json_capture("b", '{"scores": [0.6, 0.3]}'), "0")]
    assert mq.compute(mq.BINARY, listed, probability_attribute="scores.1", probability_threshold_attribute=0.5)[
        "binary_classification_metrics"]["accuracy"]["value"] == 1.0


def test_a_row_with_several_values_needs_an_attribute():
    # A baseline row (several columns) has no single prediction: the job needs the inference attribute.
    with pytest.raises(mq.ModelQualityError, match="attribute None is not in the prediction"):
        mq.compute(mq.REGRESSION, [({"a": "1", "b": "2"}, "1")])


def test_a_mapping_record_is_read_by_json_path():
    # records {"prediction": {"value": 2}} and {...4} with labels 1 and 3: errors 1, 1 -> mae 1, mse 1,
    # rmse 1; mean label 2, SStot = 1 + 1 = 2, SSerr = 2 -> r2 = 1 - 2/2 = 0
    pairs = [({"prediction": {"value": 2.0}}, "1"), ({"prediction": {"value": 4.0}}, "3")]
    metrics = mq.compute(mq.REGRESSION, pairs, inference_attribute="prediction.value")["regression_metrics"]
    assert {k: v["value"] for k, v in metrics.items()} == {"mae": 1.0, "mse": 1.0, "rmse": 1.0, "r2": 0.0}


# --- numbers as the JVM analyzer prints them ---
# Java's Double.toString (https://docs.oracle.com/javase/8/docs/api/java/lang/Double.html#toString-double-):
# "If m is greater than or equal to 10^-3 but less than 10^7" plain decimal, else "computerized scientific
# notation"; so 10^7 itself is 1.0E7.

@pytest.mark.parametrize(("value", "text"), [(1e7, "1.0E7"), (-1e7, "-1.0E7"), (9999999.5, "9999999.5"),
                                             (10000001.0, "1.0000001E7"), (0.0, "0.0")])
def test_ten_million_is_scientific_in_both_writers(value, text):
    assert mq.java_double(value) == text
    assert vi.java_double(value) == text


def test_negative_zero_keeps_its_sign():
    assert vi.java_double(-0.0) == "-0.0" and vi.java_double(0.0) == "0.0"


# --- schedule offsets: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ScheduleConfig.html ---

def test_a_cron_schedule_may_set_one_offset_alone():
    # Both offsets are required only with NOW; on a cron schedule one alone is read (and must parse).
    hourly = {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert sc.validate({**hourly, "DataAnalysisStartTime": "-PT2H"}).kind == sc.HOURLY
    assert sc.validate({**hourly, "DataAnalysisEndTime": "-PT0H"}).kind == sc.HOURLY
    with pytest.raises(sc.ScheduleError, match="Invalid time offset"):
        sc.validate({**hourly, "DataAnalysisStartTime": "two hours"})
    with pytest.raises(sc.ScheduleError, match="Invalid time offset"):
        sc.validate({**hourly, "DataAnalysisEndTime": "PTH"})


# --- Deequ: DataTypeHistogram.determineType and the KLL sketch ---

def test_determine_type_of_a_histogram_without_nulls():
    # A histogram that does not list Unknown has no null: its values decide (Deequ's determineType).
    assert st.determine_type({st.INTEGRAL: 3}) == st.INTEGRAL
    assert st.determine_type({st.FRACTIONAL: 1, st.INTEGRAL: 2}) == st.FRACTIONAL
    assert st.determine_type({st.STRING: 1}) == st.STRING
    assert st.determine_type({}) == st.UNKNOWN


def test_kll_sketch_beyond_three_levels_keeps_the_count():
    # Compaction sends half of a level's items one level up at twice the weight (Deequ's NonSampleCompactor):
    # the total weight stays the number of values, and the buckets (rank differences, last one inclusive)
    # add up to it, as the reference statistics' buckets add up to num_present (100).
    rng = random.Random(3)
    values = [rng.uniform(0, 100) for _ in range(20000)]
    stats = st.numerical_statistics(values, 20000, 0)
    kll = stats["distribution"]["kll"]
    assert len(kll["sketch"]["data"]) >= 3
    assert sum(weight for _, weight in st.sketch_items(kll)) == 20000
    assert sum(b["count"] for b in kll["buckets"]) == 20000.0
    # the weighted ranks stay close to the uniform distribution's: about 2,000 values a bucket
    assert all(abs(b["count"] - 2000) < 200 for b in kll["buckets"])


# --- ChiSquared drift: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html ---

def test_chi_squared_p_value_equal_to_the_threshold_is_no_drift():
    # The test flags drift when the p-value is below the threshold (the hypothesis "same distribution" is
    # rejected at that level); a p-value equal to it is not below it.
    base_stats = st.compute({"s": ["a"] * 50 + ["b"] * 50})
    current = st.compute({"s": ["a"] * 60 + ["b"] * 40})
    p_value = drift.categorical({"a": 50, "b": 50}, {"a": 60, "b": 40}, cs.CHI_SQUARED)
    assert p_value == pytest.approx(0.0455, abs=1e-4)  # chi2 = (10^2/50)*2 = 4, p = erfc(sqrt 2)
    constraints = cs.suggest(base_stats)
    dist = constraints["monitoring_config"]["distribution_constraints"]
    dist.update({"categorical_drift_method": "ChiSquared", "categorical_comparison_threshold": p_value})
    assert vi.evaluate(constraints, base_stats, current)["violations"] == []
    dist["categorical_comparison_threshold"] = p_value * (1 + 1e-9)
    assert [v["constraint_check_type"] for v in vi.evaluate(constraints, base_stats, current)["violations"]] == [
        "baseline_drift_check"]


def test_only_an_index_attribute_names_a_positional_column():
    # Spark names headerless columns _c0, _c1, ... (shared/reference/model-monitor/data-quality/statistics.json):
    # the attribute "0" reads _c0, but the attribute "score" does not read a column that happens to be "_cscore".
    assert mq.compute(mq.REGRESSION, [({"_c0": "2.5", "_c1": "9"}, "2.5")], inference_attribute="0")[
        "regression_metrics"]["mae"]["value"] == 0.0
    with pytest.raises(mq.ModelQualityError, match="attribute 'score' is not in the prediction"):
        mq.compute(mq.REGRESSION, [({"_cscore": "2.5", "other": "1"}, "2.5")], inference_attribute="score")


def test_labels_and_predictions_that_are_not_values_are_refused():
    # "we assume data only consists of label" (model-monitor-model-quality-merge.html): an empty label is none.
    for empty in ("", "   "):
        with pytest.raises(mq.ModelQualityError, match="empty label"):
            mq.normalize_label(empty)
    # A prediction that is not a finite number has no error to measure: the job refuses it (the engine's
    # reading; AWS documents no metric over infinite predictions).
    for bad in ("inf", "-Infinity", "NaN", float("inf")):
        with pytest.raises(mq.ModelQualityError, match="is not a finite number"):
            mq.to_number(bad, "prediction")
    with pytest.raises(mq.ModelQualityError, match="prediction 'NaN' is not a finite number"):
        mq.compute(mq.REGRESSION, [(["NaN"], "1")], inference_attribute="0")


# --- counts a statistics file leaves out ---
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html: ``common`` holds
# num_present and num_missing; a count a (bring-your-own-container) statistics file omits is read as 0.

def test_a_feature_without_counts_has_nothing_present():
    assert cs.suggest_feature({"name": "x", "inferred_type": "Unknown"}, 10)["completeness"] == 0.0
    assert cs.suggest_feature({"name": "x", "inferred_type": "Integral",
                               "numerical_statistics": {"common": {"num_missing": 2}, "min": 1.0}}, 8) == {
        "name": "x", "inferred_type": "Integral", "completeness": 0.0, "num_constraints": {"is_non_negative": True}}


def test_completeness_of_a_current_feature_without_num_present_is_zero():
    constraints = {"features": [{"name": "x", "inferred_type": "Integral", "completeness": 1.0}]}
    current = {"dataset": {"item_count": 4},
               "features": [{"name": "x", "inferred_type": "Integral", "numerical_statistics": {
                   "common": {"num_missing": 4}}}]}
    assert vi.evaluate(constraints, {"features": []}, current)["violations"] == [{
        "feature_name": "x", "constraint_check_type": "completeness_check",
        "description": "Value: 0.0 does not meet the constraint requirement! "}]


def test_non_null_metric_of_a_feature_without_num_missing():
    # https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html:
    # feature_non_null_<f> is the completeness: 4 present, none missing -> 1.0; feature_data_<f> the statistic set.
    stats = {"features": [{"name": "x", "inferred_type": "Integral", "numerical_statistics": {
        "common": {"num_present": 4}, "sum": 10.0, "min": 1.0, "max": 4.0}}]}
    metrics = ex.data_metrics(stats, {}, None, endpoint="ep", schedule="s", timestamp=WHEN)
    assert [(m["MetricName"], m.get("Value", m.get("StatisticValues"))) for m in metrics] == [
        ("feature_data_x", {"SampleCount": 4.0, "Sum": 10.0, "Minimum": 1.0, "Maximum": 4.0}),
        ("feature_non_null_x", 1.0)]


# --- drift inputs (Deequ Distance.scala; model-monitor-byoc-constraints.html) ---

def test_chi_squared_counts_a_category_expected_once():
    # 5 categories: Yates allows int(0.2 * 5) = 1 expected count below 5, so e (expected 1/401 * 401 = 1) stays.
    # chi2 = 4 * (99 - 100)^2 / 100 + (5 - 1)^2 / 1 = 0.04 + 16 = 16.04; dof 4: p = e^(-8.02) * (1 + 8.02)
    statistic, p_value = drift.chi_squared({"a": 100, "b": 100, "c": 100, "d": 100, "e": 1},
                                           {"a": 99, "b": 99, "c": 99, "d": 99, "e": 5})
    assert statistic == pytest.approx(16.04, rel=1e-12)
    assert p_value == pytest.approx(2.965956605782639e-3, rel=1e-9)


def test_chi_squared_without_baseline_counts_is_no_test():
    statistic, p_value = drift.chi_squared({"a": 0, "b": 0}, {"a": 3, "b": 1})
    assert statistic != statistic and p_value != p_value  # NaN: nothing to compare with


def test_numeric_items_from_buckets_keep_single_counts():
    # A statistics file without the KLL sketch: each non-empty bucket's count at its upper bound.
    entry = {"inferred_type": "Integral", "numerical_statistics": {"distribution": {"kll": {"buckets": [
        {"lower_bound": 0.0, "upper_bound": 1.0, "count": 1.0}, {"lower_bound": 1.0, "upper_bound": 2.0, "count": 0.0},
        {"lower_bound": 2.0, "upper_bound": 3.0, "count": 2.0}]}}}}
    assert drift.numeric_items(entry) == [(1.0, 1), (3.0, 2)]


def test_a_string_feature_without_a_histogram_is_not_compared():
    with_buckets = st.compute({"s": ["a", "b"]})["features"][0]
    without = {"name": "s", "inferred_type": "String", "string_statistics": {
        "common": {"num_present": 2, "num_missing": 0}, "distinct_count": 2.0}}
    assert drift.feature_distance(without, with_buckets, {}) is None
    assert drift.feature_distance(with_buckets, without, {}) is None


def test_published_drift_follows_a_feature_override():
    # baseline 1,2,3,4 vs current 3,4,5,6: linf_simple 0.5; Robust 0.5 - 1.8 * sqrt(8 / 16) < 0 -> 0.0.
    # A feature's monitoring_config_overrides (as in data-quality-strings/constraints.json) set its method.
    base = st.compute({"x": ["1", "2", "3", "4"]})
    current = st.compute({"x": ["3", "4", "5", "6"]})
    constraints = cs.suggest(base)
    assert drift.feature_distances(constraints, base, current) == {"x": 0.0}
    constraints["features"][0]["num_constraints"]["monitoring_config_overrides"] = {
        "distribution_constraints": {"comparison_method": "Simple"}}
    assert drift.feature_distances(constraints, base, current) == {"x": 0.5}


# --- where captures and windows are: model-monitor-data-capture.html (UTC hour folders) ---

def test_capture_key_minutes_are_utc():
    # 10:15:30.123 at +05:30 is 04:45:30.123 UTC: the hour folder and the file's MM-SS-mmm both in UTC.
    from datetime import timedelta, timezone

    from mlalab.engines.modelmonitor import capture

    when = datetime(2024, 5, 1, 10, 15, 30, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert capture.capture_key("s3://b/p", "ep", "v", when, "uid") == ("b", "p/ep/v/2024/05/01/04/45-30-123-uid.jsonl")


def test_daily_at_23_is_accepted():
    # "cron(0 [00-23] ? * * *)" (model-monitor-schedule-expression.html): 23 is the last hour.
    daily = sc.parse("cron(0 23 ? * * *)")
    assert (daily.kind, daily.start_hour, daily.interval_hours) == (sc.DAILY, 23, 24)
    assert daily.runs_at(23) and not daily.runs_at(22)


def test_analysis_window_is_in_utc():
    hourly = sc.parse("cron(0 * ? * * *)")
    start, end = sc.analysis_window(hourly, datetime(2024, 5, 1, 11))  # naive = UTC
    assert (start, end) == (datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(2024, 5, 1, 11, tzinfo=UTC))
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_a_json_path_index_does_not_name_an_object_member():
    # In a JSONPath, $[0] indexes an array (API_EndpointInput.html: InferenceAttribute is a JSONPath); on an
    # object it finds nothing, even when the object has a member "0".
    with pytest.raises(mq.ModelQualityError, match="is not in the captured output"):
        mq.compute(mq.REGRESSION, [(json_capture("a", '{"0": 0.7}'), "1")], inference_attribute="$[0]")
    assert mq.compute(mq.REGRESSION, [(json_capture("a", '[0.7]'), "0.7")], inference_attribute="$[0]")[
        "regression_metrics"]["mae"]["value"] == 0.0


# --- the analyzer's image (model-monitor-pre-built-container.html: one registry per Region) -------------


@pytest.mark.parametrize("uri", [
    "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer",
    "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer:latest",
    "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer",
    "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer@sha256:0123abcd",
])
def test_the_analyzer_is_recognised_in_any_region_and_account(uri):
    assert is_analyzer_image(uri)


@pytest.mark.parametrize("uri", [
    "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer-custom",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-processing:1",
    "sagemaker-model-monitor-analyzer",  # no registry: not an ECR image URI
    None,
])
def test_other_images_are_not_the_analyzer(uri):
    assert not is_analyzer_image(uri)
