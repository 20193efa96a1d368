"""Model quality, as SageMaker Model Monitor's model-quality job does it: merge ground-truth labels with the
captured predictions, compute the problem type's metrics into ``statistics.json``, suggest
``constraints.json`` from a baseline's statistics, and check a run's statistics against constraints.

AWS's pages and files this follows:

* Merge ("Ingest Ground Truth labels and merge them with predictions",
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html): a ground-truth
  record is ``{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."},
  "eventVersion": "0"}`` ("only CSV supported at launch, we assume data only consists of label");
  ``eventMetadata.eventId`` holds either the capture's ``eventId`` or the caller's ``inferenceId``: "If
  inferenceId is present in captured data records, Model Monitor uses it to merge ... If inferenceId is not
  present in captured data, model monitor uses eventId". The merge is a join: a capture without a label and
  a label without a capture take no part (``dataset.item_count`` counts merged records).
  ``shared/reference/model-monitor/ground-truth/actuals.jsonl`` (extra ``inferenceTime`` member) is read
  unchanged.
* Metrics ("Model quality metrics and Amazon CloudWatch monitoring",
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html): the keys, their
  order and the ``{"value", "standard_deviation"}`` shape of each problem type's example. Facts pinned from
  the documented examples:

  - ``confusion_matrix[actual][predicted]`` (the binary example's recall 1.0, precision 1/3, accuracy 0.5
    only fit that orientation), label keys as strings;
  - ``true_negative_rate`` is ``1 - false_positive_rate`` (the example's 0.33333333333333337) and
    ``false_negative_rate`` is ``1 - recall``;
  - the binary *best constant classifier* predicts the positive class for every record (the example's
    recall 1.0, precision = accuracy = 0.25 with one positive in four); the multiclass one predicts one class
    for every record: the least frequent ground-truth class (ties: the greatest label), which is what the
    multiclass example's values give (accuracy 406/2096, weighted precision (406/2096)^2). This choice of
    class is an inference from the example, AWS does not document it;
  - weighted multiclass metrics are Spark ``MulticlassMetrics``'s (``metric * count / n`` summed over the
    labels), which reproduces every value of the documented multiclass example to the last digit;
  - the curves and ``auc`` follow Apache Spark's ``BinaryClassificationMetrics`` (the analyzer runs on Spark;
    the documented example's six ROC points and five PR points are exactly its output): one threshold per
    distinct score, highest first, ROC with (0, 0) prepended and (1, 1) appended, PR with (0, p) prepended
    where p is the first point's precision, ``auc`` the trapezoid area under that ROC;
  - zero denominators give 0.0 (Spark's guards), a metric whose value is not finite is written as the string
    ``"NaN"``/``"Infinity"``/``"-Infinity"`` as AWS writes ``"standard_deviation" : "NaN"``.

  ``standard_deviation``: AWS gives it "only when at least 200 samples are available" and computes it "by
  randomly sampling 80% of the data 5 times, computing the metric, and taking the standard deviation for
  those results". Below 200 merged records it is ``"NaN"``, as AWS writes. From 200 on, this engine draws the
  five 80 % samples (without replacement, ``floor(0.8 n)`` records) from ``random.Random(STD_SEED)`` so that a
  grading is reproducible, and reports the sample standard deviation (n - 1) of the five values. AWS's
  numbers come from its own random draws, so they cannot be reproduced digit for digit.
* Statistics and constraints files: ``shared/reference/model-monitor/model-quality-regression/`` (``version``
  0.0, ``dataset.item_count``, ``regression_metrics``; ``regression_constraints`` with ``threshold`` and
  ``comparison_operator``). Suggested thresholds are the baseline's values; ``LessThanThreshold`` for metrics
  where higher is better, ``GreaterThanThreshold`` for error rates and errors (the reference's ``r2`` versus
  ``mae``/``mse``/``rmse``). Constraints cover the model's own metrics (``SUGGESTED``), not the
  ``*_best_constant_classifier`` baselines of the data; multiclass ones start at ``weighted_recall`` as the
  published multiclass constraints sample does (accuracy is not suggested; a constraint on it is still
  checked).
* Violations: a model-quality ``constraint_violations.json`` lists ``{"constraint_check_type": <operator>,
  "description": "Metric <name> with <value> was <operator> <threshold>", "metric_name": <name>}``, the
  format of Amazon's own Model Monitor companion (https://github.com/amzn/MonitoringCustomMetrics, which
  "follow[s] the formats and standards defined by Amazon SageMaker Model Monitor"). AWS does not publish
  the prebuilt container's exact description text.

Attributes are named as the job definition names them (ModelQualityJobInput's EndpointInput,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_EndpointInput.html): ``inference_attribute``,
``probability_attribute``, ``probability_threshold_attribute``. For CSV output an attribute is the column's
index (``"0"``), for JSON output a path (``"predictions[0].score"``, ``"$.score"``). With a probability
attribute, a binary prediction is positive when ``probability >= threshold``.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import random
import re
import statistics as _stats
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .documents import java_double

BINARY = "BinaryClassification"
MULTICLASS = "MulticlassClassification"
REGRESSION = "Regression"
PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)

#: statistics.json key and constraints.json key of each problem type.
METRICS_KEY = {
    BINARY: "binary_classification_metrics",
    MULTICLASS: "multiclass_classification_metrics",
    REGRESSION: "regression_metrics",
}
CONSTRAINTS_KEY = {
    BINARY: "binary_classification_constraints",
    MULTICLASS: "multiclass_classification_constraints",
    REGRESSION: "regression_constraints",
}

LESS_THAN = "LessThanThreshold"
GREATER_THAN = "GreaterThanThreshold"
LESS_OR_EQUAL = "LessThanOrEqualToThreshold"
GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
#: Whether a metric value violates a threshold, per comparison operator.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    LESS_THAN: lambda v, t: v < t,
    GREATER_THAN: lambda v, t: v > t,
    LESS_OR_EQUAL: lambda v, t: v <= t,
    GREATER_OR_EQUAL: lambda v, t: v >= t,
}

#: Metrics a baseline suggests constraints for, in file order, with the operator that flags a worse model.
SUGGESTED = {
    BINARY: {
        "recall": LESS_THAN, "precision": LESS_THAN, "accuracy": LESS_THAN, "true_positive_rate": LESS_THAN,
        "true_negative_rate": LESS_THAN, "false_positive_rate": GREATER_THAN, "false_negative_rate": GREATER_THAN,
        "auc": LESS_THAN, "f0_5": LESS_THAN, "f1": LESS_THAN, "f2": LESS_THAN,
    },
    MULTICLASS: {
        "weighted_recall": LESS_THAN, "weighted_precision": LESS_THAN, "weighted_f0_5": LESS_THAN,
        "weighted_f1": LESS_THAN, "weighted_f2": LESS_THAN,
    },
    REGRESSION: {"mae": GREATER_THAN, "mse": GREATER_THAN, "rmse": GREATER_THAN, "r2": LESS_THAN},
}

STD_MIN_SAMPLES = 200  # "provided only when at least 200 samples are available"
STD_SAMPLES = 5  # "randomly sampling 80% of the data 5 times"
STD_FRACTION = 0.8
STD_SEED = 0

FBETAS = (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0))


class ModelQualityError(ValueError):
    """Input the model-quality job cannot analyse (bad ground truth, an attribute missing from a prediction,
    a label that is not a class of the problem type). The wire layer fails the execution with the message."""


# --------------------------------------------------------------------------------------------- merge


@dataclass
class MergeResult:
    """A merge's outcome: the joined ``(capture, label)`` pairs in capture order, and what took no part."""

    pairs: list[tuple[Any, str]] = field(default_factory=list)
    unmatched_captures: int = 0  # captures with a prediction but no label
    unmatched_labels: int = 0  # ground-truth records no capture claimed
    without_output: int = 0  # captures with no endpointOutput (CaptureMode Input): nothing to compare


def ground_truth_line(event_id: str, label: Any) -> str:
    """One ground-truth record as Model Monitor reads it (a CSV-encoded label for the capture whose
    inferenceId, else eventId, is ``event_id``); :func:`parse_ground_truth` reads it back."""
    return json.dumps({"groundTruthData": {"data": str(label), "encoding": "CSV"},
                       "eventMetadata": {"eventId": event_id}, "eventVersion": "0"})


def parse_ground_truth(text: str) -> dict[str, str]:
    """Ground-truth JSON lines -> {eventId (or inferenceId): label}. Blank lines are skipped; when the same id
    is labelled twice, the later line wins (a corrected label uploaded later)."""
    labels: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            event_id = doc["eventMetadata"]["eventId"]
            truth = doc["groundTruthData"]
            data, encoding = truth["data"], str(truth.get("encoding", "CSV")).upper()
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelQualityError(f"ground truth line {number} is not a ground-truth record: {exc}") from None
        labels[str(event_id)] = _decode_label(data, encoding, number)
    return labels


def _decode_label(data: Any, encoding: str, number: int) -> str:
    if encoding == "BASE64":
        data = base64.b64decode(str(data)).decode("utf-8")
    elif encoding == "JSON" and isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise ModelQualityError(f"ground truth line {number}: data is not JSON") from None
    if isinstance(data, (dict, list)):
        raise ModelQualityError(f"ground truth line {number}: data must be the label alone")
    return normalize_label(data)


def merge_key(record: Any) -> str:
    """The id a capture is matched on: its ``inferenceId`` when present, else its ``eventId``."""
    inference_id = getattr(record, "inference_id", None)
    return str(inference_id) if inference_id else str(record.event_id)


def join(captures: Iterable[Any], ground_truth_text: str) -> MergeResult:
    """Join captured predictions with ground-truth labels (see the module docstring), counting what was left
    out. ``captures`` are ``capture.CaptureRecord``s or any objects with ``event_id``, ``inference_id`` and
    ``output``."""
    labels = parse_ground_truth(ground_truth_text)
    result = MergeResult()
    claimed: set[str] = set()
    for record in captures:
        if getattr(record, "output", None) is None:
            result.without_output += 1
            continue
        key = merge_key(record)
        if key in labels:
            result.pairs.append((record, labels[key]))
            claimed.add(key)
        else:
            result.unmatched_captures += 1
    result.unmatched_labels = len(labels.keys() - claimed)
    return result


def merge(captures: Sequence[Any], ground_truth_text: str) -> list[tuple[Any, str]]:
    """The merged ``(capture, label)`` pairs; labels are normalised strings (``normalize_label``)."""
    return join(captures, ground_truth_text).pairs


def baseline_pairs(table: Mapping[str, Sequence[Any]], ground_truth_attribute: str) -> list[tuple[dict, Any]]:
    """A baselining dataset (column -> values, as ``datasets.read_csv`` gives) as ``(row, label)`` pairs, the
    label taken from the ``ground_truth_attribute`` column; ``compute`` then reads predictions from the row
    by the inference/probability attribute (a column name, or an index for headerless ``_cN`` columns)."""
    if ground_truth_attribute not in table and not (
        ground_truth_attribute.isdigit() and f"_c{ground_truth_attribute}" in table
    ):
        raise ModelQualityError(f"ground truth attribute {ground_truth_attribute!r} is not a column of the dataset")
    names = list(table)
    length = max((len(v) for v in table.values()), default=0)
    rows = [{n: (table[n][i] if i < len(table[n]) else None) for n in names} for i in range(length)]
    return [(row, _attribute(row, ground_truth_attribute)) for row in rows]


# ------------------------------------------------------------------------------------- reading values


def normalize_label(value: Any) -> str:
    """A class label as the statistics write it: integral numbers without a decimal part ("1.0" -> "1"),
    booleans as "1"/"0", other strings stripped."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if text.lower() in ("true", "false"):
            return "1" if text.lower() == "true" else "0"
        try:
            number = float(text)
        except ValueError:
            if not text:
                raise ModelQualityError("empty label") from None
            return text
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    if not math.isfinite(number):
        raise ModelQualityError(f"label {value!r} is not a class")
    return repr(number)


def to_number(value: Any, what: str) -> float:
    """A numeric prediction or label, or a ModelQualityError naming ``what`` was not numeric."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelQualityError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ModelQualityError(f"{what} {value!r} is not a finite number")
    return number


_PATH_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def _path(doc: Any, path: str) -> Any:
    """Follow a JSON path such as ``predictions[0].score`` or ``$.score`` (a bare index on a list works too)."""
    path = path.strip()
    if path.startswith("$"):
        path = path[1:]
    current = doc
    for index, name in _PATH_TOKEN.findall(path):
        if index:
            current = current[int(index)]
        elif isinstance(current, list) and name.isdigit():
            current = current[int(name)]
        else:
            current = current[name]
    return current


def _attribute(record: Any, attribute: str | None) -> Any:
    """``attribute`` of a prediction record: a capture's output payload, a baseline row, a list or a scalar."""
    output = getattr(record, "output", None)
    if output is not None:
        return _payload_value(output, attribute)
    try:
        if isinstance(record, Mapping):
            if attribute is None:
                raise ModelQualityError("the prediction record has several values: name an attribute")
            if attribute in record:
                return record[attribute]
            if attribute.isdigit() and f"_c{attribute}" in record:
                return record[f"_c{attribute}"]
            return _path(record, attribute)
        if isinstance(record, (list, tuple)):
            return record[int(attribute)] if attribute is not None else _single(list(record))
    except (KeyError, IndexError, TypeError, ValueError):
        raise ModelQualityError(f"attribute {attribute!r} is not in the prediction {record!r}") from None
    return record


def _single(values: list[Any]) -> Any:
    if len(values) != 1:
        raise ModelQualityError(f"the prediction has {len(values)} values: name the attribute to use")
    return values[0]


def _payload_value(payload: Any, attribute: str | None) -> Any:
    """The value an attribute names in a captured ``endpointOutput``: CSV column index or JSON path."""
    encoding = str(payload.encoding).upper()
    data = payload.data
    content_type = str(getattr(payload, "observed_content_type", "")).lower()
    if encoding == "BASE64":
        data = base64.b64decode(data).decode("utf-8")
        encoding = "JSON" if "json" in content_type else "CSV"
    try:
        if encoding == "JSON":
            doc = json.loads(data)
            if attribute is None:
                return _single(doc) if isinstance(doc, list) else doc
            return _path(doc, attribute)
        rows = list(csv.reader(io.StringIO(data.strip())))
        fields = rows[0] if rows else []
        if attribute is None:
            return _single(fields)
        return fields[int(attribute)]
    except ModelQualityError:
        raise
    except (KeyError, IndexError, TypeError, ValueError):
        raise ModelQualityError(f"attribute {attribute!r} is not in the captured output {payload.data!r}") from None


# ------------------------------------------------------------------------------------------- metrics


def _metric(value: float, std: Any = "NaN") -> dict[str, Any]:
    return {"value": _json_number(value), "standard_deviation": _json_number(std)}


def _json_number(value: Any) -> Any:
    """Floats as JSON numbers; non-finite ones as AWS's strings ("NaN", "Infinity", "-Infinity")."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def fbeta(precision: float, recall: float, beta: float) -> float:
    """F-beta: ``(1 + b^2) p r / (b^2 p + r)``; 0.0 when precision and recall are both 0."""
    b2 = beta * beta
    denominator = b2 * precision + recall
    return (1 + b2) * precision * recall / denominator if denominator else 0.0


def _sort_labels(labels: Iterable[str]) -> list[str]:
    labels = set(labels)
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def _confusion(actual: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, int]]:
    counts = Counter(zip(actual, predicted, strict=True))
    return {a: {p: counts[(a, p)] for p in labels} for a in labels}


def curves(scores: Sequence[float], positives: Sequence[bool]) -> tuple[list[float], list[float], list[float],
                                                                         list[float]]:
    """Spark's ``BinaryClassificationMetrics`` curves: (fpr, tpr) of the ROC curve and (precisions, recalls)
    of the PR curve, one point per distinct score from the highest down."""
    total_pos = sum(1 for p in positives if p)
    total_neg = len(positives) - total_pos
    ranked = sorted(zip(scores, positives, strict=True), key=lambda sp: -sp[0])
    fpr, tpr, precisions, recalls = [0.0], [0.0], [], []
    tp = fp = 0
    for i, (score, positive) in enumerate(ranked):
        if positive:
            tp += 1
        else:
            fp += 1
        if i + 1 < len(ranked) and ranked[i + 1][0] == score:
            continue  # one point per distinct score
        fpr.append(_ratio(fp, total_neg))
        tpr.append(_ratio(tp, total_pos))
        recalls.append(_ratio(tp, total_pos))
        precisions.append(tp / (tp + fp))
    fpr.append(1.0)
    tpr.append(1.0)
    precisions.insert(0, precisions[0] if precisions else 1.0)
    recalls.insert(0, 0.0)
    return fpr, tpr, precisions, recalls


def trapezoid(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Area under the polyline through (xs, ys) in the given order."""
    return sum((xs[i + 1] - xs[i]) * (ys[i + 1] + ys[i]) / 2 for i in range(len(xs) - 1))


def _binary_scalars(actual: Sequence[str], predicted: Sequence[str], scores: Sequence[float]) -> dict[str, float]:
    """Binary metrics with a single value, in the documented order (curves left out)."""
    n = len(actual)
    tp = sum(1 for a, p in zip(actual, predicted, strict=True) if a == "1" and p == "1")
    fp = sum(1 for a, p in zip(actual, predicted, strict=True) if a == "0" and p == "1")
    tn = sum(1 for a, p in zip(actual, predicted, strict=True) if a == "0" and p == "0")
    positives = tp + sum(1 for a, p in zip(actual, predicted, strict=True) if a == "1" and p == "0")
    negatives = n - positives
    recall = _ratio(tp, positives)
    precision = _ratio(tp, tp + fp)
    fpr = _ratio(fp, negatives)
    base_precision = positives / n  # always predicting positive
    base_recall = 1.0 if positives else 0.0
    out = {
        "recall": recall,
        "precision": precision,
        "accuracy": (tp + tn) / n,
        "recall_best_constant_classifier": base_recall,
        "precision_best_constant_classifier": base_precision,
        "accuracy_best_constant_classifier": base_precision,
        "true_positive_rate": recall,
        "true_negative_rate": 1 - fpr,
        "false_positive_rate": fpr,
        "false_negative_rate": 1 - recall,
    }
    roc_fpr, roc_tpr, _, _ = curves(scores, [a == "1" for a in actual])
    out["auc"] = trapezoid(roc_fpr, roc_tpr)
    for name, beta in FBETAS:
        out[name] = fbeta(precision, recall, beta)
    for name, beta in FBETAS:
        out[f"{name}_best_constant_classifier"] = fbeta(base_precision, base_recall, beta)
    return out


def _weighted(actual: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Accuracy and the support-weighted recall, precision and F-scores, as Spark's ``MulticlassMetrics``
    computes them (``metric * count / n`` summed over the labels in ascending order: the documented example's
    values to the last digit)."""
    n = len(actual)
    support = Counter(actual)
    predicted_count = Counter(predicted)
    hits = Counter(a for a, p in zip(actual, predicted, strict=True) if a == p)
    out = {"accuracy": sum(hits.values()) / n, "weighted_recall": 0.0, "weighted_precision": 0.0}
    out.update({f"weighted_{name}": 0.0 for name, _ in FBETAS})
    for label in _sort_labels(support):
        count = support[label]
        recall = hits[label] / count
        precision = _ratio(hits[label], predicted_count[label])
        out["weighted_recall"] += recall * count / n
        out["weighted_precision"] += precision * count / n
        for name, beta in FBETAS:
            out[f"weighted_{name}"] += fbeta(precision, recall, beta) * count / n
    return out


def constant_class(actual: Sequence[str]) -> str:
    """The class the multiclass best constant classifier predicts: the least frequent ground-truth class (ties:
    the greatest label). Inferred from the documented example (see the module docstring)."""
    support = Counter(actual)
    return min(reversed(_sort_labels(support)), key=lambda label: support[label])


def _multiclass_scalars(actual: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    out = _weighted(actual, predicted)
    baseline = _weighted(actual, [constant_class(actual)] * len(actual))
    for name, value in baseline.items():
        out[f"{name}_best_constant_classifier"] = value
    return out


def _regression_scalars(actual: Sequence[float], predicted: Sequence[float]) -> dict[str, float]:
    n = len(actual)
    errors = [p - a for a, p in zip(actual, predicted, strict=True)]
    mse = sum(e * e for e in errors) / n
    mean = sum(actual) / n
    total = sum((a - mean) ** 2 for a in actual)
    residual = mse * n
    if total:
        r2 = 1 - residual / total
    else:  # constant ground truth: Spark's 1 - SSerr / 0
        r2 = math.nan if residual == 0 else -math.inf
    return {"mae": sum(abs(e) for e in errors) / n, "mse": mse, "rmse": math.sqrt(mse), "r2": r2}


def _standard_deviations(n: int, scalars: Callable[[Sequence[int]], dict[str, float]]) -> dict[str, Any]:
    """Each metric's standard deviation over STD_SAMPLES seeded 80 % samples, or "NaN" under 200 records."""
    if n < STD_MIN_SAMPLES:
        return {}
    rng = random.Random(STD_SEED)
    size = int(n * STD_FRACTION)
    runs = [scalars(rng.sample(range(n), size)) for _ in range(STD_SAMPLES)]
    out: dict[str, Any] = {}
    for name in runs[0]:
        values = [run[name] for run in runs]
        out[name] = _stats.stdev(values) if all(math.isfinite(v) for v in values) else math.nan
    return out


def compute(
    problem_type: str,
    pairs: Sequence[tuple[Any, Any]],
    *,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
    probability_threshold_attribute: float | str | None = None,
    evaluation_time: str | None = None,
) -> dict[str, Any]:
    """The model-quality ``statistics.json`` of merged ``(prediction record, label)`` pairs.

    A prediction record is a capture (its ``output`` payload is read), a baseline row (a mapping), a list or a
    bare value. BinaryClassification: with ``probability_attribute`` the predicted class is
    ``probability >= probability_threshold_attribute`` (required then) and the probability is the score of
    the curves; otherwise ``inference_attribute`` is the predicted class (0 or 1) and also the score.
    MulticlassClassification reads the class from ``inference_attribute``; Regression the value.
    ``evaluation_time`` (ISO string), when given, is written in ``dataset``."""
    if problem_type not in PROBLEM_TYPES:
        raise ModelQualityError(f"problem type {problem_type!r} is not one of {', '.join(PROBLEM_TYPES)}")
    if not pairs:
        raise ModelQualityError("no captured prediction matched a ground-truth label")
    n = len(pairs)
    dataset: dict[str, Any] = {"item_count": n}
    if evaluation_time is not None:
        dataset["evaluation_time"] = evaluation_time
    document: dict[str, Any] = {"version": 0.0, "dataset": dataset}

    if problem_type == REGRESSION:
        actual = [to_number(label, "ground truth label") for _, label in pairs]
        predicted = [to_number(_attribute(r, inference_attribute), "prediction") for r, _ in pairs]
        values = _regression_scalars(actual, predicted)
        stds = _standard_deviations(n, lambda idx: _regression_scalars([actual[i] for i in idx],
                                                                       [predicted[i] for i in idx]))
        document[METRICS_KEY[REGRESSION]] = {k: _metric(v, stds.get(k, "NaN")) for k, v in values.items()}
        return document

    actual_labels = [normalize_label(label) for _, label in pairs]
    if problem_type == MULTICLASS:
        predicted_labels = [normalize_label(_attribute(r, inference_attribute)) for r, _ in pairs]
        values = _multiclass_scalars(actual_labels, predicted_labels)
        stds = _standard_deviations(n, lambda idx: _multiclass_scalars([actual_labels[i] for i in idx],
                                                                       [predicted_labels[i] for i in idx]))
        labels = _sort_labels(actual_labels + predicted_labels)
        metrics: dict[str, Any] = {"confusion_matrix": _confusion(actual_labels, predicted_labels, labels)}
        metrics.update({k: _metric(v, stds.get(k, "NaN")) for k, v in values.items()})
        document[METRICS_KEY[MULTICLASS]] = metrics
        return document

    for label in actual_labels:
        if label not in ("0", "1"):
            raise ModelQualityError(f"ground truth label {label!r} is not a binary class (0 or 1)")
    if probability_attribute is not None:
        if probability_threshold_attribute is None:
            raise ModelQualityError("probability_attribute needs probability_threshold_attribute")
        threshold = to_number(probability_threshold_attribute, "probability threshold")
        scores = [to_number(_attribute(r, probability_attribute), "probability") for r, _ in pairs]
        predicted_labels = ["1" if s >= threshold else "0" for s in scores]
    else:
        predicted_labels = [normalize_label(_attribute(r, inference_attribute)) for r, _ in pairs]
        for label in predicted_labels:
            if label not in ("0", "1"):
                raise ModelQualityError(f"predicted label {label!r} is not a binary class (0 or 1)")
        scores = [float(label) for label in predicted_labels]
    values = _binary_scalars(actual_labels, predicted_labels, scores)
    stds = _standard_deviations(n, lambda idx: _binary_scalars([actual_labels[i] for i in idx],
                                                               [predicted_labels[i] for i in idx],
                                                               [scores[i] for i in idx]))
    fpr, tpr, precisions, recalls = curves(scores, [a == "1" for a in actual_labels])
    metrics = {"confusion_matrix": _confusion(actual_labels, predicted_labels, ["0", "1"])}
    for name in ("recall", "precision", "accuracy", "recall_best_constant_classifier",
                 "precision_best_constant_classifier", "accuracy_best_constant_classifier", "true_positive_rate",
                 "true_negative_rate", "false_positive_rate", "false_negative_rate"):
        metrics[name] = _metric(values[name], stds.get(name, "NaN"))
    metrics["receiver_operating_characteristic_curve"] = {"false_positive_rates": fpr, "true_positive_rates": tpr}
    metrics["precision_recall_curve"] = {"precisions": precisions, "recalls": recalls}
    for name in ("auc", "f0_5", "f1", "f2", "f0_5_best_constant_classifier", "f1_best_constant_classifier",
                 "f2_best_constant_classifier"):
        metrics[name] = _metric(values[name], stds.get(name, "NaN"))
    document[METRICS_KEY[BINARY]] = metrics
    return document


# ----------------------------------------------------------------------------- constraints, violations


def problem_of(document: Mapping[str, Any]) -> str:
    """The problem type a statistics or constraints document is about (by its metrics/constraints key)."""
    for problem in PROBLEM_TYPES:
        if METRICS_KEY[problem] in document or CONSTRAINTS_KEY[problem] in document:
            return problem
    raise ModelQualityError("the document has no binary_classification_, multiclass_classification_ or "
                            "regression_ metrics or constraints")


def metric_values(statistics: Mapping[str, Any]) -> dict[str, float]:
    """Every metric of a statistics document that has a numeric ``value`` (what CloudWatch receives, metric
    name = key); the confusion matrix, curves and non-finite values are left out."""
    metrics = statistics.get(METRICS_KEY[problem_of(statistics)]) or {}
    out: dict[str, float] = {}
    for name, entry in metrics.items():
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def suggest(statistics: Mapping[str, Any], problem_type: str | None = None) -> dict[str, Any]:
    """The ``constraints.json`` a baseline suggests: for each of the problem type's quality metrics, the
    baseline's value as ``threshold`` with the operator that flags a worse model."""
    problem = problem_type or problem_of(statistics)
    if problem not in PROBLEM_TYPES:
        raise ModelQualityError(f"problem type {problem!r} is not one of {', '.join(PROBLEM_TYPES)}")
    if METRICS_KEY[problem] not in statistics:
        raise ModelQualityError(f"the statistics have no {METRICS_KEY[problem]} for problem type {problem}")
    values = metric_values(statistics)
    constraints = {
        name: {"threshold": values[name], "comparison_operator": operator}
        for name, operator in SUGGESTED[problem].items()
        if name in values
    }
    return {"version": 0.0, CONSTRAINTS_KEY[problem]: constraints}


def evaluate(constraints: Mapping[str, Any], statistics: Mapping[str, Any]) -> dict[str, Any]:
    """A model-quality ``constraint_violations.json``: one violation per constraint whose metric value in
    ``statistics`` meets the comparison operator against the threshold, in the constraints' order. A metric
    the statistics lack, or a non-numeric value ("NaN"), is not a violation."""
    problem = problem_of(constraints)
    checks = constraints.get(CONSTRAINTS_KEY[problem]) or {}
    if METRICS_KEY[problem] not in statistics:
        raise ModelQualityError(f"the statistics have no {METRICS_KEY[problem]} to check "
                                f"{CONSTRAINTS_KEY[problem]} against")
    values = metric_values(statistics)
    violations = []
    for name, check in checks.items():
        operator = check.get("comparison_operator")
        if operator not in OPERATORS:
            raise ModelQualityError(f"constraint {name}: comparison_operator {operator!r} is not one of "
                                    f"{', '.join(OPERATORS)}")
        threshold = to_number(check.get("threshold"), f"constraint {name} threshold")
        if name not in values or not OPERATORS[operator](values[name], threshold):
            continue
        violations.append({
            "constraint_check_type": operator,
            "description": f"Metric {name} with {java_double(values[name])} was {operator} {java_double(threshold)}",
            "metric_name": name,
        })
    return {"violations": violations}


__all__ = [
    "BINARY", "CONSTRAINTS_KEY", "GREATER_OR_EQUAL", "GREATER_THAN", "LESS_OR_EQUAL", "LESS_THAN", "METRICS_KEY",
    "MULTICLASS", "OPERATORS", "PROBLEM_TYPES", "REGRESSION", "STD_MIN_SAMPLES", "SUGGESTED", "MergeResult",
    "ModelQualityError", "baseline_pairs", "compute", "constant_class", "curves", "evaluate", "fbeta",
    "java_double", "join", "merge", "merge_key", "metric_values", "normalize_label", "parse_ground_truth",
    "problem_of", "suggest", "to_number", "trapezoid",
]
