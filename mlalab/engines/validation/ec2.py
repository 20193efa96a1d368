"""EC2's cross-parameter rules for the VPC requests labs make.

Pages:
- CreateVpc, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html and VPC CIDR
  blocks, https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html ("The allowed block
  size is between a /16 netmask (65,536 IP addresses) and /28 netmask (16 IP addresses)").
- CreateSubnet, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html and
  subnet sizing, https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html (a subnet's CIDR
  is a subset of the VPC's, /16 to /28, and "can't overlap" another subnet of the VPC).
- Security group rules: AuthorizeSecurityGroupIngress / Egress,
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html, and the
  quota of 60 inbound and 60 outbound rules per security group,
  https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups.
- CreateNetworkAclEntry, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html
  (RuleNumber: "Positive integer from 1 to 32766. The range 32767 to 65535 is reserved for internal use").

The error codes and messages are EC2's (InvalidParameterValue, InvalidVpc.Range, InvalidSubnet.Range,
InvalidSubnet.Conflict, RulesPerSecurityGroupLimitExceeded). Rules that need the VPC's state ask
``lookup("vpc", vpc_id=...)`` (``{"cidrs": [...], "subnets": [...]}``) or
``lookup("security_group_rules", group_id=..., egress=...)`` (a count); without an answer they are skipped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection

MIN_PREFIX, MAX_PREFIX = 16, 28
RULES_PER_GROUP = 60


def _network(text: Any) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(str(text), strict=False) if "/" in str(text) else None
    except ValueError:
        return None


def _invalid_cidr(cidr: Any) -> Rejection:
    return Rejection("InvalidParameterValue",
                     f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.")


def _sized(cidr: Any, range_code: str) -> tuple[ipaddress.IPv4Network | None, Rejection | None]:
    """A VPC's or subnet's CIDR parsed, or EC2's refusal: not a CIDR, or outside /16 to /28 (``range_code``
    is InvalidVpc.Range or InvalidSubnet.Range)."""
    net = _network(cidr)
    if net is None:
        return None, _invalid_cidr(cidr)
    if not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
        return None, Rejection(range_code, f"The CIDR '{cidr}' is invalid.")
    return net, None


def vpc_cidr(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A VPC's IPv4 CIDR block is a valid CIDR of /16 to /28 (CreateVpc, CidrBlock)."""
    cidr = p.get("CidrBlock")
    return None if cidr is None else _sized(cidr, "InvalidVpc.Range")[1]


def subnet_cidr(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
    """A subnet's CIDR is valid, /16 to /28, inside its VPC's CIDRs and overlaps no other subnet (CreateSubnet)."""
    cidr = p.get("CidrBlock")
    if cidr is None:
        return None
    net, rejection = _sized(cidr, "InvalidSubnet.Range")
    if rejection:
        return rejection
    vpc = lookup("vpc", vpc_id=p.get("VpcId")) if lookup else None
    if not vpc:
        return None
    if not any(net.subnet_of(ipaddress.IPv4Network(c)) for c in vpc.get("cidrs", [])):
        return Rejection("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.")
    if any(net.overlaps(ipaddress.IPv4Network(c)) for c in vpc.get("subnets", [])):
        return Rejection("InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another subnet")
    return None


def _permission_rejection(perm: Mapping[str, Any]) -> Rejection | None:
    for r in perm.get("IpRanges", []) or []:
        if _network(r.get("CidrIp")) is None:
            return Rejection("InvalidParameterValue", f"CIDR block {r.get('CidrIp')} is malformed")
    for r in perm.get("Ipv6Ranges", []) or []:
        try:
            ipaddress.IPv6Network(str(r.get("CidrIpv6")), strict=False)
        except ValueError:
            return Rejection("InvalidParameterValue", f"CIDR block {r.get('CidrIpv6')} is malformed")
    protocol = str(perm.get("IpProtocol", "")).lower()
    low, high = perm.get("FromPort"), perm.get("ToPort")
    if protocol in ("tcp", "udp", "6", "17") and low is not None and high is not None:
        if not (0 <= int(low) <= 65535 and 0 <= int(high) <= 65535) or int(low) > int(high):
            return Rejection("InvalidParameterValue", f"Invalid TCP/UDP port range: FromPort {low}, ToPort {high}")
    return None


def _rules_in(p: Mapping[str, Any]) -> int:
    """Rules a request adds: one per CIDR, prefix list or group of each permission (the quota's unit)."""
    count = 0
    for perm in p.get("IpPermissions", []) or []:
        count += sum(len(perm.get(k, []) or []) for k in ("IpRanges", "Ipv6Ranges", "PrefixListIds",
                                                           "UserIdGroupPairs"))
    return count + (1 if p.get("CidrIp") else 0)


def _security_group_rules(egress: bool):
    def rule(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
        for perm in p.get("IpPermissions", []) or []:
            rejection = _permission_rejection(perm)
            if rejection:
                return rejection
        if p.get("CidrIp") is not None and _network(p["CidrIp"]) is None:
            return Rejection("InvalidParameterValue", f"CIDR block {p['CidrIp']} is malformed")
        existing = lookup("security_group_rules", group_id=p.get("GroupId"), egress=egress) if lookup else None
        if existing is not None and existing + _rules_in(p) > RULES_PER_GROUP:
            return Rejection("RulesPerSecurityGroupLimitExceeded",
                             "The maximum number of rules per security group has been reached.")
        return None

    rule.__doc__ = (f"{'Egress' if egress else 'Ingress'} rules name valid CIDRs and port ranges, and a group "
                    f"holds at most {RULES_PER_GROUP} {'outbound' if egress else 'inbound'} rules (VPC quotas)")
    return rule


def acl_entry(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A network ACL entry's RuleNumber is 1-32766 and its CidrBlock valid (CreateNetworkAclEntry)."""
    number = p.get("RuleNumber")
    if number is not None and not 1 <= int(number) <= 32766:
        return Rejection("InvalidParameterValue",
                         f"Value ({number}) for parameter ruleNumber is invalid. Rule number must be between 1 "
                         "and 32766.")
    cidr = p.get("CidrBlock")
    if cidr is not None and _network(cidr) is None:
        return _invalid_cidr(cidr)
    return None


RULES = {
    "CreateVpc": [vpc_cidr],
    "CreateSubnet": [subnet_cidr],
    "AuthorizeSecurityGroupIngress": [_security_group_rules(False)],
    "AuthorizeSecurityGroupEgress": [_security_group_rules(True)],
    "CreateNetworkAclEntry": [acl_entry],
    "ReplaceNetworkAclEntry": [acl_entry],
}
