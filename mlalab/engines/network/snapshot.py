"""The VPC state a reachability question is asked of: EC2's Describe* answers, parsed once.

A snapshot is a plain JSON document holding the answers of DescribeVpcs, DescribeSubnets,
DescribeRouteTables, DescribeInternetGateways, DescribeNatGateways, DescribeSecurityGroups,
DescribeNetworkAcls, DescribeVpcEndpoints, DescribeNetworkInterfaces and the managed prefix lists
with their entries, in the shapes of the EC2 API reference. :func:`collect` builds one from any
object with boto3's EC2 client methods (the engine imports no AWS library), and the same document
can be saved to a file and read back: the CLI accepts either.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The Describe* calls, the key of their list in the answer, and the snapshot key that keeps it.
DESCRIBE = (
    ("describe_vpcs", "Vpcs"),
    ("describe_subnets", "Subnets"),
    ("describe_route_tables", "RouteTables"),
    ("describe_internet_gateways", "InternetGateways"),
    ("describe_nat_gateways", "NatGateways"),
    ("describe_security_groups", "SecurityGroups"),
    ("describe_network_acls", "NetworkAcls"),
    ("describe_vpc_endpoints", "VpcEndpoints"),
    ("describe_network_interfaces", "NetworkInterfaces"),
    ("describe_managed_prefix_lists", "PrefixLists"),
)


def collect(ec2: Any, region: str | None = None) -> dict[str, Any]:
    """Read a Region's VPC state through an EC2 client (boto3's, or anything with its methods)."""
    snap: dict[str, Any] = {"Region": region or getattr(getattr(ec2, "meta", None), "region_name", None)}
    for method, key in DESCRIBE:
        snap[key] = _all(ec2, method, key)
    for pl in snap["PrefixLists"]:
        pl["Entries"] = _all(ec2, "get_managed_prefix_list_entries", "Entries", PrefixListId=pl["PrefixListId"])
    return snap


def _all(ec2: Any, method: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of one Describe* call (NextToken paging, as every EC2 list call pages)."""
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = getattr(ec2, method)(**kwargs, **({"NextToken": token} if token else {}))
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items


class SnapshotError(ValueError):
    """A snapshot document that is not the shape :func:`collect` writes."""


@dataclass
class Subnet:
    id: str
    vpc_id: str
    cidr: Network
    az: str | None
    public_ip_on_launch: bool


@dataclass
class Vpc:
    id: str
    cidrs: list[Network]
    subnets: list[Subnet] = field(default_factory=list)


@dataclass
class Snapshot:
    """Parsed VPC state, indexed by id (the raw Describe* items are kept as they were)."""

    region: str
    vpcs: dict[str, Vpc]
    subnets: dict[str, Subnet]
    route_tables: list[dict[str, Any]]
    igws: dict[str, list[str]]  # internet gateway id -> the VPCs it is attached to
    nat_gateways: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]
    acls: list[dict[str, Any]]
    endpoints: dict[str, dict[str, Any]]
    enis: dict[str, dict[str, Any]]
    prefix_lists: dict[str, dict[str, Any]]  # id -> {"name": ..., "cidrs": [Network]}

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> Snapshot:
        if not isinstance(doc, Mapping):
            raise SnapshotError("a snapshot is a JSON object with the keys " + ", ".join(k for _, k in DESCRIBE))
        try:
            vpcs = {v["VpcId"]: Vpc(v["VpcId"], _vpc_cidrs(v)) for v in doc.get("Vpcs", [])}
            subnets = {}
            for s in doc.get("Subnets", []):
                subnet = Subnet(s["SubnetId"], s["VpcId"], ipaddress.ip_network(s["CidrBlock"]),
                                s.get("AvailabilityZone"), bool(s.get("MapPublicIpOnLaunch")))
                subnets[subnet.id] = subnet
                if subnet.vpc_id in vpcs:
                    vpcs[subnet.vpc_id].subnets.append(subnet)
            igws = {g["InternetGatewayId"]: [a["VpcId"] for a in g.get("Attachments", [])
                                             if a.get("State", "available") in ("available", "attached")]
                    for g in doc.get("InternetGateways", [])}
            prefix_lists = {p["PrefixListId"]: {"name": p.get("PrefixListName", ""),
                                                "cidrs": [ipaddress.ip_network(e["Cidr"])
                                                          for e in p.get("Entries", [])]}
                            for p in doc.get("PrefixLists", [])}
            return cls(
                region=doc.get("Region") or "us-east-1", vpcs=vpcs, subnets=subnets,
                route_tables=list(doc.get("RouteTables", [])), igws=igws,
                nat_gateways={n["NatGatewayId"]: n for n in doc.get("NatGateways", [])
                              if n.get("State", "available") not in ("deleted", "deleting", "failed")},
                groups={g["GroupId"]: g for g in doc.get("SecurityGroups", [])},
                acls=list(doc.get("NetworkAcls", [])),
                endpoints={e["VpcEndpointId"]: e for e in doc.get("VpcEndpoints", [])
                           if e.get("State", "available").lower() not in ("deleted", "deleting", "rejected")},
                enis={n["NetworkInterfaceId"]: n for n in doc.get("NetworkInterfaces", [])},
                prefix_lists=prefix_lists,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"not a VPC snapshot: {type(exc).__name__} {exc}") from exc

    def vpc_of(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Vpc | None:
        return next((v for v in self.vpcs.values() if any(ip in c for c in v.cidrs)), None)

    def subnet_of(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Subnet | None:
        return next((s for s in self.subnets.values() if ip in s.cidr), None)


def _vpc_cidrs(vpc: Mapping[str, Any]) -> list[Network]:
    cidrs = [vpc["CidrBlock"]] if vpc.get("CidrBlock") else []
    cidrs += [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", [])
              if a.get("CidrBlock") and a["CidrBlock"] not in cidrs]
    return [ipaddress.ip_network(c) for c in cidrs]
