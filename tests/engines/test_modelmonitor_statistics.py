"""statistics.json as the Model Monitor analyzer computes it (Deequ's type inference, KLL sketch and buckets).

Yardstick: the real files in shared/reference/model-monitor (README there), and the schema at
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html.
Deequ sources: awslabs/deequ DataType.scala, StatefulDataType.scala, KLLSketch.scala, QuantileNonSample.scala,
NonSampleCompactor.scala.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from mlalab.engines.modelmonitor import statistics as st
from tests.reference import REFERENCE as REFERENCE_ROOT

REFERENCE = REFERENCE_ROOT / "model-monitor"
requires_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"reference files absent: {REFERENCE} (shared/reference beside the repo)"
)


def load(relative: str) -> Any:
    return json.loads((REFERENCE / relative).read_text())


def shape_differences(ours: Any, reference: Any, path: str = "$", extras: frozenset[str] = frozenset()) -> list[str]:
    """Where ``ours`` differs from ``reference`` in keys, nesting or JSON types (int, float, str, bool, null,
    object, array). Lists: every element of ours against the reference's first element. ``extras`` names
    keys ours may add (documented ones the reference file predates)."""
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if v is None:
            return "null"
        if isinstance(v, dict):
            return "object"
        return {int: "int", float: "float", str: "str", list: "array"}.get(type(v), type(v).__name__)

    if kind(ours) != kind(reference):
        return [f"{path}: {kind(ours)} != {kind(reference)}"]
    out: list[str] = []
    if isinstance(reference, dict):
        missing = set(reference) - set(ours)
        added = set(ours) - set(reference) - extras
        out += [f"{path}.{k}: missing" for k in sorted(missing)] + [f"{path}.{k}: extra" for k in sorted(added)]
        for key in [k for k in reference if k in ours]:
            out += shape_differences(ours[key], reference[key], f"{path}.{key}", extras)
    elif isinstance(reference, list) and reference:
        for i, item in enumerate(ours):
            out += shape_differences(item, reference[0], f"{path}[{i}]", extras)
    return out


def test_the_reference_files_are_in_the_repository():
    """A clean checkout tests against them too (tests/reference is a copy of the workplace's shared/reference)."""
    for name in ("data-quality/statistics.json", "data-quality/constraints.json",
                 "data-quality-strings/constraint_violations.json", "data-capture/captured-data.jsonl"):
        assert (REFERENCE / name).is_file(), name


def test_shape_comparer_sees_missing_extra_and_type_changes():
    ref = {"a": 1, "b": [{"c": 1.0}], "d": "x"}
    assert shape_differences({"a": 2, "b": [{"c": 2.0}, {"c": 3.0}], "d": "y"}, ref) == []
    assert shape_differences({"a": 2.0, "b": [], "d": "y"}, ref) == ["$.a: float != int"]
    assert shape_differences({"a": 1, "b": [{"c": 1}], "e": 1}, ref) == [
        "$.d: missing", "$.e: extra", "$.b[0].c: int != float"]
    assert shape_differences({"a": True, "b": [], "d": None}, ref) == ["$.a: bool != int", "$.d: null != str"]


# --- the real baseline statistics, recomputed from their own sketch (which holds all 100 values in order) ---

def _reference_table() -> dict[str, list[str]]:
    doc = load("data-quality/statistics.json")
    return {f["name"]: [repr(v) for v in f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0]]
            for f in doc["features"]}


@requires_reference
def test_recomputes_the_real_numeric_statistics_exactly():
    ours = st.compute(_reference_table())
    assert ours == load("data-quality/statistics.json")  # mean, sum, std_dev, buckets, sketch: every value


@requires_reference
def test_recomputes_the_real_string_statistics_exactly():
    ours = st.compute({"message": ["preproc-not-YET-supported-for-csv-json"] * 418})
    assert ours == load("data-quality-strings/statistics.json")


@requires_reference
@pytest.mark.parametrize("relative", ["data-quality/statistics.json", "data-quality-strings/statistics.json"])
def test_documents_have_the_reference_shape(relative):
    table = {"n": ["1.5", "2", None, "4.25"], "s": ["a", "b", "a", None]}
    ours = json.loads(json.dumps(st.compute(table)))
    reference = load(relative)
    ref_feature = reference["features"][0]
    ours_feature = next(f for f in ours["features"] if ("numerical_statistics" in f) == ("numerical_statistics"
                                                                                         in ref_feature))
    assert shape_differences({**ours, "features": [ours_feature]}, reference) == []


# --- type inference: Deequ's regexes and determineType ---

@pytest.mark.parametrize("text, kind", [
    ("1", "Integral"), ("-12", "Integral"), ("+ 3", "Integral"), ("007", "Integral"),
    ("1.5", "Fractional"), ("-.5", "Fractional"), ("3.", "Fractional"), ("+ 2.0", "Fractional"),
    ("true", "Boolean"), ("false", "Boolean"), ("True", "String"), ("1e5", "String"), ("1,5", "String"),
    ("abc", "String"), (" 1", "Integral"), ("1 ", "String"), ("١", "String"),
])
def test_value_types_follow_deequ_regexes(text, kind):
    assert st.value_type(text) == kind


@pytest.mark.parametrize("values, kind", [
    (["1", "2", None], "Integral"),
    (["1", "2.5"], "Fractional"),
    (["1", "x"], "String"),
    (["true", "false"], "String"),       # Boolean has no Model Monitor type
    (["true", "1"], "String"),
    ([None, None], "Unknown"),
    ([], "Unknown"),
    ([1, 2], "Integral"),                # JSON numbers, as Spark casts them to strings
    ([1.0, 2], "Fractional"),
    ([True, False], "String"),
])
def test_inferred_type_of_a_column(values, kind):
    assert st.determine_type(st.type_histogram(values)) == kind


def test_as_text_casts_json_scalars_like_spark():
    assert [st.as_text(v) for v in (None, True, False, 3, 2.5, 1e20, math.nan, math.inf, -math.inf, "x")] == [
        None, "true", "false", "3", "2.5", "1e+20", "NaN", "Infinity", "-Infinity", "x"]


def test_type_histogram_counts_each_kind():
    assert st.type_histogram(["1", "2.5", None, "true", "x", "7"]) == {
        "Unknown": 1, "Fractional": 1, "Integral": 2, "Boolean": 1, "String": 1}


# --- numeric statistics ---

def test_numeric_feature_hand_computed():
    doc = st.compute({"x": ["2", "4", "4", "4", "5", "5", "7", "9", None, None]})
    assert doc["dataset"] == {"item_count": 10}
    f = doc["features"][0]
    assert f["name"] == "x" and f["inferred_type"] == "Integral"
    ns = f["numerical_statistics"]
    assert ns["common"] == {"num_present": 8, "num_missing": 2}
    assert (ns["mean"], ns["sum"], ns["std_dev"], ns["min"], ns["max"]) == (5.0, 40.0, 2.0, 2.0, 9.0)
    kll = ns["distribution"]["kll"]
    assert kll["sketch"] == {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0,
                                                                                9.0]]}
    # width 0.7: [2,2.7) 1; [2.7,3.4) 0; [3.4,4.1) 3; [4.1,4.8) 0; [4.8,5.5) 2; ...; [6.2,6.9) 0; [6.9,7.6) 1;
    # [7.6,8.3) 0; [8.3,9.0] 1
    assert [b["count"] for b in kll["buckets"]] == [1.0, 0.0, 3.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    assert [b["lower_bound"] for b in kll["buckets"]] == [2 + 7 * i / 10 for i in range(10)]
    assert [b["upper_bound"] for b in kll["buckets"]] == [2 + 7 * (i + 1) / 10 for i in range(10)]
    assert kll["buckets"][1]["lower_bound"] == 2.7 and kll["buckets"][-1]["upper_bound"] == 9.0


def test_bucket_lower_bound_is_inclusive_and_the_last_bucket_closed():
    buckets = st.compute({"x": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]})["features"][0][
        "numerical_statistics"]["distribution"]["kll"]["buckets"]
    assert [b["count"] for b in buckets] == [1.0] * 9 + [2.0]  # 9 and 10 share the closed last bucket


def test_constant_column_lands_in_the_last_bucket():
    buckets = st.compute({"x": ["3"] * 5})["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"]
    assert [b["count"] for b in buckets] == [0.0] * 9 + [5.0]
    assert all(b["lower_bound"] == 3.0 and b["upper_bound"] == 3.0 for b in buckets)


def test_unparseable_numeric_cells_are_present_but_not_counted():
    ns = st.compute({"x": ["1", "-", "3"]})["features"][0]["numerical_statistics"]
    assert ns["common"] == {"num_present": 3, "num_missing": 0}
    assert (ns["sum"], ns["mean"], ns["min"], ns["max"]) == (4.0, 2.0, 1.0, 3.0)
    assert ns["distribution"]["kll"]["sketch"]["data"] == [[1.0, 3.0]]


def test_string_feature_buckets_most_frequent_first():
    f = st.compute({"s": ["b", "a", "b", None, "c", "b", "a"]})["features"][0]
    assert f["inferred_type"] == "String"
    assert f["string_statistics"] == {
        "common": {"num_present": 6, "num_missing": 1},
        "distinct_count": 3.0,
        "distribution": {"categorical": {"buckets": [
            {"value": "b", "count": 3}, {"value": "a", "count": 2}, {"value": "c", "count": 1}]}},
    }


def test_all_null_feature_is_unknown_with_its_counts():
    f = st.compute({"u": [None, None, None]})["features"][0]
    assert f == {"name": "u", "inferred_type": "Unknown",
                 "string_statistics": {"common": {"num_present": 0, "num_missing": 3}, "distinct_count": 0.0}}


def test_short_columns_are_padded_to_the_item_count_and_type_counts_attached():
    doc = st.compute({"a": ["1", "2", "3"], "b": ["x"]})
    assert doc["dataset"]["item_count"] == 3
    assert doc["features"][1]["string_statistics"]["common"] == {"num_present": 1, "num_missing": 2}
    assert doc.type_counts == {
        "a": {"Unknown": 0, "Fractional": 0, "Integral": 3, "Boolean": 0, "String": 0},
        "b": {"Unknown": 2, "Fractional": 0, "Integral": 0, "Boolean": 0, "String": 1}}
    assert isinstance(doc, dict) and json.loads(json.dumps(doc)) == doc
    assert copy.deepcopy(doc).type_counts == doc.type_counts


def test_feature_order_follows_the_table():
    assert [f["name"] for f in st.compute({"z": ["1"], "a": ["2"], "m": ["3"]})["features"]] == ["z", "a", "m"]


def test_empty_table():
    assert st.compute({}) == {"version": 0.0, "dataset": {"item_count": 0}, "features": []}


# --- the KLL sketch: exact up to its level-0 capacity, Deequ's compaction beyond ---

def test_sketch_capacities():
    sketch = st.KLLSketch()
    assert [sketch.capacity(h) for h in range(4)] == [2050, 1314, 842, 540]


def test_sketch_holds_every_value_up_to_capacity():
    sketch = st.KLLSketch()
    for v in range(2050):
        sketch.update(float(2049 - v))
    assert len(sketch.levels) == 1 and sketch.levels[0] == [float(2049 - v) for v in range(2050)]


def test_sketch_compacts_the_first_overflow_keeping_even_ranks():
    sketch = st.KLLSketch()
    for v in range(2051):
        sketch.update(float(2050 - v))  # descending: the compactor sorts before it halves
    assert len(sketch.levels) == 2
    assert sketch.levels[0] == [0.0]  # the odd last arrival stays
    assert sketch.levels[1] == [float(v) for v in range(1, 2051, 2)]  # sorted 1..2050, offset 0
    assert sum(w for _, w in sketch.weighted()) == 2051


def test_second_compaction_of_a_level_flips_its_offset():
    sketch = st.KLLSketch(sketch_size=4, shrinking_factor=0.5)  # capacities 6, 4, 4, ...
    assert [sketch.capacity(h) for h in range(3)] == [6, 4, 4]
    for v in range(7):
        sketch.update(float(v))
    assert sketch.levels == [[6.0], [0.0, 2.0, 4.0]]
    for v in range(7, 13):
        sketch.update(float(v))
    assert len(sketch.levels[0]) == 7  # 10 items held = total capacity 6 + 4: no compaction yet
    sketch.update(13.0)
    assert sketch.levels == [[], [0.0, 2.0, 4.0, 7.0, 9.0, 11.0, 13.0]]  # 2nd compaction: offset 1


def test_buckets_of_a_compacted_sketch_weigh_levels():
    sketch = st.KLLSketch()
    sketch.levels = [[1.0], [2.0, 3.0]]
    buckets = st.kll_buckets(sketch, 1.0, 3.0, buckets=2)
    assert buckets == [{"lower_bound": 1.0, "upper_bound": 2.0, "count": 1.0},
                       {"lower_bound": 2.0, "upper_bound": 3.0, "count": 4.0}]


def test_sketch_items_of_a_written_distribution():
    assert st.sketch_items({"sketch": {"data": [[5.0, 1.0], [2.0], [7.0]]}}) == [(5.0, 1), (1.0, 1), (2.0, 2),
                                                                               (7.0, 4)]
    assert st.sketch_items({}) == []


def test_large_column_stays_consistent():
    values = [str((i * 7919) % 5000) for i in range(5000)]
    ns = st.compute({"x": values})["features"][0]["numerical_statistics"]
    kll = ns["distribution"]["kll"]
    assert sum(b["count"] for b in kll["buckets"]) == 5000.0
    assert sum(len(level) << h for h, level in enumerate(kll["sketch"]["data"])) == 5000
    assert len(kll["sketch"]["data"]) > 1
    assert (ns["min"], ns["max"], ns["sum"]) == (0.0, 4999.0, float(sum(range(5000))))
