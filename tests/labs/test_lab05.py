"""Lab 05: grading behaviour specific to this lab (its wrong solutions, one per check, are in the lab's
own folder: ``mutations.py``; generated rewrites in ``rewrites.py``). The variants below are graded in
one session and each test reads the report a learner would see."""

from __future__ import annotations

import pytest

from mlalab.catalog import find_lab, lab_module
from tests.conftest import apply, failing, grade_sources

LAB = find_lab(5)
MUTATIONS = lab_module(LAB.path, "mutations").MUTATIONS
REFERENCE = LAB.solution_path.read_text()

VARIANTS = {
    "cidr-source": MUTATIONS["endpoint-access"],
    "every-bucket": MUTATIONS["s3-gateway"],
    "igw-route": MUTATIONS["no-internet-path"],
    # No private DNS: the SDK's default name resolves to public addresses the private VPC cannot reach.
    "no-private-dns": [("PrivateDnsEnabled=True", "PrivateDnsEnabled=False")],
    # The return traffic to the application is not allowed out of the private subnets.
    "no-return-rule": [('        (110, True, vpc_cidr, 1024, 65535),\n', "")],
    # Equivalent: the whole VPC's rejected and accepted traffic, and an ACL renumbered.
    "all-traffic-renumbered": [('TrafficType="REJECT"', 'TrafficType="ALL"'),
                               ("(100, False, vpc_cidr", "(10, False, vpc_cidr")],
    # A subnet CIDR outside the VPC: EC2 refuses it (InvalidSubnet.Range), and the report says so.
    "bad-cidr": [("CidrBlock=cidr, AvailabilityZone=zone", 'CidrBlock="192.168.0.0/24" if cidr == private_cidrs[1] '
                  "else cidr, AvailabilityZone=zone")],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sources = [apply(REFERENCE, edits) for edits in VARIANTS.values()]
    results = grade_sources(tmp_path_factory.mktemp("lab05"), LAB, sources, seed=505)
    return dict(zip(VARIANTS, results, strict=True))


def message(result, check_id: str) -> str:
    return next(c.message for c in result.checks if c.id == check_id)


def test_cidr_source_names_the_intruding_group(graded):
    text = message(graded["cidr-source"], "endpoint-access")
    assert "batch-jobs" not in text or "another security group" in text
    assert "reaches" in text and "security group" in text and "sg-" in text


def test_endpoint_policy_for_every_bucket_names_the_other_bucket(graded):
    text = message(graded["every-bucket"], "s3-gateway")
    assert "partner-exports-" in text and "gateway endpoint vpce-" in text


def test_route_to_internet_gateway_is_named(graded):
    text = message(graded["igw-route"], "no-internet-path")
    assert "0.0.0.0/0 -> igw-" in text and "public subnet" in text


def test_private_dns_off_fails_only_endpoint_access(graded):
    result = graded["no-private-dns"]
    assert failing(result) == {"endpoint-access"}
    assert "PrivateDnsEnabled false" in message(result, "endpoint-access")


def test_missing_return_rule_is_found_by_stateless_evaluation(graded):
    result = graded["no-return-rule"]
    assert "endpoint-access" in failing(result)
    text = message(result, "endpoint-access")
    assert "outbound rule *" in text and "return traffic" in text


def test_equivalent_configuration_earns_full_marks(graded):
    result = graded["all-traffic-renumbered"]
    assert failing(result) == set() and result.score == LAB.max_score


def test_subnet_outside_the_vpc_is_refused_as_ec2_does(graded):
    result = graded["bad-cidr"]
    assert "private-subnets" in failing(result)
    assert any("InvalidSubnet.Range" in p for p in result.problems)
