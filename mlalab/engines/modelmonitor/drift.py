"""Distances between a baseline distribution and the current one, as Model Monitor's ``baseline_drift_check``
computes them (Deequ's ``Distance`` object, awslabs/deequ src/main/scala/com/amazon/deequ/analyzers/
Distance.scala, Apache-2.0).

* Numerical (``comparison_method``, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html):
  ``linf_simple`` "is based on the maximum absolute difference between the cumulative distribution functions
  of two distributions"; ``linf_robust`` "is based on linf_simple, but is used when there are not enough
  samples ... based on the Two-sample Kolmogorov-Smirnov test". Deequ's ``numericalDistance`` evaluates both
  CDFs (inclusive ranks of the KLL sketches, item weights ``2**level``, divided by each sketch's total weight
  ``n`` and ``m``) at every item of either sketch; ``selectMetrics`` gives
  ``Robust = max(0, d - 1.8 * sqrt((n + m) / (n * m)))`` (``defaultCAlpha`` 1.8, alpha 0.003), the formula in
  shared/reference/README.md.
* Categorical ``LInfinity`` (``categoricalLInfinityDistance``): the largest absolute difference between the
  two relative frequencies of any value (baseline and current histograms), with the same Robust correction.
* Categorical ``ChiSquared`` (``categoricalChiSquareTest``): a goodness-of-fit test of the current counts
  against the baseline's, rescaled to the current total over the baseline's categories; small categories are
  merged first (Cochran for two categories: every expected count >= 10; Yates beyond: at most 20 % below 5);
  fewer than two categories left -> NaN. Deequ returns the p-value (Spark's ``chiSqTest``, chi-squared
  survival function with ``k - 1`` degrees of freedom); the statistic is the "Simple" variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlalab.engines.modelmonitor import constraints as cons
from mlalab.engines.modelmonitor.statistics import NUMERIC_TYPES, STRING, sketch_items

C_ALPHA = 1.8
YATES_ABS = 5
YATES_PERC = 0.2
COCHRAN_ABS = 10


def robust(distance: float, n: float, m: float) -> float:
    """Deequ's ``linf_robust``: the distance less the two-sample KS critical term for ``n`` and ``m`` samples."""
    return max(0.0, distance - C_ALPHA * math.sqrt((n + m) / (n * m)))


def _cdf(items: Sequence[tuple[float, int]]) -> tuple[list[float], list[int]]:
    ordered = sorted(items)
    values, ranks, running = [], [], 0
    for value, weight in ordered:
        running += weight
        if values and values[-1] == value:
            ranks[-1] = running
        else:
            values.append(value)
            ranks.append(running)
    return values, ranks


def linf_simple(baseline: Sequence[tuple[float, int]], current: Sequence[tuple[float, int]]) -> float:
    """Max |F_baseline(x) - F_current(x)| over every item x of either sample (inclusive-rank CDFs), in one
    sweep over both sorted samples."""
    v1, r1 = _cdf(baseline)
    v2, r2 = _cdf(current)
    if not v1 or not v2:
        return 0.0
    n, m = r1[-1], r2[-1]
    i = j = rank1 = rank2 = 0
    best = 0.0
    while i < len(v1) or j < len(v2):
        x = v1[i] if j >= len(v2) or (i < len(v1) and v1[i] < v2[j]) else v2[j]
        if i < len(v1) and v1[i] == x:
            rank1 = r1[i]
            i += 1
        if j < len(v2) and v2[j] == x:
            rank2 = r2[j]
            j += 1
        best = max(best, abs(rank1 / n - rank2 / m))
    return best


def numerical(baseline: Sequence[tuple[float, int]], current: Sequence[tuple[float, int]],
              method: str = cons.ROBUST) -> float:
    """The numerical distance of two weighted samples by ``comparison_method`` ("Simple" or "Robust")."""
    d = linf_simple(baseline, current)
    if _is_simple(method) or not baseline or not current:
        return d
    n = sum(w for _, w in baseline)
    m = sum(w for _, w in current)
    return robust(d, n, m)


def _is_simple(method: str) -> bool:
    return str(method).lower() in ("simple", "linf_simple")


def categorical_linf(baseline: Mapping[str, float], current: Mapping[str, float],
                     method: str = cons.ROBUST) -> float:
    """Largest difference of relative frequencies of one value; Robust-corrected unless ``method`` is Simple."""
    n = float(sum(baseline.values()))
    m = float(sum(current.values()))
    if n == 0 or m == 0:
        return 0.0
    d = max(abs(baseline.get(k, 0) / n - current.get(k, 0) / m) for k in set(baseline) | set(current))
    return d if _is_simple(method) else robust(d, n, m)


def _regroup(sample: dict[str, float], expected: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Deequ's ``regroupCategories``: merge the smallest expected category into the next smallest while too
    many expected counts are small."""
    while len(expected) >= 2:
        if len(expected) > 2:
            threshold, allowed = YATES_ABS, int(YATES_PERC * len(expected))
        else:
            threshold, allowed = COCHRAN_ABS, 0
        if sum(1 for v in expected.values() if v < threshold) <= allowed:
            break
        smallest = min(expected, key=lambda k: expected[k])
        moved_expected = expected.pop(smallest)
        moved_sample = sample.pop(smallest, 0.0)
        second = min(expected, key=lambda k: expected[k])
        expected[second] += moved_expected
        sample[second] = sample.get(second, 0.0) + moved_sample
    return sample, expected


def chi_squared_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for a chi-squared variable with ``dof`` degrees of freedom (regularized upper
    incomplete gamma Q(dof/2, statistic/2), by series or continued fraction)."""
    if statistic <= 0:
        return 1.0
    a, x = dof / 2.0, statistic / 2.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # series for P, then Q = 1 - P
        term = total = 1.0 / a
        ap = a
        for _ in range(1000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300  # Lentz's continued fraction for Q
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(log_prefix) * h


def chi_squared(baseline: Mapping[str, float], current: Mapping[str, float]) -> tuple[float, float]:
    """(statistic, p-value) of the current counts against the baseline's (Deequ's chi-square method);
    (NaN, NaN) when fewer than two categories remain."""
    sample_sum = float(sum(v for k, v in current.items() if k in baseline))
    expected_sum = float(sum(baseline.values()))
    if expected_sum == 0:
        return math.nan, math.nan
    expected = {k: v / expected_sum * sample_sum for k, v in baseline.items()}
    sample = {k: float(v) for k, v in current.items()}
    sample, expected = _regroup(sample, expected)
    if len(expected) < 2:
        return math.nan, math.nan
    statistic = 0.0
    observed_total = sum(sample.get(k, 0.0) for k in expected)
    scale = observed_total / sum(expected.values()) if sum(expected.values()) else 0.0
    for key, exp in expected.items():  # Spark's chiSqTest rescales expected to the observed total
        e = exp * scale
        if e > 0:
            statistic += (sample.get(key, 0.0) - e) ** 2 / e
    return statistic, chi_squared_sf(statistic, len(expected) - 1)


def categorical(baseline: Mapping[str, float], current: Mapping[str, float], drift_method: str = cons.LINFINITY,
                method: str = cons.ROBUST) -> float:
    """The categorical distance by ``categorical_drift_method``: LInfinity (Robust/Simple as ``method``), or
    ChiSquared (the p-value; the statistic under Simple, as Deequ's ``correctForLowNumberOfSamples``)."""
    if str(drift_method).lower() == cons.CHI_SQUARED.lower():
        statistic, p_value = chi_squared(baseline, current)
        return statistic if _is_simple(method) else p_value
    return categorical_linf(baseline, current, method)


def categorical_counts(entry: Mapping[str, Any]) -> dict[str, float]:
    """Value -> count from a string feature's categorical buckets."""
    buckets = ((((entry.get("string_statistics") or {}).get("distribution") or {}).get("categorical") or {})
               .get("buckets") or [])
    out: dict[str, float] = {}
    for bucket in buckets:
        key = str(bucket.get("value"))
        out[key] = out.get(key, 0.0) + float(bucket.get("count", 0))
    return out


def numeric_items(entry: Mapping[str, Any]) -> list[tuple[float, int]]:
    """The weighted sketch items of a numeric feature, or its bucket counts at their upper bounds when the
    sketch is absent."""
    kll = (((entry.get("numerical_statistics") or {}).get("distribution") or {}).get("kll") or {})
    items = sketch_items(kll)
    if items:
        return items
    return [(float(b["upper_bound"]), int(b.get("count", 0))) for b in kll.get("buckets") or []
            if int(b.get("count", 0)) > 0]


def feature_distance(baseline: Mapping[str, Any], current: Mapping[str, Any],
                     config: Mapping[str, Any]) -> tuple[str, float] | None:
    """("numerical" | "categorical", distance) between two features' statistics under a feature config,
    or None when they are not comparable (different kinds, or no data)."""
    dist = config.get("distribution_constraints") or {}
    method = dist.get("comparison_method", cons.ROBUST)
    kinds = baseline.get("inferred_type"), current.get("inferred_type")
    if kinds[0] in NUMERIC_TYPES and kinds[1] in NUMERIC_TYPES:
        b, c = numeric_items(baseline), numeric_items(current)
        return ("numerical", numerical(b, c, method)) if b and c else None
    if kinds[0] == STRING and kinds[1] == STRING:
        b2, c2 = categorical_counts(baseline), categorical_counts(current)
        if not b2 or not c2:
            return None
        return "categorical", categorical(b2, c2, dist.get("categorical_drift_method", cons.LINFINITY), method)
    return None


def feature_distances(constraints: Mapping[str, Any], baseline_statistics: Mapping[str, Any],
                      current_statistics: Mapping[str, Any]) -> dict[str, float]:
    """Feature -> distance to the baseline for every feature present and comparable in both statistics
    (what ``feature_baseline_drift_<feature>`` publishes), whatever the thresholds."""
    by_name = {f.get("name"): f for f in constraints.get("features") or []}
    base = {f.get("name"): f for f in baseline_statistics.get("features") or []}
    out = {}
    for entry in current_statistics.get("features") or []:
        name = entry.get("name")
        if name not in base:
            continue
        config = cons.feature_config(constraints, by_name.get(name, {}))
        result = feature_distance(base[name], entry, config)
        if result is not None and not math.isnan(result[1]):
            out[name] = result[1]
    return out


__all__ = [
    "C_ALPHA", "categorical", "categorical_counts", "categorical_linf", "chi_squared", "chi_squared_sf",
    "feature_distance", "feature_distances", "linf_simple", "numeric_items", "numerical", "robust",
]
