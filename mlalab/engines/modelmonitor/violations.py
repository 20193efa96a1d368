"""``constraint_violations.json`` of a data-quality monitoring run: the current hour's statistics checked
against the baseline's constraints and statistics.

Checks, "Schema for Violations", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-violations.html:

* ``data_type_check``: the share of present values whose Deequ type is the baseline's ``inferred_type``
  (a String baseline accepts any value) is below ``datatype_check_threshold``. In the real report
  (shared/reference/model-monitor/data-quality-strings/constraint_violations.json) the values are such
  shares (``0.4994994994994995`` = 499/999; ``total_amount`` 0.987 is a Fractional column with integral
  values among them, so a type match is exact). No present value: no check (the reference reports the
  all-null ``congestion_surcharge`` only for completeness).
* ``completeness_check``: current completeness (non-null share) below the feature's ``completeness``.
* ``baseline_drift_check``: the distance (``drift``) above ``comparison_threshold`` (numerical) or
  ``categorical_comparison_threshold`` (categorical; ChiSquared flags a p-value below it), when
  ``perform_comparison`` is Enabled. The description reads ``Baseline drift distance: <d> exceeds threshold:
  <t>``, the text AWS's samples parse with ``distance: (.+) exceeds threshold: (.+)``
  (aws-samples/amazon-sagemaker-drift-detection).
* ``missing_column_check`` / ``extra_column_check``: a constrained feature absent from the current data / a
  current column the constraints do not know.
* ``categorical_values_check``: the share of present values inside ``string_constraints.domains`` is below
  ``domain_content_threshold``.

Descriptions of the value checks copy the reference's wording, ``Value: <v> does not meet the constraint
requirement! `` (trailing space included), numbers printed as Java prints a double. ``evaluate_constraints``
Disabled (globally or in a feature's overrides) turns off every check but the drift comparison, which
``perform_comparison`` governs. Violations are listed feature by feature in the constraints' order (each
feature's checks in the order above), then extra columns in the current data's order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mlalab.engines.modelmonitor import constraints as cons
from mlalab.engines.modelmonitor import drift
from mlalab.engines.modelmonitor.statistics import STRING, UNKNOWN

from .documents import java_double

DATA_TYPE = "data_type_check"
COMPLETENESS = "completeness_check"
BASELINE_DRIFT = "baseline_drift_check"
MISSING_COLUMN = "missing_column_check"
EXTRA_COLUMN = "extra_column_check"
CATEGORICAL_VALUES = "categorical_values_check"


def value_description(value: float) -> str:
    return f"Value: {java_double(value)} does not meet the constraint requirement! "


def drift_description(distance: float, threshold: float) -> str:
    return f"Baseline drift distance: {java_double(distance)} exceeds threshold: {java_double(float(threshold))}"


def column_description(kind: str, current_columns: int, baseline_columns: int) -> str:
    return (f"There are {kind} columns in current dataset. Number of columns in current dataset: "
            f"{current_columns}, Number of columns in baseline constraints: {baseline_columns}")


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def _common(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    stats = entry.get("numerical_statistics") or entry.get("string_statistics") or {}
    return stats.get("common") or {}


def type_match_ratio(expected: str, counts: Mapping[str, int] | None, current_type: str | None) -> float | None:
    """Share of present values of the ``expected`` type; None when there is nothing to check. Without the
    per-value counts (statistics read back from a file) the current inferred type decides: 1.0 or 0.0."""
    if counts is not None:
        present = sum(v for k, v in counts.items() if k != UNKNOWN)
        if present == 0:
            return None
        if expected == STRING:
            return 1.0
        return counts.get(expected, 0) / present
    if current_type in (None, UNKNOWN):
        return None
    return 1.0 if expected in (STRING, current_type) else 0.0


def _drift(feature: str, base: Mapping[str, Any] | None, current: Mapping[str, Any],
           config: Mapping[str, Any]) -> dict[str, str] | None:
    dist = config.get("distribution_constraints") or {}
    if base is None or not cons.enabled(dist.get("perform_comparison", cons.ENABLED)):
        return None
    result = drift.feature_distance(base, current, config)
    if result is None or math.isnan(result[1]):
        return None
    kind, distance = result
    if kind == "numerical":
        threshold = float(dist.get("comparison_threshold", 0.1))
        flagged = distance > threshold
    else:
        threshold = float(dist.get("categorical_comparison_threshold", dist.get("comparison_threshold", 0.1)))
        chi = str(dist.get("categorical_drift_method", cons.LINFINITY)).lower() == cons.CHI_SQUARED.lower()
        simple = str(dist.get("comparison_method", cons.ROBUST)).lower() in ("simple", "linf_simple")
        flagged = distance < threshold if chi and not simple else distance > threshold
    return _violation(feature, BASELINE_DRIFT, drift_description(distance, threshold)) if flagged else None


def _in_domain(current: Mapping[str, Any], domains: list[Any]) -> float | None:
    counts = drift.categorical_counts(current)
    total = sum(counts.values())
    if not total:
        return None
    allowed = {str(d) for d in domains}
    return sum(c for v, c in counts.items() if v in allowed) / total


def evaluate(constraints: Mapping[str, Any], baseline_statistics: Mapping[str, Any],
             current_statistics: Mapping[str, Any], *,
             type_counts: Mapping[str, Mapping[str, int]] | None = None) -> dict[str, list[dict[str, str]]]:
    """The violations document of one run. ``type_counts`` (feature -> Deequ type counts) defaults to what
    ``statistics.compute`` attached to ``current_statistics``."""
    if type_counts is None:
        type_counts = getattr(current_statistics, "type_counts", None)
    config = cons.monitoring_config(constraints)
    base = {f.get("name"): f for f in baseline_statistics.get("features") or []}
    current = {f.get("name"): f for f in current_statistics.get("features") or []}
    item_count = (current_statistics.get("dataset") or {}).get("item_count", 0)
    features = [f for f in constraints.get("features") or [] if "name" in f]
    known = {f["name"] for f in features}
    out: list[dict[str, str]] = []
    for entry in features:
        name = entry["name"]
        feature_config = cons.feature_config(constraints, entry)
        checking = cons.enabled(feature_config.get("evaluate_constraints", cons.ENABLED))
        now = current.get(name)
        if now is None:
            if checking:
                out.append(_violation(name, MISSING_COLUMN, column_description("missing", len(current), len(known))))
            continue
        if checking:
            expected = entry.get("inferred_type")
            if expected and expected != UNKNOWN:
                counts = type_counts.get(name) if type_counts is not None else None
                ratio = type_match_ratio(expected, counts, now.get("inferred_type"))
                if ratio is not None and ratio < float(feature_config.get("datatype_check_threshold", 1.0)):
                    out.append(_violation(name, DATA_TYPE, value_description(ratio)))
            if "completeness" in entry:
                common = _common(now)
                total = item_count or common.get("num_present", 0) + common.get("num_missing", 0)
                completeness = common.get("num_present", 0) / total if total else 0.0
                if completeness < float(entry["completeness"]):
                    out.append(_violation(name, COMPLETENESS, value_description(completeness)))
        drifted = _drift(name, base.get(name), now, feature_config)
        if drifted is not None:
            out.append(drifted)
        domains = (entry.get("string_constraints") or {}).get("domains")
        if checking and domains and now.get("inferred_type") == STRING:
            share = _in_domain(now, list(domains))
            if share is not None and share < float(feature_config.get("domain_content_threshold", 1.0)):
                out.append(_violation(name, CATEGORICAL_VALUES, value_description(share)))
    if cons.enabled(config.get("evaluate_constraints", cons.ENABLED)):
        for name in current:
            if name not in known:
                out.append(_violation(name, EXTRA_COLUMN, column_description("extra", len(current), len(known))))
    return {"violations": out}


__all__ = [
    "BASELINE_DRIFT", "CATEGORICAL_VALUES", "COMPLETENESS", "DATA_TYPE", "EXTRA_COLUMN", "MISSING_COLUMN",
    "column_description", "drift_description", "evaluate", "java_double", "type_match_ratio",
    "value_description",
]
