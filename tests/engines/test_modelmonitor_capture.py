"""Conformance of the data-capture engine (:mod:`mlalab.engines.modelmonitor.capture`).

AWS pages: DataCaptureConfig https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html,
CaptureOption https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureOption.html,
CaptureContentTypeHeader https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureContentTypeHeader.html
("If no headers are specified ... base64 encode"), InvokeEndpoint
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html (TargetVariant),
ProductionVariant https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html
(InitialVariantWeight defaults to 1.0). The record format is the real file
shared/reference/model-monitor/data-capture/captured-data.jsonl; the key layout is in shared/reference/README.md.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mlalab.engines.modelmonitor import capture as c
from tests.reference import REFERENCE as REFERENCE_ROOT

REFERENCE = REFERENCE_ROOT / "model-monitor" / "data-capture" / "captured-data.jsonl"


class FixedRng(random.Random):
    """A random source that answers the given values in order (and counts the draws)."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self.values = list(values)
        self.draws = 0

    def random(self) -> float:
        self.draws += 1
        return self.values.pop(0)


def config(**overrides) -> dict:
    base = {"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://bucket/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]}}
    base.update(overrides)
    return base


# --- the real capture file ----------------------------------------------------------------------------


def test_the_reference_capture_file_parses_unchanged() -> None:
    text = REFERENCE.read_text()
    records = c.parse_lines(text)
    assert len(records) == 2
    first = records[0]
    assert first.event_id == "12b73486-e916-45de-9d82-7fa23d4a39a6"
    assert first.inference_time == "2019-11-24T07:30:50Z"
    assert first.inference_id is None
    assert first.input == c.Payload("application/json", "INPUT", '{"instances": [1.0, 2.0, 5.0]}', "JSON")
    assert first.output.data == '{\n    "predictions": [3.5, 4.0, 5.5\n    ]\n}'
    assert first.output.mode == "OUTPUT" and first.output.encoding == "JSON"
    assert records[1].event_id == "f9305ead-ba10-401d-953c-8bfb981da274"
    assert records[1].inference_time == "2019-11-24T07:31:30Z"


def test_records_write_back_the_reference_lines_byte_for_byte() -> None:
    lines = REFERENCE.read_text().splitlines()
    assert [record.to_line() for record in c.parse_lines("\n".join(lines))] == lines


def test_a_line_with_an_inference_id_and_csv_payloads() -> None:
    record = c.CaptureRecord(event_id="e-1", inference_time="2022-04-18T00:21:48Z", inference_id="42",
                             input=c.Payload("text/csv", "INPUT", "132,10", "CSV"),
                             output=c.Payload("text/csv; charset=utf-8", "OUTPUT", "0.0364", "CSV"))
    assert record.to_line() == (
        '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"132,10",'
        '"encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT",'
        '"data":"0.0364","encoding":"CSV"}},"eventMetadata":{"eventId":"e-1","inferenceId":"42",'
        '"inferenceTime":"2022-04-18T00:21:48Z"},"eventVersion":"0"}')
    assert c.parse_lines(record.to_line()) == [record]


def test_an_input_only_line_has_no_endpoint_output() -> None:
    record = c.CaptureRecord("e", "2022-01-01T00:00:00Z", None, c.Payload("text/csv", "INPUT", "1", "CSV"), None)
    assert record.to_line() == ('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
                                '"data":"1","encoding":"CSV"}},"eventMetadata":{"eventId":"e",'
                                '"inferenceTime":"2022-01-01T00:00:00Z"},"eventVersion":"0"}')
    assert c.parse_lines(record.to_line())[0].output is None


def test_parse_lines_skips_blank_lines_and_names_a_bad_one() -> None:
    line = REFERENCE.read_text().splitlines()[0]
    assert len(c.parse_lines(f"\n{line}\n   \n{line}\n")) == 2
    with pytest.raises(ValueError, match="capture line 2 is not JSON"):
        c.parse_lines(f"{line}\n{{oops\n")
    with pytest.raises(ValueError, match="capture line 1 is not a JSON object"):
        c.parse_lines("[1, 2]")


def test_payload_raw_decodes_base64_only() -> None:
    assert c.Payload("image/png", "INPUT", base64.b64encode(b"\x89PNG").decode(), "BASE64").raw() == b"\x89PNG"
    assert c.Payload("text/csv", "INPUT", "1,2", "CSV").raw() == b"1,2"


def test_inference_time_is_utc_to_the_second() -> None:
    assert c.format_inference_time(datetime(2022, 4, 18, 0, 21, 48, 999999)) == "2022-04-18T00:21:48Z"
    plus_two = timezone(timedelta(hours=2))
    assert c.format_inference_time(datetime(2022, 4, 18, 2, 21, 48, tzinfo=plus_two)) == "2022-04-18T00:21:48Z"


# --- where captures land -------------------------------------------------------------------------------


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://bucket/capture", ("bucket", "capture")),
    ("s3://bucket/a/b/", ("bucket", "a/b")),
    ("s3://bucket", ("bucket", "")),
    ("https://bucket.s3.us-east-1.amazonaws.com/a/b", ("bucket", "a/b")),
    ("https://s3.us-east-1.amazonaws.com/bucket/a/b", ("bucket", "a/b")),
])
def test_split_s3_uri(uri: str, expected: tuple[str, str]) -> None:
    assert c.split_s3_uri(uri) == expected


def test_capture_key_follows_the_documented_layout() -> None:
    when = datetime(2022, 4, 18, 7, 5, 9, 123456, tzinfo=UTC)
    assert c.capture_key("s3://bucket/dc/", "churn", "AllTraffic", when, "u-1") == (
        "bucket", "dc/churn/AllTraffic/2022/04/18/07/05-09-123-u-1.jsonl")
    assert c.capture_key("s3://bucket", "churn", "AllTraffic", datetime(2022, 4, 18, 7, 5, 9, 7000), "u") == (
        "bucket", "churn/AllTraffic/2022/04/18/07/05-09-007-u.jsonl")


def test_hour_prefix_is_the_key_up_to_the_hour() -> None:
    hour = datetime(2022, 12, 1, 23, 59, tzinfo=timezone(timedelta(hours=-1)))  # 00:59 UTC the next day
    assert c.hour_prefix("s3://bucket/dc", "ep", "v1", hour) == ("bucket", "dc/ep/v1/2022/12/02/00/")


# --- what is captured ----------------------------------------------------------------------------------


@pytest.mark.parametrize("given", [None, {}, config(EnableCapture=False), config(DestinationS3Uri="")])
def test_no_capture_without_an_enabled_config(given) -> None:
    assert c.settings(given) is None


def test_settings_apply_the_defaults() -> None:
    given = config(InitialSamplingPercentage=30, KmsKeyId="alias/capture",
                   CaptureContentTypeHeader={"CsvContentTypes": ["Text/CSV"]})
    del given["EnableCapture"]  # "defaults to enabled"
    got = c.settings(given)
    assert got == c.CaptureSettings("s3://bucket/capture", 30, frozenset({"INPUT", "OUTPUT"}), frozenset({"text/csv"}),
                                    frozenset(), "alias/capture")


@pytest.mark.parametrize(("options", "modes"), [
    ([{"CaptureMode": "Input"}], {"INPUT"}),
    ([{"CaptureMode": "Output"}], {"OUTPUT"}),
    ([{"CaptureMode": "InputAndOutput"}], {"INPUT", "OUTPUT"}),
])
def test_capture_modes(options, modes) -> None:
    assert c.settings(config(CaptureOptions=options)).modes == modes


def test_no_content_type_header_means_base64() -> None:
    got = c.settings(config(CaptureContentTypeHeader=None))
    assert c.payload(b"1,2", "text/csv", "INPUT", got) == c.Payload("text/csv", "INPUT", "MSwy", "BASE64")


@pytest.mark.parametrize(("content_type", "encoding"), [
    ("text/csv", "CSV"), ("text/csv; charset=utf-8", "CSV"), ("TEXT/CSV", "CSV"),
    ("application/json", "JSON"), ("application/json;charset=UTF-8", "JSON"),
    ("application/jsonlines", "BASE64"), ("image/png", "BASE64"), ("", "BASE64"),
])
def test_encoding_follows_the_listed_media_types(content_type: str, encoding: str) -> None:
    assert c.encoding_for(content_type, frozenset({"text/csv"}), frozenset({"application/json"})) == encoding


def test_csv_listed_first_wins_when_a_type_is_in_both_lists() -> None:
    assert c.encoding_for("text/plain", frozenset({"text/plain"}), frozenset({"text/plain"})) == "CSV"


def test_payloads_keep_text_and_keep_undecodable_bytes_in_base64() -> None:
    got = c.settings(config())
    assert c.payload(b'{"a": 1}', "application/json", "OUTPUT", got) == \
        c.Payload("application/json", "OUTPUT", '{"a": 1}', "JSON")
    assert c.payload(b"\xff\xfe", "text/csv", "INPUT", got) == c.Payload("text/csv", "INPUT", "//4=", "BASE64")


def test_build_record_captures_the_configured_sides() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    both = c.build_record(c.settings(config()), event_id="e", when=when, inference_id="i", request=b"1,2",
                          request_content_type="text/csv", response=b"0.5", response_content_type="text/csv")
    assert both == c.CaptureRecord("e", "2024-01-02T03:04:05Z", "i", c.Payload("text/csv", "INPUT", "1,2", "CSV"),
                                   c.Payload("text/csv", "OUTPUT", "0.5", "CSV"))
    output_only = c.build_record(c.settings(config(CaptureOptions=[{"CaptureMode": "Output"}])), event_id="e",
                                 when=when, inference_id=None, request=b"1,2", request_content_type="text/csv",
                                 response=b"0.5", response_content_type="text/csv")
    assert output_only.input is None and output_only.output.data == "0.5"


# --- sampling ------------------------------------------------------------------------------------------


def test_sampling_zero_and_hundred_never_draw() -> None:
    rng = FixedRng()
    assert c.sampled(0, rng) is False
    assert c.sampled(100, rng) is True
    assert rng.draws == 0


def test_sampling_compares_the_draw_with_the_percentage() -> None:
    assert c.sampled(50, FixedRng(0.4999)) is True
    assert c.sampled(50, FixedRng(0.5)) is False
    assert c.sampled(1, FixedRng(0.0099)) is True
    assert c.sampled(1, FixedRng(0.01)) is False


def test_sampling_half_of_a_seeded_stream() -> None:
    rng = random.Random(7)
    kept = sum(c.sampled(50, rng) for _ in range(2000))
    reference = random.Random(7)
    assert kept == sum(reference.random() * 100 < 50 for _ in range(2000))
    assert 900 < kept < 1100


# --- routing -------------------------------------------------------------------------------------------


def test_target_variant_overrides_the_weights_without_drawing() -> None:
    rng = FixedRng()
    assert c.route([("A", 1.0), ("B", 0.0)], rng, "B") == "B"
    assert rng.draws == 0
    with pytest.raises(c.UnknownVariant):
        c.route([("A", 1.0)], rng, "ghost")


def test_routing_splits_by_weight() -> None:
    variants = [("A", 0.7), ("B", 0.3)]
    assert c.route(variants, FixedRng(0.0)) == "A"
    assert c.route(variants, FixedRng(0.6999)) == "A"
    assert c.route(variants, FixedRng(0.7)) == "B"
    assert c.route(variants, FixedRng(0.9999)) == "B"


def test_weights_are_relative_and_default_to_one() -> None:
    assert c.route([("A", 3.0), ("B", 1.0)], FixedRng(0.74)) == "A"  # 0.74 * 4 = 2.96 < 3
    assert c.route([("A", 3.0), ("B", 1.0)], FixedRng(0.76)) == "B"
    assert c.route([("A", None), ("B", 1.0)], FixedRng(0.49)) == "A"
    assert c.route([("A", None), ("B", 1.0)], FixedRng(0.51)) == "B"


def test_zero_and_negative_weights_get_no_traffic_unless_all_are_zero() -> None:
    assert c.route([("A", 0.0), ("B", 1.0)], FixedRng(0.0)) == "B"
    assert c.route([("A", -1.0), ("B", 1.0)], FixedRng(0.0)) == "B"
    assert c.route([("A", 0.0), ("B", 0.0)], FixedRng(0.49)) == "A"
    assert c.route([("A", 0.0), ("B", 0.0)], FixedRng(0.5)) == "B"


def test_a_draw_at_the_very_top_goes_to_the_last_weighted_variant() -> None:
    assert c.route([("A", 1.0), ("B", 0.0)], FixedRng(1.0)) == "A"


def test_no_variant_is_an_error() -> None:
    with pytest.raises(c.UnknownVariant):
        c.route([], FixedRng(0.1))


def test_routing_statistics_with_a_seeded_rng() -> None:
    rng = random.Random(2024)
    counts = {"A": 0, "B": 0, "C": 0}
    for _ in range(10_000):
        counts[c.route([("A", 0.5), ("B", 0.3), ("C", 0.2)], rng)] += 1
    replay = random.Random(2024)
    expected = {"A": 0, "B": 0, "C": 0}
    for _ in range(10_000):
        point = replay.random()
        expected["A" if point < 0.5 else "B" if point < 0.8 else "C"] += 1
    assert counts == expected
    assert abs(counts["A"] - 5000) < 200 and abs(counts["B"] - 3000) < 200 and abs(counts["C"] - 2000) < 200
