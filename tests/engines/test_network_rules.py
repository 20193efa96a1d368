"""Conformance: security groups and network ACLs, each case from AWS's documentation.

SG = https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html
SG_RULES = https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
NACL = https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
NACL_RULES = https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html
CUSTOM_NACL = https://docs.aws.amazon.com/vpc/latest/userguide/custom-network-acl.html
"""

from __future__ import annotations

import ipaddress

import pytest

from mlalab.engines.network import acl_decides, acl_decides_range, sg_allows
from mlalab.engines.network.rules import Peer

IP = ipaddress.ip_address


def group(gid: str, ingress=(), egress=None) -> dict:
    return {"GroupId": gid, "IpPermissions": list(ingress),
            "IpPermissionsEgress": list(egress) if egress is not None else [
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}


def tcp(port: int, to: int | None = None, **source) -> dict:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": to or port, **source}


def acl(*entries) -> dict:
    return {"NetworkAclId": "acl-1", "Entries": [
        {"RuleNumber": n, "Protocol": p, "RuleAction": a, "Egress": e, "CidrBlock": c,
         **({"PortRange": {"From": lo, "To": hi}} if lo is not None else {})}
        for n, p, a, e, c, lo, hi in entries]}


def ingress(groups, ip, port, protocol="tcp", peer_groups=frozenset(), pls=None):
    return sg_allows(groups, False, Peer(IP(ip), frozenset(peer_groups)), protocol, port, pls or {})


# --- security groups -------------------------------------------------------------------------------

def test_sg_no_ingress_rule_denies():
    """SG: "a security group has no inbound rules" by default: nothing is admitted."""
    assert ingress([group("sg-1")], "10.0.0.5", 443) is None


def test_sg_cidr_rule_admits_addresses_in_range():
    """SG_RULES: a source CIDR admits every address in the range."""
    g = group("sg-1", [tcp(443, IpRanges=[{"CidrIp": "10.0.0.0/16"}])])
    assert ingress([g], "10.0.9.9", 443)
    assert ingress([g], "10.1.0.1", 443) is None


def test_sg_port_range():
    """SG_RULES: a rule covers FromPort..ToPort inclusive."""
    g = group("sg-1", [tcp(8000, 8080, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])
    assert ingress([g], "1.2.3.4", 8080) and ingress([g], "1.2.3.4", 8000)
    assert ingress([g], "1.2.3.4", 8081) is None


def test_sg_protocol_must_match():
    """SG_RULES: a tcp rule does not admit udp."""
    g = group("sg-1", [tcp(53, IpRanges=[{"CidrIp": "0.0.0.0/0"}])])
    assert ingress([g], "1.2.3.4", 53, "udp") is None


def test_sg_all_traffic_rule():
    """SG_RULES: protocol -1 ("All traffic") covers every protocol and port."""
    g = group("sg-1", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    assert ingress([g], "10.2.3.4", 5432) and ingress([g], "10.2.3.4", 53, "udp")


def test_sg_group_reference_admits_members_only():
    """SG_RULES: a security group as source admits traffic from the network interfaces associated
    with it, by their private addresses, whatever the address."""
    g = group("sg-ep", [tcp(443, UserIdGroupPairs=[{"GroupId": "sg-app"}])])
    assert ingress([g], "10.0.1.5", 443, peer_groups={"sg-app"})
    assert ingress([g], "10.0.1.5", 443, peer_groups={"sg-batch"}) is None


def test_sg_rules_of_several_groups_are_aggregated():
    """SG: with several groups on an interface, "the rules from each security group are effectively
    aggregated to create one set of rules"."""
    a = group("sg-a", [tcp(22, IpRanges=[{"CidrIp": "10.0.0.0/16"}])])
    b = group("sg-b", [tcp(443, IpRanges=[{"CidrIp": "10.0.0.0/16"}])])
    assert ingress([a, b], "10.0.0.1", 22) and ingress([a, b], "10.0.0.1", 443)


def test_sg_default_egress_allows_all():
    """SG: a new security group has an outbound rule allowing all traffic."""
    assert sg_allows([group("sg-1")], True, Peer(IP("8.8.8.8")), "tcp", 443, {})


def test_sg_egress_removed_blocks():
    """SG_RULES: without outbound rules, no traffic leaves (the default rule can be removed)."""
    assert sg_allows([group("sg-1", egress=[])], True, Peer(IP("8.8.8.8")), "tcp", 443, {}) is None


def test_sg_prefix_list_reference():
    """SG_RULES: a rule may name a prefix list (e.g. S3's) as its destination."""
    g = group("sg-1", egress=[tcp(443, PrefixListIds=[{"PrefixListId": "pl-s3"}])])
    pls = {"pl-s3": [ipaddress.ip_network("52.216.0.0/15")]}
    assert sg_allows([g], True, Peer(IP("52.216.1.1")), "tcp", 443, pls)
    assert sg_allows([g], True, Peer(IP("8.8.8.8")), "tcp", 443, pls) is None


def test_sg_ipv6_rule_does_not_match_ipv4():
    """SG_RULES: ::/0 is an IPv6 source; it does not admit IPv4 addresses."""
    g = group("sg-1", [tcp(443, Ipv6Ranges=[{"CidrIpv6": "::/0"}])])
    assert ingress([g], "1.2.3.4", 443) is None


# --- network ACLs ----------------------------------------------------------------------------------

DEFAULT = acl((100, "-1", "allow", False, "0.0.0.0/0", None, None), (100, "-1", "allow", True, "0.0.0.0/0", None, None))


def test_nacl_default_acl_allows_all():
    """NACL: the default network ACL allows all inbound and outbound traffic."""
    assert acl_decides(DEFAULT, False, IP("1.2.3.4"), "tcp", 22).allowed
    assert acl_decides(DEFAULT, True, IP("1.2.3.4"), "udp", 53).allowed


def test_nacl_custom_acl_denies_everything_until_rules_are_added():
    """CUSTOM_NACL: a new custom network ACL denies all traffic (only the * rule)."""
    decision = acl_decides(acl(), False, IP("10.0.0.1"), "tcp", 443)
    assert not decision.allowed and "rule * deny" in decision.rule


def test_nacl_lowest_rule_number_wins():
    """NACL_RULES: rules are evaluated starting with the lowest number; the first match decides."""
    rules = acl((100, "6", "deny", False, "0.0.0.0/0", 22, 22), (90, "6", "allow", False, "10.0.0.0/8", 22, 22))
    assert acl_decides(rules, False, IP("10.1.1.1"), "tcp", 22).allowed
    decision = acl_decides(rules, False, IP("1.1.1.1"), "tcp", 22)
    assert not decision.allowed and "rule 100 deny" in decision.rule


def test_nacl_explicit_deny_before_allow():
    """NACL_RULES: a deny with a lower number overrides a later allow."""
    rules = acl((100, "6", "deny", False, "203.0.113.0/24", None, None),
                (200, "-1", "allow", False, "0.0.0.0/0", None, None))
    assert not acl_decides(rules, False, IP("203.0.113.7"), "tcp", 443).allowed
    assert acl_decides(rules, False, IP("198.51.100.7"), "tcp", 443).allowed


def test_nacl_is_stateless_return_traffic_needs_a_rule():
    """NACL: network ACLs are stateless; responses to allowed inbound traffic are subject to the
    outbound rules."""
    rules = acl((100, "6", "allow", False, "0.0.0.0/0", 443, 443))
    assert acl_decides(rules, False, IP("10.0.0.9"), "tcp", 443).allowed
    assert not acl_decides_range(rules, True, IP("10.0.0.9"), "tcp", (1024, 65535)).allowed


def test_nacl_ephemeral_range_must_cover_every_client_port():
    """CUSTOM_NACL: return traffic goes to ephemeral ports 1024-65535 (clients vary: Linux 32768-60999,
    NAT gateways and ELB 1024-65535); a rule for 32768-65535 leaves part of it denied."""
    partial = acl((100, "6", "allow", True, "0.0.0.0/0", 32768, 65535))
    full = acl((100, "6", "allow", True, "0.0.0.0/0", 1024, 65535))
    assert not acl_decides_range(partial, True, IP("10.0.0.9"), "tcp", (1024, 65535)).allowed
    assert acl_decides_range(full, True, IP("10.0.0.9"), "tcp", (1024, 65535)).allowed


def test_nacl_deny_inside_an_allowed_range():
    """NACL_RULES: a lower-numbered deny for one port inside a later allowed range wins for that port."""
    rules = acl((50, "6", "deny", True, "0.0.0.0/0", 3389, 3389), (100, "6", "allow", True, "0.0.0.0/0", 1024, 65535))
    decision = acl_decides_range(rules, True, IP("10.0.0.9"), "tcp", (1024, 65535))
    assert not decision.allowed and "rule 50 deny" in decision.rule


def test_nacl_protocol_number_matches():
    """NACL_RULES: the protocol is a number (6 = TCP); a TCP rule does not pass UDP."""
    rules = acl((100, "6", "allow", False, "0.0.0.0/0", 53, 53))
    assert acl_decides(rules, False, IP("1.1.1.1"), "tcp", 53).allowed
    assert not acl_decides(rules, False, IP("1.1.1.1"), "udp", 53).allowed


@pytest.mark.parametrize("egress", [False, True])
def test_nacl_direction_is_separate(egress):
    """NACL: inbound and outbound rules are separate lists."""
    rules = acl((100, "-1", "allow", not egress, "0.0.0.0/0", None, None))
    assert not acl_decides(rules, egress, IP("1.1.1.1"), "tcp", 80).allowed


# --- rule boundaries and how a rule is reported ----------------------------------------------------

def test_sg_icmp_all_types_rule():
    """SG_RULES: for ICMP, FromPort/ToPort -1 means all types and codes."""
    g = group("sg-1", [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    rule = ingress([g], "10.0.0.1", 8, "icmp")
    assert rule == "sg-1 ingress rule icmp all ports from 10.0.0.0/8"
    assert ingress([g], "10.0.0.1", 8, "tcp") is None


def test_sg_rule_report_names_protocol_and_ports():
    """SG_RULES: a rule is its protocol, port range and source; the allowing rule is reported as such."""
    g = group("sg-1", [tcp(8000, 8080, IpRanges=[{"CidrIp": "0.0.0.0/0"}]),
                       tcp(443, Ipv6Ranges=[{"CidrIpv6": "::/0"}])])
    assert ingress([g], "1.2.3.4", 8000) == "sg-1 ingress rule tcp ports 8000-8080 from 0.0.0.0/0"
    assert ingress([g], "2001:db8::1", 443) == "sg-1 ingress rule tcp port 443 from ::/0"
    assert ingress([g], "2001:db8::1", 8000) is None


def test_sg_later_rule_of_a_group_still_admits():
    """SG: rules are a set: a non-matching rule (other protocol or port) does not hide a later one."""
    g = group("sg-1", [{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                       tcp(22, IpRanges=[{"CidrIp": "0.0.0.0/0"}]),
                       tcp(443, UserIdGroupPairs=[{"GroupId": "sg-app"}])])
    assert ingress([g], "10.0.0.1", 443, peer_groups={"sg-app"}) == "sg-1 ingress rule tcp port 443 from sg-app"


def test_nacl_rule_for_another_port_does_not_decide():
    """NACL_RULES: a rule decides only the packets it matches (protocol, port range, CIDR)."""
    rules = acl((50, "6", "deny", False, "0.0.0.0/0", 22, 22), (60, "6", "deny", False, "192.0.2.0/24", 443, 443),
                (100, "6", "allow", False, "0.0.0.0/0", 443, 443))
    decision = acl_decides(rules, False, IP("10.0.0.1"), "tcp", 443)
    assert decision.allowed and decision.rule == "acl-1 inbound rule 100 allow tcp port 443 from 0.0.0.0/0"


def test_nacl_every_port_of_the_range_must_be_allowed():
    """NACL_RULES + CUSTOM_NACL: a gap of one port between two allow rules is denied by the * rule."""
    rules = acl((100, "6", "allow", True, "0.0.0.0/0", 2000, 65535), (110, "6", "allow", True, "0.0.0.0/0", 1024, 1998))
    decision = acl_decides_range(rules, True, IP("10.0.0.9"), "tcp", (1024, 65535))
    assert not decision.allowed and "rule * deny" in decision.rule
    rules = acl((100, "6", "allow", True, "0.0.0.0/0", 2000, 65535), (110, "6", "allow", True, "0.0.0.0/0", 1024, 1999))
    decision = acl_decides_range(rules, True, IP("10.0.0.9"), "tcp", (1024, 65535))
    assert decision.allowed and decision.rule == "acl-1 outbound rule 100 allow tcp ports 2000-65535 to 0.0.0.0/0"


def test_nacl_described_star_rule_is_reported_as_star():
    """NACL: DescribeNetworkAcls lists the * rule as rule number 32767; it denies what nothing else matched."""
    rules = acl((100, "6", "allow", False, "0.0.0.0/0", 443, 443),
                (32767, "-1", "deny", False, "0.0.0.0/0", None, None))
    decision = acl_decides(rules, False, IP("10.0.0.1"), "tcp", 80)
    assert not decision.allowed and decision.rule == "acl-1 inbound rule * deny all traffic from 0.0.0.0/0"


def test_nacl_ipv6_rule_matches_ipv6_only():
    """NACL_RULES: a rule's CIDR is IPv4 (CidrBlock) or IPv6 (Ipv6CidrBlock); each matches its own family."""
    rules = {"NetworkAclId": "acl-1", "Entries": [
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "Ipv6CidrBlock": "::/0"}]}
    assert acl_decides(rules, False, IP("2001:db8::1"), "tcp", 443).allowed
    assert not acl_decides(rules, False, IP("10.0.0.1"), "tcp", 443).allowed


def test_nacl_all_traffic_rule_covers_port_zero_and_65535():
    """NACL_RULES: protocol -1 (all traffic) covers every port."""
    rules = acl((100, "-1", "allow", False, "0.0.0.0/0", None, None))
    assert acl_decides_range(rules, False, IP("10.0.0.1"), "udp", (0, 65535)).allowed


def test_nacl_ipv6_packet_meets_the_ipv6_star_rule():
    """NACL (default-network-acl.html): every ACL ends with a * rule denying all IPv4 traffic and one denying
    all IPv6 traffic (numbered 32768 by DescribeNetworkAcls)."""
    decision = acl_decides(acl(), False, IP("2001:db8::1"), "tcp", 443)
    assert not decision.allowed and decision.rule == "acl-1 inbound rule * deny all traffic from ::/0"
    described = {"NetworkAclId": "acl-1", "Entries": [
        {"RuleNumber": 32768, "Protocol": "-1", "RuleAction": "deny", "Egress": True, "Ipv6CidrBlock": "::/0"}]}
    decision = acl_decides(described, True, IP("2001:db8::1"), "udp", 53)
    assert not decision.allowed and decision.rule == "acl-1 outbound rule * deny all traffic to ::/0"
