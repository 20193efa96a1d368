"""Data capture, as a SageMaker real-time endpoint does it: which requests are captured, which variant
answers, what one capture line looks like and where in S3 it lands.

AWS's pages:

* DataCaptureConfig, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html
  (EnableCapture "defaults to enabled"; InitialSamplingPercentage "the percentage of requests SageMaker
  AI will capture"; CaptureOptions; KmsKeyId used "to encrypt the captured data at rest using Amazon S3
  server-side encryption").
* CaptureOption, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureOption.html
  (CaptureMode ``Input | Output | InputAndOutput``).
* CaptureContentTypeHeader,
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureContentTypeHeader.html
  ("If no headers are specified Amazon SageMaker AI will by default base64 encode when capturing the
  data"; CsvContentTypes / JsonContentTypes: the content types it "will treat as CSV / JSON and capture
  accordingly").
* Capture data, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html and the
  record format in ``shared/reference/model-monitor/data-capture/captured-data.jsonl`` (one JSON object
  a line: ``captureData.endpointInput/endpointOutput`` with ``observedContentType``, ``mode``, ``data``,
  ``encoding``; ``eventMetadata`` with ``eventId``, ``inferenceId`` when the caller passed one, and
  ``inferenceTime`` to the second with ``Z``; ``eventVersion`` "0").
* S3 key layout (shared/reference/README.md):
  ``{DestinationS3Uri}/{endpoint}/{variant}/yyyy/mm/dd/hh/{MM}-{SS}-{mmm}-{uuid}.jsonl``.
* InvokeEndpoint, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
  (TargetVariant "overrides the default behavior for the endpoint, which is to distribute the
  invocation traffic based on the variant weights").

Pure: randomness comes in as a ``random.Random`` the caller seeds, so a grading is reproducible.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

INPUT, OUTPUT = "INPUT", "OUTPUT"
# What json.dumps(..., separators=(",", ":"), ensure_ascii=False) builds on every call, built once: a
# capture line is written for every captured request (thousands a monitored grading).
_LINE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
CSV, JSON, BASE64 = "CSV", "JSON", "BASE64"
# CaptureMode values and the payloads each captures.
MODES = {"Input": (INPUT,), "Output": (OUTPUT,), "InputAndOutput": (INPUT, OUTPUT)}
DEFAULT_WEIGHT = 1.0  # ProductionVariant.InitialVariantWeight: "If unspecified, it defaults to 1.0."


@dataclass(frozen=True)
class Payload:
    """One side of a captured exchange (``endpointInput`` or ``endpointOutput``)."""

    observed_content_type: str
    mode: str  # INPUT | OUTPUT
    data: str
    encoding: str  # CSV | JSON | BASE64

    def to_dict(self) -> dict[str, str]:
        """AWS's member names, in AWS's order."""
        return {"observedContentType": self.observed_content_type, "mode": self.mode, "data": self.data,
                "encoding": self.encoding}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Payload:
        return cls(observed_content_type=str(doc.get("observedContentType", "")), mode=str(doc.get("mode", "")),
                   data=str(doc.get("data", "")), encoding=str(doc.get("encoding", "")))

    def raw(self) -> bytes:
        """The bytes the endpoint saw (BASE64 data decoded)."""
        if self.encoding == BASE64:
            return base64.b64decode(self.data)
        return self.data.encode("utf-8")


@dataclass(frozen=True)
class CaptureRecord:
    """One captured invocation: one line of a capture file."""

    event_id: str
    inference_time: str  # ISO 8601 to the second, "Z"
    inference_id: str | None
    input: Payload | None
    output: Payload | None

    def to_dict(self) -> dict[str, Any]:
        capture: dict[str, Any] = {}
        if self.input is not None:
            capture["endpointInput"] = self.input.to_dict()
        if self.output is not None:
            capture["endpointOutput"] = self.output.to_dict()
        metadata = {"eventId": self.event_id}
        if self.inference_id is not None:
            metadata["inferenceId"] = self.inference_id
        metadata["inferenceTime"] = self.inference_time
        return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}

    def to_line(self) -> str:
        """AWS's line: compact JSON (no spaces), no trailing newline."""
        return _LINE.encode(self.to_dict())

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> CaptureRecord:
        capture = doc.get("captureData") or {}
        metadata = doc.get("eventMetadata") or {}
        given_input, given_output = capture.get("endpointInput"), capture.get("endpointOutput")
        inference_id = metadata.get("inferenceId")
        return cls(event_id=str(metadata.get("eventId", "")), inference_time=str(metadata.get("inferenceTime", "")),
                   inference_id=None if inference_id is None else str(inference_id),
                   input=Payload.from_dict(given_input) if isinstance(given_input, Mapping) else None,
                   output=Payload.from_dict(given_output) if isinstance(given_output, Mapping) else None)


def parse_lines(text: str) -> list[CaptureRecord]:
    """Every record of a capture file (JSON lines; blank lines skipped). A line that is not a JSON object
    raises ``ValueError`` naming its line number: a capture file is AWS's output, never half-read."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError as error:
            raise ValueError(f"capture line {number} is not JSON: {error}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"capture line {number} is not a JSON object")
        records.append(CaptureRecord.from_dict(doc))
    return records


def format_inference_time(when: datetime) -> str:
    """``2019-11-24T07:30:50Z``: UTC, to the second (naive times are taken as UTC)."""
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- where captures land -------------------------------------------------------------------------


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix without surrounding slashes) of an ``s3://`` or ``https://`` S3 URI
    (DestinationS3Uri's pattern allows both). Virtual-hosted ``https://bucket.s3...amazonaws.com/p`` and
    path-style ``https://s3...amazonaws.com/bucket/p`` are understood."""
    parts = urlsplit(uri)
    path = parts.path.strip("/")
    if parts.scheme == "s3":
        return parts.netloc, path
    host = parts.netloc.split(":", 1)[0]
    if host.startswith("s3.") or host.startswith("s3-") or ".s3" not in host:
        bucket, _, prefix = path.partition("/")
        return bucket, prefix.strip("/")
    return host.split(".s3", 1)[0], path


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def hour_prefix(destination_s3_uri: str, endpoint: str, variant: str, hour: datetime) -> tuple[str, str]:
    """(bucket, ``prefix/endpoint/variant/yyyy/mm/dd/hh/``): where one hour of one variant's captures lie."""
    bucket, prefix = split_s3_uri(destination_s3_uri)
    head = f"{prefix}/" if prefix else ""
    return bucket, f"{head}{endpoint}/{variant}/{_utc(hour):%Y/%m/%d/%H}/"


def capture_key(destination_s3_uri: str, endpoint: str, variant: str, when: datetime, uid: str) -> tuple[str, str]:
    """(bucket, key) of a capture file first written at ``when``: ``.../hh/{MM}-{SS}-{mmm}-{uid}.jsonl``."""
    when = _utc(when)
    bucket, prefix = hour_prefix(destination_s3_uri, endpoint, variant, when)
    return bucket, f"{prefix}{when:%M-%S}-{when.microsecond // 1000:03d}-{uid}.jsonl"


# --- what is captured ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureSettings:
    """An endpoint config's DataCaptureConfig, with AWS's defaults applied."""

    destination_s3_uri: str
    sampling_percentage: int
    modes: frozenset[str]  # INPUT and/or OUTPUT
    csv_content_types: frozenset[str]
    json_content_types: frozenset[str]
    kms_key_id: str | None = None


def settings(config: Mapping[str, Any] | None) -> CaptureSettings | None:
    """The capture an endpoint performs under this DataCaptureConfig, or None when it captures nothing
    (no config, ``EnableCapture`` false, no destination). EnableCapture defaults to true."""
    if not config or not config.get("EnableCapture", True) or not config.get("DestinationS3Uri"):
        return None
    modes: set[str] = set()
    for option in config.get("CaptureOptions") or ():
        modes.update(MODES.get((option or {}).get("CaptureMode", ""), ()))
    header = config.get("CaptureContentTypeHeader") or {}
    return CaptureSettings(
        destination_s3_uri=str(config["DestinationS3Uri"]),
        sampling_percentage=int(config.get("InitialSamplingPercentage", 0)),
        modes=frozenset(modes),
        csv_content_types=frozenset(_media_type(t) for t in header.get("CsvContentTypes") or ()),
        json_content_types=frozenset(_media_type(t) for t in header.get("JsonContentTypes") or ()),
        kms_key_id=config.get("KmsKeyId") or None)


def _media_type(content_type: str) -> str:
    """``text/csv; charset=utf-8`` -> ``text/csv`` (media types compare case-insensitively, RFC 9110)."""
    return content_type.split(";", 1)[0].strip().lower()


def encoding_for(content_type: str, csv_types: frozenset[str], json_types: frozenset[str]) -> str:
    """CSV or JSON when the content type's media type is listed as such, else BASE64 (AWS's default).
    Parameters such as ``; charset=utf-8`` do not change the media type: AWS captures a model's
    ``text/csv; charset=utf-8`` answer as CSV (shared/reference/README.md)."""
    media = _media_type(content_type)
    if media in csv_types:
        return CSV
    if media in json_types:
        return JSON
    return BASE64


def payload(body: bytes, content_type: str, mode: str, capture: CaptureSettings) -> Payload:
    """One captured side. CSV and JSON data are the body as text; a body that is not UTF-8 text is kept
    in BASE64 rather than altered (not documented by AWS: captured bytes are never changed here)."""
    encoding = encoding_for(content_type, capture.csv_content_types, capture.json_content_types)
    if encoding != BASE64:
        try:
            return Payload(content_type, mode, body.decode("utf-8"), encoding)
        except UnicodeDecodeError:
            pass
    return Payload(content_type, mode, base64.b64encode(body).decode("ascii"), BASE64)


def build_record(capture: CaptureSettings, *, event_id: str, when: datetime, inference_id: str | None,
                 request: bytes, request_content_type: str, response: bytes,
                 response_content_type: str) -> CaptureRecord:
    """The line an endpoint captures for one invocation, with the sides its capture modes ask for."""
    return CaptureRecord(
        event_id=event_id, inference_time=format_inference_time(when), inference_id=inference_id,
        input=payload(request, request_content_type, INPUT, capture) if INPUT in capture.modes else None,
        output=payload(response, response_content_type, OUTPUT, capture) if OUTPUT in capture.modes else None)


def sampled(percentage: float, rng: random.Random) -> bool:
    """Whether one request is captured: each with probability ``percentage``/100. 0 never and 100 always,
    without drawing (so a full capture does not shift the routing sequence)."""
    if percentage <= 0:
        return False
    if percentage >= 100:
        return True
    return rng.random() * 100 < percentage


# --- which variant answers -----------------------------------------------------------------------


class UnknownVariant(ValueError):
    """TargetVariant names no production variant of the endpoint."""


def route(variants: Sequence[tuple[str, float | None]], rng: random.Random, target: str | None = None) -> str:
    """The production variant that serves a request: ``target`` when given (it must be one of them),
    else one drawn with probability weight / total weight. A weight of None is the default 1.0. When
    every weight is 0 (not documented by AWS) the variants share traffic equally."""
    if not variants:
        raise UnknownVariant("the endpoint has no production variant")
    if target is not None:
        for name, _ in variants:
            if name == target:
                return name
        raise UnknownVariant(target)
    weights = [DEFAULT_WEIGHT if weight is None else max(float(weight), 0.0) for _, weight in variants]
    total = sum(weights)
    if total <= 0:
        weights, total = [1.0] * len(variants), float(len(variants))
    point = rng.random() * total
    for (name, _), weight in zip(variants, weights, strict=True):
        if point < weight:
            return name
        point -= weight
    return next(name for (name, _), weight in zip(reversed(variants), reversed(weights), strict=True) if weight > 0)


__all__ = ["BASE64", "CSV", "INPUT", "JSON", "MODES", "OUTPUT", "CaptureRecord", "CaptureSettings", "Payload",
           "UnknownVariant", "build_record", "capture_key", "encoding_for", "format_inference_time", "hour_prefix",
           "parse_lines", "payload", "route", "sampled", "settings", "split_s3_uri"]
