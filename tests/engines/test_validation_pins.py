"""Pins for validation rules the mutation run showed loose: the order of the shared tag rules, EC2's port
and CIDR boundaries, and rules given through the legacy single-rule parameters.

- AuthorizeSecurityGroupIngress, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
  (FromPort/ToPort 0-65535 for TCP/UDP; the CidrIp parameter adds one rule) and the quota of 60 inbound rules,
  https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups.
- Tag naming limits, https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions.
"""

from __future__ import annotations

import pytest

from mlalab.engines.validation import validate
from tests.engines.test_validation_ec2 import code, vpc_lookup


def tcp(low, high, **ranges):
    return {"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": low, "ToPort": high,
                                                  "IpRanges": [{"CidrIp": "10.0.0.0/16"}], **ranges}]}


@pytest.mark.parametrize("low, high, expected", [
    (65535, 65535, None), (0, 0, None), (65536, 65536, "InvalidParameterValue"),
    (0, 65536, "InvalidParameterValue"), (-1, 10, "InvalidParameterValue"),
])
def test_port_range_boundaries(low, high, expected):
    assert code("AuthorizeSecurityGroupIngress", tcp(low, high)) == expected


def test_an_ipv6_range_with_host_bits_is_accepted_as_ipv4_ones_are():
    params = tcp(443, 443, Ipv6Ranges=[{"CidrIpv6": "2001:db8::1/64"}])
    assert code("AuthorizeSecurityGroupIngress", params) is None
    params = tcp(443, 443, Ipv6Ranges=[{"CidrIpv6": "2001:db8::zz/64"}])
    assert code("AuthorizeSecurityGroupIngress", params) == "InvalidParameterValue"


def test_the_legacy_cidr_parameter_is_checked_and_counted():
    legacy = {"GroupId": "sg-1", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}
    assert code("AuthorizeSecurityGroupIngress", legacy) is None
    assert code("AuthorizeSecurityGroupIngress", {**legacy, "CidrIp": "10.0.0.300/16"}) == "InvalidParameterValue"
    assert code("AuthorizeSecurityGroupIngress", legacy, vpc_lookup(rules=59)) is None
    assert code("AuthorizeSecurityGroupIngress", legacy, vpc_lookup(rules=60)) == "RulesPerSecurityGroupLimitExceeded"


def test_model_constraints_are_answered_before_the_shared_tag_rules():
    """A request that breaks both a model constraint and a tag rule gets the model's answer, as the model
    check runs before every cross-parameter rule."""
    params = {"ResourceArn": "not-an-arn", "Tags": [{"Key": "aws:x", "Value": "v"}]}
    rejection = validate("sagemaker", "AddTags", params)
    assert rejection.code == "ValidationException" and "resourceArn" in rejection.message
    assert "reserved" not in rejection.message


def test_tags_at_creation_refuse_the_reserved_prefix():
    spec = {"CidrBlock": "10.0.0.0/16", "TagSpecifications": [{"ResourceType": "vpc",
                                                                "Tags": [{"Key": "aws:owner", "Value": "me"}]}]}
    rejection = validate("ec2", "CreateVpc", spec, model=False)
    assert (rejection.code, rejection.message) == (
        "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")


def test_egress_and_ingress_count_against_their_own_quota():
    def rules(kind, **keys):
        return (60 if keys.get("egress") else 0) if kind == "security_group_rules" else None

    assert code("AuthorizeSecurityGroupIngress", tcp(443, 443), rules) is None
    assert code("AuthorizeSecurityGroupEgress", tcp(443, 443), rules) == "RulesPerSecurityGroupLimitExceeded"


def test_more_than_fifty_tags_in_one_request_need_no_state():
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    rejection = validate("ec2", "CreateTags", {"Resources": ["vpc-1"], "Tags": tags}, model=False)
    assert rejection is not None and rejection.code == "TagLimitExceeded"
    assert validate("ec2", "CreateTags", {"Resources": ["vpc-1"], "Tags": tags[:50]}, model=False) is None
