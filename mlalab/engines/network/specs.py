"""Sources and destinations as a person names them: ``internet``, an IP address, ``subnet-ID`` with
security groups (``subnet-0a1b:sg-1,sg-2``, a hypothetical instance there), ``eni-ID``, ``vpce-ID``
(an interface endpoint's interfaces), ``s3://bucket/key`` (an S3 request) or an AWS service name
(``com.amazonaws.REGION.sagemaker.runtime``)."""

from __future__ import annotations

import ipaddress

from .reach import INTERNET_ADDRESS, Host, ReachError, Service, endpoint_hosts
from .snapshot import Snapshot


def resolve(snap: Snapshot, spec: str, principal: str | None = None) -> list[Host] | Service:
    """The host(s) or service ``spec`` names; several hosts for an endpoint with several interfaces."""
    spec = spec.strip()
    if spec == "internet":
        return [Host("internet", INTERNET_ADDRESS)]
    if spec.startswith("s3://"):
        bucket, _, key = spec[5:].partition("/")
        return Service(f"com.amazonaws.{snap.region}.s3", "s3:GetObject", f"arn:aws:s3:::{bucket}/{key or '*'}",
                       principal)
    if spec.startswith("com.amazonaws."):
        return Service(spec, principal=principal)
    if spec.startswith("vpce-"):
        endpoint = snap.endpoints.get(spec)
        if endpoint is None:
            raise ReachError(f"VPC endpoint {spec} is not in the snapshot")
        hosts = endpoint_hosts(snap, endpoint)
        if not hosts:
            raise ReachError(f"VPC endpoint {spec} has no network interface (a gateway endpoint is a route, not "
                             "a destination: name the service, e.g. s3://bucket/key)")
        return hosts
    if spec.startswith("eni-"):
        eni = snap.enis.get(spec)
        if eni is None:
            raise ReachError(f"network interface {spec} is not in the snapshot")
        subnet = snap.subnets.get(eni.get("SubnetId", ""))
        ip = ipaddress.ip_address(eni["PrivateIpAddress"])
        return [Host(spec, ip if subnet is None or ip in subnet.cidr else subnet.cidr[4], subnet,
                     frozenset(g["GroupId"] for g in eni.get("Groups", [])),
                     bool((eni.get("Association") or {}).get("PublicIp")))]
    if spec.startswith("subnet-"):
        subnet_id, _, groups = spec.partition(":")
        subnet = snap.subnets.get(subnet_id)
        if subnet is None:
            raise ReachError(f"subnet {subnet_id} is not in the snapshot")
        unknown = [g for g in groups.split(",") if g and g not in snap.groups]
        if unknown:
            raise ReachError(f"security group {unknown[0]} is not in the snapshot")
        return [Host(spec, subnet.cidr[-2], subnet, frozenset(g for g in groups.split(",") if g),
                     subnet.public_ip_on_launch)]
    try:
        ip = ipaddress.ip_address(spec)
    except ValueError:
        raise ReachError(f"{spec!r} is not a source or destination: use internet, an IP address, "
                         "subnet-ID[:sg-ID,...], eni-ID, vpce-ID, s3://bucket/key or "
                         "com.amazonaws.REGION.SERVICE") from None
    eni = next((e for e in snap.enis.values() if e.get("PrivateIpAddress") == spec), None)
    if eni is not None:
        return resolve(snap, eni["NetworkInterfaceId"])
    subnet = snap.subnet_of(ip)
    if subnet is None and snap.vpc_of(ip) is not None:
        raise ReachError(f"{spec} is in a VPC but in none of its subnets")
    return [Host(spec, ip, subnet)]
