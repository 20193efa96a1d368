"""Can a packet get from a source to a destination? The hops of VPC Reachability Analyzer, in order:
the source's security groups (egress), its subnet's network ACL (outbound), its route table (longest
prefix match), the destination subnet's network ACL (inbound) and security groups (ingress), then
the return traffic through both network ACLs (stateless) on the ephemeral ports.

Routing: https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html (a subnet without an
explicit association uses the main route table; the local route covers the VPC's CIDRs) and
https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html (the most specific route
that matches wins; a prefix-list route is compared by the CIDRs in the list).
Internet: https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html (a subnet
reaches the internet through a route to an attached internet gateway, and only an instance with a
public IPv4 address talks through it; without one, through a NAT gateway in a public subnet:
https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html; nothing on the internet can
start a connection through a NAT gateway).
Endpoints: https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html
(interface endpoints are network interfaces in your subnets with security groups; with private DNS
the service's default DNS name resolves to them inside the VPC),
https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html (a gateway endpoint adds
routes to the service's prefix list to the route tables you choose) and
https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html (an endpoint policy
allows or denies the requests that go through the endpoint; the default policy allows everything).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from mlalab.engines.iam import PolicyError, Request, evaluate, parse_policy

from .rules import EPHEMERAL, Address, Peer, acl_decides, acl_decides_range, sg_allows
from .snapshot import Snapshot, Subnet

INTERNET_ADDRESS = ipaddress.ip_address("203.0.113.10")  # TEST-NET-3 (RFC 5737): an address on the internet
S3_FALLBACK = ipaddress.ip_network("52.216.0.0/15")  # one of S3's us-east-1 ranges (ip-ranges.json)
FULL_ACCESS = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


class ReachError(ValueError):
    """A source or destination the snapshot cannot place (unknown id, address outside every subnet)."""


@dataclass(frozen=True)
class Host:
    """One end of a connection: an address, the subnet it is in (None: on the internet), its security
    groups and whether it has a public IPv4 address."""

    label: str
    ip: Address
    subnet: Subnet | None = None
    groups: frozenset[str] = frozenset()
    public: bool = False


@dataclass(frozen=True)
class Service:
    """An AWS service reached by name: S3 (gateway or over the internet) or an interface endpoint's
    service. ``action``/``resource`` are the request an endpoint policy is asked about."""

    name: str  # com.amazonaws.us-east-1.s3
    action: str | None = None
    resource: str | None = None
    principal: str | None = None


@dataclass
class Result:
    reachable: bool
    path: list[str] = field(default_factory=list)
    blocked_by: str | None = None  # the component that refused, with its rule
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"reachable": self.reachable, "path": self.path, "blocked_by": self.blocked_by, "reason": self.reason}


def _blocked(path: list[str], by: str, reason: str) -> Result:
    return Result(False, path, by, reason)


def route_table(snap: Snapshot, subnet: Subnet) -> dict[str, Any] | None:
    """The subnet's explicitly associated route table, or its VPC's main route table."""
    main = None
    for table in snap.route_tables:
        for assoc in table.get("Associations", []):
            if assoc.get("SubnetId") == subnet.id:
                return table
            if assoc.get("Main") and table.get("VpcId") == subnet.vpc_id:
                main = table
    return main


def _route_target(route: dict[str, Any]) -> str:
    for key in ("GatewayId", "NatGatewayId", "VpcPeeringConnectionId", "TransitGatewayId", "NetworkInterfaceId",
                "InstanceId", "EgressOnlyInternetGatewayId", "VpcEndpointId"):
        if route.get(key):
            return route[key]
    return "blackhole"


def best_route(snap: Snapshot, table: dict[str, Any], ip: Address) -> tuple[dict[str, Any], str] | None:
    """The most specific active route for ``ip`` and its destination as written (route-tables-priority.html)."""
    best: tuple[int, int, dict[str, Any], str] | None = None
    for route in table.get("Routes", []):
        if route.get("State", "active") != "active":
            continue
        if route.get("DestinationPrefixListId"):
            pl = route["DestinationPrefixListId"]
            nets = snap.prefix_lists.get(pl, {}).get("cidrs", [])
            dest = pl
            # After the longest prefix, static routes come before prefix-list routes (route-tables-priority.html:
            # "1. Longest prefix 2. Static routes 3. Prefix list routes 4. Propagated routes").
            candidates = [(n.prefixlen, 0) for n in nets if n.version == ip.version and ip in n]
        else:
            dest = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            if not dest:
                continue
            net = ipaddress.ip_network(dest, strict=False)
            candidates = [(net.prefixlen, 1)] if net.version == ip.version and ip in net else []
        for length, tie in candidates:
            if best is None or (length, tie) > (best[0], best[1]):
                best = (length, tie, route, dest)
    return (best[2], best[3]) if best else None


def network_acl(snap: Snapshot, subnet: Subnet) -> dict[str, Any] | None:
    """The subnet's network ACL (every subnet is associated with exactly one; the VPC's default otherwise)."""
    default = None
    for acl in snap.acls:
        if any(a.get("SubnetId") == subnet.id for a in acl.get("Associations", [])):
            return acl
        if acl.get("IsDefault") and acl.get("VpcId") == subnet.vpc_id:
            default = acl
    return default


def _groups(snap: Snapshot, ids: frozenset[str]) -> list[dict[str, Any]]:
    return [snap.groups[g] for g in sorted(ids) if g in snap.groups]


def _pl_cidrs(snap: Snapshot) -> dict[str, list]:
    return {pl: v["cidrs"] for pl, v in snap.prefix_lists.items()}


def _acl_hop(snap: Snapshot, subnet: Subnet, egress: bool, peer: Address, protocol: str,
             ports: tuple[int, int], path: list[str], what: str) -> Result | None:
    acl = network_acl(snap, subnet)
    if acl is None:
        return None  # a snapshot without ACLs: nothing to evaluate
    decision = (acl_decides(acl, egress, peer, protocol, ports[0]) if ports[0] == ports[1]
                else acl_decides_range(acl, egress, peer, protocol, ports))
    if not decision.allowed:
        return _blocked(path, decision.rule, f"network ACL {acl['NetworkAclId']} of {subnet.id} denies {what} "
                                             f"(network ACLs are stateless and the first matching rule decides)")
    path.append(f"{decision.rule} ({subnet.id})")
    return None


def analyze(snap: Snapshot, source: Host, destination: Host | Service, port: int, protocol: str = "tcp") -> Result:
    """Can ``source`` open a ``protocol`` connection to ``destination`` on ``port``, and its answers come back?"""
    if isinstance(destination, Service):
        return _to_service(snap, source, destination, port, protocol)
    path: list[str] = [f"source {source.label} ({source.ip})"]
    dst = destination
    if source.subnet is None and dst.subnet is None:
        return _blocked(path, "no VPC", "neither end is in a VPC of the snapshot")
    if source.subnet is None:
        return _from_internet(snap, source, dst, port, protocol, path)
    # Leaving the source: security groups, then (unless the destination is in the same subnet) the ACL.
    same_subnet = dst.subnet is not None and dst.subnet.id == source.subnet.id
    rule = sg_allows(_groups(snap, source.groups), True, Peer(dst.ip, dst.groups), protocol, port, _pl_cidrs(snap))
    if rule is None:
        return _blocked(path, f"security groups {', '.join(sorted(source.groups)) or '(none)'} egress",
                        f"no egress rule of the source's security groups allows {protocol} {port} to {dst.ip}")
    path.append(rule)
    if not same_subnet and (r := _acl_hop(snap, source.subnet, True, dst.ip, protocol, (port, port), path,
                                          f"{protocol} {port} out to {dst.ip}")):
        return r
    table = route_table(snap, source.subnet)
    found = best_route(snap, table, dst.ip) if table else None
    if found is None:
        return _blocked(path, f"route table {table['RouteTableId'] if table else '(none)'}",
                        f"no route in {source.subnet.id}'s route table matches {dst.ip}")
    route, dest = found
    target = _route_target(route)
    path.append(f"route {dest} -> {target} ({table['RouteTableId']})")
    if dst.subnet is None:  # to the internet
        return _out_to_internet(snap, source, dst, port, protocol, path, target)
    if target != "local":
        return _blocked(path, f"route {dest} -> {target}", f"{dst.ip} is in the VPC but the best route is {target}")
    if not same_subnet and (r := _acl_hop(snap, dst.subnet, False, source.ip, protocol, (port, port), path,
                                          f"{protocol} {port} in from {source.ip}")):
        return r
    rule = sg_allows(_groups(snap, dst.groups), False, Peer(source.ip, source.groups), protocol, port,
                     _pl_cidrs(snap))
    if rule is None:
        return _blocked(path, f"security groups {', '.join(sorted(dst.groups)) or '(none)'} ingress",
                        f"no ingress rule of the destination's security groups allows {protocol} {port} "
                        f"from {source.ip} ({', '.join(sorted(source.groups)) or 'no group'})")
    path.append(rule)
    if not same_subnet:  # the answers, to the client's ephemeral port (security groups are stateful)
        for subnet, egress, peer in ((dst.subnet, True, source.ip), (source.subnet, False, dst.ip)):
            if r := _acl_hop(snap, subnet, egress, peer, protocol, EPHEMERAL, path,
                             f"the return traffic ({protocol} ports {EPHEMERAL[0]}-{EPHEMERAL[1]}) "
                             f"{'to' if egress else 'from'} {peer}"):
                return r
    path.append(f"destination {dst.label} ({dst.ip})")
    return Result(True, path, None, "reachable")


def _igw_of(snap: Snapshot, vpc_id: str, target: str) -> bool:
    return target.startswith("igw-") and vpc_id in snap.igws.get(target, [])


def _out_to_internet(snap: Snapshot, source: Host, dst: Host, port: int, protocol: str, path: list[str],
                     target: str) -> Result:
    assert source.subnet is not None
    if target.startswith("nat-"):
        nat = snap.nat_gateways.get(target)
        if nat is None:
            return _blocked(path, f"route -> {target}", f"NAT gateway {target} does not exist (a blackhole route)")
        nat_subnet = snap.subnets.get(nat.get("SubnetId", ""))
        nat_table = route_table(snap, nat_subnet) if nat_subnet else None
        onward = best_route(snap, nat_table, dst.ip) if nat_table else None
        if not onward or not _igw_of(snap, nat_subnet.vpc_id, _route_target(onward[0])):
            return _blocked(path, f"NAT gateway {target}",
                            "the NAT gateway's subnet has no route to an internet gateway")
        path.append(f"NAT gateway {target} -> {_route_target(onward[0])}")
    elif _igw_of(snap, source.subnet.vpc_id, target):
        if not source.public:
            return _blocked(path, f"internet gateway {target}",
                            "the source has no public IPv4 address: an internet gateway only translates public "
                            "addresses, so a private address cannot reach the internet through it")
    else:
        return _blocked(path, f"route -> {target}", f"{dst.ip} is on the internet and the best route is {target}, "
                                                    "not an internet or NAT gateway")
    if r := _acl_hop(snap, source.subnet, False, dst.ip, protocol, EPHEMERAL, path, "the return traffic"):
        return r
    path.append(f"destination {dst.label} ({dst.ip})")
    return Result(True, path, None, "reachable")


def _from_internet(snap: Snapshot, source: Host, dst: Host, port: int, protocol: str, path: list[str]) -> Result:
    assert dst.subnet is not None
    if not dst.public:
        return _blocked(path, f"{dst.label} has no public IP address",
                        "only an address the internet gateway maps to a public IPv4 address can be reached from the "
                        "internet; a NAT gateway admits answers to connections started inside only")
    table = route_table(snap, dst.subnet)
    found = best_route(snap, table, source.ip) if table else None
    if not found or not _igw_of(snap, dst.subnet.vpc_id, _route_target(found[0])):
        return _blocked(path, f"route table {table['RouteTableId'] if table else '(none)'}",
                        f"{dst.subnet.id} has no route to an internet gateway (a private subnet)")
    path.append(f"internet gateway {_route_target(found[0])} ({table['RouteTableId']}: {found[1]})")
    if r := _acl_hop(snap, dst.subnet, False, source.ip, protocol, (port, port), path, f"{protocol} {port} in"):
        return r
    rule = sg_allows(_groups(snap, dst.groups), False, Peer(source.ip), protocol, port, _pl_cidrs(snap))
    if rule is None:
        return _blocked(path, f"security groups {', '.join(sorted(dst.groups)) or '(none)'} ingress",
                        f"no ingress rule allows {protocol} {port} from {source.ip}")
    path.append(rule)
    if r := _acl_hop(snap, dst.subnet, True, source.ip, protocol, EPHEMERAL, path, "the return traffic"):
        return r
    path.append(f"destination {dst.label} ({dst.ip})")
    return Result(True, path, None, "reachable")


def endpoint_policy_allows(endpoint: dict[str, Any], service: Service) -> tuple[bool, str]:
    """The endpoint policy's decision on the request (vpc-endpoints-access.html), by the IAM engine."""
    if not service.action:
        return True, "no request to authorize"
    raw = endpoint.get("PolicyDocument") or FULL_ACCESS
    try:
        policy = parse_policy(f"endpoint policy of {endpoint['VpcEndpointId']}", raw if isinstance(raw, dict)
                              else json.loads(raw), kind="resource")
    except (PolicyError, ValueError) as exc:
        return False, f"endpoint policy of {endpoint['VpcEndpointId']} is invalid: {exc}"
    kwargs = {"principal": service.principal} if service.principal else {}
    decision = evaluate(Request(service.action, service.resource or "*", **kwargs), resource=[policy],
                        resource_policy_type="default")
    return decision.allowed, decision.reason


def _service_address(snap: Snapshot, service: Service) -> Address:
    for pl in snap.prefix_lists.values():
        if pl["name"] == service.name and pl["cidrs"]:
            return next(pl["cidrs"][0].hosts())
    return next(S3_FALLBACK.hosts())


def _to_service(snap: Snapshot, source: Host, service: Service, port: int, protocol: str) -> Result:
    """A request to an AWS service by name: to an interface endpoint when the source's VPC has one with
    private DNS, else to the service's public addresses (through a gateway endpoint's route if any)."""
    if source.subnet is None:
        return Result(True, [f"source {source.label}", f"{service.name} public endpoint"], None, "reachable")
    for endpoint in snap.endpoints.values():
        if (endpoint.get("VpcId") == source.subnet.vpc_id and endpoint.get("ServiceName") == service.name
                and endpoint.get("VpcEndpointType", "").lower() == "interface" and endpoint.get("PrivateDnsEnabled")):
            allowed, why = endpoint_policy_allows(endpoint, service)
            results = [analyze(snap, source, host, port, protocol) for host in endpoint_hosts(snap, endpoint)]
            best = next((r for r in results if r.reachable), results[0] if results else None)
            if best is None:
                return _blocked([], endpoint["VpcEndpointId"], "the interface endpoint has no network interface")
            best.path.insert(1, f"private DNS: {service.name} -> {endpoint['VpcEndpointId']}")
            if best.reachable and not allowed:
                return _blocked(best.path, f"endpoint policy of {endpoint['VpcEndpointId']}", why)
            if best.reachable:
                best.path.append(f"endpoint policy of {endpoint['VpcEndpointId']} allows {service.action or 'it'}")
            return best
    address = _service_address(snap, service)
    dst = Host(service.name, address)
    path = [f"source {source.label} ({source.ip})"]
    rule = sg_allows(_groups(snap, source.groups), True, Peer(address), protocol, port, _pl_cidrs(snap))
    if rule is None:
        return _blocked(path, f"security groups {', '.join(sorted(source.groups)) or '(none)'} egress",
                        f"no egress rule allows {protocol} {port} to {service.name} ({address})")
    path.append(rule)
    if r := _acl_hop(snap, source.subnet, True, address, protocol, (port, port), path, f"{protocol} {port} out"):
        return r
    table = route_table(snap, source.subnet)
    found = best_route(snap, table, address) if table else None
    if found is None:
        return _blocked(path, f"route table {table['RouteTableId'] if table else '(none)'}",
                        f"no route in {source.subnet.id}'s route table matches {service.name} ({address})")
    route, dest = found
    target = _route_target(route)
    path.append(f"route {dest} -> {target} ({table['RouteTableId']})")
    if target.startswith("vpce-"):
        endpoint = snap.endpoints.get(target)
        if endpoint is None:
            return _blocked(path, f"route -> {target}", f"gateway endpoint {target} does not exist")
        allowed, why = endpoint_policy_allows(endpoint, service)
        if not allowed:
            return _blocked(path, f"endpoint policy of {target}", why)
        path.append(f"gateway endpoint {target} (policy allows {service.action or 'it'})")
        if r := _acl_hop(snap, source.subnet, False, address, protocol, EPHEMERAL, path, "the return traffic"):
            return r
        path.append(f"{service.name}")
        return Result(True, path, None, "reachable")
    result = _out_to_internet(snap, source, dst, port, protocol, path, target)
    if result.reachable:
        result.reason = "reachable over the internet"
    return result


def endpoint_hosts(snap: Snapshot, endpoint: dict[str, Any]) -> list[Host]:
    """An interface endpoint's network interfaces as hosts (its security groups, its subnets)."""
    groups = frozenset(g["GroupId"] for g in endpoint.get("Groups", []))
    hosts = []
    for eni_id in endpoint.get("NetworkInterfaceIds", []):
        eni = snap.enis.get(eni_id, {})
        subnet = snap.subnets.get(eni.get("SubnetId", ""))
        if subnet is not None:
            hosts.append(Host(f"{endpoint['VpcEndpointId']} ({eni_id})", _address_in(subnet, eni), subnet, groups))
    if not hosts:
        for subnet_id in endpoint.get("SubnetIds", []):
            if subnet := snap.subnets.get(subnet_id):
                hosts.append(Host(f"{endpoint['VpcEndpointId']} in {subnet_id}", _address_in(subnet, {}), subnet,
                                  groups))
    return hosts


def _address_in(subnet: Subnet, eni: dict[str, Any]) -> Address:
    """The interface's private address; one of the subnet's own when the state holds none inside it
    (AWS always assigns from the subnet's range; the first four addresses are reserved)."""
    text = eni.get("PrivateIpAddress")
    if text and ipaddress.ip_address(text) in subnet.cidr:
        return ipaddress.ip_address(text)
    return subnet.cidr[4]
