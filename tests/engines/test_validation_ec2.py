"""EC2's request rules (mlalab.engines.validation.ec2), each from the page its docstring cites."""

from __future__ import annotations

import pytest

from mlalab.engines.validation import validate


def vpc_lookup(cidrs=("10.0.0.0/16",), subnets=("10.0.1.0/24",), rules=0):
    def lookup(kind, **keys):
        if kind == "vpc":
            return {"cidrs": list(cidrs), "subnets": list(subnets)}
        if kind == "security_group_rules":
            return rules
        return None
    return lookup


def code(operation, params, lookup=None):
    rejection = validate("ec2", operation, params, lookup, model=False)
    return rejection.code if rejection else None


@pytest.mark.parametrize("cidr, expected", [
    ("10.0.0.0/16", None), ("10.0.0.0/28", None),
    ("10.0.0.0/15", "InvalidVpc.Range"), ("10.0.0.0/29", "InvalidVpc.Range"),
    ("10.0.0.300/16", "InvalidParameterValue"), ("banana", "InvalidParameterValue"),
])
def test_vpc_cidr_size(cidr, expected):
    """vpc-cidr-blocks.html: a VPC's block is between /16 and /28."""
    assert code("CreateVpc", {"CidrBlock": cidr}) == expected


@pytest.mark.parametrize("cidr, expected", [
    ("10.0.2.0/24", None), ("10.0.2.0/28", None),
    ("10.0.2.0/29", "InvalidSubnet.Range"), ("10.0.0.0/15", "InvalidSubnet.Range"),
    ("10.1.0.0/24", "InvalidSubnet.Range"),  # outside the VPC
    ("10.0.1.128/25", "InvalidSubnet.Conflict"), ("10.0.0.0/23", "InvalidSubnet.Conflict"),
    ("10.0.2/24", "InvalidParameterValue"),
])
def test_subnet_cidr(cidr, expected):
    """subnet-sizing.html: /16 to /28, a subset of the VPC's CIDR, not overlapping another subnet."""
    assert code("CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": cidr}, vpc_lookup()) == expected


def test_subnet_state_rules_skipped_without_lookup():
    """Without the VPC's state the rule is skipped, never guessed."""
    assert code("CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": "192.168.0.0/24"}) is None


def test_subnet_message_is_ec2s():
    rejection = validate("ec2", "CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}, vpc_lookup(),
                         model=False)
    assert rejection.message == "The CIDR '10.0.1.0/24' conflicts with another subnet"


def perm(**kw):
    return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, **kw}


@pytest.mark.parametrize("operation", ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"])
def test_security_group_rule_limit(operation):
    """amazon-vpc-limits.html: 60 inbound and 60 outbound rules per security group."""
    params = {"GroupId": "sg-1", "IpPermissions": [perm(IpRanges=[{"CidrIp": "10.0.0.0/16"},
                                                                  {"CidrIp": "10.1.0.0/16"}])]}
    assert code(operation, params, vpc_lookup(rules=58)) is None
    assert code(operation, params, vpc_lookup(rules=59)) == "RulesPerSecurityGroupLimitExceeded"


@pytest.mark.parametrize("permission, expected", [
    (perm(IpRanges=[{"CidrIp": "10.0.0.0/33"}]), "InvalidParameterValue"),
    (perm(Ipv6Ranges=[{"CidrIpv6": "::/129"}]), "InvalidParameterValue"),
    (perm(FromPort=8080, ToPort=80, IpRanges=[{"CidrIp": "10.0.0.0/8"}]), "InvalidParameterValue"),
    (perm(FromPort=0, ToPort=70000, IpRanges=[{"CidrIp": "10.0.0.0/8"}]), "InvalidParameterValue"),
    (perm(UserIdGroupPairs=[{"GroupId": "sg-2"}]), None),
    ({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, None),
])
def test_security_group_rule_shape(permission, expected):
    """API_AuthorizeSecurityGroupIngress: valid CIDRs; a TCP/UDP FromPort no greater than ToPort."""
    assert code("AuthorizeSecurityGroupIngress", {"GroupId": "sg-1", "IpPermissions": [permission]}) == expected


@pytest.mark.parametrize("number, expected", [(1, None), (32766, None), (0, "InvalidParameterValue"),
                                              (32767, "InvalidParameterValue")])
def test_network_acl_rule_number(number, expected):
    """API_CreateNetworkAclEntry: RuleNumber 1-32766; 32767-65535 are reserved."""
    params = {"NetworkAclId": "acl-1", "RuleNumber": number, "Protocol": "6", "RuleAction": "allow",
              "Egress": False, "CidrBlock": "10.0.0.0/16"}
    assert code("CreateNetworkAclEntry", params) == expected


def test_network_acl_cidr():
    params = {"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": False,
              "CidrBlock": "10.0.0.0/99"}
    assert code("CreateNetworkAclEntry", params) == "InvalidParameterValue"
