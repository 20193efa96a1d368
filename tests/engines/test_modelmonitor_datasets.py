"""Reading baseline datasets and captured payloads into columns, as the Model Monitor analyzer (Spark) does.

Capture record format: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html and
shared/reference/model-monitor/data-capture/captured-data.jsonl; headerless CSV columns ``_c0``... as in
shared/reference/model-monitor/data-quality/statistics.json.
"""

from __future__ import annotations

import base64
import json

import pytest

from mlalab.engines.modelmonitor import datasets as ds
from tests.engines.test_modelmonitor_statistics import REFERENCE, load, requires_reference


def test_headerless_csv_columns_are_named_like_spark():
    assert ds.read_csv("1,a,2.5\n3,b,\n", header=False) == {
        "_c0": ["1", "3"], "_c1": ["a", "b"], "_c2": ["2.5", None]}


def test_csv_with_header():
    assert ds.read_csv("age,city\n31,Paris\n,Lyon\n", header=True) == {"age": ["31", None], "city": ["Paris", "Lyon"]}


def test_csv_short_rows_pad_with_null_and_long_rows_are_cut():
    assert ds.read_csv("a,b,c\n1\n1,2,3,4\n", header=True) == {"a": ["1", "1"], "b": [None, "2"], "c": [None, "3"]}


def test_csv_quoting_blank_lines_and_empty_input():
    assert ds.read_csv('"x,1",2\n\n"y",3\n', header=False) == {"_c0": ["x,1", "y"], "_c1": ["2", "3"]}
    assert ds.read_csv("", header=True) == {}
    assert ds.read_csv("a,b\n", header=True) == {"a": [], "b": []}


def test_csv_header_with_a_blank_name():
    assert ds.read_csv("a,,c\n1,2,3\n", header=True) == {"a": ["1"], "_c1": ["2"], "c": ["3"]}


def test_json_lines_sorted_fields_nulls_and_nested_values():
    text = '{"b": 1, "a": "x"}\n\n{"a": "y", "c": {"k": [1, 2]}}\n'
    table = ds.read_json_lines(text)
    assert list(table) == ["a", "b", "c"]
    assert table == {"a": ["x", "y"], "b": [1, None], "c": [None, '{"k":[1,2]}']}


def test_json_lines_rejects_a_non_object_line():
    with pytest.raises(ValueError, match="one object a line"):
        ds.read_json_lines("[1, 2]\n")


def test_csv_payloads_take_the_baseline_names_in_order():
    payloads = [("CSV", "1,2.5,x"), ("CSV", "3,4.5,y\n5,6.5,z")]
    assert ds.read_payloads(payloads, ["age", "income", "city"]) == {
        "age": ["1", "3", "5"], "income": ["2.5", "4.5", "6.5"], "city": ["x", "y", "z"]}


def test_longer_payload_rows_add_positional_columns_and_shorter_leave_features_out():
    assert ds.read_payloads([("CSV", "1,2,3"), ("CSV", "4,5")], ["a", "b"]) == {
        "a": ["1", "4"], "b": ["2", "5"], "_c2": ["3", None]}
    assert ds.read_payloads([("CSV", "1")], ["a", "b", "c"]) == {"a": ["1"]}
    assert ds.read_payloads([("CSV", "1,,3")], None) == {"_c0": ["1"], "_c1": [None], "_c2": ["3"]}


def test_json_payload_shapes():
    payloads = [
        ("JSON", '{"instances": [1.0, 2.0, 5.0]}'),
        ("JSON", '{"instances": [[7, 8, 9], [10, 11, 12]]}'),
        ("JSON", '[{"features": [13, 14, 15]}]'),
        ("JSON", '{"features": [16, 17, 18]}'),
        ("JSON", "[19, 20, 21]"),
    ]
    assert ds.read_payloads(payloads, ["a", "b", "c"]) == {
        "a": [1.0, 7, 10, 13, 16, 19], "b": [2.0, 8, 11, 14, 17, 20], "c": [5.0, 9, 12, 15, 18, 21]}


def test_json_objects_are_read_by_name_next_to_csv_rows():
    payloads = [("CSV", "1,2"), ("JSON", '{"b": 20, "a": 10, "z": "new"}'), ("JSON", '{"a": 30}')]
    assert ds.read_payloads(payloads, ["a", "b"]) == {"a": ["1", 10, 30], "b": ["2", 20, None],
                                                       "z": [None, "new", None]}


def test_json_scalar_and_empty_list_payloads():
    assert ds.read_payloads([("JSON", "42"), ("JSON", "[]")], ["x"]) == {"x": [42]}


def test_base64_payloads_are_decoded_then_read_as_json_or_csv():
    csv_data = base64.b64encode(b"1,2").decode()
    json_data = base64.b64encode(b'{"instances": [3, 4]}').decode()
    assert ds.read_payloads([("BASE64", csv_data), ("BASE64", json_data)], ["a", "b"]) == {
        "a": ["1", 3], "b": ["2", 4]}
    with pytest.raises(ValueError, match="not UTF-8"):
        ds.read_payloads([("BASE64", base64.b64encode(b"\xff\xfe").decode())], None)


def test_no_payloads_no_columns():
    assert ds.read_payloads([], ["a"]) == {}


@requires_reference
def test_reads_the_real_capture_lines_unchanged():
    lines = (REFERENCE / "data-capture" / "captured-data.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    payloads = [(r["captureData"]["endpointInput"]["encoding"], r["captureData"]["endpointInput"]["data"])
                for r in records]
    assert ds.read_payloads(payloads, None) == {"_c0": [1.0, 1.0], "_c1": [2.0, 2.0], "_c2": [5.0, 5.0]}
    names = [f["name"] for f in load("data-quality/statistics.json")["features"]][:3]
    assert list(ds.read_payloads(payloads, names)) == ["_c0", "_c1", "_c2"]
