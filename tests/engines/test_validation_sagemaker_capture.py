"""CreateEndpointConfig's data capture and shadow-variant rules, as AWS refuses them.

Pages: DataCaptureConfig https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html
(InitialSamplingPercentage 0-100, required; DestinationS3Uri pattern ``(https|s3)://([^/])/?(.*)``, at most 512;
CaptureOptions 1-32, required; KmsKeyId pattern ``[a-zA-Z0-9:/_-]*``), CaptureOption
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureOption.html (Input | Output |
InputAndOutput), CaptureContentTypeHeader
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureContentTypeHeader.html (1-10 types each,
pattern ``[a-zA-Z0-9](-*[a-zA-Z0-9])*\\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*``), CreateEndpointConfig
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html (ShadowProductionVariants:
"you can only specify one variant for ProductionVariants and one variant for ShadowProductionVariants").
The model constraints come from botocore's model (AWS's Coral wording); the shadow rule is the module's own.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlalab.engines.validation import rules_table, validate

PATTERN = "(https|s3)://([^/])/?(.*)"


def variant(name: str) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": "churn-model", "InstanceType": "ml.m5.xlarge",
            "InitialInstanceCount": 1}


def capture(**changes: Any) -> dict[str, Any]:
    config = {"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://bucket/capture",
              "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}
    config.update(changes)
    return {key: value for key, value in config.items() if value is not None}


def create(data_capture: dict | None = None, production: int = 1, shadows: int = 0):
    params: dict[str, Any] = {"EndpointConfigName": "churn-config",
                              "ProductionVariants": [variant(f"p{i}") for i in range(production)]}
    if data_capture is not None:
        params["DataCaptureConfig"] = data_capture
    if shadows:
        params["ShadowProductionVariants"] = [variant(f"s{i}") for i in range(shadows)]
    return validate("sagemaker", "CreateEndpointConfig", params)


def test_a_documented_capture_config_is_accepted() -> None:
    assert create(capture(KmsKeyId="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                          CaptureContentTypeHeader={"CsvContentTypes": ["text/csv"],
                                                    "JsonContentTypes": ["application/json"]})) is None
    assert create(capture(InitialSamplingPercentage=0, CaptureOptions=[{"CaptureMode": "InputAndOutput"}],
                          DestinationS3Uri="https://bucket.s3.amazonaws.com/capture")) is None


@pytest.mark.parametrize("percentage", [0, 1, 50, 99, 100])
def test_sampling_percentages_zero_to_hundred_are_accepted(percentage: int) -> None:
    assert create(capture(InitialSamplingPercentage=percentage)) is None


@pytest.mark.parametrize(("percentage", "bound"), [
    (101, "Member must have value less than or equal to 100"),
    (-1, "Member must have value greater than or equal to 0"),
])
def test_sampling_percentage_out_of_range(percentage: int, bound: str) -> None:
    rejection = create(capture(InitialSamplingPercentage=percentage))
    assert (rejection.code, rejection.status) == ("ValidationException", 400)
    assert rejection.message == (f"1 validation error detected: Value '{percentage}' at "
                                 f"'dataCaptureConfig.initialSamplingPercentage' failed to satisfy constraint: {bound}")


@pytest.mark.parametrize("member", ["InitialSamplingPercentage", "DestinationS3Uri", "CaptureOptions"])
def test_required_members(member: str) -> None:
    lower = member[0].lower() + member[1:]
    assert create(capture(**{member: None})).message == (
        f"1 validation error detected: Value null at 'dataCaptureConfig.{lower}' failed to satisfy constraint: "
        "Member must not be null")


@pytest.mark.parametrize("uri", ["bucket/capture", "ftp://bucket/capture", "s3:/bucket", "s3:///capture"])
def test_destination_must_be_an_s3_or_https_uri(uri: str) -> None:
    assert create(capture(DestinationS3Uri=uri)).message == (
        f"1 validation error detected: Value '{uri}' at 'dataCaptureConfig.destinationS3Uri' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {PATTERN}")


def test_destination_at_most_512_characters() -> None:
    uri = "s3://bucket/" + "p" * 501
    assert len(uri) == 513
    assert "Member must have length less than or equal to 512" in create(capture(DestinationS3Uri=uri)).message
    assert create(capture(DestinationS3Uri=uri[:-1])) is None


def test_capture_options_between_1_and_32() -> None:
    assert create(capture(CaptureOptions=[])).message.endswith(
        "at 'dataCaptureConfig.captureOptions' failed to satisfy constraint: Member must have length greater than "
        "or equal to 1")
    assert create(capture(CaptureOptions=[{"CaptureMode": "Input"}] * 32)) is None
    assert "Member must have length less than or equal to 32" in \
        create(capture(CaptureOptions=[{"CaptureMode": "Input"}] * 33)).message


def test_capture_mode_enum() -> None:
    assert create(capture(CaptureOptions=[{"CaptureMode": "Both"}])).message == (
        "1 validation error detected: Value 'Both' at 'dataCaptureConfig.captureOptions.1.member.captureMode' "
        "failed to satisfy constraint: Member must satisfy enum value set: [Input, Output, InputAndOutput]")


def test_content_types_follow_the_media_type_pattern_and_count() -> None:
    rejection = create(capture(CaptureContentTypeHeader={"JsonContentTypes": ["application json"]}))
    assert "captureContentTypeHeader.jsonContentTypes.1.member" in rejection.message
    assert create(capture(CaptureContentTypeHeader={"CsvContentTypes": []})).message.endswith(
        "Member must have length greater than or equal to 1")
    assert "Member must have length less than or equal to 10" in create(
        capture(CaptureContentTypeHeader={"CsvContentTypes": ["text/csv"] * 11})).message


def test_kms_key_pattern() -> None:
    assert create(capture(KmsKeyId="alias/capture-key")) is None
    assert "dataCaptureConfig.kmsKeyId" in create(capture(KmsKeyId="alias/capture key")).message


@pytest.mark.parametrize(("production", "shadows", "refused"), [
    (1, 1, False), (1, 0, False), (3, 0, False), (2, 1, True), (1, 2, True),
])
def test_shadow_variants_need_exactly_one_production_and_one_shadow(production: int, shadows: int,
                                                                    refused: bool) -> None:
    rejection = create(production=production, shadows=shadows)
    assert (rejection is not None) is refused
    if refused:
        assert (rejection.code, rejection.status) == ("ValidationException", 400)
        assert f"(got {production} and {shadows})" in rejection.message


def test_the_shadow_rule_is_listed() -> None:
    assert "With ShadowProductionVariants, exactly one production and one shadow variant (CreateEndpointConfig," \
        in rules_table()["sagemaker"]["CreateEndpointConfig"]
