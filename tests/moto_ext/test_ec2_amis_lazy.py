"""moto's default AMIs are built on first read (``fixtures.moto_ext.ec2``), and nothing a caller sees
changes: DescribeImages and DescribeSnapshots answer what moto's eagerly loaded backend answers, in
the same order; RunInstances accepts a default AMI; a backend that is never asked for images (a VPC
lab, moto's reset) never builds them.

AWS: DescribeImages https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
(``Owners``: "amazon" among the aliases), RunInstances
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html, DescribeSnapshots
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest

from fixtures.moto_ext import ec2 as ec2_ext
from fixtures.moto_ext.ec2 import models as ec2_models
from mlalab.server import LabServer

ACCOUNT, REGION = "123456789012", "us-east-1"
# moto 5.2.5's default data for us-east-1: 44 AMIs (amis.json) + 30 latest + 1,227 ECS-optimised
DEFAULT_AMIS = 1301
# the first entry of moto's amis.json (Windows Server 2016 Nano), an Ubuntu 14.04 one (Canonical's) and an
# Amazon Linux 2 "latest" AMI
WINDOWS_AMI, UBUNTU_AMI, AL2_ARM_AMI = "ami-03cf127a", "ami-1e749f67", "ami-0ec9fb22458dddf3d"


@pytest.fixture
def ec2(fresh_client) -> Any:
    return fresh_client("ec2", "describe_vpcs")


@pytest.fixture
def built() -> Iterator[mock.MagicMock]:
    """Counts the ``Ami`` objects moto's loader builds."""
    from moto.ec2.models import amis

    with mock.patch.object(amis, "Ami", wraps=amis.Ami) as ami:
        yield ami


def _backend():
    from moto.ec2.models import ec2_backends

    return ec2_backends[ACCOUNT][REGION]


def _images(client, **kwargs) -> list[dict]:
    """The images without what moto makes afresh for each backend (the snapshot's random id, the
    time of creation)."""
    images = client.describe_images(**kwargs)["Images"]
    for image in images:
        assert image.pop("CreationDate").endswith("Z")
        for mapping in image["BlockDeviceMappings"]:
            assert mapping["Ebs"].pop("SnapshotId").startswith("snap-")
    return images


def _snapshots(client, **kwargs) -> list[dict]:
    snapshots = client.describe_snapshots(**kwargs)["Snapshots"]
    for snapshot in snapshots:
        assert snapshot.pop("SnapshotId").startswith("snap-") and snapshot.pop("VolumeId").startswith("vol-")
        snapshot.pop("StartTime")
    return snapshots


def _with_moto_eager(server, read) -> Any:
    """``read(client)`` against moto's own loader (the extension uninstalled), on a fresh backend."""
    ec2_ext.uninstall()
    try:
        LabServer.reset()
        client = boto3.client("ec2", endpoint_url=server.endpoint_url, region_name=REGION,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        assert len(_backend().__dict__["amis"]) == DEFAULT_AMIS  # built with the backend
        return read(client)
    finally:
        ec2_ext.install()


def test_a_fresh_backend_builds_no_ami_until_images_are_read(ec2, built) -> None:
    LabServer.reset()  # moto re-initialises the old backend before dropping it: nothing built either
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_security_group(GroupName="inference", Description="endpoint", VpcId=vpc,
                              TagSpecifications=[{"ResourceType": "security-group",
                                                  "Tags": [{"Key": "team", "Value": "ml"}]}])
    ec2.describe_security_groups()
    tags = ec2.describe_tags()["Tags"]
    assert built.call_count == 0 and ec2_ext.pending(_backend())
    assert [(t["ResourceType"], t["Key"], t["Value"]) for t in tags] == [("security-group", "team", "ml")]

    assert len(ec2.describe_images()["Images"]) == DEFAULT_AMIS
    assert built.call_count == DEFAULT_AMIS and not ec2_ext.pending(_backend())
    ec2.describe_images(ImageIds=[UBUNTU_AMI])
    assert built.call_count == DEFAULT_AMIS  # once per backend


def test_describe_images_answers_as_moto_does(server, ec2) -> None:
    """The first read is filtered by owner alias; moto's unfiltered answer holds the same images (every
    default AMI has the "amazon" alias), with the same attributes, in the same order."""
    lazy = _images(ec2, Owners=["amazon"])
    eager = _with_moto_eager(server, _images)
    assert len(lazy) == DEFAULT_AMIS and lazy == eager
    ubuntu = next(image for image in lazy if image["ImageId"] == UBUNTU_AMI)
    assert (ubuntu["OwnerId"], ubuntu["ImageOwnerAlias"], ubuntu["Public"]) == ("099720109477", "amazon", True)


def test_describe_images_with_owner_and_id_filters(ec2) -> None:
    """The first request reads images with a filter: the same answer as a load before it."""
    arm = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["arm64"]},
                                                         {"Name": "image-id", "Values": [AL2_ARM_AMI]}])["Images"]
    assert [(i["ImageId"], i["Architecture"], i["OwnerId"]) for i in arm] == [(AL2_ARM_AMI, "arm64", "137112412989")]
    assert ec2.describe_images(Owners=["self"])["Images"] == []


def test_run_instances_with_a_default_ami(ec2) -> None:
    assert ec2_ext.pending(_backend())
    instance = ec2.run_instances(ImageId=UBUNTU_AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    assert instance["ImageId"] == UBUNTU_AMI and not ec2_ext.pending(_backend())
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert described["ImageId"] == UBUNTU_AMI and described["Architecture"] == "x86_64"


def test_snapshots_keep_moto_order_when_the_learner_snapshots_first(server, ec2) -> None:
    def learner(client) -> tuple[list[dict], list[dict]]:
        volume = client.create_volume(Size=8, AvailabilityZone="us-east-1a")["VolumeId"]
        client.create_snapshot(VolumeId=volume, Description="mine")
        return _snapshots(client), _snapshots(client, OwnerIds=["self"])

    lazy, own = learner(ec2)
    eager, eager_own = _with_moto_eager(server, learner)
    assert len(lazy) == DEFAULT_AMIS + 1 and lazy == eager
    assert lazy[-1]["Description"] == "mine" and own == eager_own
    assert lazy[0]["Description"] == f"Auto-created snapshot for AMI {WINDOWS_AMI}"


def test_the_tagging_api_sees_the_images(ec2) -> None:
    """moto's ``iter_tagged_resources`` (Resource Groups Tagging API, Config, Cost Explorer) reads
    ``amis`` and ``snapshots``: the load runs first."""
    resources = list(_backend().iter_tagged_resources())
    kinds = [r.resource_type for r in resources]
    assert kinds.count("ec2:image") == DEFAULT_AMIS and kinds.count("ec2:snapshot") == DEFAULT_AMIS


def test_a_region_whose_amis_carry_tags_is_loaded_eagerly(monkeypatch, ec2) -> None:
    from moto.ec2.models import EC2Backend

    deferred = EC2Backend(REGION, "111111111111")
    assert ec2_ext.pending(deferred) and deferred.__dict__["amis"] == {}
    monkeypatch.setattr(ec2_models, "_tagless", lambda region: False)
    eager = EC2Backend(REGION, "111111111111")
    assert not ec2_ext.pending(eager) and len(eager.__dict__["amis"]) == DEFAULT_AMIS
    ec2_ext.load(deferred)
    assert list(deferred.amis) == list(eager.amis)


def test_uninstall_builds_the_deferred_amis_and_restores_moto(ec2) -> None:
    from moto.ec2.models import EC2Backend
    from moto.ec2.models.amis import AmiBackend

    backend = _backend()
    assert ec2_ext.pending(backend)
    ec2_ext.uninstall()
    try:
        assert not ec2_ext.pending(backend) and len(backend.__dict__["amis"]) == DEFAULT_AMIS
        assert "amis" not in vars(EC2Backend) and "snapshots" not in vars(EC2Backend)
        assert AmiBackend._load_amis.__qualname__ == "AmiBackend._load_amis"
    finally:
        ec2_ext.install()
    assert isinstance(vars(EC2Backend)["amis"], property)
