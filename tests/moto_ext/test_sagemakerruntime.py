"""Wire tests of endpoints that answer and capture (issue 10, part 1), through a LabServer with boto3's
sagemaker-runtime client and through the in-process harness call.

AWS: InvokeEndpoint https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
(TargetVariant, InferenceId, InvokedProductionVariant; ValidationError, ModelError 424), DataCaptureConfig
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html (KmsKeyId: "encrypt the
captured data at rest using Amazon S3 server-side encryption"), CreateEndpointConfig
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html (ShadowProductionVariants),
capture key layout and line format in shared/reference/README.md and captured-data.jsonl.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fixtures.moto_ext import sagemakerruntime as rt
from fixtures.moto_ext.sagemaker import clock
from fixtures.moto_ext.sagemakerruntime import models
from mlalab.engines.modelmonitor import capture as engine
from mlalab.server import LabServer

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = re.compile(r"^dc/(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/\d{4}/\d{2}/\d{2}/\d{2}/"
                 r"\d{2}-\d{2}-\d{3}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl$")
NOON = datetime(2024, 5, 6, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def aws(server: LabServer) -> Iterator[dict[str, Any]]:
    server.reset()
    clock.set_now(NOON)
    kw = {"region_name": REGION, "endpoint_url": server.endpoint_url, "aws_access_key_id": "testing",
          "aws_secret_access_key": "testing"}
    clients = {name: boto3.client(name, **kw) for name in ("sagemaker", "sagemaker-runtime", "s3")}
    clients["s3"].create_bucket(Bucket="capture")
    yield clients
    clock.reset()


def capture_config(percentage: int = 100, modes: tuple[str, ...] = ("Input", "Output"), **extra: Any) -> dict:
    return {"EnableCapture": True, "InitialSamplingPercentage": percentage, "DestinationS3Uri": "s3://capture/dc",
            "CaptureOptions": [{"CaptureMode": m} for m in modes],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
            **extra}


def endpoint(aws: dict[str, Any], name: str, variants: dict[str, float | None], *, capture: dict | None = None,
             shadows: tuple[str, ...] = ()) -> None:
    sm = aws["sagemaker"]
    sm.create_model(ModelName=f"{name}-model", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn:1"})

    def variant(vname: str, weight: float | None) -> dict:
        entry = {"VariantName": vname, "ModelName": f"{name}-model", "InitialInstanceCount": 1,
                 "InstanceType": "ml.m5.xlarge"}
        return entry if weight is None else {**entry, "InitialVariantWeight": weight}

    params: dict[str, Any] = {"EndpointConfigName": f"{name}-config",
                              "ProductionVariants": [variant(v, w) for v, w in variants.items()]}
    if capture is not None:
        params["DataCaptureConfig"] = capture
    if shadows:
        params["ShadowProductionVariants"] = [variant(s, 1.0) for s in shadows]
    sm.create_endpoint_config(**params)
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def objects(aws: dict[str, Any], prefix: str = "dc/") -> list[str]:
    listed = aws["s3"].list_objects_v2(Bucket="capture", Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def lines(aws: dict[str, Any], prefix: str = "dc/") -> list[engine.CaptureRecord]:
    return [record for key in objects(aws, prefix)
            for record in engine.parse_lines(aws["s3"].get_object(Bucket="capture", Key=key)["Body"].read().decode())]


def scorer(answer: bytes, content_type: str = "text/csv; charset=utf-8"):
    return lambda body, ctype: (answer, content_type)


# --- answering -------------------------------------------------------------------------------------------


def test_the_registered_model_answers_through_boto3(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0})
    seen: list[tuple[bytes, str]] = []

    def model(body: bytes, content_type: str) -> tuple[bytes, str]:
        seen.append((body, content_type))
        return b"0.25", "text/csv; charset=utf-8"

    rt.register_model("churn", "AllTraffic", model)
    answer = aws["sagemaker-runtime"].invoke_endpoint(EndpointName="churn", Body=b"3,4,5", ContentType="text/csv")
    assert answer["Body"].read() == b"0.25"
    assert answer["ContentType"] == "text/csv; charset=utf-8"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert seen == [(b"3,4,5", "text/csv")]


def test_in_process_invoke_takes_the_same_path(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config())
    rt.register_model(None, "AllTraffic", lambda body, ctype: (body[::-1], "application/json"))
    assert rt.invoke("churn", "1,2", inference_id="r-1") == {
        "Body": b"2,1", "ContentType": "application/json", "InvokedProductionVariant": "AllTraffic"}
    assert [c.record.inference_id for c in rt.captures("churn")] == ["r-1"]
    assert len(lines(aws)) == 1


def test_an_endpoint_specific_model_wins_over_the_any_endpoint_one(aws) -> None:
    endpoint(aws, "a", {"v": 1.0})
    endpoint(aws, "b", {"v": 1.0})
    rt.register_model(None, "v", scorer(b"generic"))
    rt.register_model("b", "v", scorer(b"specific"))
    assert rt.invoke("a", b"x")["Body"] == b"generic"
    assert rt.invoke("b", b"x")["Body"] == b"specific"


def test_an_unregistered_variant_answers_moto_s_fixed_body(aws) -> None:
    endpoint(aws, "plain", {"AllTraffic": 1.0})
    answer = aws["sagemaker-runtime"].invoke_endpoint(EndpointName="plain", Body=b"1", ContentType="text/csv")
    assert answer["Body"].read() == b"body"
    assert answer["ContentType"] == "content_type"
    assert answer["InvokedProductionVariant"] == "AllTraffic"


def test_an_unknown_endpoint_is_aws_s_validation_error(aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws["sagemaker-runtime"].invoke_endpoint(EndpointName="ghost", Body=b"1", ContentType="text/csv")
    error = caught.value.response
    assert error["Error"] == {"Code": "ValidationError", "Message": f"Endpoint ghost of account {ACCOUNT} not found."}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(rt.ValidationError) as in_process:
        rt.invoke("ghost", b"1")
    assert in_process.value.message == f"Endpoint ghost of account {ACCOUNT} not found."


def test_an_unknown_target_variant_is_a_validation_error(aws) -> None:
    endpoint(aws, "churn", {"A": 1.0})
    with pytest.raises(ClientError) as caught:
        aws["sagemaker-runtime"].invoke_endpoint(EndpointName="churn", Body=b"1", ContentType="text/csv",
                                                 TargetVariant="ghost")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert "ghost" in caught.value.response["Error"]["Message"]


def test_a_failing_model_is_a_model_error(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config())

    def broken(body: bytes, content_type: str) -> tuple[bytes, str]:
        raise ValueError("could not convert string to float: 'abc'")

    rt.register_model("churn", "AllTraffic", broken)
    with pytest.raises(ClientError) as caught:
        aws["sagemaker-runtime"].invoke_endpoint(EndpointName="churn", Body=b"abc", ContentType="text/csv")
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["Error"]["Code"] == "ModelError"
    assert response["Error"]["Message"].startswith(
        'Received server error (500) from AllTraffic with message "could not convert string to float: \'abc\'". '
        f"See https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#logEventViewer:"
        "group=/aws/sagemaker/Endpoints/churn in account 123456789012 for more information.")
    assert response["OriginalStatusCode"] == 500
    assert response["LogStreamArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/churn"
    assert objects(aws) == []  # a failed invocation is not captured


# --- routing ---------------------------------------------------------------------------------------------


def test_target_variant_chooses_the_variant(aws) -> None:
    endpoint(aws, "ab", {"A": 1.0, "B": 0.0})
    rt.register_model(None, "A", scorer(b"a"))
    rt.register_model(None, "B", scorer(b"b"))
    answer = aws["sagemaker-runtime"].invoke_endpoint(EndpointName="ab", Body=b"1", ContentType="text/csv",
                                                      TargetVariant="B")
    assert (answer["Body"].read(), answer["InvokedProductionVariant"]) == (b"b", "B")


def test_routing_follows_weights_with_the_seeded_rng(aws) -> None:
    endpoint(aws, "ab", {"A": 3.0, "B": 1.0})
    rt.register_model(None, "A", scorer(b"a"))
    rt.register_model(None, "B", scorer(b"b"))
    rt.seed(11)
    got = Counter(rt.invoke("ab", b"1")["InvokedProductionVariant"] for _ in range(2000))
    rng = random.Random(11)  # the same draws, replayed on the engine
    assert got == Counter(engine.route([("A", 3.0), ("B", 1.0)], rng) for _ in range(2000))
    assert 1400 < got["A"] < 1600


def test_reset_makes_routing_repeat(aws, server: LabServer) -> None:
    endpoint(aws, "ab", {"A": 1.0, "B": 1.0})
    first = [rt.invoke("ab", b"1")["InvokedProductionVariant"] for _ in range(50)]
    rt.reset()
    assert [rt.invoke("ab", b"1")["InvokedProductionVariant"] for _ in range(50)] == first
    assert set(first) == {"A", "B"}


def test_update_endpoint_weights_moves_the_traffic(aws) -> None:
    endpoint(aws, "ab", {"A": 1.0, "B": 1.0})
    aws["sagemaker"].update_endpoint_weights_and_capacities(EndpointName="ab", DesiredWeightsAndCapacities=[
        {"VariantName": "A", "DesiredWeight": 0.0}])
    assert {rt.invoke("ab", b"1")["InvokedProductionVariant"] for _ in range(100)} == {"B"}


def test_a_zero_initial_weight_gets_no_traffic(aws) -> None:
    endpoint(aws, "ab", {"A": 0.0, "B": 1.0})  # moto drops CurrentWeight 0; the config's weight counts
    assert {rt.invoke("ab", b"1")["InvokedProductionVariant"] for _ in range(100)} == {"B"}


def test_a_variant_without_a_weight_weighs_one(aws) -> None:
    endpoint(aws, "ab", {"A": None, "B": 1.0})
    rt.seed(3)
    got = Counter(rt.invoke("ab", b"1")["InvokedProductionVariant"] for _ in range(1000))
    assert 400 < got["A"] < 600


# --- capturing -------------------------------------------------------------------------------------------


def test_capture_lines_land_at_aws_s_key_layout_with_kms(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config(KmsKeyId=KMS))
    rt.register_model(None, "AllTraffic", scorer(b"0.0364"))
    clock.set_now(datetime(2024, 5, 6, 13, 7, 9, 345000, tzinfo=UTC))
    aws["sagemaker-runtime"].invoke_endpoint(EndpointName="churn", Body=b"132,10", ContentType="text/csv",
                                             InferenceId="order-17")
    [key] = objects(aws)
    assert KEY.match(key) and key.startswith("dc/churn/AllTraffic/2024/05/06/13/07-09-345-")
    head = aws["s3"].head_object(Bucket="capture", Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS)
    [record] = lines(aws)
    assert record.inference_id == "order-17"
    assert record.inference_time == "2024-05-06T13:07:09Z"
    assert record.input == engine.Payload("text/csv", "INPUT", "132,10", "CSV")
    assert record.output == engine.Payload("text/csv; charset=utf-8", "OUTPUT", "0.0364", "CSV")
    line = aws["s3"].get_object(Bucket="capture", Key=key)["Body"].read().decode()
    assert line == record.to_line() + "\n"


def test_without_kms_the_object_is_not_sse_kms(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config())
    rt.invoke("churn", b"1")
    head = aws["s3"].head_object(Bucket="capture", Key=objects(aws)[0])
    assert head.get("ServerSideEncryption") != "aws:kms"


def test_json_payloads_are_captured_as_json_and_unlisted_types_as_base64(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config())
    rt.register_model(None, "AllTraffic", lambda body, ctype: (b'{"score": 0.5}', "application/json"))
    rt.invoke("churn", b'{"features": [1, 2]}', "application/json")
    rt.invoke("churn", b"\x89PNG", "image/png")
    first, second = lines(aws)
    assert (first.input.encoding, first.input.data) == ("JSON", '{"features": [1, 2]}')
    assert (first.output.encoding, first.output.data) == ("JSON", '{"score": 0.5}')
    assert (second.input.encoding, second.input.data, second.input.raw()) == ("BASE64", "iVBORw==", b"\x89PNG")


@pytest.mark.parametrize(("modes", "sides"), [(("Input",), (True, False)), (("Output",), (False, True)),
                                              (("InputAndOutput",), (True, True))])
def test_capture_modes(aws, modes, sides) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config(modes=modes))
    rt.invoke("churn", b"1")
    [record] = lines(aws)
    assert (record.input is not None, record.output is not None) == sides


@pytest.mark.parametrize(("percentage", "low", "high"), [(0, 0, 0), (50, 150, 250), (100, 400, 400)])
def test_sampling_percentage(aws, percentage: int, low: int, high: int) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config(percentage))
    rt.seed(5)
    for _ in range(400):
        rt.invoke("churn", b"1")
    assert low <= len(lines(aws)) <= high
    assert len(rt.captures("churn")) == len(lines(aws))


def test_fifty_percent_sampling_is_reproducible(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config(50))
    rt.seed(5)
    for i in range(100):
        rt.invoke("churn", b"1", inference_id=str(i))
    kept = [c.record.inference_id for c in rt.captures()]
    rt.seed(5)
    for i in range(100):
        rt.invoke("churn", b"1", inference_id=f"again-{i}")
    again = [c.record.inference_id.removeprefix("again-") for c in rt.captures()[len(kept):]]
    assert again == kept and 30 < len(kept) < 70


def test_disabled_capture_writes_nothing(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config(EnableCapture=False))
    rt.invoke("churn", b"1")
    assert objects(aws) == [] and rt.captures() == []


def test_a_missing_bucket_loses_the_capture_but_not_the_answer(aws) -> None:
    config = capture_config()
    config["DestinationS3Uri"] = "s3://no-such-bucket/dc"
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=config)
    rt.register_model(None, "AllTraffic", scorer(b"ok"))
    assert rt.invoke("churn", b"1")["Body"] == b"ok"
    assert rt.captures() == []


def test_one_file_per_variant_and_minute(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config())
    for second in (1, 30, 59):
        clock.set_now(datetime(2024, 5, 6, 12, 0, second, tzinfo=UTC))
        rt.invoke("churn", b"1")
    clock.set_now(datetime(2024, 5, 6, 12, 1, 0, tzinfo=UTC))
    rt.invoke("churn", b"1")
    keys = objects(aws)
    assert [k.rsplit("/", 1)[1][:9] for k in keys] == ["00-01-000", "01-00-000"]
    assert [len(engine.parse_lines(aws["s3"].get_object(Bucket="capture", Key=k)["Body"].read().decode()))
            for k in keys] == [3, 1]
    assert [r.inference_time for r in lines(aws)] == ["2024-05-06T12:00:01Z", "2024-05-06T12:00:30Z",
                                                      "2024-05-06T12:00:59Z", "2024-05-06T12:01:00Z"]


def test_a_deleted_capture_file_is_not_resurrected(aws) -> None:
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config())
    rt.invoke("churn", b"1")
    [first] = objects(aws)
    aws["s3"].delete_object(Bucket="capture", Key=first)
    rt.invoke("churn", b"2")
    [second] = objects(aws)
    assert second != first
    assert [r.input.data for r in lines(aws)] == ["2"]


def test_the_hour_prefix_lists_the_hour_s_captures(aws) -> None:
    endpoint(aws, "churn", {"A": 1.0, "B": 1.0}, capture=capture_config())
    for hour in (12, 13):
        clock.set_now(datetime(2024, 5, 6, hour, 30, tzinfo=UTC))
        for _ in range(10):
            rt.invoke("churn", b"1")
    bucket, prefix = engine.hour_prefix("s3://capture/dc", "churn", "A", datetime(2024, 5, 6, 13, tzinfo=UTC))
    assert bucket == "capture"
    got = lines(aws, prefix)
    expected = [c for c in rt.captures("churn") if c.variant == "A" and c.record.inference_time.startswith(
        "2024-05-06T13")]
    assert [r.event_id for r in got] == [c.record.event_id for c in expected] and got


# --- shadow variants -------------------------------------------------------------------------------------


def test_a_shadow_variant_receives_a_copy_is_captured_and_never_answers(aws) -> None:
    endpoint(aws, "churn", {"prod": 1.0}, capture=capture_config(), shadows=("shadow",))
    received: list[bytes] = []
    rt.register_model(None, "prod", scorer(b"0.1"))

    def shadow(body: bytes, content_type: str) -> tuple[bytes, str]:
        received.append(body)
        return b"0.9", "text/csv"

    rt.register_model(None, "shadow", shadow)
    for _ in range(20):
        answer = aws["sagemaker-runtime"].invoke_endpoint(EndpointName="churn", Body=b"7,8", ContentType="text/csv")
        assert (answer["Body"].read(), answer["InvokedProductionVariant"]) == (b"0.1", "prod")
    assert received == [b"7,8"] * 20
    by_variant = Counter(c.variant for c in rt.captures("churn"))
    assert by_variant == {"prod": 20, "shadow": 20}
    shadow_keys = objects(aws, "dc/churn/shadow/")
    assert shadow_keys and all(KEY.match(k) for k in shadow_keys)
    assert {r.output.data for r in lines(aws, "dc/churn/shadow/")} == {"0.9"}
    described = aws["sagemaker"].describe_endpoint_config(EndpointConfigName="churn-config")
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["shadow"]
    endpoint_described = aws["sagemaker"].describe_endpoint(EndpointName="churn")
    assert [v["VariantName"] for v in endpoint_described["ShadowProductionVariants"]] == ["shadow"]


def test_a_failing_shadow_does_not_fail_the_call(aws) -> None:
    endpoint(aws, "churn", {"prod": 1.0}, capture=capture_config(), shadows=("shadow",))
    rt.register_model(None, "prod", scorer(b"0.1"))
    rt.register_model(None, "shadow", lambda body, ctype: 1 / 0)
    assert rt.invoke("churn", b"1")["Body"] == b"0.1"
    assert [c.variant for c in rt.captures()] == ["prod"]


def test_a_shadow_variant_cannot_be_targeted(aws) -> None:
    endpoint(aws, "churn", {"prod": 1.0}, shadows=("shadow",))
    with pytest.raises(rt.ValidationError):
        rt.invoke("churn", b"1", target_variant="shadow")


# --- speed -----------------------------------------------------------------------------------------------


def test_a_thousand_captured_invocations(aws) -> None:
    """Their speed is a `make bench` figure (bench/bench.py: "one monitored hour"), not a timed test."""
    endpoint(aws, "churn", {"A": 0.5, "B": 0.5}, capture=capture_config(KmsKeyId=KMS))
    rt.register_model(None, "A", scorer(b"0.1"))
    rt.register_model(None, "B", scorer(b"0.2"))
    for i in range(1000):
        clock.set_now(datetime(2024, 5, 6, 12, i // 60, i % 60, tzinfo=UTC))
        rt.invoke("churn", b"132,10,1,0,3.5,2.25,1,0,0,1", inference_id=str(i))
    assert len(rt.captures("churn")) == 1000


def test_files_are_capped(aws, monkeypatch) -> None:
    monkeypatch.setattr(models, "MAX_LINES", 3)
    endpoint(aws, "churn", {"AllTraffic": 1.0}, capture=capture_config())
    for _ in range(7):
        rt.invoke("churn", b"1")
    assert len(objects(aws)) == 3
    assert len(lines(aws)) == 7


def test_a_binary_body_reaches_the_model_and_is_captured_in_base64(aws) -> None:
    endpoint(aws, "vision", {"AllTraffic": 1.0}, capture=capture_config())
    seen: list[bytes] = []
    rt.register_model(None, "AllTraffic", lambda body, ctype: (seen.append(body) or b'{"label": "cat"}',
                                                               "application/json"))
    answer = aws["sagemaker-runtime"].invoke_endpoint(EndpointName="vision", Body=b"\xff\xd8\xff\xe0",
                                                      ContentType="image/jpeg")
    assert answer["Body"].read() == b'{"label": "cat"}'
    assert seen == [b"\xff\xd8\xff\xe0"]
    [record] = lines(aws)
    assert record.input == engine.Payload("image/jpeg", "INPUT", "/9j/4A==", "BASE64")
    assert record.output.encoding == "JSON"


def test_uninstall_gives_moto_its_methods_back() -> None:
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    rt.install()  # idempotent: the server installed it already
    assert SageMakerRuntimeResponse.use_raw_body is True
    rt.uninstall()
    try:
        assert SageMakerRuntimeResponse.use_raw_body is False
        assert SageMakerRuntimeResponse.invoke_endpoint.__module__ == "moto.sagemakerruntime.responses"
        assert "sagemakerruntime" not in SageMakerResponse.create_endpoint.__module__
    finally:
        rt.install()
