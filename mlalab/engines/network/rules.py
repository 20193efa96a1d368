"""Security groups (stateful allow lists) and network ACLs (stateless, ordered allow/deny rules).

Security groups: https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html and
https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html ("Security groups are
stateful": a response to allowed traffic is allowed whatever the rules say; rules only allow; a
rule's source is a CIDR, a prefix list or another security group, the last matching the private
addresses of the network interfaces that group is attached to).

Network ACLs: https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html and
https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html (rules are evaluated in order of
rule number, lowest first, and the first rule that matches decides; the final ``*`` rule, number
32767, denies what no rule matched; stateless: return traffic must be allowed explicitly, usually on
the ephemeral ports 1024-65535; https://docs.aws.amazon.com/vpc/latest/userguide/custom-network-acl.html).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PROTOCOLS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "all": "-1", "-1": "-1"}
EPHEMERAL = (1024, 65535)  # the client ports return traffic goes to (custom-network-acl.html)
DEFAULT_DENY = 32767  # the '*' rule every network ACL ends with (32768 for IPv6, as DescribeNetworkAcls numbers it)
STAR_RULES = ((DEFAULT_DENY, "CidrBlock", "0.0.0.0/0"), (DEFAULT_DENY + 1, "Ipv6CidrBlock", "::/0"))


def protocol_number(protocol: str | int) -> str:
    """'tcp' -> '6'; numbers are kept as strings, as the EC2 API writes them."""
    text = str(protocol).lower()
    return PROTOCOLS.get(text, text)


@dataclass(frozen=True)
class Peer:
    """The other end of a packet as a rule sees it: its address and its security groups."""

    ip: Address
    groups: frozenset[str] = frozenset()


def _port_in(rule_from: Any, rule_to: Any, port: int) -> bool:
    if rule_from is None or rule_to is None or int(rule_from) == -1:
        return True  # all ports (protocol -1, or ICMP all types)
    return int(rule_from) <= port <= int(rule_to)


def sg_rule_text(group_id: str, direction: str, perm: Mapping[str, Any], peer: str) -> str:
    proto = perm.get("IpProtocol", "-1")
    ports = "all ports" if proto == "-1" or perm.get("FromPort") in (None, -1) else (
        f"port {perm['FromPort']}" if perm["FromPort"] == perm.get("ToPort") else
        f"ports {perm['FromPort']}-{perm.get('ToPort')}")
    return f"{group_id} {direction} rule {'all traffic' if proto == '-1' else proto} {ports} {peer}"


def sg_allows(groups: Iterable[Mapping[str, Any]], egress: bool, peer: Peer, protocol: str, port: int,
              prefix_lists: Mapping[str, list]) -> str | None:
    """The first rule of any of ``groups`` that allows the traffic (its description), or None.

    A network interface's groups are one union of allow rules (vpc-security-groups.html: "the rules
    from each security group are effectively aggregated to create one set of rules")."""
    proto = protocol_number(protocol)
    key = "IpPermissionsEgress" if egress else "IpPermissions"
    direction = "egress" if egress else "ingress"
    for group in groups:
        for perm in group.get(key, []):
            rule_proto = protocol_number(perm.get("IpProtocol", "-1"))
            if rule_proto != "-1" and rule_proto != proto:
                continue
            if rule_proto != "-1" and not _port_in(perm.get("FromPort"), perm.get("ToPort"), port):
                continue
            for r in [*perm.get("IpRanges", []), *perm.get("Ipv6Ranges", [])]:
                cidr = r.get("CidrIp") or r.get("CidrIpv6")
                net = ipaddress.ip_network(cidr, strict=False)
                if net.version == peer.ip.version and peer.ip in net:
                    return sg_rule_text(group["GroupId"], direction, perm, f"{'to' if egress else 'from'} {cidr}")
            for p in perm.get("PrefixListIds", []):
                if any(peer.ip in net for net in prefix_lists.get(p.get("PrefixListId"), [])):
                    return sg_rule_text(group["GroupId"], direction, perm,
                                        f"{'to' if egress else 'from'} {p['PrefixListId']}")
            for pair in perm.get("UserIdGroupPairs", []):
                if pair.get("GroupId") in peer.groups:
                    return sg_rule_text(group["GroupId"], direction, perm,
                                        f"{'to' if egress else 'from'} {pair['GroupId']}")
    return None


@dataclass(frozen=True)
class AclDecision:
    allowed: bool
    rule: str  # "acl-1 inbound rule 100 allow tcp 443 from 10.0.0.0/16"


def _entry_text(acl_id: str, entry: Mapping[str, Any]) -> str:
    number = entry["RuleNumber"]
    proto = protocol_number(entry.get("Protocol", "-1"))
    rng = entry.get("PortRange") or {}
    ports = "" if proto == "-1" or not rng else (
        f" port {rng['From']}" if rng.get("From") == rng.get("To") else f" ports {rng.get('From')}-{rng.get('To')}")
    name = {"-1": "all traffic", "6": "tcp", "17": "udp", "1": "icmp"}.get(proto, f"protocol {proto}")
    direction = "outbound" if entry.get("Egress") else "inbound"
    return (f"{acl_id} {direction} rule {'*' if number >= DEFAULT_DENY else number} {entry.get('RuleAction')} "
            f"{name}{ports} {'to' if entry.get('Egress') else 'from'} "
            f"{entry.get('CidrBlock') or entry.get('Ipv6CidrBlock')}")


def _entries(acl: Mapping[str, Any], egress: bool) -> list[Mapping[str, Any]]:
    """The direction's rules by number, then the '*' denies every ACL ends with, IPv4 and IPv6
    (default-network-acl.html). They are appended even when described: after a described '*' rule they
    never decide, and a snapshot without them (written by hand) still denies every unmatched packet."""
    entries = sorted((e for e in acl.get("Entries", []) if bool(e.get("Egress")) == egress),
                     key=lambda e: e["RuleNumber"])
    return entries + [{"RuleNumber": number, "Protocol": "-1", "RuleAction": "deny", "Egress": egress, key: cidr}
                      for number, key, cidr in STAR_RULES]


def _entry_matches(entry: Mapping[str, Any], ip: Address, proto: str) -> bool:
    cidr = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    net = ipaddress.ip_network(cidr, strict=False)
    entry_proto = protocol_number(entry.get("Protocol", "-1"))
    return net.version == ip.version and ip in net and entry_proto in ("-1", proto)


def acl_decides(acl: Mapping[str, Any], egress: bool, ip: Address, protocol: str, port: int) -> AclDecision:
    """The first rule, by rule number, that matches the packet decides (nacl-rules.html)."""
    return acl_decides_range(acl, egress, ip, protocol, (port, port))


def acl_decides_range(acl: Mapping[str, Any], egress: bool, ip: Address, protocol: str,
                      ports: tuple[int, int]) -> AclDecision:
    """Whether every port of ``ports`` is allowed; when not, the rule that denies (or leaves to the
    ``*`` rule) the first refused port. Used for return traffic, which goes to any ephemeral port."""
    proto = protocol_number(protocol)
    undecided = [ports]  # port intervals no rule has matched yet
    allowed_by: str | None = None
    for entry in _entries(acl, egress):
        if not _entry_matches(entry, ip, proto):
            continue
        rng = entry.get("PortRange") or {}
        lo, hi = (0, 65535) if protocol_number(entry.get("Protocol", "-1")) == "-1" or not rng else (
            int(rng["From"]), int(rng["To"]))
        rest = []
        for a, b in undecided:
            if hi < a or lo > b:
                rest.append((a, b))
                continue
            if entry.get("RuleAction") == "deny":
                return AclDecision(False, _entry_text(acl["NetworkAclId"], entry))
            allowed_by = allowed_by or _entry_text(acl["NetworkAclId"], entry)
            rest += [r for r in ((a, lo - 1), (hi + 1, b)) if r[0] <= r[1]]
        undecided = rest
        if not undecided:
            return AclDecision(True, allowed_by or "")
    raise AssertionError("the '*' rule matches every packet")  # pragma: no cover
