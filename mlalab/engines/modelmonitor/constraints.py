"""``constraints.json`` suggested from a dataset's statistics, and the monitoring configuration a constraints
file sets (with its defaults and per-feature overrides), as the Model Monitor analyzer reads it.

Schema and defaults, "Schema for Constraints",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html, checked against the real
suggested file shared/reference/model-monitor/data-quality/constraints.json:

* per feature: ``name``, ``inferred_type``, ``completeness`` ("observed non-null value percentage", a
  fraction: 1.0 in the reference), ``num_constraints.is_non_negative`` for numeric features (true in the
  reference, whose minimums are all >= 0: Deequ's NonNegativeNumbersRule), ``string_constraints.domains``
  for string features of small cardinality (Deequ's CategoricalRangeRule: a histogram exists, i.e. at most
  120 distinct values, and at most 10 % of them occur once; most frequent first);
* ``monitoring_config``: ``evaluate_constraints`` and ``emit_metrics`` "Enabled", ``datatype_check_threshold``
  and ``domain_content_threshold`` 1.0 (the values the container writes, as in the reference; the page's
  table says 0.1, its own earlier version and the real file say 1.0), ``distribution_constraints`` with
  ``perform_comparison`` "Enabled", ``comparison_threshold`` 0.1, ``comparison_method`` "Robust" (reference),
  and the documented optional ``categorical_comparison_threshold`` (default: the comparison threshold) and
  ``categorical_drift_method`` "LInfinity" (the SageMaker Python SDK's DataQualityDistributionConstraints
  defaults are the same: 0.1 and LInfinity).

Reading: a feature may carry ``monitoring_config_overrides`` (inside ``string_constraints`` or
``num_constraints`` as in shared/reference/model-monitor/data-quality-strings/constraints.json, or at the
feature level, which the page spells ``monitoringConfigOverrides``); the older keys of that reference file
(``enable_comparisons``: a boolean for ``perform_comparison``; ``min_domain_mass`` for the domain content
threshold) are understood.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from mlalab.engines.modelmonitor.statistics import NUMERIC_TYPES, STRING

ENABLED = "Enabled"
DISABLED = "Disabled"
ROBUST = "Robust"
SIMPLE = "Simple"
LINFINITY = "LInfinity"
CHI_SQUARED = "ChiSquared"

DEFAULT_DISTRIBUTION_CONSTRAINTS: dict[str, Any] = {
    "perform_comparison": ENABLED,
    "comparison_threshold": 0.1,
    "comparison_method": ROBUST,
    "categorical_comparison_threshold": 0.1,
    "categorical_drift_method": LINFINITY,
}
DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": ENABLED,
    "emit_metrics": ENABLED,
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": DEFAULT_DISTRIBUTION_CONSTRAINTS,
}

HISTOGRAM_MAX_DISTINCT = 120  # Deequ's lowCardinalityHistogramThreshold
MAX_UNIQUE_RATIO = 0.1  # Deequ's CategoricalRangeRule


def _domains(string_statistics: Mapping[str, Any]) -> list[str] | None:
    buckets = ((string_statistics.get("distribution") or {}).get("categorical") or {}).get("buckets") or []
    if not buckets or len(buckets) > HISTOGRAM_MAX_DISTINCT:
        return None
    unique = sum(1 for b in buckets if b.get("count") == 1)
    if unique / len(buckets) > MAX_UNIQUE_RATIO:
        return None
    ordered = sorted(buckets, key=lambda b: -b.get("count", 0))
    return [str(b["value"]) for b in ordered]


def suggest_feature(entry: Mapping[str, Any], item_count: int) -> dict[str, Any]:
    """One feature's suggested constraints."""
    kind = entry.get("inferred_type")
    stats = entry.get("numerical_statistics") or entry.get("string_statistics") or {}
    common = stats.get("common") or {}
    present = common.get("num_present", 0)
    total = item_count or present + common.get("num_missing", 0)
    out: dict[str, Any] = {
        "name": entry["name"],
        "inferred_type": kind,
        "completeness": present / total if total else 0.0,
    }
    if kind in NUMERIC_TYPES:
        out["num_constraints"] = {"is_non_negative": bool(stats.get("min", 0.0) >= 0)}
    elif kind == STRING:
        domains = _domains(stats)
        if domains is not None:
            out["string_constraints"] = {"domains": domains}
    return out


def suggest(statistics: Mapping[str, Any]) -> dict[str, Any]:
    """The suggested ``constraints.json`` of a statistics document, with the default monitoring config."""
    item_count = (statistics.get("dataset") or {}).get("item_count", 0)
    return {
        "version": 0.0,
        "features": [suggest_feature(f, item_count) for f in statistics.get("features") or []],
        "monitoring_config": copy.deepcopy(DEFAULT_MONITORING_CONFIG),
    }


def _normalise_distribution(raw: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in raw.items():
        if key == "enable_comparisons":
            out["perform_comparison"] = ENABLED if value else DISABLED
        else:
            out[key] = value
    if "comparison_threshold" in raw and "categorical_comparison_threshold" not in raw:
        # documented default: "The value assigned to the comparison_threshold parameter"
        out["categorical_comparison_threshold"] = raw["comparison_threshold"]
    return out


def _merge(base: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in raw.items():
        if key == "distribution_constraints" and isinstance(value, Mapping):
            out[key] = _normalise_distribution(value, base["distribution_constraints"])
        else:
            out[key] = value
    mass = (raw.get("distribution_constraints") or {}).get("min_domain_mass")
    if mass is not None and "domain_content_threshold" not in raw:
        out["domain_content_threshold"] = mass
    return out


def monitoring_config(constraints: Mapping[str, Any]) -> dict[str, Any]:
    """The file's ``monitoring_config`` with every default filled in."""
    return _merge(DEFAULT_MONITORING_CONFIG, constraints.get("monitoring_config") or {})


def feature_overrides(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A feature's ``monitoring_config_overrides``, wherever the file puts them."""
    out: dict[str, Any] = {}
    for key in ("monitoringConfigOverrides", "monitoring_config_overrides"):
        out.update(entry.get(key) or {})
    for kind in ("num_constraints", "string_constraints"):
        out.update((entry.get(kind) or {}).get("monitoring_config_overrides") or {})
    return out


def feature_config(constraints: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The monitoring config that applies to one feature: the file's, then the feature's overrides."""
    return _merge(monitoring_config(constraints), feature_overrides(entry))


def enabled(value: Any) -> bool:
    """An "Enabled"/"Disabled" switch (booleans accepted); anything but Disabled/false is on."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() != "disabled"


__all__ = [
    "CHI_SQUARED", "DEFAULT_DISTRIBUTION_CONSTRAINTS", "DEFAULT_MONITORING_CONFIG", "DISABLED", "ENABLED",
    "LINFINITY", "ROBUST", "SIMPLE", "enabled", "feature_config", "feature_overrides", "monitoring_config",
    "suggest", "suggest_feature",
]
