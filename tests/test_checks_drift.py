"""checks.drift: the reference statistics against hand-computed values, the capture reader against
AWS's capture line format, and the verdicts' handling of wrong, missing and badly typed answers."""

from __future__ import annotations

import base64
import json
import math

import pytest

from checks import drift


@pytest.mark.parametrize(("a", "b", "expected"), [
    ([1, 2, 3], [2, 3, 4], 1 / 3),  # gaps 1/3, 1/3, 1/3, 0
    ([1, 1], [1], 0.0),  # every value tied: both CDFs jump to 1 at once
    ([1, 1, 2], [1, 2, 2], 1 / 3),  # at 1: 2/3 vs 1/3
    ([0, 1], [5, 6, 7], 1.0),  # disjoint
    ([0.5], [0, 1], 0.5),  # unequal sizes: at 0, 0 vs 1/2
    ([3, 1, 2], [2, 3, 1], 0.0),  # order does not matter
])
def test_ks_statistic_by_hand(a, b, expected):
    assert drift.ks_statistic(a, b) == pytest.approx(expected, abs=1e-15)


def test_ks_statistic_refuses_an_empty_sample():
    with pytest.raises(ValueError):
        drift.ks_statistic([], [1.0])


def test_linf_distance_over_the_union_of_categories():
    # p = (a .25, b .75, c 0), q = (a .5, b 0, c .5): the largest gap is b's .75
    assert drift.linf_distance({"a": 1, "b": 3}, {"a": 1, "c": 1}) == 0.75
    assert drift.linf_distance({"a": 2, "b": 2}, {"a": 5, "b": 5, "z": 0}) == 0.0


def test_js_divergence_in_bits():
    # P = (.5, .5), Q = (1, 0), M = (.75, .25):
    # KL(P||M) = .5 log2(2/3) + .5 log2(2) = 0.2075187496..., KL(Q||M) = log2(4/3) = 0.4150374992...
    expected = (0.5 * math.log2(2 / 3) + 0.5 + math.log2(4 / 3)) / 2
    assert drift.js_divergence({"a": 1, "b": 1}, {"a": 1}) == pytest.approx(expected, abs=1e-15)
    assert expected == pytest.approx(0.3112781244591328, abs=1e-15)
    assert drift.js_divergence({"a": 3}, {"b": 1, "c": 2}) == 1.0  # no bin in common: 1 bit
    assert drift.js_divergence({"a": 1, "b": 3}, {"a": 2, "b": 6}) == 0.0  # same proportions


def test_chi_squared_leaves_out_new_and_empty_categories():
    # baseline shares (.5, .5); current over the baseline's categories: a 3, b 1 (total 4), E = (2, 2)
    assert drift.chi_squared({"a": 2, "b": 2, "z": 0}, {"a": 3, "b": 1, "new": 5}) == 1.0
    # unequal totals: E = (30 * 1/4, 30 * 3/4) = (7.5, 22.5); (10-7.5)^2/7.5 + (20-22.5)^2/22.5 = 0.8333... + 0.2777...
    assert drift.chi_squared({"a": 1, "b": 3}, {"a": 10, "b": 20}) == pytest.approx(25 / 22.5, abs=1e-12)
    # a baseline category production never sent contributes its whole expected count
    assert drift.chi_squared({"a": 1, "b": 1}, {"a": 4}) == pytest.approx(4.0)


LINE = ('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"132,10,basic",'
        '"encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT",'
        '"data":"0.0364","encoding":"CSV"}},"eventMetadata":{"eventId":"f04a8538-1","inferenceTime":'
        '"2022-04-18T00:21:48Z"},"eventVersion":"0"}')


def test_capture_rows_reads_csv_and_base64_records():
    encoded = json.loads(LINE)
    encoded["captureData"]["endpointInput"].update(data=base64.b64encode(b"7,2,premium").decode(), encoding="BASE64")
    text = LINE + "\n\n" + json.dumps(encoded) + "\n"
    assert drift.capture_rows(text) == [["132", "10", "basic"], ["7", "2", "premium"]]


def test_expected_report_by_hand():
    baseline = "age,plan\n1,a\n2,a\n3,b\n"
    capture = "\n".join(LINE.replace("132,10,basic", row) for row in ("2,a", "3,b", "4,b"))
    report = drift.expected_report(baseline, [capture])
    assert report.kinds == {"age": "numerical", "plan": "categorical"}
    assert report.features["age"] == {"ks": pytest.approx(1 / 3)}
    # plan: p = (a 2/3, b 1/3), q = (a 1/3, b 2/3)
    assert report.features["plan"]["linf"] == pytest.approx(1 / 3)
    assert report.features["plan"]["chi_squared"] == pytest.approx((1 - 2) ** 2 / 2 + (2 - 1) ** 2 / 1)
    assert report.drifted == {"age", "plan"}


CASE = drift.Case("ks-01", "ks_statistic", {"baseline": [1, 1], "current": [1]}, "every value tied")


@pytest.mark.parametrize(("answer", "fragment"), [
    (None, "returned None (every value tied): is a return statement missing?"),
    ({"error": "ZeroDivisionError: division by zero"}, "raised ZeroDivisionError"),
    ({"returned": "tuple (0.0, 1.0)"}, "returned tuple (0.0, 1.0)"),
    ("0.0", "expected a number"),
    (True, "expected a number"),
    (float("nan"), "= nan"),
    (0.5, "= 0.5 (every value tied); expected 0.0"),
])
def test_statistic_answers_say_what_was_wrong(answer, fragment):
    answers = {"ks-01": answer}
    verdict = drift.statistic_answers(answers, [CASE], "ks_statistic", "s3://b/answers.json")
    assert not verdict.passed
    assert fragment in verdict.message


def test_statistic_answers_name_a_missing_case():
    verdict = drift.statistic_answers({}, [CASE], "ks_statistic", "s3://b/answers.json")
    assert "s3://b/answers.json has no answer for case 'ks-01' (every value tied)" in verdict.message


def test_statistic_answers_accept_the_value_within_tolerance():
    assert drift.statistic_answers({"ks-01": 5e-7}, [CASE], "ks_statistic", "w").passed
    assert not drift.statistic_answers({"ks-01": 2e-6}, [CASE], "ks_statistic", "w").passed


def test_answers_of_refuses_another_shape():
    assert drift.answers_of({"answers": {"x": 1}}, "w") == ({"x": 1}, drift.ok())
    assert "must be a JSON object" in drift.answers_of([1, 2], "w")[1].message


def test_report_verdicts():
    expected = drift.ExpectedReport({"age": {"ks": 0.3}, "plan": {"linf": 0.05, "js": 0.01, "chi_squared": 2.0}},
                                    {"age": "numerical", "plan": "categorical"}, frozenset({"age"}))
    good = {"features": {"age": {"ks": 0.3}, "plan": {"linf": 0.05, "js": 0.01, "chi_squared": 2.0000001}},
            "drifted": ["age"]}
    assert drift.report_distances(good, expected, "w").passed
    assert drift.drifted_features(good, expected, "w").passed
    assert "no distances for ['plan']" in drift.report_distances({"features": {"age": {"ks": 0.3}}}, expected,
                                                                 "w").message
    assert "features.age.ks = 0.31" in drift.report_distances(
        {"features": {**good["features"], "age": {"ks": 0.31}}}, expected, "w").message
    assert "features.age.ks is \"0.3\"" in drift.report_distances(
        {"features": {**good["features"], "age": {"ks": "0.3"}}}, expected, "w").message
    assert "must be a JSON object" in drift.report_distances([], expected, "w").message
    wrong = drift.drifted_features({**good, "drifted": []}, expected, "w")
    assert "drifted = []; expected ['age']" in wrong.message and "0.1" in wrong.message
    assert "must be a list" in drift.drifted_features({**good, "drifted": "age"}, expected, "w").message


def test_drift_named_verdicts():
    incident = drift.Incident("i-1", {"accuracy": None}, "concept", "model_quality", "labels needed")
    assert drift.drift_named({"i-1": {"drift": "concept", "monitor": "model_quality"}}, [incident], "w").passed
    wrong = drift.drift_named({"i-1": {"drift": "concept", "monitor": "data_quality"}}, [incident], "w")
    assert "expected concept drift, caught by model_quality. labels needed" in wrong.message
    assert "expected {\"drift\": one of" in drift.drift_named({"i-1": "concept"}, [incident], "w").message
    assert "has no answer for incident 'i-1'" in drift.drift_named({}, [incident], "w").message
