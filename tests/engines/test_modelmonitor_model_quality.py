"""Conformance suite of the model-quality engine (``mlalab.engines.modelmonitor.model_quality``).

Sources: "Ingest Ground Truth labels and merge them with predictions"
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html), "Model quality metrics
and Amazon CloudWatch monitoring" (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html:
the binary and multiclass examples are reproduced digit for digit below), the reference files in
``shared/reference/model-monitor`` (read unchanged), and Amazon's MonitoringCustomMetrics
(https://github.com/amzn/MonitoringCustomMetrics) for the violation record. Every other number is computed by hand
in the comments (no scikit-learn).
"""

from __future__ import annotations

import base64
import json
import random
import statistics
from typing import Any

import pytest

from mlalab.engines.modelmonitor import model_quality as mq
from mlalab.engines.modelmonitor.capture import CaptureRecord, Payload, parse_lines
from tests.reference import REFERENCE as REFERENCE_ROOT

REFERENCE = REFERENCE_ROOT / "model-monitor"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference is not present")


def _read(name: str) -> str:
    return (REFERENCE / name).read_text()


def capture(event_id: str, output: str = "0.9", *, inference_id: str | None = None, encoding: str = "CSV",
            content_type: str = "text/csv") -> CaptureRecord:
    return CaptureRecord(
        event_id=event_id, inference_time="2024-05-01T10:00:00Z", inference_id=inference_id,
        input=Payload(content_type, "INPUT", "1,2,3", "CSV"),
        output=Payload(content_type, "OUTPUT", output, encoding),
    )


def truth(event_id: str, label: str = "1", encoding: str = "CSV") -> str:
    return json.dumps({"groundTruthData": {"data": label, "encoding": encoding},
                       "eventMetadata": {"eventId": event_id}, "eventVersion": "0"})


def shape(value: Any) -> Any:
    """Keys, nesting and JSON types of a document (numbers as "number": JSON does not tell int from float)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def metrics_of(doc: dict, key: str) -> dict[str, Any]:
    return {k: v["value"] for k, v in doc[key].items() if isinstance(v, dict) and "value" in v}


# ------------------------------------------------------------------------------------------------ merge


@needs_reference
def test_reference_ground_truth_is_read_unchanged() -> None:
    labels = mq.parse_ground_truth(_read("ground-truth/actuals.jsonl"))
    assert len(labels) == 44
    assert sorted(labels.values()).count("1") == 34 and sorted(labels.values()).count("0") == 10
    assert labels["74b0dd56-e7c8-368e-94b1-14a138a96000"] == "1"
    assert labels["79f96714-0136-39c8-a221-38faf8a5f96f"] == "0"


@needs_reference
def test_reference_ground_truth_merges_with_captures_by_event_id() -> None:
    labels = mq.parse_ground_truth(_read("ground-truth/actuals.jsonl"))
    captures = [capture(event_id, "1") for event_id in labels]
    stats = mq.compute(mq.BINARY, mq.merge(captures, _read("ground-truth/actuals.jsonl")), inference_attribute="0")
    m = metrics_of(stats, "binary_classification_metrics")
    assert stats["dataset"] == {"item_count": 44}
    # always predicting 1 on 34 positives and 10 negatives: precision = accuracy = 34/44, recall 1
    assert m["precision"] == 34 / 44 and m["accuracy"] == 34 / 44 and m["recall"] == 1.0
    assert stats["binary_classification_metrics"]["confusion_matrix"] == {"0": {"0": 0, "1": 10},
                                                                          "1": {"0": 0, "1": 34}}


@needs_reference
def test_reference_capture_file_has_no_label_in_the_reference_ground_truth() -> None:
    result = mq.join(parse_lines(_read("data-capture/captured-data.jsonl")), _read("ground-truth/actuals.jsonl"))
    assert result.pairs == []
    assert (result.unmatched_captures, result.unmatched_labels) == (2, 44)


def test_merge_uses_inference_id_when_the_capture_has_one() -> None:
    with_id = capture("event-1", "1", inference_id="order-7")
    ground_truth = "\n".join([truth("event-1", "0"), truth("order-7", "1")])
    assert mq.merge([with_id], ground_truth) == [(with_id, "1")]
    # the event id no longer matches once an inferenceId is present
    assert mq.merge([with_id], truth("event-1", "0")) == []


def test_merge_falls_back_to_event_id() -> None:
    plain = capture("event-2", "1")
    empty_id = capture("event-3", "1", inference_id="")
    assert mq.merge([plain, empty_id], "\n".join([truth("event-2", "1"), truth("event-3", "0")])) == [
        (plain, "1"), (empty_id, "0")]
    assert mq.merge_key(plain) == "event-2"
    assert mq.merge_key(capture("e", inference_id="i")) == "i"


def test_unmatched_records_take_no_part_and_are_counted() -> None:
    captures = [capture("a"), capture("b"), capture("c"),
                CaptureRecord("d", "2024-05-01T10:00:00Z", None, Payload("text/csv", "INPUT", "1", "CSV"), None)]
    ground_truth = "\n".join([truth("a", "1"), truth("c", "0"), truth("d", "1"), truth("zz", "1"), ""])
    result = mq.join(captures, ground_truth)
    assert [(r.event_id, label) for r, label in result.pairs] == [("a", "1"), ("c", "0")]
    assert result.unmatched_captures == 1  # b
    assert result.without_output == 1  # d: captured input only, nothing to compare
    assert result.unmatched_labels == 2  # d (no prediction) and zz
    assert mq.compute(mq.BINARY, result.pairs, inference_attribute="0",
                      probability_attribute="0", probability_threshold_attribute=0.5)["dataset"]["item_count"] == 2


def test_ground_truth_encodings_blank_lines_and_relabelling() -> None:
    text = "\n".join([
        truth("a", "1.0"),
        "",
        truth("b", base64.b64encode(b"0").decode(), "BASE64"),
        truth("c", "true", "JSON"),
        truth("a", "0"),  # a later label for the same record replaces the earlier one
    ])
    assert mq.parse_ground_truth(text) == {"a": "0", "b": "0", "c": "1"}


@pytest.mark.parametrize("line", [
    "not json",
    json.dumps({"groundTruthData": {"data": "1"}}),
    json.dumps({"eventMetadata": {"eventId": "x"}}),
    json.dumps({"groundTruthData": {"data": "[1, 2]", "encoding": "JSON"}, "eventMetadata": {"eventId": "x"}}),
])
def test_bad_ground_truth_lines_are_refused_with_their_number(line: str) -> None:
    with pytest.raises(mq.ModelQualityError, match="line 2"):
        mq.parse_ground_truth(truth("ok") + "\n" + line)


# --------------------------------------------------------------------------------------- reading predictions


def test_attributes_read_csv_columns_json_paths_and_base64() -> None:
    csv_capture = capture("a", "0,0.75,cat")
    json_capture = capture("b", json.dumps({"predictions": [{"score": 0.25, "label": 1}]}), encoding="JSON",
                           content_type="application/json")
    b64_capture = capture("c", base64.b64encode(b'{"score": 0.6}').decode(), encoding="BASE64",
                          content_type="application/json")
    assert mq._attribute(csv_capture, "1") == "0.75"
    assert mq._attribute(csv_capture, "2") == "cat"
    assert mq._attribute(json_capture, "predictions[0].score") == 0.25
    assert mq._attribute(json_capture, "$.predictions[0].label") == 1
    assert mq._attribute(b64_capture, "score") == 0.6
    assert mq._attribute(capture("d", "0.3"), None) == "0.3"
    assert mq._attribute({"prediction": 1, "_c3": 7}, "prediction") == 1
    assert mq._attribute({"_c3": 7}, "3") == 7
    assert mq._attribute([4, 5], "1") == 5
    assert mq._attribute(0.4, None) == 0.4
    with pytest.raises(mq.ModelQualityError, match="not in the captured output"):
        mq._attribute(csv_capture, "3")
    with pytest.raises(mq.ModelQualityError, match="name the attribute"):
        mq._attribute(csv_capture, None)


def test_captured_json_lines_parsed_by_the_capture_engine_are_read() -> None:
    line = ('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"132,10",'
            '"encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT",'
            '"data":"0.0364","encoding":"CSV"}},"eventMetadata":{"eventId":"f04a8538","inferenceId":"r-1",'
            '"inferenceTime":"2022-04-18T00:21:48Z"},"eventVersion":"0"}')
    pairs = mq.merge(parse_lines(line), truth("r-1", "0"))
    stats = mq.compute(mq.BINARY, pairs, probability_attribute="0", probability_threshold_attribute="0.5")
    assert stats["binary_classification_metrics"]["confusion_matrix"] == {"0": {"0": 1, "1": 0},
                                                                          "1": {"0": 0, "1": 0}}


def test_baseline_pairs_read_a_table_with_a_ground_truth_column() -> None:
    table = {"label": [1, 0, 1], "prediction": [1, 1, 1], "probability": [0.9, 0.6, 0.7]}
    pairs = mq.baseline_pairs(table, "label")
    assert pairs[1] == ({"label": 0, "prediction": 1, "probability": 0.6}, 0)
    stats = mq.compute(mq.BINARY, pairs, inference_attribute="prediction")
    assert metrics_of(stats, "binary_classification_metrics")["precision"] == 2 / 3
    headerless = mq.baseline_pairs({"_c0": [1], "_c1": [0.2]}, "0")
    assert headerless == [({"_c0": 1, "_c1": 0.2}, 1)]
    with pytest.raises(mq.ModelQualityError, match="not a column"):
        mq.baseline_pairs(table, "truth")


# ------------------------------------------------------------------------------------------ binary metrics

DOC_BINARY = {  # the binary example of model-monitor-model-quality-metrics.html, scalar values
    "recall": 1.0, "precision": 0.3333333333333333, "accuracy": 0.5, "recall_best_constant_classifier": 1.0,
    "precision_best_constant_classifier": 0.25, "accuracy_best_constant_classifier": 0.25,
    "true_positive_rate": 1.0, "true_negative_rate": 0.33333333333333337, "false_positive_rate": 0.6666666666666666,
    "false_negative_rate": 0.0, "f0_5": 0.3846153846153846, "f1": 0.5, "f2": 0.7142857142857143,
    "f0_5_best_constant_classifier": 0.29411764705882354, "f1_best_constant_classifier": 0.4,
    "f2_best_constant_classifier": 0.625,
}
BINARY_KEYS = [  # the documented order
    "confusion_matrix", "recall", "precision", "accuracy", "recall_best_constant_classifier",
    "precision_best_constant_classifier", "accuracy_best_constant_classifier", "true_positive_rate",
    "true_negative_rate", "false_positive_rate", "false_negative_rate", "receiver_operating_characteristic_curve",
    "precision_recall_curve", "auc", "f0_5", "f1", "f2", "f0_5_best_constant_classifier",
    "f1_best_constant_classifier", "f2_best_constant_classifier",
]


def test_binary_metrics_reproduce_the_documented_example() -> None:
    # TP 1, FP 2, TN 1, FN 0: the example's confusion matrix {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    pairs = [("1", "1"), ("1", "0"), ("1", "0"), ("0", "0")]
    stats = mq.compute(mq.BINARY, pairs)
    metrics = stats["binary_classification_metrics"]
    assert list(metrics) == BINARY_KEYS
    assert metrics["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    assert {k: v for k, v in metrics_of(stats, "binary_classification_metrics").items() if k != "auc"} == DOC_BINARY
    assert all(metrics[k]["standard_deviation"] == "NaN" for k in DOC_BINARY)
    # hard labels are the scores: ROC (0,0) (2/3,1) (1,1) (1,1); area 2/3*1/2 + 1/3*1 = 2/3
    assert metrics["receiver_operating_characteristic_curve"] == {
        "false_positive_rates": [0.0, 2 / 3, 1.0, 1.0], "true_positive_rates": [0.0, 1.0, 1.0, 1.0]}
    assert metrics["auc"]["value"] == pytest.approx(2 / 3)


def test_curves_reproduce_the_documented_example() -> None:
    # four positives ranked by four distinct scores give exactly the example's curves and auc
    stats = mq.compute(mq.BINARY, [([s], "1") for s in (0.9, 0.8, 0.7, 0.6)], probability_attribute="0",
                       probability_threshold_attribute=0.5)
    metrics = stats["binary_classification_metrics"]
    assert metrics["receiver_operating_characteristic_curve"] == {
        "false_positive_rates": [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        "true_positive_rates": [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]}
    assert metrics["precision_recall_curve"] == {"precisions": [1.0, 1.0, 1.0, 1.0, 1.0],
                                                 "recalls": [0.0, 0.25, 0.5, 0.75, 1.0]}
    assert metrics["auc"] == {"value": 1.0, "standard_deviation": "NaN"}


def test_roc_with_tied_scores_and_trapezoid_auc() -> None:
    # scores/labels: 0.9/1, 0.8/0, 0.8/1, 0.3/0, 0.1/1  (P = 3, N = 2)
    # thresholds 0.9: tp1 fp0 -> (0, 1/3); 0.8: tp2 fp1 -> (1/2, 2/3); 0.3: tp2 fp2 -> (1, 2/3); 0.1: (1, 1)
    fpr, tpr, precisions, recalls = mq.curves([0.9, 0.8, 0.8, 0.3, 0.1], [True, False, True, False, True])
    assert fpr == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0]
    assert tpr == [0.0, 1 / 3, 2 / 3, 2 / 3, 1.0, 1.0]
    assert recalls == [0.0, 1 / 3, 2 / 3, 2 / 3, 1.0]
    assert precisions == [1.0, 1.0, 2 / 3, 0.5, 0.6]
    # area: 0.5 * (1/3 + 2/3) / 2 + 0.5 * (2/3 + 2/3) / 2 = 0.25 + 1/3 = 7/12
    assert mq.trapezoid(fpr, tpr) == pytest.approx(7 / 12)
    stats = mq.compute(mq.BINARY, list(zip([[0.9], [0.8], [0.8], [0.3], [0.1]], "10101", strict=True)),
                       probability_attribute="0", probability_threshold_attribute=0.5)
    assert stats["binary_classification_metrics"]["auc"]["value"] == pytest.approx(7 / 12)


def test_probability_at_the_threshold_is_positive() -> None:
    pairs = [(["0.5"], "1"), (["0.49"], "0"), (["0.8"], "0"), (["0.2"], "1")]
    stats = mq.compute(mq.BINARY, pairs, probability_attribute="0", probability_threshold_attribute="0.5")
    metrics = stats["binary_classification_metrics"]
    # predicted 1, 0, 1, 0: TP 1 (0.5 >= 0.5), FP 1, TN 1, FN 1
    assert metrics["confusion_matrix"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 1}}
    m = metrics_of(stats, "binary_classification_metrics")
    assert (m["recall"], m["precision"], m["accuracy"], m["false_positive_rate"]) == (0.5, 0.5, 0.5, 0.5)
    # ranked 0.8/0, 0.5/1, 0.49/0, 0.2/1: ROC (0,0) (.5,0) (.5,.5) (1,.5) (1,1) (1,1) -> .5*.25 + 0 + .5*.5 ... = 0.25
    assert m["auc"] == 0.25
    higher = mq.compute(mq.BINARY, pairs, probability_attribute="0", probability_threshold_attribute=0.9)
    assert metrics_of(higher, "binary_classification_metrics")["recall"] == 0.0


def test_probability_wins_over_inference_attribute() -> None:
    pairs = [(["1", "0.2"], "0")]
    stats = mq.compute(mq.BINARY, pairs, inference_attribute="0", probability_attribute="1",
                       probability_threshold_attribute=0.5)
    assert stats["binary_classification_metrics"]["confusion_matrix"]["0"] == {"0": 1, "1": 0}


def test_binary_zero_denominators_give_zero() -> None:
    stats = mq.compute(mq.BINARY, [("0", "0"), ("0", "0")])
    m = metrics_of(stats, "binary_classification_metrics")
    assert m["precision"] == 0.0 and m["recall"] == 0.0 and m["f1"] == 0.0
    assert m["accuracy"] == 1.0 and m["true_negative_rate"] == 1.0 and m["false_negative_rate"] == 1.0
    assert m["precision_best_constant_classifier"] == 0.0 and m["recall_best_constant_classifier"] == 0.0


@pytest.mark.parametrize("kwargs, pairs, message", [
    ({}, [("2", "1")], "predicted label '2'"),
    ({}, [("1", "yes")], "ground truth label 'yes'"),
    ({"probability_attribute": "0"}, [(["0.3"], "1")], "needs probability_threshold_attribute"),
    ({"probability_attribute": "0", "probability_threshold_attribute": 0.5}, [(["high"], "1")], "not a number"),
])
def test_binary_refuses_what_it_cannot_classify(kwargs: dict, pairs: list, message: str) -> None:
    with pytest.raises(mq.ModelQualityError, match=message):
        mq.compute(mq.BINARY, pairs, **kwargs)


def test_compute_refuses_unknown_problem_types_and_empty_input() -> None:
    with pytest.raises(mq.ModelQualityError, match="problem type 'Ranking'"):
        mq.compute("Ranking", [("1", "1")])
    with pytest.raises(mq.ModelQualityError, match="no captured prediction matched"):
        mq.compute(mq.REGRESSION, [])


# -------------------------------------------------------------------------------------- multiclass metrics

DOC_MULTICLASS = {  # the multiclass example of model-monitor-model-quality-metrics.html
    "accuracy": 0.6288167938931297, "weighted_recall": 0.6288167938931297, "weighted_precision": 0.6983172269629505,
    "weighted_f0_5": 0.6803947317178771, "weighted_f1": 0.6571162346664904, "weighted_f2": 0.6384024354394601,
    "accuracy_best_constant_classifier": 0.19370229007633588,
    "weighted_recall_best_constant_classifier": 0.19370229007633588,
    "weighted_precision_best_constant_classifier": 0.03752057718081697,
    "weighted_f0_5_best_constant_classifier": 0.04473443104152011,
    "weighted_f1_best_constant_classifier": 0.06286421244683643,
    "weighted_f2_best_constant_classifier": 0.10570313141262414,
}


def test_multiclass_metrics_reproduce_the_documented_example() -> None:
    # confusion matrix {"0": {"0": 1180, "1": 510}, "1": {"0": 268, "1": 138}} (actual -> predicted)
    pairs = [("0", "0")] * 1180 + [("1", "0")] * 510 + [("0", "1")] * 268 + [("1", "1")] * 138
    stats = mq.compute(mq.MULTICLASS, pairs)
    metrics = stats["multiclass_classification_metrics"]
    assert list(metrics) == ["confusion_matrix", *DOC_MULTICLASS]
    assert metrics["confusion_matrix"] == {"0": {"0": 1180, "1": 510}, "1": {"0": 268, "1": 138}}
    assert metrics_of(stats, "multiclass_classification_metrics") == DOC_MULTICLASS
    # 2096 records >= 200: every metric gets a standard deviation, and the same one on every run
    assert all(isinstance(metrics[k]["standard_deviation"], float) for k in DOC_MULTICLASS)
    assert 0 < metrics["accuracy"]["standard_deviation"] < 0.02
    assert mq.compute(mq.MULTICLASS, pairs) == stats


def test_multiclass_three_string_classes_by_hand() -> None:
    # actual -> predicted: cat->cat x2, cat->dog, dog->dog, bird->cat
    pairs = [("cat", "cat"), ("cat", "cat"), ("dog", "cat"), ("dog", "dog"), ("cat", "bird")]
    stats = mq.compute(mq.MULTICLASS, pairs)
    metrics = stats["multiclass_classification_metrics"]
    assert metrics["confusion_matrix"] == {
        "bird": {"bird": 0, "cat": 1, "dog": 0},
        "cat": {"bird": 0, "cat": 2, "dog": 1},
        "dog": {"bird": 0, "cat": 0, "dog": 1},
    }
    m = metrics_of(stats, "multiclass_classification_metrics")
    assert m["accuracy"] == 3 / 5
    # recall bird 0 (w 1/5), cat 2/3 (w 3/5), dog 1 (w 1/5) -> 0.4 + 0.2 = 0.6
    assert m["weighted_recall"] == pytest.approx(0.6)
    # precision bird 0, cat 2/3, dog 1/2 -> 3/5 * 2/3 + 1/5 * 1/2 = 0.5
    assert m["weighted_precision"] == pytest.approx(0.5)
    # f1 cat 2/3, dog 2/3 -> 3/5 * 2/3 + 1/5 * 2/3 = 8/15
    assert m["weighted_f1"] == pytest.approx(8 / 15)
    # constant classifier: least frequent class; bird and dog have 1 each, the greater label (dog) wins
    assert mq.constant_class(["cat", "cat", "cat", "dog", "bird"]) == "dog"
    assert m["accuracy_best_constant_classifier"] == pytest.approx(1 / 5)
    assert m["weighted_precision_best_constant_classifier"] == pytest.approx(1 / 25)
    # f1 of dog with p 1/5, r 1: 2 * 0.2 / 1.2 = 1/3, weighted by 1/5
    assert m["weighted_f1_best_constant_classifier"] == pytest.approx(1 / 15)


def test_multiclass_labels_are_normalised_and_sorted_numerically() -> None:
    stats = mq.compute(mq.MULTICLASS, [("10", "10.0"), ("2", "2"), ("9.0", "2")], inference_attribute=None)
    assert list(stats["multiclass_classification_metrics"]["confusion_matrix"]) == ["2", "9", "10"]
    assert mq.normalize_label("1.0") == "1" and mq.normalize_label(True) == "1" and mq.normalize_label(2) == "2"
    assert mq.normalize_label(" dog ") == "dog" and mq.normalize_label(0.5) == "0.5"


# -------------------------------------------------------------------------------------- regression metrics


def test_regression_metrics_by_hand() -> None:
    # actual 1, 2, 3, 4; predicted 1.5, 2, 2, 5: errors .5, 0, -1, 1
    pairs = [(1.5, "1"), (2, "2"), (["2"], "3"), ({"p": 5}, "4")]
    stats = mq.compute(mq.REGRESSION, [(p if not isinstance(p, dict) else p["p"], a) for p, a in pairs],
                       inference_attribute=None)
    stats_list = mq.compute(mq.REGRESSION, [([str(p)], a) for p, a in ((1.5, "1"), (2, "2"), (2, "3"), (5, "4"))],
                            inference_attribute="0")
    assert stats == stats_list
    m = metrics_of(stats, "regression_metrics")
    assert m["mae"] == 0.625  # 2.5 / 4
    assert m["mse"] == 0.5625  # (0.25 + 0 + 1 + 1) / 4
    assert m["rmse"] == 0.75
    assert m["r2"] == 0.55  # 1 - 2.25 / 5 (mean 2.5, total sum of squares 5)


def test_regression_constant_ground_truth() -> None:
    # 1 - SSerr / SStot with SStot = 0: 0/0 is NaN, x/0 is -Infinity; written as AWS writes non-finite numbers
    stats = mq.compute(mq.REGRESSION, [(3, "3"), (3, "3")])
    assert stats["regression_metrics"]["r2"] == {"value": "NaN", "standard_deviation": "NaN"}
    assert "r2" not in mq.metric_values(stats) and mq.metric_values(stats)["mae"] == 0.0
    off = mq.compute(mq.REGRESSION, [(4, "3"), (3, "3")])
    assert off["regression_metrics"]["r2"]["value"] == "-Infinity"
    assert "r2" not in mq.metric_values(off)


@needs_reference
def test_regression_statistics_have_the_reference_structure() -> None:
    reference = json.loads(_read("model-quality-regression/statistics.json"))
    ours = mq.compute(mq.REGRESSION, [(1.5, "1"), (2.0, "2"), (2.0, "3")])
    assert shape(ours) == shape(reference)
    assert list(ours["regression_metrics"]) == list(reference["regression_metrics"])
    assert ours["version"] == reference["version"] == 0.0


def test_evaluation_time_is_written_when_given() -> None:
    stats = mq.compute(mq.REGRESSION, [(1, "1")], evaluation_time="2024-05-01T11:05:00.000Z")
    assert stats["dataset"] == {"item_count": 1, "evaluation_time": "2024-05-01T11:05:00.000Z"}


# ------------------------------------------------------------------------------------ standard deviation


def test_standard_deviation_needs_200_records() -> None:
    alternating = [("1", "1"), ("0", "1")]
    few = mq.compute(mq.BINARY, alternating * 99 + [("1", "1")])  # 199 records
    assert few["binary_classification_metrics"]["accuracy"]["standard_deviation"] == "NaN"
    many = mq.compute(mq.BINARY, alternating * 100)  # 200 records
    std = many["binary_classification_metrics"]["accuracy"]["standard_deviation"]
    assert isinstance(std, float) and 0 < std < 0.05
    assert many == mq.compute(mq.BINARY, alternating * 100)  # seeded: reproducible


def test_standard_deviation_follows_the_documented_procedure() -> None:
    # five 80 % samples drawn from random.Random(0), the metric on each, their sample standard deviation
    pairs = [("1", "1"), ("0", "1"), ("0", "0"), ("1", "1"), ("1", "0")] * 50  # 250 records
    rng = random.Random(0)
    accuracies = []
    for _ in range(5):
        sample = [pairs[i] for i in rng.sample(range(250), 200)]
        accuracies.append(sum(1 for p, a in sample if p == a) / 200)
    stats = mq.compute(mq.BINARY, pairs)
    assert stats["binary_classification_metrics"]["accuracy"] == {"value": 0.6,
                                                                  "standard_deviation": statistics.stdev(accuracies)}


def test_standard_deviation_of_a_perfect_model_is_zero() -> None:
    stats = mq.compute(mq.REGRESSION, [(float(i), str(i)) for i in range(250)])
    assert stats["regression_metrics"]["mae"] == {"value": 0.0, "standard_deviation": 0.0}
    assert stats["regression_metrics"]["r2"] == {"value": 1.0, "standard_deviation": 0.0}


# ------------------------------------------------------------------------------------------- constraints


@needs_reference
def test_suggest_from_reference_statistics_gives_the_reference_constraints() -> None:
    statistics = json.loads(_read("model-quality-regression/statistics.json"))
    constraints = json.loads(_read("model-quality-regression/constraints.json"))
    assert mq.suggest(statistics, mq.REGRESSION) == constraints
    assert mq.suggest(statistics) == constraints  # problem type read from the document


def test_suggest_binary_operators_and_thresholds() -> None:
    stats = mq.compute(mq.BINARY, [("1", "1"), ("1", "0"), ("1", "0"), ("0", "0")])
    constraints = mq.suggest(stats, mq.BINARY)
    assert list(constraints) == ["version", "binary_classification_constraints"]
    checks = constraints["binary_classification_constraints"]
    assert {k: v["comparison_operator"] for k, v in checks.items()} == {
        "recall": "LessThanThreshold", "precision": "LessThanThreshold", "accuracy": "LessThanThreshold",
        "true_positive_rate": "LessThanThreshold", "true_negative_rate": "LessThanThreshold",
        "false_positive_rate": "GreaterThanThreshold", "false_negative_rate": "GreaterThanThreshold",
        "auc": "LessThanThreshold", "f0_5": "LessThanThreshold", "f1": "LessThanThreshold",
        "f2": "LessThanThreshold",
    }
    assert checks["f1"] == {"threshold": 0.5, "comparison_operator": "LessThanThreshold"}
    assert checks["false_positive_rate"]["threshold"] == 0.6666666666666666


def test_suggest_multiclass_operators() -> None:
    stats = mq.compute(mq.MULTICLASS, [("a", "a"), ("b", "a")])
    checks = mq.suggest(stats)["multiclass_classification_constraints"]
    assert list(checks) == ["weighted_recall", "weighted_precision", "weighted_f0_5", "weighted_f1", "weighted_f2"]
    assert {v["comparison_operator"] for v in checks.values()} == {"LessThanThreshold"}


def test_suggest_refuses_statistics_of_another_problem() -> None:
    with pytest.raises(mq.ModelQualityError, match="no binary_classification_metrics"):
        mq.suggest(mq.compute(mq.REGRESSION, [(1, "1")]), mq.BINARY)
    with pytest.raises(mq.ModelQualityError, match="has no"):
        mq.suggest({"version": 0.0})


# -------------------------------------------------------------------------------------------- violations


@needs_reference
def test_reference_constraints_against_reference_statistics_hold() -> None:
    statistics = json.loads(_read("model-quality-regression/statistics.json"))
    constraints = json.loads(_read("model-quality-regression/constraints.json"))
    assert mq.evaluate(constraints, statistics) == {"violations": []}  # equal to the threshold is no violation


@needs_reference
def test_a_worse_regression_model_violates_the_reference_constraints() -> None:
    constraints = json.loads(_read("model-quality-regression/constraints.json"))
    statistics = json.loads(_read("model-quality-regression/statistics.json"))
    statistics["regression_metrics"]["mae"]["value"] = 0.75
    statistics["regression_metrics"]["r2"]["value"] = -4.0
    report = mq.evaluate(constraints, statistics)
    assert report == {"violations": [
        {"constraint_check_type": "GreaterThanThreshold",
         "description": "Metric mae with 0.75 was GreaterThanThreshold 0.5040653554420981",
         "metric_name": "mae"},
        {"constraint_check_type": "LessThanThreshold",
         "description": "Metric r2 with -4.0 was LessThanThreshold -3.208758170289026",
         "metric_name": "r2"},
    ]}


def test_f1_falling_below_the_baseline_is_a_violation() -> None:
    baseline = mq.compute(mq.BINARY, [("1", "1"), ("0", "0"), ("1", "1"), ("0", "0")])  # f1 1.0
    constraints = mq.suggest(baseline, mq.BINARY)
    drifted = mq.compute(mq.BINARY, [("1", "1"), ("0", "1"), ("1", "0"), ("0", "0")])  # TP1 FN1 FP1: f1 0.5
    report = mq.evaluate(constraints, drifted)
    by_metric = {v["metric_name"]: v for v in report["violations"]}
    assert by_metric["f1"] == {"constraint_check_type": "LessThanThreshold",
                               "description": "Metric f1 with 0.5 was LessThanThreshold 1.0", "metric_name": "f1"}
    assert by_metric["false_positive_rate"]["constraint_check_type"] == "GreaterThanThreshold"
    assert list(by_metric) == ["recall", "precision", "accuracy", "true_positive_rate", "true_negative_rate",
                               "false_positive_rate", "false_negative_rate", "auc", "f0_5", "f1", "f2"]
    assert mq.evaluate(constraints, baseline) == {"violations": []}


@pytest.mark.parametrize("operator, value, violated", [
    ("LessThanThreshold", 0.49, True), ("LessThanThreshold", 0.5, False),
    ("GreaterThanThreshold", 0.51, True), ("GreaterThanThreshold", 0.5, False),
    ("LessThanOrEqualToThreshold", 0.5, True), ("LessThanOrEqualToThreshold", 0.51, False),
    ("GreaterThanOrEqualToThreshold", 0.5, True), ("GreaterThanOrEqualToThreshold", 0.49, False),
])
def test_comparison_operators(operator: str, value: float, violated: bool) -> None:
    check = {"threshold": 0.5, "comparison_operator": operator}
    constraints = {"version": 0.0, "regression_constraints": {"mae": check}}
    statistics = {"version": 0.0, "dataset": {"item_count": 3},
                  "regression_metrics": {"mae": {"value": value, "standard_deviation": "NaN"}}}
    assert len(mq.evaluate(constraints, statistics)["violations"]) == int(violated)


def test_missing_and_nan_metrics_are_not_violations_and_bad_operators_are_refused() -> None:
    statistics = {"regression_metrics": {"mae": {"value": "NaN", "standard_deviation": "NaN"}}}
    check = {"threshold": 0.1, "comparison_operator": "GreaterThanThreshold"}
    constraints = {"regression_constraints": {"mae": dict(check), "rmse": dict(check)}}
    assert mq.evaluate(constraints, statistics) == {"violations": []}
    constraints["regression_constraints"]["mae"]["comparison_operator"] = "Above"
    with pytest.raises(mq.ModelQualityError, match="comparison_operator 'Above'"):
        mq.evaluate(constraints, statistics)
    with pytest.raises(mq.ModelQualityError, match="no binary_classification_metrics"):
        mq.evaluate({"binary_classification_constraints": {}}, statistics)


def test_metric_values_leave_out_matrix_and_curves() -> None:
    stats = mq.compute(mq.BINARY, [("1", "1"), ("0", "0")])
    values = mq.metric_values(stats)
    assert "confusion_matrix" not in values and "precision_recall_curve" not in values
    assert values["f1"] == 1.0 and len(values) == 17


@pytest.mark.parametrize("value, text", [
    (1.0, "1.0"), (0.5040653554420981, "0.5040653554420981"), (-3.208758170289026, "-3.208758170289026"),
    (1.5e-05, "1.5E-5"), (0.0009, "9.0E-4"), (0.001, "0.001"), (12345678.0, "1.2345678E7"), (9999999.0, "9999999.0"),
    (0.0, "0.0"), (float("nan"), "NaN"),
])
def test_numbers_in_descriptions_are_written_as_java_does(value: float, text: str) -> None:
    assert mq.java_double(value) == text


def test_a_ground_truth_line_reads_back_as_its_label():
    line = mq.ground_truth_line("inf-7", 1)
    assert json.loads(line) == {"groundTruthData": {"data": "1", "encoding": "CSV"},
                                "eventMetadata": {"eventId": "inf-7"}, "eventVersion": "0"}
    assert mq.parse_ground_truth(line + "\n" + mq.ground_truth_line("inf-8", 0)) == {"inf-7": "1", "inf-8": "0"}
