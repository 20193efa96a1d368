"""Drift distances of Model Monitor's baseline_drift_check, hand-computed on small data.

Definitions: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html
(comparison_method linf_simple / linf_robust, categorical_drift_method LInfinity / ChiSquared) and Deequ's
Distance.scala (awslabs/deequ): Robust = max(0, d - 1.8 * sqrt((n + m) / (n * m))), as
shared/reference/README.md states.
"""

from __future__ import annotations

import math

import pytest

from mlalab.engines.modelmonitor import drift
from mlalab.engines.modelmonitor import statistics as st
from tests.engines.test_modelmonitor_statistics import load, requires_reference


def ones(values):
    return [(float(v), 1) for v in values]


def test_linf_simple_hand_computed():
    # F_b at 1,2,3,4,5,6 = .25,.5,.75,1,1,1 ; F_c = 0,0,.25,.5,.75,1 -> max |diff| = 0.5 (at 2, 3, 4)
    assert drift.linf_simple(ones([1, 2, 3, 4]), ones([3, 4, 5, 6])) == 0.5


def test_linf_simple_uses_inclusive_ranks_and_ties():
    # baseline 1,1,2 ; current 2,2,2: at x=1 F_b=2/3, F_c=0 -> 2/3 ; at x=2 both 1
    assert drift.linf_simple(ones([1, 1, 2]), ones([2, 2, 2])) == pytest.approx(2 / 3, abs=0)
    assert drift.linf_simple(ones([5, 1, 3]), ones([3, 1, 5])) == 0.0


def test_linf_simple_sweeps_interleaved_samples():
    # x=1: .25 vs 0 ; x=2: .25 vs .25 ; x=3: .75 vs .5 ; x=4: .75 vs 1 ; x=5: 1 vs 1 -> 0.25
    assert drift.linf_simple(ones([5, 3, 1, 3]), ones([4, 2, 4, 3])) == 0.25
    # disjoint: at x=2 F_b = 1, F_c = 0
    assert drift.linf_simple(ones([1, 2]), ones([10, 20])) == 1.0
    assert drift.linf_simple(ones([10, 20]), ones([1, 2])) == 1.0
    # the largest gap at the last baseline item: x=3 -> 1 vs 1/3 ; x=9 -> 1 vs 1
    assert drift.linf_simple(ones([1, 2, 3]), ones([0, 9, 9])) == 1 - 1 / 3


def test_linf_simple_weighs_sketch_levels():
    # baseline: 1 (weight 1), 2 (weight 2): F(1) = 1/3 ; current: 2 -> F(1) = 0 -> 1/3
    assert drift.linf_simple([(1.0, 1), (2.0, 2)], [(2.0, 1)]) == 1 / 3


def test_linf_simple_of_an_empty_side_is_zero():
    assert drift.linf_simple([], ones([1])) == 0.0 and drift.linf_simple(ones([1]), []) == 0.0


def test_robust_correction_hand_computed():
    # n = m = 100: 1.8 * sqrt(200 / 10000) = 1.8 * 0.14142135623730950 = 0.25455844122715710
    assert drift.robust(0.5, 100, 100) == pytest.approx(0.5 - 0.2545584412271571, abs=1e-15)
    # n = m = 4: correction 1.8 * sqrt(0.5) = 1.2728 > 0.5 -> clamped to 0
    assert drift.robust(0.5, 4, 4) == 0.0
    # n = 1000, m = 250: 1.8 * sqrt(1250 / 250000) = 1.8 * 0.07071067811865475 = 0.12727922061357855
    assert drift.robust(0.3, 1000, 250) == pytest.approx(0.3 - 0.12727922061357855, abs=1e-15)


def test_numerical_by_method():
    base, cur = ones(range(100)), ones(range(50, 150))
    # F_b(49) = 0.5, F_c(49) = 0 -> d = 0.5 ; robust: 0.5 - 0.2545584412271571
    assert drift.numerical(base, cur, "Simple") == 0.5
    assert drift.numerical(base, cur, "linf_simple") == 0.5
    assert drift.numerical(base, cur, "Robust") == pytest.approx(0.2454415587728429, abs=1e-15)
    assert drift.numerical(base, cur) == pytest.approx(0.2454415587728429, abs=1e-15)
    assert drift.numerical([], cur, "Robust") == 0.0


def test_categorical_linf_hand_computed():
    b, c = {"A": 50, "B": 50}, {"A": 80, "B": 20}
    assert drift.categorical_linf(b, c, "Simple") == pytest.approx(0.3, abs=1e-15)  # |0.5 - 0.8|
    assert drift.categorical_linf(b, c, "Robust") == pytest.approx(0.3 - 0.2545584412271571, abs=1e-15)
    # a value new in the current data counts with its whole share: |0 - 0.25| = 0.25 > |0.5 - 0.375|
    assert drift.categorical_linf({"A": 2, "B": 2}, {"A": 3, "B": 3, "C": 2}, "Simple") == 0.25
    assert drift.categorical_linf({}, {"A": 1}, "Simple") == 0.0


def test_chi_squared_two_categories_hand_computed():
    # expected 50/50 for 100 observed 60/40: (10^2/50) * 2 = 4.0 ; 1 dof: P(X >= 4) = erfc(sqrt(2))
    statistic, p = drift.chi_squared({"A": 50, "B": 50}, {"A": 60, "B": 40})
    assert statistic == 4.0
    assert p == pytest.approx(0.04550026389635842, rel=1e-12)
    assert p == pytest.approx(math.erfc(math.sqrt(2.0)), rel=1e-12)


def test_chi_squared_rescales_the_baseline_to_the_current_total():
    # baseline 25/75 scaled to 200 observed -> expected 50/150 ; observed 70/130: 400/50 + 400/150 = 10.6667
    statistic, p = drift.chi_squared({"A": 25, "B": 75}, {"A": 70, "B": 130})
    assert statistic == pytest.approx(8 + 8 / 3, rel=1e-14)
    assert p == pytest.approx(math.erfc(math.sqrt(statistic / 2)), rel=1e-12)


def test_chi_squared_four_categories_no_regrouping():
    # expected 45, 45, 5, 5 (none below Yates' 5): 25/45 + 25/45 + 1/5 + 1/5 = 1.51111 ; 3 dof
    statistic, p = drift.chi_squared({"A": 45, "B": 45, "C": 5, "D": 5}, {"A": 40, "B": 50, "C": 6, "D": 4})
    assert statistic == pytest.approx(50 / 45 + 0.4, rel=1e-14)
    x = statistic  # closed form for 3 dof: erfc(sqrt(x/2)) + sqrt(2x/pi) * exp(-x/2)
    assert p == pytest.approx(math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2), rel=1e-12)


def test_chi_squared_merges_small_categories_first():
    # expected 90, 8, 2 (3 categories, Yates: none may be < 5) -> C merged into B: 90 / 10, observed 85 / 15
    # Cochran for 2: B = 10 is not < 10 -> stop ; 25/90 + 25/10 = 2.77778 ; 1 dof
    statistic, p = drift.chi_squared({"A": 90, "B": 8, "C": 2}, {"A": 85, "B": 10, "C": 5})
    assert statistic == pytest.approx(25 / 90 + 2.5, rel=1e-14)
    assert p == pytest.approx(math.erfc(math.sqrt(statistic / 2)), rel=1e-12)


def test_chi_squared_two_small_categories_merge_to_one_nan():
    # 2 categories, Cochran: B = 5 < 10 -> merged -> 1 category left -> NaN
    statistic, p = drift.chi_squared({"A": 95, "B": 5}, {"A": 90, "B": 10})
    assert math.isnan(statistic) and math.isnan(p)
    assert all(math.isnan(v) for v in drift.chi_squared({"A": 100}, {"A": 50}))
    assert all(math.isnan(v) for v in drift.chi_squared({}, {"A": 50}))


def test_chi_squared_ignores_current_values_unknown_to_the_baseline():
    # Z is not in the baseline: observed total over A, B is 100 -> same as the 60/40 case
    statistic, _ = drift.chi_squared({"A": 50, "B": 50}, {"A": 60, "B": 40, "Z": 30})
    assert statistic == 4.0


@pytest.mark.parametrize("x", [0.5, 2.0, 7.0, 30.0])
def test_chi_squared_survival_matches_closed_forms(x):
    assert drift.chi_squared_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-10, abs=1e-300)
    assert drift.chi_squared_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-10)
    assert drift.chi_squared_sf(x, 4) == pytest.approx(math.exp(-x / 2) * (1 + x / 2), rel=1e-10)
    assert drift.chi_squared_sf(0.0, 3) == 1.0


def test_categorical_dispatches_on_the_drift_method():
    b, c = {"A": 50, "B": 50}, {"A": 60, "B": 40}
    assert drift.categorical(b, c, "ChiSquared", "Robust") == pytest.approx(0.04550026389635842, rel=1e-12)
    assert drift.categorical(b, c, "ChiSquared", "Simple") == 4.0
    assert drift.categorical(b, c, "LInfinity", "Simple") == pytest.approx(0.1, abs=1e-15)
    assert drift.categorical(b, c) == 0.0  # Robust LInfinity: 0.1 - 0.2546 -> 0


# --- from statistics documents ---

def test_feature_distance_from_computed_statistics():
    config = {"distribution_constraints": {"comparison_method": "Simple"}}
    base = st.compute({"x": [str(v) for v in range(100)]})["features"][0]
    cur = st.compute({"x": [str(v) for v in range(50, 150)]})["features"][0]
    assert drift.feature_distance(base, cur, config) == ("numerical", 0.5)
    sb = st.compute({"s": ["a"] * 50 + ["b"] * 50})["features"][0]
    sc = st.compute({"s": ["a"] * 80 + ["b"] * 20})["features"][0]
    kind, d = drift.feature_distance(sb, sc, config)
    assert kind == "categorical" and d == pytest.approx(0.3, abs=1e-15)
    chi = {"distribution_constraints": {"categorical_drift_method": "ChiSquared"}}
    # (30^2 / 50) * 2 = 36 ; 1 dof -> erfc(sqrt(18))
    assert drift.feature_distance(sb, sc, chi)[1] == pytest.approx(math.erfc(math.sqrt(18)), rel=1e-10)
    assert drift.feature_distance(base, sb, config) is None  # numeric vs string: not comparable
    unknown = st.compute({"u": [None]})["features"][0]
    assert drift.feature_distance(unknown, unknown, config) is None


def test_numeric_items_fall_back_to_buckets_without_a_sketch():
    entry = {"numerical_statistics": {"distribution": {"kll": {"buckets": [
        {"lower_bound": 0.0, "upper_bound": 1.0, "count": 3.0},
        {"lower_bound": 1.0, "upper_bound": 2.0, "count": 0.0},
        {"lower_bound": 2.0, "upper_bound": 3.0, "count": 2.0}]}}}}
    assert drift.numeric_items(entry) == [(1.0, 3), (3.0, 2)]


def test_feature_distances_cover_comparable_features_only():
    constraints = {"features": [{"name": "x"}, {"name": "s"}],
                   "monitoring_config": {"distribution_constraints": {"comparison_method": "Simple"}}}
    base = st.compute({"x": ["1", "2", "3", "4"], "s": ["a", "a", "b", "b"], "gone": ["1"] * 4})
    cur = st.compute({"x": ["3", "4", "5", "6"], "s": ["a", "b", "b", "b"], "new": ["1"] * 4})
    assert drift.feature_distances(constraints, base, cur) == {"x": 0.5, "s": 0.25}


@requires_reference
def test_reference_baseline_against_itself_is_zero():
    stats = load("data-quality/statistics.json")
    constraints = load("data-quality/constraints.json")
    assert drift.feature_distances(constraints, stats, stats) == {f"_c{i}": 0.0 for i in range(6)}


@requires_reference
def test_reference_sketch_against_a_shifted_copy():
    stats = load("data-quality/statistics.json")
    # _c1 is 62 zeros and 38 ones; all ones now: F_b(0) = 0.62, F_c(0) = 0 -> Simple 0.62
    current = st.compute({"_c1": ["1.0"] * 100})
    config = {"distribution_constraints": {"comparison_method": "Simple"}}
    assert drift.feature_distance(stats["features"][1], current["features"][0], config) == ("numerical", 0.62)
    robust = drift.feature_distance(stats["features"][1], current["features"][0], {})
    assert robust == ("numerical", pytest.approx(0.62 - 0.2545584412271571, abs=1e-15))
