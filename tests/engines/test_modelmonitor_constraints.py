"""constraints.json suggested from statistics, and the monitoring configuration a constraints file sets.

"Schema for Constraints": https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html;
real files: shared/reference/model-monitor/data-quality/constraints.json (suggested by the container) and
data-quality-strings/constraints.json (string domains, per-feature overrides, older distribution keys).
"""

from __future__ import annotations

import json

import pytest

from mlalab.engines.modelmonitor import constraints as cs
from mlalab.engines.modelmonitor import statistics as st
from tests.engines.test_modelmonitor_statistics import load, requires_reference, shape_differences

DOCUMENTED_EXTRAS = frozenset({"categorical_comparison_threshold", "categorical_drift_method"})


@requires_reference
def test_suggests_the_real_constraints_from_the_real_statistics():
    ours = cs.suggest(load("data-quality/statistics.json"))
    reference = load("data-quality/constraints.json")
    assert ours["version"] == 0.0
    assert ours["features"] == reference["features"]
    config = dict(ours["monitoring_config"])
    dist = dict(config.pop("distribution_constraints"))
    ref_config = dict(reference["monitoring_config"])
    ref_dist = ref_config.pop("distribution_constraints")
    assert config == ref_config
    assert {k: dist.pop(k) for k in DOCUMENTED_EXTRAS} == {
        "categorical_comparison_threshold": 0.1, "categorical_drift_method": "LInfinity"}
    assert dist == ref_dist


@requires_reference
@pytest.mark.parametrize("relative", ["data-quality/constraints.json", "data-quality-strings/constraints.json"])
def test_suggested_documents_have_the_reference_shape(relative):
    stats = st.compute({"n": ["1", "2.5", "3", "4"], "s": ["a", "a", "b", "b"]})
    ours = json.loads(json.dumps(cs.suggest(stats)))
    reference = load(relative)
    if relative.startswith("data-quality/"):
        first = {**ours, "features": ours["features"][:1]}
        assert shape_differences(first, reference, extras=DOCUMENTED_EXTRAS) == []
    else:  # strings reference: a String feature (its overrides are hand-written, not suggested)
        ref_feature = json.loads(json.dumps(reference["features"][1]))
        assert shape_differences(ours["features"][1], ref_feature) == []


def test_default_monitoring_config_is_documented_values():
    assert cs.suggest({"dataset": {"item_count": 0}, "features": []})["monitoring_config"] == {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": "LInfinity",
        },
    }


def test_suggest_returns_a_fresh_config_each_time():
    first = cs.suggest({"features": []})
    first["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 9.0
    assert cs.suggest({"features": []})["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1


def test_numeric_features_completeness_and_sign():
    stats = st.compute({"pos": ["0", "1", None, "2"], "neg": ["-1.5", "2", "3", "4"]})
    assert cs.suggest(stats)["features"] == [
        {"name": "pos", "inferred_type": "Integral", "completeness": 0.75,
         "num_constraints": {"is_non_negative": True}},
        {"name": "neg", "inferred_type": "Fractional", "completeness": 1.0,
         "num_constraints": {"is_non_negative": False}},
    ]


def test_string_domains_for_small_cardinality_most_frequent_first():
    values = ["b"] * 5 + ["a"] * 9 + ["c"] * 2 + [None]
    (feature,) = cs.suggest(st.compute({"s": values}))["features"]
    assert feature == {"name": "s", "inferred_type": "String", "completeness": 16 / 17,
                       "string_constraints": {"domains": ["a", "b", "c"]}}


def test_no_domains_when_too_many_values_occur_once():
    # 10 distinct, 1 seen once: ratio 0.1 -> domains; 2 seen once: ratio 0.2 -> none (Deequ CategoricalRangeRule)
    nine_twice = [v for v in "abcdefghi" for _ in range(2)]
    assert "string_constraints" in cs.suggest(st.compute({"s": nine_twice + ["j"]}))["features"][0]
    eight_twice = [v for v in "abcdefgh" for _ in range(2)]
    assert "string_constraints" not in cs.suggest(st.compute({"s": eight_twice + ["i", "j"]}))["features"][0]


def test_no_domains_above_the_histogram_cardinality():
    at_limit = [f"v{i}" for i in range(120) for _ in range(2)]
    assert len(cs.suggest(st.compute({"s": at_limit}))["features"][0]["string_constraints"]["domains"]) == 120
    over = [f"v{i}" for i in range(121) for _ in range(2)]
    assert "string_constraints" not in cs.suggest(st.compute({"s": over}))["features"][0]


def test_unknown_feature_has_completeness_only():
    assert cs.suggest(st.compute({"u": [None, None]}))["features"] == [
        {"name": "u", "inferred_type": "Unknown", "completeness": 0.0}]


def test_completeness_without_item_count_uses_the_feature_counts():
    stats = {"features": [{"name": "x", "inferred_type": "Integral",
                           "numerical_statistics": {"common": {"num_present": 3, "num_missing": 1}, "min": 1}}]}
    assert cs.suggest(stats)["features"][0]["completeness"] == 0.75


# --- reading a constraints file's monitoring configuration ---

@requires_reference
def test_reads_the_older_keys_of_the_strings_reference():
    config = cs.monitoring_config(load("data-quality-strings/constraints.json"))
    assert config["evaluate_constraints"] == "Enabled"
    assert config["datatype_check_threshold"] == 1.0
    assert config["domain_content_threshold"] == 1.0
    dist = config["distribution_constraints"]
    assert dist["perform_comparison"] == "Enabled"
    assert dist["comparison_threshold"] == 1.0
    assert dist["categorical_comparison_threshold"] == 1.0  # documented default: the comparison threshold
    assert dist["comparison_method"] == "Robust" and dist["categorical_drift_method"] == "LInfinity"


def test_older_keys_map_to_the_current_ones():
    config = cs.monitoring_config({"monitoring_config": {"distribution_constraints": {
        "enable_comparisons": False, "min_domain_mass": 0.5}}})
    assert config["distribution_constraints"]["perform_comparison"] == "Disabled"
    assert config["domain_content_threshold"] == 0.5
    explicit = cs.monitoring_config({"monitoring_config": {"domain_content_threshold": 0.7,
                                                           "distribution_constraints": {"min_domain_mass": 0.5}}})
    assert explicit["domain_content_threshold"] == 0.7


def test_explicit_categorical_threshold_is_kept():
    config = cs.monitoring_config({"monitoring_config": {"distribution_constraints": {
        "comparison_threshold": 0.3, "categorical_comparison_threshold": 0.05}}})
    assert config["distribution_constraints"]["comparison_threshold"] == 0.3
    assert config["distribution_constraints"]["categorical_comparison_threshold"] == 0.05


def test_missing_config_is_all_defaults():
    assert cs.monitoring_config({}) == cs.DEFAULT_MONITORING_CONFIG


@requires_reference
def test_feature_overrides_as_the_strings_reference_places_them():
    doc = load("data-quality-strings/constraints.json")
    assert cs.feature_overrides(doc["features"][0]) == {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled"}
    assert cs.feature_overrides(doc["features"][1]) == {}


def test_feature_config_merges_overrides_from_every_documented_place():
    doc = {"monitoring_config": {"emit_metrics": "Enabled",
                                 "distribution_constraints": {"comparison_threshold": 0.2}},
           "features": [{"name": "a", "monitoringConfigOverrides": {"emit_metrics": "Disabled"},
                         "num_constraints": {"is_non_negative": True, "monitoring_config_overrides": {
                             "evaluate_constraints": "Disabled",
                             "distribution_constraints": {"comparison_method": "Simple"}}}}]}
    config = cs.feature_config(doc, doc["features"][0])
    assert config["emit_metrics"] == "Disabled" and config["evaluate_constraints"] == "Disabled"
    assert config["distribution_constraints"]["comparison_method"] == "Simple"
    assert config["distribution_constraints"]["comparison_threshold"] == 0.2  # kept from the file's config
    assert cs.feature_config(doc, {"name": "b"})["evaluate_constraints"] == "Enabled"


@pytest.mark.parametrize("value, on", [("Enabled", True), ("Disabled", False), (" disabled ", False),
                                       (True, True), (False, False), ("anything", True)])
def test_enabled_switch(value, on):
    assert cs.enabled(value) is on
