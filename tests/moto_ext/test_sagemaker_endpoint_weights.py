"""Wire tests for the SageMaker extension through a moto server: UpdateEndpointWeightsAndCapacities
changes only what each entry gives. AWS: "DesiredWeightAndCapacity" —
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DesiredWeightAndCapacity.html
(DesiredWeight and DesiredInstanceCount are optional members; the variant keeps what is not given)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from fixtures.moto_ext import sagemaker as sagemaker_ext

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"


@pytest.fixture(scope="module")
def sm() -> Iterator:
    sagemaker_ext.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield boto3.client("sagemaker", region_name=REGION, endpoint_url=f"http://{host}:{port}",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    finally:
        server.stop()
        sagemaker_ext.uninstall()


def endpoint(sm, name: str) -> None:
    """An A/B endpoint: production 2 instances weight 0.9, challenger 1 instance weight 0.1."""
    sm.create_model(ModelName=f"{name}-model", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"})
    sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[
        {"VariantName": variant, "ModelName": f"{name}-model", "InitialInstanceCount": count,
         "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": weight}
        for variant, count, weight in (("production", 2, 0.9), ("challenger", 1, 0.1))])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def variants(sm, name: str) -> dict[str, tuple]:
    described = sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
    return {v["VariantName"]: (v.get("CurrentWeight"), v.get("DesiredWeight"), v.get("CurrentInstanceCount"),
                               v.get("DesiredInstanceCount")) for v in described}


def test_weights_only_keep_the_instance_counts(sm) -> None:
    endpoint(sm, "keep-counts")
    sm.update_endpoint_weights_and_capacities(EndpointName="keep-counts", DesiredWeightsAndCapacities=[
        {"VariantName": "production", "DesiredWeight": 1.0}, {"VariantName": "challenger", "DesiredWeight": 0.0}])
    assert variants(sm, "keep-counts") == {"production": (1.0, 1.0, 2, 2), "challenger": (0.0, 0.0, 1, 1)}


def test_instance_count_is_set_when_given_and_the_weight_kept(sm) -> None:
    endpoint(sm, "scale-challenger")
    sm.update_endpoint_weights_and_capacities(EndpointName="scale-challenger", DesiredWeightsAndCapacities=[
        {"VariantName": "challenger", "DesiredInstanceCount": 3}])
    assert variants(sm, "scale-challenger") == {"production": (0.9, 0.9, 2, 2), "challenger": (0.1, 0.1, 3, 3)}


def test_both_members_set_both(sm) -> None:
    endpoint(sm, "both-members")
    sm.update_endpoint_weights_and_capacities(EndpointName="both-members", DesiredWeightsAndCapacities=[
        {"VariantName": "production", "DesiredWeight": 0.5, "DesiredInstanceCount": 4}])
    assert variants(sm, "both-members")["production"] == (0.5, 0.5, 4, 4)


def test_an_unknown_variant_changes_nothing(sm) -> None:
    endpoint(sm, "unknown-variant")
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint_weights_and_capacities(EndpointName="unknown-variant", DesiredWeightsAndCapacities=[
            {"VariantName": "production", "DesiredWeight": 0.0}, {"VariantName": "ghost", "DesiredWeight": 1.0}])
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert variants(sm, "unknown-variant")["production"] == (0.9, 0.9, 2, 2)


def test_uninstall_gives_moto_its_method_back() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    sagemaker_ext.install()
    patched = SageMakerResponse.update_endpoint_weights_and_capacities
    sagemaker_ext.uninstall()
    assert SageMakerResponse.update_endpoint_weights_and_capacities is not patched
    sagemaker_ext.install()
    assert SageMakerResponse.update_endpoint_weights_and_capacities is patched


@pytest.mark.parametrize("isolated", [True, False])
def test_create_model_keeps_network_isolation(sm, isolated):
    """CreateModel API reference, EnableNetworkIsolation: AWS keeps the flag and DescribeModel answers
    it (moto alone always answers false)."""
    name = f"isolated-{str(isolated).lower()}"
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, EnableNetworkIsolation=isolated,
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"})
    assert sm.describe_model(ModelName=name)["EnableNetworkIsolation"] is isolated


def test_describe_endpoint_summarises_data_capture(sm):
    """DescribeEndpoint answers a DataCaptureConfigSummary
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfigSummary.html)."""
    sm.create_model(ModelName="captured-model", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"})
    sm.create_endpoint_config(EndpointConfigName="captured-config", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "captured-model", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large"}], DataCaptureConfig={
        "EnableCapture": True, "InitialSamplingPercentage": 40, "DestinationS3Uri": "s3://bucket/capture",
        "KmsKeyId": "alias/capture", "CaptureOptions": [{"CaptureMode": "Input"}]})
    sm.create_endpoint(EndpointName="captured", EndpointConfigName="captured-config")
    assert sm.describe_endpoint(EndpointName="captured")["DataCaptureConfig"] == {
        "EnableCapture": True, "CaptureStatus": "Started", "CurrentSamplingPercentage": 40,
        "DestinationS3Uri": "s3://bucket/capture", "KmsKeyId": "alias/capture"}
    # The endpoint config keeps the configuration as it was given.
    assert sm.describe_endpoint_config(EndpointConfigName="captured-config")["DataCaptureConfig"][
        "CaptureOptions"] == [{"CaptureMode": "Input"}]
