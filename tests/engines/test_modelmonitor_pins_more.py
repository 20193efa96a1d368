"""Yet more pins on Model Monitor engine rules, from the survivors of ``python -m mlalab.dev.mutate --engine
modelmonitor`` after ``documents.py`` became the one writer of the analyzer's numbers and JSON layout.
Expectations are hand-computed in comments (or, for a p-value, an independent reference value).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mlalab.engines.modelmonitor import capture as cp
from mlalab.engines.modelmonitor import constraints as cs
from mlalab.engines.modelmonitor import datasets as ds
from mlalab.engines.modelmonitor import drift
from mlalab.engines.modelmonitor import execution as ex
from mlalab.engines.modelmonitor import model_quality as mq
from mlalab.engines.modelmonitor import schedule as sc
from mlalab.engines.modelmonitor import statistics as st
from mlalab.engines.modelmonitor import violations as vi
from mlalab.engines.modelmonitor.documents import java_double, report_json

# --- documents.report_json: Jackson's DefaultPrettyPrinter ---------------------------------------------------
# The analyzer is a JVM program writing with Jackson's default pretty printer (FasterXML/jackson-core,
# com/fasterxml/jackson/core/util/DefaultPrettyPrinter.java): objects indented two spaces per nesting level
# (DefaultIndenter), arrays inline (FixedSpaceIndenter: one space), an empty object or array written as its
# brackets around one space (writeEndObject/writeEndArray with nrOfEntries == 0 write a raw " "), the field
# separator " : " (spacesInObjectEntries), doubles as Double.toString, non-ASCII characters unescaped
# (JsonGenerator.Feature.ESCAPE_NON_ASCII is off by default). The non-empty cases are the layout of
# shared/reference/model-monitor/data-quality/constraints.json (``"features" : [ {`` ... ``}, {`` ... ``} ]``).

NESTED = {
    "version": 0.0,
    "dataset": {"item_count": 3},
    "empty_object": {},
    "empty_array": [],
    "flags": [True, False, None],
    "features": [{"name": "café", "count": 1, "share": 0.5}, {"inner": {"deep": (), "none": {}}}],
    "big": 1e7,
    "small": -0.0005,
    "négatif": -2,
}

NESTED_TEXT = """{
  "version" : 0.0,
  "dataset" : {
    "item_count" : 3
  },
  "empty_object" : { },
  "empty_array" : [ ],
  "flags" : [ true, false, null ],
  "features" : [ {
    "name" : "café",
    "count" : 1,
    "share" : 0.5
  }, {
    "inner" : {
      "deep" : [ ],
      "none" : { }
    }
  } ],
  "big" : 1.0E7,
  "small" : -5.0E-4,
  "négatif" : -2
}"""


def test_report_json_writes_a_nested_document_in_jacksons_layout():
    assert report_json(NESTED) == NESTED_TEXT


def test_report_json_of_scalars_and_empty_containers():
    assert [report_json(v) for v in ({}, [], (), True, False, None, 7, -3, 2.0, "a\"b", "ü")] == [
        "{ }", "[ ]", "[ ]", "true", "false", "null", "7", "-3", "2.0", '"a\\"b"', '"ü"']


def test_report_json_of_a_top_level_array_of_objects():
    # An array does not indent (inline); the object inside it is at nesting level 1: entries at two spaces.
    assert report_json([{"a": 1}, {}]) == '[ {\n  "a" : 1\n}, { } ]'


def test_report_json_level_sets_the_closing_indent():
    # A document written at level 2 (inside two objects): entries at 6 spaces, the brace at 4.
    assert report_json({"k": [1, True]}, 2) == '{\n      "k" : [ 1, true ]\n    }'


def test_java_double_signs_of_infinities_and_zeros():
    # Double.toString: "Infinity", "-Infinity", "0.0", "-0.0".
    assert [java_double(v) for v in (float("inf"), float("-inf"), 0.0, -0.0, 1e-3, 9999999.0, 1e7)] == [
        "Infinity", "-Infinity", "0.0", "-0.0", "0.001", "9999999.0", "1.0E7"]


# --- capture: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html ---

def test_a_config_without_a_sampling_percentage_captures_nothing():
    # InitialSamplingPercentage is required by the API; a stored config without it samples 0 % (as the wire's
    # DescribeEndpoint summary reports CurrentSamplingPercentage 0), never 1 %.
    got = cp.settings({"DestinationS3Uri": "s3://bucket/capture", "CaptureOptions": [{"CaptureMode": "Input"}]})
    assert got is not None and got.sampling_percentage == 0


# --- drift: the inferred types decide what is compared -----------------------------------------------------------

def _numeric(values: list[str]) -> dict:
    return st.compute({"x": values})["features"][0]


def test_a_feature_whose_type_changed_is_not_compared_even_with_numbers_in_both_documents():
    # A baseline statistics file may be the user's own (MonitoringStatisticsResource): a String feature that
    # still carries numerical_statistics is not compared with an Integral one; only same-kind features are.
    base = _numeric(["1", "2", "3"])
    relabelled = dict(_numeric(["4", "5", "6"]), inferred_type="String")
    config = cs.feature_config({}, {})
    assert drift.feature_distance(base, relabelled, config) is None
    assert drift.feature_distance(dict(base, inferred_type="String"), _numeric(["4", "5", "6"]), config) is None
    # The same numbers, both Integral: robust distance max(0, 1.0 - 1.8 * sqrt(6/9)) = 0 (all three shifted).
    assert drift.feature_distance(base, _numeric(["4", "5", "6"]), config) == ("numerical", 0.0)


def test_feature_distances_leave_out_features_that_cannot_be_compared():
    base = st.compute({"age": ["1", "2", "3", "4"], "city": ["a", "b", "a", "b"]})
    current = st.compute({"age": ["1", "2", "3", "4"], "city": ["1", "2", "3", "4"]})  # city now Integral
    constraints = cs.suggest(base)
    # age: identical samples, distance 0.0; city: String vs Integral, no distance at all.
    assert drift.feature_distances(constraints, base, current) == {"age": 0.0}


@pytest.mark.parametrize(("statistic", "dof", "expected"), [
    # scipy.stats.chi2.sf(12, 7) and chi2.sf(22, 17) (and mpmath's regularized upper incomplete gamma
    # Q(dof/2, statistic/2) at 40 digits); both in the continued-fraction range x >= a + 1.
    (12.0, 7, 0.10055886850835884),
    (22.0, 17, 0.18471903544379048),
])
def test_chi_squared_p_value_is_accurate_to_1e_14(statistic, dof, expected):
    # Lentz's continued fraction stops once a step changes the value by less than 1e-15; running on past
    # convergence only accumulates rounding (4e-14 off at these points), which this accuracy pin refuses.
    assert drift.chi_squared_sf(statistic, dof) == pytest.approx(expected, rel=1e-14, abs=0)


# --- execution: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html ---

def test_emit_metrics_disabled_for_the_file_is_not_reenabled_by_a_feature():
    # The engine treats monitoring_config.emit_metrics Disabled as the job's switch: a feature's override
    # "Enabled" does not bring its metrics back (AWS documents the switch, not a per-feature re-enable).
    stats = st.compute({"age": ["1", "2"]})
    constraints = {"monitoring_config": {"emit_metrics": "Disabled"},
                   "features": [{"name": "age",
                                 "num_constraints": {"monitoring_config_overrides": {"emit_metrics": "Enabled"}}}]}
    when = datetime(2024, 1, 1, 1, tzinfo=UTC)
    assert ex.data_metrics(stats, {"age": 0.5}, constraints, endpoint="e", schedule="s", timestamp=when) == []
    # With the file's switch on, the same feature publishes data, non-null and drift (3 datums).
    constraints["monitoring_config"]["emit_metrics"] = "Enabled"
    names = [d["MetricName"] for d in ex.data_metrics(stats, {"age": 0.5}, constraints, endpoint="e",
                                                        schedule="s", timestamp=when)]
    assert names == ["feature_data_age", "feature_non_null_age", "feature_baseline_drift_age"]


# --- model quality: ground_truth_attribute of a headerless baseline ------------------------------------------

def test_a_column_index_beyond_the_headerless_columns_is_refused():
    # Headerless CSV columns are _c0, _c1: index "2" names no column, index "1" names _c1.
    table = {"_c0": ["0.9", "0.2"], "_c1": ["1", "0"]}
    with pytest.raises(mq.ModelQualityError, match="ground truth attribute '2' is not a column of the dataset"):
        mq.baseline_pairs(table, "2")
    assert [label for _, label in mq.baseline_pairs(table, "1")] == ["1", "0"]


def test_curves_of_no_score_are_the_degenerate_curves():
    # No ranked score: the ROC curve is its two end points (0,0) and (1,1); the PR curve is its leading point
    # alone, recall 0 at precision 1.0 (no prediction, no false positive: scikit-learn's precision_recall_curve
    # also ends at precision 1, recall 0).
    assert mq.curves([], []) == ([0.0, 1.0], [0.0, 1.0], [1.0], [0.0])


# --- statistics: Deequ's KLL compactor (QuantileNonSample / NonSampleCompactor) ---------------------------------

def test_a_levels_offset_flips_on_every_second_compaction_only():
    # Deequ's NonSampleCompactor.compact: ``if (numOfCompress % 2 == 1) offset = 1 - offset``.
    # k = 4, c = 0.5: capacities 6, 4, 4. Feeding 0, 1, 2, ... (hand-traced):
    #  value 6:  level 0 [0..6] compacted (1st, offset 0)  -> level 1 gets 0 2 4, level 0 keeps [6]
    #  value 13: level 0 [6..13] (2nd: flip to 1)           -> 7 9 11 13
    #  value 17: level 1 [0 2 4 7 9 11 13] (its 1st, 0)    -> level 2 gets 0 4 9, level 1 keeps [13]
    #  value 24: level 0 [14..24] (3rd: no flip, still 1)   -> 15 17 19 21 23, level 0 keeps [24]
    #  value 29: level 0 [24..29] (4th: flip back to 0)     -> 24 26 28
    sketch = st.KLLSketch(sketch_size=4, shrinking_factor=0.5)
    for v in range(30):
        sketch.update(float(v))
    assert sketch.levels == [[], [13.0, 15.0, 17.0, 19.0, 21.0, 23.0, 24.0, 26.0, 28.0], [0.0, 4.0, 9.0]]
    assert sum(w for _, w in sketch.weighted()) == 30  # 9 x 2 + 3 x 4


def test_a_numeric_column_without_a_parseable_value_has_zero_bounds():
    # "-" matches Deequ's Integral regex ``^(-|\+)? ?\d*$`` but Spark's cast to double gives null, so the
    # Integral feature has one present value and no number: the engine writes min = max = 0.0 (its
    # convention for no numbers, as for mean and std_dev) and ten empty buckets at 0.0.
    ns = st.compute({"x": ["-"]})["features"][0]["numerical_statistics"]
    assert (ns["min"], ns["max"], ns["mean"], ns["sum"]) == (0.0, 0.0, 0.0, 0.0)
    assert ns["distribution"]["kll"]["buckets"] == [{"lower_bound": 0.0, "upper_bound": 0.0, "count": 0.0}] * 10


# --- violations: completeness_check from the feature's counts ---------------------------------------------------

CONSTRAINTS = {"features": [{"name": "x", "inferred_type": "Integral", "completeness": 1.0}]}


def _completeness(current: dict) -> list[str]:
    found = vi.evaluate(CONSTRAINTS, {"features": []}, current, type_counts={})["violations"]
    return [v["description"] for v in found if v["constraint_check_type"] == vi.COMPLETENESS]


def _feature(common: dict) -> dict:
    return {"name": "x", "inferred_type": "Integral", "numerical_statistics": {"common": common}}


def test_completeness_of_an_empty_dataset_fails_its_constraint():
    # No item, no value: completeness 0.0 (Deequ fails a constraint whose metric has no data,
    # AnalysisBasedConstraint), never taken as complete.
    current = {"dataset": {"item_count": 0}, "features": [_feature({"num_present": 0, "num_missing": 0})]}
    assert _completeness(current) == ["Value: 0.0 does not meet the constraint requirement! "]


def test_completeness_counts_an_absent_num_present_as_zero():
    # No item_count, num_missing 4 and no num_present: 0 / (0 + 4) = 0.0.
    assert _completeness({"features": [_feature({"num_missing": 4})]}) == [
        "Value: 0.0 does not meet the constraint requirement! "]


def test_completeness_counts_an_absent_num_missing_as_zero():
    # No item_count, num_present 2 and no num_missing: 2 / (2 + 0) = 1.0, complete.
    assert _completeness({"features": [_feature({"num_present": 2})]}) == []


def test_a_domain_check_needs_categorical_counts():
    # A String feature read back without a categorical histogram (a hand-written statistics file) has no share
    # of values to weigh against the domains: no categorical_values_check, rather than a division by zero.
    constraints = {"features": [{"name": "c", "inferred_type": "String",
                                 "string_constraints": {"domains": ["a", "b"]}}]}
    current = {"features": [{"name": "c", "inferred_type": "String",
                             "string_statistics": {"common": {"num_present": 2, "num_missing": 0}}}]}
    assert vi.evaluate(constraints, {"features": []}, current, type_counts={})["violations"] == []


def test_a_numeric_feature_without_numbers_has_no_distance():
    # "-" is Integral to Deequ but no number: with no sketch item on one side there is nothing to compare.
    config = cs.feature_config({}, {})
    with_numbers, without = _numeric(["1", "2"]), _numeric(["-"])
    assert drift.feature_distance(with_numbers, without, config) is None
    assert drift.feature_distance(without, with_numbers, config) is None


# --- datasets: a headerless CSV's columns come from its first row (Spark's CSV reader) ---------------------------

def test_headerless_columns_follow_the_first_row():
    # The first row has three cells: _c0.._c2; a shorter later row leaves its missing cell null.
    assert ds.read_csv("1,2,3\n4,5\n", header=False) == {"_c0": ["1", "4"], "_c1": ["2", "5"], "_c2": ["3", None]}
    assert ds.read_csv("7,8\n", header=False) == {"_c0": ["7"], "_c1": ["8"]}


# --- execution: model-metrics come only from the *_metrics sections ----------------------------------------------

def test_model_metrics_ignore_sections_that_are_not_metrics():
    # https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-cw.html: one metric per key of
    # the <problem>_metrics section; an object of another name is not published even if it holds "value"s.
    statistics = {"version": 0.0, "dataset": {"item_count": 4}, "extra": {"f0": {"value": 0.5}},
                  "regression_metrics": {"mae": {"value": 0.25, "standard_deviation": "NaN"}}}
    when = datetime(2024, 1, 1, 1, tzinfo=UTC)
    datums = ex.model_metrics(statistics, endpoint="e", schedule="s", timestamp=when)
    assert [(d["MetricName"], d["Value"]) for d in datums] == [("mae", 0.25)]


# --- schedule: a NOW schedule runs at its creation, in UTC --------------------------------------------------------

def test_a_now_schedule_first_runs_at_creation_in_utc():
    now = sc.parse("NOW")
    # A naive creation time is taken as UTC; an offset one is converted (10:30 +05:30 is 05:00 UTC).
    assert sc.first_run(now, datetime(2024, 1, 1, 10, 30)) == datetime(2024, 1, 1, 10, 30, tzinfo=UTC)
    got = sc.first_run(now, datetime(2024, 1, 1, 10, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))))
    assert got == datetime(2024, 1, 1, 5, 0, tzinfo=UTC) and got.tzinfo is UTC


@pytest.mark.parametrize("where", ["monitoringConfigOverrides", "monitoring_config_overrides", "num_constraints"])
def test_a_feature_whose_overrides_disable_emit_metrics_publishes_nothing(where):
    # A feature's monitoring config overrides apply wherever the constraints file puts them (the page spells the
    # feature-level key monitoringConfigOverrides; the reference file nests them in num/string_constraints).
    stats = st.compute({"age": ["1", "2"], "height": ["3", "4"]})
    overrides = {"emit_metrics": "Disabled"}
    age = ({"name": "age", "num_constraints": {"monitoring_config_overrides": overrides}} if where == "num_constraints"
           else {"name": "age", where: overrides})
    constraints = {"monitoring_config": {"emit_metrics": "Enabled"}, "features": [age, {"name": "height"}]}
    when = datetime(2024, 1, 1, 1, tzinfo=UTC)
    names = [d["MetricName"] for d in ex.data_metrics(stats, {"age": 0.5, "height": 0.1}, constraints, endpoint="e",
                                                        schedule="s", timestamp=when)]
    assert names == ["feature_data_height", "feature_non_null_height", "feature_baseline_drift_height"]
