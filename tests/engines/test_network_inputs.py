"""Conformance: the VPC state read from EC2 (Describe* answers) and the ends a person names, each case
from AWS's documentation.

EC2_PAGING = https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-pagination.html (NextToken paging)
VPC_CIDRS = https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html (a VPC has a primary
    CIDR block and may have secondary ones; CidrBlockAssociationSet lists them all)
ENI = https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-eni.html (an interface has a private
    address in its subnet, security groups and optionally a public IPv4 address, its Association)
IGW = https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html
INTERFACE = https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html
S3_ENDPOINTS = https://docs.aws.amazon.com/general/latest/gr/s3.html (S3 is a Regional service)
"""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import pytest

from mlalab.engines.network import ReachError, Service, Snapshot, collect, endpoint_hosts, resolve
from tests.engines.test_network_reach import RUNTIME, base, reach, snap, with_interface_endpoint

IP = ipaddress.ip_address


KEYS = {"describe_vpcs": "Vpcs", "describe_subnets": "Subnets", "describe_route_tables": "RouteTables",
        "describe_internet_gateways": "InternetGateways", "describe_nat_gateways": "NatGateways",
        "describe_security_groups": "SecurityGroups", "describe_network_acls": "NetworkAcls",
        "describe_vpc_endpoints": "VpcEndpoints", "describe_network_interfaces": "NetworkInterfaces",
        "describe_managed_prefix_lists": "PrefixLists", "get_managed_prefix_list_entries": "Entries"}


class FakeEc2:
    """An EC2 client answering every Describe* call in pages of one item (EC2_PAGING)."""

    def __init__(self, doc: dict, region: str = "eu-west-1") -> None:
        self.doc = doc
        self.meta = SimpleNamespace(region_name=region)

    def __getattr__(self, method: str):
        key = KEYS[method]

        def call(NextToken: str | None = None, PrefixListId: str | None = None) -> dict:
            items = self.doc.get(key, []) if PrefixListId is None else self.doc["entries"][PrefixListId]
            at = int(NextToken or 0)
            page = {key: items[at:at + 1]}
            if at + 1 < len(items):
                page["NextToken"] = str(at + 1)
            return page
        return call


def test_collect_reads_every_page_of_every_describe_call():
    """EC2_PAGING: each Describe* call is followed through its NextToken pages."""
    doc = base()
    entries = {"pl-s3": [{"Cidr": "52.216.0.0/15"}, {"Cidr": "54.231.0.0/16"}]}
    prefix_lists = [{"PrefixListId": "pl-s3", "PrefixListName": "com.amazonaws.eu-west-1.s3"}]
    fake = FakeEc2({**{k: v for k, v in doc.items() if k not in ("Region", "PrefixLists")},
                    "PrefixLists": prefix_lists, "entries": entries})
    state = collect(fake)
    assert state["Region"] == "eu-west-1"
    assert [s["SubnetId"] for s in state["Subnets"]] == ["subnet-pub", "subnet-priv", "subnet-app"]
    assert len(state["SecurityGroups"]) == 4 and len(state["RouteTables"]) == 3
    assert state["PrefixLists"][0]["Entries"] == entries["pl-s3"]
    assert collect(fake, "us-west-2")["Region"] == "us-west-2"
    parsed = Snapshot.parse(state)
    assert parsed.region == "eu-west-1" and len(parsed.prefix_lists["pl-s3"]["cidrs"]) == 2


def test_snapshot_keeps_the_region_and_defaults_to_us_east_1():
    """S3_ENDPOINTS: service names are Regional (com.amazonaws.REGION.s3)."""
    doc = base()
    doc["Region"] = "eu-west-1"
    found = resolve(snap(doc), "s3://models/m.tar.gz")
    assert isinstance(found, Service) and found.name == "com.amazonaws.eu-west-1.s3"
    assert found.resource == "arn:aws:s3:::models/m.tar.gz" and found.action == "s3:GetObject"
    del doc["Region"]
    assert snap(doc).region == "us-east-1"


def test_vpc_cidrs_are_the_primary_and_secondary_blocks():
    """VPC_CIDRS: DescribeVpcs lists the primary block in CidrBlockAssociationSet too; each block counts once."""
    doc = base()
    doc["Vpcs"][0]["CidrBlockAssociationSet"] = [{"CidrBlock": "10.0.0.0/16"}, {"CidrBlock": "100.64.0.0/16"}]
    s = snap(doc)
    assert s.vpcs["vpc-1"].cidrs == [ipaddress.ip_network("10.0.0.0/16"), ipaddress.ip_network("100.64.0.0/16")]
    assert [x.id for x in s.vpcs["vpc-1"].subnets] == ["subnet-pub", "subnet-priv", "subnet-app"]
    with pytest.raises(ReachError, match="none of its subnets"):
        resolve(s, "100.64.3.3")


def test_subnet_of_a_vpc_outside_the_snapshot_is_kept():
    """VPC_CIDRS: a subnet belongs to one VPC; a snapshot of subnets without their VPC still places addresses."""
    doc = base()
    doc["Subnets"].append({"SubnetId": "subnet-x", "VpcId": "vpc-9", "CidrBlock": "10.9.0.0/24"})
    s = snap(doc)
    assert s.subnets["subnet-x"].vpc_id == "vpc-9" and all(x.vpc_id == "vpc-1" for x in s.vpcs["vpc-1"].subnets)


def test_address_is_placed_in_its_subnet():
    """VPC_CIDRS: an address inside a subnet's range is in that subnet; one in the VPC but no subnet is refused."""
    s = snap(base())
    assert resolve(s, "10.0.2.50")[0].subnet.id == "subnet-app"
    assert resolve(s, "8.8.8.8")[0].subnet is None
    with pytest.raises(ReachError, match="none of its subnets"):
        resolve(s, "10.0.200.1")


def test_internet_and_service_names():
    """INTERFACE: a service is named com.amazonaws.REGION.SERVICE; 'internet' is an address outside every VPC."""
    s = snap(base())
    internet = resolve(s, "internet")
    assert internet[0].subnet is None and s.vpc_of(internet[0].ip) is None
    assert resolve(s, RUNTIME, principal="arn:aws:iam::111122223333:role/app") == Service(
        RUNTIME, principal="arn:aws:iam::111122223333:role/app")


def eni_doc(public: bool) -> dict:
    doc = base()
    doc["NetworkInterfaces"].append({"NetworkInterfaceId": "eni-web", "SubnetId": "subnet-pub",
                                     "PrivateIpAddress": "10.0.0.30", "Groups": [{"GroupId": "sg-web"}],
                                     **({"Association": {"PublicIp": "54.1.2.3"}} if public else {})})
    return doc


def test_network_interface_is_its_address_groups_and_public_ip():
    """ENI + IGW: an interface is its private address, its groups and its public IPv4 address (if any)."""
    s = snap(eni_doc(True))
    (eni,) = resolve(s, "eni-web")
    assert eni.ip == IP("10.0.0.30") and eni.subnet.id == "subnet-pub" and eni.groups == {"sg-web"} and eni.public
    assert resolve(s, "10.0.0.30") == [eni]
    assert reach(eni_doc(True), "internet", "eni-web").reachable
    assert not reach(eni_doc(False), "internet", "eni-web").reachable
    assert not reach(eni_doc(False), "eni-web", "8.8.8.8").reachable


def test_network_interface_outside_the_described_subnets_keeps_its_address():
    """ENI: the interface's private address is its own, even when its subnet is not in the snapshot."""
    doc = base()
    doc["NetworkInterfaces"].append({"NetworkInterfaceId": "eni-x", "SubnetId": "subnet-undescribed",
                                     "PrivateIpAddress": "10.9.0.7", "Groups": []})
    (eni,) = resolve(snap(doc), "eni-x")
    assert eni.ip == IP("10.9.0.7") and eni.subnet is None


def test_interface_endpoint_hosts_are_its_network_interfaces():
    """INTERFACE: the endpoint is one network interface per subnet, at the interface's private address."""
    s = snap(with_interface_endpoint(base()))
    (ep,) = resolve(s, "vpce-rt")
    assert ep.ip == IP("10.0.1.20") and ep.subnet.id == "subnet-priv" and ep.groups == {"sg-ep"}


def test_interface_endpoint_subnets_stand_in_for_undescribed_interfaces():
    """INTERFACE: AWS creates the endpoint's interface in each chosen subnet, from the subnet's range."""
    doc = with_interface_endpoint(base())
    doc["VpcEndpoints"][0].update(SubnetIds=["subnet-priv", "subnet-app"], NetworkInterfaceIds=["eni-gone"])
    s = snap(doc)
    hosts = endpoint_hosts(s, s.endpoints["vpce-rt"])
    assert [h.subnet.id for h in hosts] == ["subnet-priv", "subnet-app"]
    assert all(h.ip in h.subnet.cidr and h.groups == {"sg-ep"} for h in hosts)
    doc["NetworkInterfaces"][0]["PrivateIpAddress"] = "192.168.0.1"  # not in its subnet: AWS never assigns it
    doc["VpcEndpoints"][0]["NetworkInterfaceIds"] = ["eni-ep"]
    s = snap(doc)
    (h,) = endpoint_hosts(s, s.endpoints["vpce-rt"])
    assert h.ip in s.subnets["subnet-priv"].cidr


def test_gateway_endpoint_is_not_a_destination():
    """INTERFACE: only interface endpoints have network interfaces; a gateway endpoint is a route."""
    doc = base()
    doc["VpcEndpoints"].append({"VpcEndpointId": "vpce-s3", "VpcId": "vpc-1", "VpcEndpointType": "Gateway",
                                "ServiceName": "com.amazonaws.us-east-1.s3"})
    with pytest.raises(ReachError, match="no network interface"):
        resolve(snap(doc), "vpce-s3")
