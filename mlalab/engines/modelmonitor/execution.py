"""One monitoring execution, decided: from the analysed hour's captured records and the baseline, the
execution's status, exit message, report documents and the CloudWatch metric data it publishes. Pure: the wire
layer (``fixtures/moto_ext/sagemaker/monitoring.py``) reads S3 and hands the documents in, then writes what
this returns.

AWS facts encoded here:

* A data-quality execution writes ``statistics.json``, ``constraints.json`` and ``constraint_violations.json``
  (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-results.html); with violations it
  ends ``CompletedWithViolations`` and the processing job's exit message is
  ``CompletedWithViolations: Job completed successfully with <n> violations.``; without, ``Completed`` and
  ``Completed: Job completed successfully with no violations.``
* An hour with no captured data fails with the failure reason ``Job inputs had no data``
  (https://github.com/aws/sagemaker-python-sdk/issues/2634).
* CloudWatch metrics (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html):
  namespace ``aws/sagemaker/Endpoints/data-metrics``, dimensions ``Endpoint`` and ``MonitoringSchedule``; for
  numerical features ``feature_data_<f>`` (statistic set: SampleCount, Sum, Minimum, Maximum, so Average is
  Sum/SampleCount), for every feature ``feature_non_null_<f>`` (completeness) and ``feature_baseline_drift_<f>``
  (the distance to the baseline). Published when the job's ``publish_cloudwatch_metrics`` environment
  variable is not ``Disabled`` (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-cloudwatch.html;
  the SageMaker Python SDK sets it ``Enabled`` unless told otherwise) and the constraints'
  ``monitoring_config.emit_metrics`` (or a feature's ``monitoring_config_overrides``) is not ``Disabled``.
* Model quality (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-cw.html): namespace
  ``aws/sagemaker/Endpoints/model-metrics``, the same dimensions, one metric per key of the statistics'
  ``<problem>_metrics`` (``f1``, ``auc``, ``rmse``...) with its ``value``.

The analysis itself is helper modules' work, called lazily (they may be absent while this is imported):
``datasets.read_payloads``, ``statistics.compute``, ``constraints.suggest``, ``violations.evaluate``,
``drift`` distances, and ``model_quality.merge/compute/suggest/evaluate``.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

COMPLETED = "Completed"
COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
FAILED = "Failed"

NO_DATA = "Job inputs had no data"
#: Prefix of a processing job's FailureReason when its container failed ("AlgorithmError: ...").
ALGORITHM_ERROR = "AlgorithmError"
DATA_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"

REPORT_FILES = ("constraint_violations.json", "constraints.json", "statistics.json")

_DISTANCE = re.compile(r"distance:\s*(?P<d>[-+0-9.eE]+|NaN|Infinity)")


@dataclass
class Outcome:
    """What one execution ends as: status, the processing job's exit message or failure reason, the report
    documents by file name, and the metric data to publish (PutMetricData ``MetricDatum`` dicts) in
    ``namespace``."""

    status: str
    exit_message: str | None = None
    failure_reason: str | None = None
    reports: dict[str, dict] = field(default_factory=dict)
    namespace: str = DATA_NAMESPACE
    metrics: list[dict[str, Any]] = field(default_factory=list)
    violation_count: int = 0


def _module(name: str) -> Any:
    return importlib.import_module(f"mlalab.engines.modelmonitor.{name}")


def exit_message(violation_count: int) -> str:
    """The processing job's ExitMessage of a completed monitoring execution."""
    if violation_count:
        return f"{COMPLETED_WITH_VIOLATIONS}: Job completed successfully with {violation_count} violations."
    return f"{COMPLETED}: Job completed successfully with no violations."


def failed(reason: str = NO_DATA, namespace: str = DATA_NAMESPACE) -> Outcome:
    return Outcome(FAILED, failure_reason=reason, namespace=namespace)


def completed(reports: dict[str, dict], metrics: list[dict[str, Any]], namespace: str) -> Outcome:
    count = len((reports.get("constraint_violations.json") or {}).get("violations") or [])
    status = COMPLETED_WITH_VIOLATIONS if count else COMPLETED
    return Outcome(status, exit_message(count), None, reports, namespace, metrics, count)


def publish_enabled(environment: Mapping[str, str] | None) -> bool:
    """Does the job publish CloudWatch metrics? Only an explicit ``publish_cloudwatch_metrics: Disabled`` says no."""
    value = (environment or {}).get("publish_cloudwatch_metrics", "Enabled")
    return str(value).strip().lower() != "disabled"


def _emits(constraints: Mapping[str, Any] | None, feature: str | None = None) -> bool:
    config = (constraints or {}).get("monitoring_config") or {}
    emit = config.get("emit_metrics", "Enabled")
    if feature is not None:
        for entry in (constraints or {}).get("features") or []:
            if entry.get("name") == feature:  # its overrides, at the feature level or in its constraints
                emit = _module("constraints").feature_overrides(entry).get("emit_metrics", emit)
    return str(emit).lower() != "disabled"


def dimensions(endpoint: str, schedule: str) -> list[dict[str, str]]:
    return [{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule}]


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def data_metrics(
    statistics: Mapping[str, Any],
    distances: Mapping[str, float],
    constraints: Mapping[str, Any] | None,
    *,
    endpoint: str,
    schedule: str,
    timestamp: datetime,
) -> list[dict[str, Any]]:
    """The data-metrics datums of one execution, feature by feature in the statistics' order."""
    dims = dimensions(endpoint, schedule)
    out: list[dict[str, Any]] = []
    if not _emits(constraints):
        return out
    for feature in statistics.get("features") or []:
        name = feature.get("name")
        if name is None or not _emits(constraints, name):
            continue
        numerical = feature.get("numerical_statistics")
        string = feature.get("string_statistics")
        common = (numerical or string or {}).get("common") or {}
        present, missing = common.get("num_present", 0), common.get("num_missing", 0)
        if numerical and present:
            values = {
                "SampleCount": _finite(present), "Sum": _finite(numerical.get("sum")),
                "Minimum": _finite(numerical.get("min")), "Maximum": _finite(numerical.get("max")),
            }
            if all(v is not None for v in values.values()):
                out.append({"MetricName": f"feature_data_{name}", "Dimensions": dims, "Timestamp": timestamp,
                            "StatisticValues": values})
        if present + missing:
            out.append({"MetricName": f"feature_non_null_{name}", "Dimensions": dims, "Timestamp": timestamp,
                        "Value": present / (present + missing)})
        distance = _finite(distances.get(name))
        if distance is not None:
            out.append({"MetricName": f"feature_baseline_drift_{name}", "Dimensions": dims, "Timestamp": timestamp,
                        "Value": distance})
    return out


def model_metrics(statistics: Mapping[str, Any], *, endpoint: str, schedule: str,
                  timestamp: datetime) -> list[dict[str, Any]]:
    """The model-metrics datums: one per metric of the statistics' ``*_metrics`` section that has a value."""
    dims = dimensions(endpoint, schedule)
    out = []
    for section, metrics in statistics.items():
        if not section.endswith("_metrics") or not isinstance(metrics, Mapping):
            continue
        for name, entry in metrics.items():
            value = _finite(entry.get("value")) if isinstance(entry, Mapping) else None
            if value is not None:
                out.append({"MetricName": name, "Dimensions": dims, "Timestamp": timestamp, "Value": value})
    return out


def distances_from_violations(violations: Mapping[str, Any]) -> dict[str, float]:
    """Feature -> distance, read from ``baseline_drift_check`` descriptions (``distance: d exceeds threshold: t``)."""
    out = {}
    for violation in violations.get("violations") or []:
        if violation.get("constraint_check_type") != "baseline_drift_check":
            continue
        match = _DISTANCE.search(violation.get("description") or "")
        if match is not None:
            out[violation["feature_name"]] = float(match["d"])
    return out


def baseline_distances(constraints: Mapping[str, Any], baseline: Mapping[str, Any],
                       current: Mapping[str, Any]) -> dict[str, float]:
    """Feature -> distance to the baseline for every feature the drift engine compares."""
    drift = _module("drift")
    compute: Callable[..., Mapping[str, float]] | None = getattr(drift, "feature_distances", None)
    if compute is None:
        return {}
    return dict(compute(constraints, baseline, current))


def _feature_names(baseline_statistics: Mapping[str, Any]) -> list[str] | None:
    names = [f["name"] for f in baseline_statistics.get("features") or [] if "name" in f]
    return names or None


def data_quality(
    records: Sequence[Any],
    baseline_statistics: Mapping[str, Any] | None,
    baseline_constraints: Mapping[str, Any] | None,
    *,
    endpoint: str,
    schedule: str,
    timestamp: datetime,
    publish: bool = True,
) -> Outcome:
    """A data-quality execution over captured records (``CaptureRecord``s: their ``input`` payloads are the
    analysed dataset). Without a baseline, statistics and suggested constraints only."""
    payloads = [(r.input.encoding, r.input.data) for r in records if getattr(r, "input", None) is not None]
    if not payloads:
        return failed(NO_DATA, DATA_NAMESPACE)
    datasets, statistics, constraints, violations = (
        _module(n) for n in ("datasets", "statistics", "constraints", "violations")
    )
    report: dict[str, Any] = {"violations": []}
    distances: dict[str, float] = {}
    try:
        table = datasets.read_payloads(payloads, _feature_names(baseline_statistics or {}))
        current = statistics.compute(table)
        if baseline_constraints:
            report = violations.evaluate(dict(baseline_constraints), dict(baseline_statistics or {}), current)
            if baseline_statistics:
                distances = baseline_distances(baseline_constraints, baseline_statistics, current)
            for feature, distance in distances_from_violations(report).items():
                distances.setdefault(feature, distance)
        reports = {
            "constraint_violations.json": report,
            "constraints.json": constraints.suggest(current),
            "statistics.json": current,
        }
    except ValueError as error:  # data the analyzer cannot read
        return failed(f"{ALGORITHM_ERROR}: {error}", DATA_NAMESPACE)
    metrics = (
        data_metrics(current, distances, baseline_constraints, endpoint=endpoint, schedule=schedule,
                     timestamp=timestamp)
        if publish else []
    )
    return completed(reports, metrics, DATA_NAMESPACE)


def model_quality(
    records: Sequence[Any],
    ground_truth_text: str,
    baseline_constraints: Mapping[str, Any] | None,
    *,
    problem_type: str,
    attributes: Mapping[str, Any],
    endpoint: str,
    schedule: str,
    timestamp: datetime,
    publish: bool = True,
) -> Outcome:
    """A model-quality execution: captured predictions merged with ground truth, the problem type's metrics,
    compared with the baseline constraints. ``attributes`` holds ``inference_attribute``,
    ``probability_attribute`` and ``probability_threshold_attribute`` (absent ones omitted)."""
    if not records:
        return failed(NO_DATA, MODEL_NAMESPACE)
    mq = _module("model_quality")
    try:
        pairs = mq.merge(list(records), ground_truth_text)
        if not pairs:
            return failed(NO_DATA, MODEL_NAMESPACE)
        current = mq.compute(problem_type, pairs, **{k: v for k, v in attributes.items() if v is not None})
        report = mq.evaluate(dict(baseline_constraints), current) if baseline_constraints else {"violations": []}
        reports = {
            "constraint_violations.json": report,
            "constraints.json": mq.suggest(current, problem_type),
            "statistics.json": current,
        }
    except ValueError as error:  # ModelQualityError: labels or predictions the job cannot read
        return failed(f"{ALGORITHM_ERROR}: {error}", MODEL_NAMESPACE)
    metrics = model_metrics(current, endpoint=endpoint, schedule=schedule, timestamp=timestamp) if publish else []
    return completed(reports, metrics, MODEL_NAMESPACE)


__all__ = [
    "ALGORITHM_ERROR", "COMPLETED", "COMPLETED_WITH_VIOLATIONS", "DATA_NAMESPACE", "FAILED", "MODEL_NAMESPACE",
    "NO_DATA",
    "REPORT_FILES", "Outcome", "baseline_distances", "completed", "data_metrics", "data_quality", "dimensions",
    "distances_from_violations", "exit_message", "failed", "model_metrics", "model_quality", "publish_enabled",
]
