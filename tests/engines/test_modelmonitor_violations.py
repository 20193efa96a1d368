"""constraint_violations.json of a data-quality monitoring run.

"Schema for Violations": https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-violations.html;
the real report shared/reference/model-monitor/data-quality-strings/constraint_violations.json (its wording
``Value: <v> does not meet the constraint requirement! ``); drift descriptions as AWS samples parse them
(``distance: (.+) exceeds threshold: (.+)``, aws-samples/amazon-sagemaker-drift-detection).
"""

from __future__ import annotations

import json
import random
import re

import pytest

from mlalab.engines.modelmonitor import constraints as cs
from mlalab.engines.modelmonitor import datasets as ds
from mlalab.engines.modelmonitor import statistics as st
from mlalab.engines.modelmonitor import violations as vi
from tests.engines.test_modelmonitor_statistics import load, requires_reference, shape_differences

SAMPLE_PARSER = re.compile(r"distance: (.+) exceeds threshold: (.+)")


def baseline(table, **config):
    stats = st.compute(table)
    constraints = cs.suggest(stats)
    dist = config.pop("distribution_constraints", None)
    constraints["monitoring_config"].update(config)
    if dist:
        constraints["monitoring_config"]["distribution_constraints"].update(dist)
    return constraints, stats


def run(constraints, base, table):
    return vi.evaluate(constraints, base, st.compute(table))["violations"]


def checks(violations):
    return [(v["feature_name"], v["constraint_check_type"]) for v in violations]


SIMPLE = {"comparison_method": "Simple"}


# --- the real files ---

@requires_reference
def test_output_has_the_real_report_shape():
    constraints, base = baseline({"x": ["1", "2", "3", "4"], "s": ["a", "a", "b", "b"]})
    report = vi.evaluate(constraints, base, st.compute({"x": ["1.5", None, "3", "4"], "s": ["a", "c", "b", "b"]}))
    assert len(report["violations"]) >= 3
    assert shape_differences(json.loads(json.dumps(report)), load("data-quality-strings/constraint_violations.json")) \
        == []


@requires_reference
def test_accepts_the_real_constraints_and_statistics_unchanged():
    strings_c, strings_s = load("data-quality-strings/constraints.json"), load("data-quality-strings/statistics.json")
    assert vi.evaluate(strings_c, strings_s, strings_s) == {"violations": [{
        "feature_name": "second_message", "constraint_check_type": "missing_column_check",
        "description": "There are missing columns in current dataset. Number of columns in current dataset: 1, "
                       "Number of columns in baseline constraints: 2"}]}
    numeric_c, numeric_s = load("data-quality/constraints.json"), load("data-quality/statistics.json")
    assert vi.evaluate(numeric_c, numeric_s, numeric_s) == {"violations": []}


@requires_reference
def test_reference_wording_is_reproduced():
    for violation in load("data-quality-strings/constraint_violations.json")["violations"]:
        value = float(violation["description"].split()[1])
        assert vi.value_description(value) == violation["description"]


# --- data_type_check ---

def test_data_type_share_below_threshold_hand_computed():
    constraints, base = baseline({"n": ["1", "2", "3", "4"]})  # Integral
    violations = run(constraints, base, {"n": ["1", "2.5", "3", "4.5"]})
    assert violations == [{"feature_name": "n", "constraint_check_type": "data_type_check",
                           "description": "Value: 0.5 does not meet the constraint requirement! "}]


def test_integral_values_in_a_fractional_column_do_not_match():
    constraints, base = baseline({"f": ["1.5", "2.5"]})
    violations = run(constraints, base, {"f": ["1.5", "2.5", "3.5", "4"]})
    assert violations == [{"feature_name": "f", "constraint_check_type": "data_type_check",
                           "description": "Value: 0.75 does not meet the constraint requirement! "}]


def test_data_type_threshold_and_nulls():
    constraints, base = baseline({"n": ["1", "2", "3", "4"]}, datatype_check_threshold=0.5)
    # 1 of 2 present values integral: 0.5 is not below 0.5 ; nulls are not counted (completeness reports them)
    assert checks(run(constraints, base, {"n": ["1", "2.5", None, None]})) == [("n", "completeness_check")]
    assert checks(run(constraints, base, {"n": ["1", "2.5", "x", None]})) == [
        ("n", "data_type_check"), ("n", "completeness_check")]


def test_string_baseline_accepts_any_value():
    constraints, base = baseline({"s": ["a", "b"] * 5})
    assert "data_type_check" not in {c for _, c in checks(run(constraints, base, {"s": ["1", "2.5"] * 5}))}


def test_all_null_column_reports_completeness_only_like_the_reference():
    constraints, base = baseline({"c": ["2.5", "0"]})
    assert run(constraints, base, {"c": [None, None, None]}) == [{
        "feature_name": "c", "constraint_check_type": "completeness_check",
        "description": "Value: 0.0 does not meet the constraint requirement! "}]


def test_type_counts_fallback_for_statistics_read_from_a_file():
    constraints, base = baseline({"n": ["1", "2"]})
    current = json.loads(json.dumps(st.compute({"n": ["1.5", "2"]})))  # plain dict: counts are gone
    assert vi.evaluate(constraints, base, current)["violations"] == [{
        "feature_name": "n", "constraint_check_type": "data_type_check",
        "description": "Value: 0.0 does not meet the constraint requirement! "}]
    counts = {"n": {"Unknown": 0, "Fractional": 1, "Integral": 3, "Boolean": 0, "String": 0}}
    assert vi.evaluate(constraints, base, current, type_counts=counts)["violations"][0]["description"] == (
        "Value: 0.75 does not meet the constraint requirement! ")
    same = json.loads(json.dumps(st.compute({"n": ["7", "8"]})))
    assert vi.evaluate(constraints, base, same)["violations"] == []


@pytest.mark.parametrize("expected, counts, current, ratio", [
    ("Integral", {"Unknown": 5, "Integral": 1, "Fractional": 3}, None, 0.25),
    ("Fractional", {"Unknown": 0, "Integral": 1, "Fractional": 3}, None, 0.75),
    ("String", {"Unknown": 0, "Integral": 2}, None, 1.0),
    ("Integral", {"Unknown": 4}, None, None),
    ("Integral", None, "Integral", 1.0),
    ("Integral", None, "Fractional", 0.0),
    ("String", None, "Integral", 1.0),
    ("Integral", None, "Unknown", None),
])
def test_type_match_ratio(expected, counts, current, ratio):
    assert vi.type_match_ratio(expected, counts, current) == ratio


# --- completeness_check ---

def test_completeness_below_the_baseline_hand_computed():
    constraints, base = baseline({"x": ["1", "2", "3", None]})  # completeness 0.75
    assert run(constraints, base, {"x": ["1", "2", "3", "4", None, None, "7", "8"]}) == []  # 0.75
    assert run(constraints, base, {"x": ["1", None, None, "4", None]}) == [{
        "feature_name": "x", "constraint_check_type": "completeness_check",
        "description": "Value: 0.4 does not meet the constraint requirement! "}]


# --- baseline_drift_check ---

def test_numerical_drift_simple_hand_computed_and_parseable():
    constraints, base = baseline({"x": [str(v) for v in range(1, 5)]}, distribution_constraints=SIMPLE)
    violations = run(constraints, base, {"x": ["3", "4", "5", "6"]})
    assert violations == [{"feature_name": "x", "constraint_check_type": "baseline_drift_check",
                           "description": "Baseline drift distance: 0.5 exceeds threshold: 0.1"}]
    distance, threshold = SAMPLE_PARSER.search(violations[0]["description"]).groups()
    assert (float(distance), float(threshold)) == (0.5, 0.1)


def test_robust_drift_forgives_small_samples():
    constraints, base = baseline({"x": [str(v) for v in range(1, 5)]})  # default Robust
    assert run(constraints, base, {"x": ["3", "4", "5", "6"]}) == []  # 0.5 - 1.27 -> 0


def test_robust_drift_on_larger_samples_hand_computed():
    constraints, base = baseline({"x": [str(v) for v in range(100)]})
    (violation,) = run(constraints, base, {"x": [str(v) for v in range(50, 150)]})
    # 0.5 - 1.8 * sqrt(200 / 10000)
    distance = float(SAMPLE_PARSER.search(violation["description"]).group(1))
    assert distance == pytest.approx(0.2454415587728429, abs=1e-15)


def test_drift_at_the_threshold_is_not_a_violation():
    constraints, base = baseline({"x": ["1", "2", "3", "4"]}, distribution_constraints={
        "comparison_method": "Simple", "comparison_threshold": 0.5})
    assert run(constraints, base, {"x": ["3", "4", "5", "6"]}) == []


def test_perform_comparison_disabled_skips_drift():
    constraints, base = baseline({"x": ["1", "2", "3", "4"]}, distribution_constraints={
        **SIMPLE, "perform_comparison": "Disabled"})
    assert run(constraints, base, {"x": ["3", "4", "5", "6"]}) == []


def test_categorical_drift_uses_the_categorical_threshold():
    table = {"s": ["a"] * 5 + ["b"] * 5}
    constraints, base = baseline(table, distribution_constraints={**SIMPLE, "categorical_comparison_threshold": 0.25})
    # |0.5 - 0.8| = 0.3 > 0.25 ; the current values stay inside the domain
    assert run(constraints, base, {"s": ["a"] * 8 + ["b"] * 2}) == [{
        "feature_name": "s", "constraint_check_type": "baseline_drift_check",
        "description": "Baseline drift distance: 0.30000000000000004 exceeds threshold: 0.25"}]
    constraints["monitoring_config"]["distribution_constraints"]["categorical_comparison_threshold"] = 0.35
    assert run(constraints, base, {"s": ["a"] * 8 + ["b"] * 2}) == []


def test_chi_squared_flags_a_small_p_value():
    table = {"s": ["a"] * 50 + ["b"] * 50}
    constraints, base = baseline(table, distribution_constraints={"categorical_drift_method": "ChiSquared"})
    (violation,) = run(constraints, base, {"s": ["a"] * 60 + ["b"] * 40})  # p = erfc(sqrt 2) = 0.0455 < 0.1
    assert violation["constraint_check_type"] == "baseline_drift_check"
    distance, threshold = SAMPLE_PARSER.search(violation["description"]).groups()
    assert float(distance) == pytest.approx(0.04550026389635842, rel=1e-12) and threshold == "0.1"
    assert run(constraints, base, {"s": ["a"] * 52 + ["b"] * 48}) == []  # p = 0.69: no drift


# --- missing / extra columns ---

def test_missing_and_extra_columns():
    constraints, base = baseline({"a": ["1"], "b": ["2"], "c": ["3"]})
    violations = run(constraints, base, {"a": ["1"], "c": ["3"], "_c3": ["4"], "_c4": ["5"]})
    assert checks(violations) == [("b", "missing_column_check"), ("_c3", "extra_column_check"),
                                  ("_c4", "extra_column_check")]
    assert violations[0]["description"] == ("There are missing columns in current dataset. Number of columns in "
                                            "current dataset: 4, Number of columns in baseline constraints: 3")
    assert violations[1]["description"] == ("There are extra columns in current dataset. Number of columns in "
                                            "current dataset: 4, Number of columns in baseline constraints: 3")


# --- categorical_values_check ---

def test_values_outside_the_domain_hand_computed():
    constraints, base = baseline({"s": ["A", "B"] * 10})
    assert constraints["features"][0]["string_constraints"]["domains"] == ["A", "B"]
    violations = run(constraints, base, {"s": ["A", "B", "C", "A"] * 5})
    assert ("s", "categorical_values_check") in checks(violations)
    assert next(v for v in violations if v["constraint_check_type"] == "categorical_values_check") == {
        "feature_name": "s", "constraint_check_type": "categorical_values_check",
        "description": "Value: 0.75 does not meet the constraint requirement! "}


def test_domain_content_threshold():
    constraints, base = baseline({"s": ["A", "B"] * 10}, domain_content_threshold=0.75,
                                 distribution_constraints={"perform_comparison": "Disabled"})
    assert run(constraints, base, {"s": ["A", "B", "C", "A"] * 5}) == []
    assert checks(run(constraints, base, {"s": ["A", "C"] * 5})) == [("s", "categorical_values_check")]


def test_no_domain_check_for_numbers_now():
    constraints, base = baseline({"s": ["A", "B"] * 10}, distribution_constraints={"perform_comparison": "Disabled"})
    assert checks(run(constraints, base, {"s": ["1", "2"] * 10})) == []


# --- switches ---

def test_evaluate_constraints_disabled_keeps_only_drift():
    constraints, base = baseline({"x": ["1", "2", "3", "4"]}, evaluate_constraints="Disabled",
                                 distribution_constraints=SIMPLE)
    violations = run(constraints, base, {"x": ["3.5", "4", "5", "6", None], "extra": ["1"] * 5})
    assert checks(violations) == [("x", "baseline_drift_check")]


def test_per_feature_override_turns_one_feature_off():
    constraints, base = baseline({"x": ["1", "2"], "y": ["1", "2"]})
    constraints["features"][0]["num_constraints"]["monitoring_config_overrides"] = {"evaluate_constraints": "Disabled"}
    assert checks(run(constraints, base, {"x": ["1.5", None], "y": ["1.5", None]})) == [
        ("y", "data_type_check"), ("y", "completeness_check")]


def test_per_feature_distribution_override():
    constraints, base = baseline({"x": ["1", "2", "3", "4"], "y": ["1", "2", "3", "4"]},
                                 distribution_constraints=SIMPLE)
    constraints["features"][1]["monitoringConfigOverrides"] = {"distribution_constraints": {
        "comparison_threshold": 0.6}}
    assert checks(run(constraints, base, {"x": ["3", "4", "5", "6"], "y": ["3", "4", "5", "6"]})) == [
        ("x", "baseline_drift_check")]


def test_no_baseline_statistics_means_no_drift_check():
    constraints, _ = baseline({"x": ["1", "2", "3", "4"]}, distribution_constraints=SIMPLE)
    assert vi.evaluate(constraints, {}, st.compute({"x": ["7", "8", "9", "10"]})) == {"violations": []}


# --- numbers as the JVM prints them ---

@pytest.mark.parametrize("value, text", [
    (0.4994994994994995, "0.4994994994994995"), (0.0, "0.0"), (1.0, "1.0"), (0.001, "0.001"),
    (1e-05, "1.0E-5"), (0.00025, "2.5E-4"), (-0.00025, "-2.5E-4"), (12345678.0, "1.2345678E7"),
    (1e10, "1.0E10"), (9999999.0, "9999999.0"), (float("nan"), "NaN"), (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"), (-0.0, "-0.0"),
])
def test_java_double(value, text):
    assert vi.java_double(value) == text


# --- speed ---

def test_thousand_rows_ten_columns_well_under_the_budget():
    rng = random.Random(7)

    def csv_text(shift: float, letters: str) -> str:
        rows = (",".join([f"{rng.gauss(shift, 1):.4f}" for _ in range(8)] + [rng.choice(letters),
                                                                                str(rng.randint(0, 9))])
                for _ in range(1000))
        return "\n".join(rows)

    constraints = cs.suggest(base := st.compute(ds.read_csv(csv_text(0.0, "ABC"), header=False)))
    text = csv_text(0.5, "ABD")
    report = vi.evaluate(constraints, base, st.compute(ds.read_csv(text, header=False)))
    assert ("_c0", "baseline_drift_check") in checks(report["violations"])
    assert ("_c8", "categorical_values_check") in checks(report["violations"])
