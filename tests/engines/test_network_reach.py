"""Conformance: routing, gateways and VPC endpoints, and whole paths, each case from AWS's documentation.

ROUTES = https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
PRIORITY = https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html
IGW = https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html
NAT = https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html
SUBNETS = https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html
INTERFACE = https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html
GATEWAY_S3 = https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html
ENDPOINT_POLICY = https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
"""

from __future__ import annotations

import copy
import ipaddress
import json

import pytest

from mlalab.engines.network import Service, Snapshot, SnapshotError, analyze, best_route, resolve, route_table

ALL = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
OPEN_ACL = [{"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": e, "CidrBlock": "0.0.0.0/0"}
            for e in (False, True)]
S3 = "com.amazonaws.us-east-1.s3"
RUNTIME = "com.amazonaws.us-east-1.sagemaker.runtime"


def base() -> dict:
    """A VPC 10.0.0.0/16: public subnet (IGW route), private subnet (own table), app subnet (main table)."""
    return {
        "Region": "us-east-1",
        "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
        "Subnets": [
            {"SubnetId": "subnet-pub", "VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "a",
             "MapPublicIpOnLaunch": True},
            {"SubnetId": "subnet-priv", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "b"},
            {"SubnetId": "subnet-app", "VpcId": "vpc-1", "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "a"},
        ],
        "RouteTables": [
            {"RouteTableId": "rtb-main", "VpcId": "vpc-1", "Associations": [{"Main": True}],
             "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}]},
            {"RouteTableId": "rtb-pub", "VpcId": "vpc-1", "Associations": [{"SubnetId": "subnet-pub"}],
             "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
                        {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}]},
            {"RouteTableId": "rtb-priv", "VpcId": "vpc-1", "Associations": [{"SubnetId": "subnet-priv"}],
             "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}]},
        ],
        "InternetGateways": [{"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1",
                                                                             "State": "available"}]}],
        "NatGateways": [],
        "SecurityGroups": [
            {"GroupId": "sg-app", "VpcId": "vpc-1", "IpPermissions": [], "IpPermissionsEgress": ALL},
            {"GroupId": "sg-batch", "VpcId": "vpc-1", "IpPermissions": [], "IpPermissionsEgress": ALL},
            {"GroupId": "sg-web", "VpcId": "vpc-1", "IpPermissionsEgress": ALL, "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
            {"GroupId": "sg-ep", "VpcId": "vpc-1", "IpPermissionsEgress": ALL, "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": "sg-app"}]}]},
        ],
        "NetworkAcls": [{"NetworkAclId": "acl-default", "VpcId": "vpc-1", "IsDefault": True, "Associations": [],
                         "Entries": copy.deepcopy(OPEN_ACL)}],
        "VpcEndpoints": [],
        "NetworkInterfaces": [],
        "PrefixLists": [{"PrefixListId": "pl-s3", "PrefixListName": S3, "Entries": [{"Cidr": "52.216.0.0/15"}]}],
    }


def snap(doc: dict) -> Snapshot:
    return Snapshot.parse(doc)


def host(s: Snapshot, spec: str):
    found = resolve(s, spec)
    return found[0] if isinstance(found, list) else found


def reach(doc: dict, source: str, destination: str, port: int = 443, protocol: str = "tcp"):
    s = snap(doc)
    dst = resolve(s, destination)
    return analyze(s, host(s, source), dst if isinstance(dst, Service) else dst[0], port, protocol)


def with_interface_endpoint(doc: dict, private_dns: bool = True, policy: dict | None = None) -> dict:
    doc["VpcEndpoints"].append({"VpcEndpointId": "vpce-rt", "VpcId": "vpc-1", "ServiceName": RUNTIME,
                                "VpcEndpointType": "Interface", "PrivateDnsEnabled": private_dns,
                                "SubnetIds": ["subnet-priv"], "Groups": [{"GroupId": "sg-ep"}],
                                "NetworkInterfaceIds": ["eni-ep"],
                                **({"PolicyDocument": json.dumps(policy)} if policy else {})})
    doc["NetworkInterfaces"].append({"NetworkInterfaceId": "eni-ep", "SubnetId": "subnet-priv",
                                     "PrivateIpAddress": "10.0.1.20", "Groups": [{"GroupId": "sg-ep"}]})
    return doc


def with_s3_gateway(doc: dict, policy: dict | None = None, table: str = "rtb-priv") -> dict:
    doc["VpcEndpoints"].append({"VpcEndpointId": "vpce-s3", "VpcId": "vpc-1", "ServiceName": S3,
                                "VpcEndpointType": "Gateway", "RouteTableIds": [table],
                                **({"PolicyDocument": json.dumps(policy)} if policy else {})})
    rt = next(t for t in doc["RouteTables"] if t["RouteTableId"] == table)
    rt["Routes"].append({"DestinationPrefixListId": "pl-s3", "GatewayId": "vpce-s3", "State": "active"})
    return doc


# --- route tables ----------------------------------------------------------------------------------

def test_subnet_without_association_uses_main_table():
    """ROUTES: "subnets that are not explicitly associated with any route table are implicitly
    associated with the main route table"."""
    s = snap(base())
    assert route_table(s, s.subnets["subnet-app"])["RouteTableId"] == "rtb-main"
    assert route_table(s, s.subnets["subnet-priv"])["RouteTableId"] == "rtb-priv"


def test_longest_prefix_match_wins():
    """PRIORITY: "we use the most specific route in your route table that matches the traffic"."""
    doc = base()
    doc["RouteTables"][1]["Routes"].append({"DestinationCidrBlock": "172.16.0.0/12", "GatewayId": "vgw-1"})
    doc["RouteTables"][1]["Routes"].append({"DestinationCidrBlock": "172.16.5.0/24", "GatewayId": "pcx-1"})
    s = snap(doc)
    table = route_table(s, s.subnets["subnet-pub"])
    assert best_route(s, table, ipaddress.ip_address("172.16.5.9"))[1] == "172.16.5.0/24"
    assert best_route(s, table, ipaddress.ip_address("172.17.0.1"))[1] == "172.16.0.0/12"
    assert best_route(s, table, ipaddress.ip_address("8.8.8.8"))[1] == "0.0.0.0/0"


def test_prefix_list_route_is_more_specific_than_default_route():
    """GATEWAY_S3: with a 0.0.0.0/0 route to an internet gateway, "the endpoint route takes precedence
    for all traffic destined for the service", its prefixes being more specific."""
    s = snap(with_s3_gateway(base(), table="rtb-pub"))
    table = route_table(s, s.subnets["subnet-pub"])
    assert best_route(s, table, ipaddress.ip_address("52.216.8.8"))[0]["GatewayId"] == "vpce-s3"


def test_static_route_wins_over_an_equally_specific_prefix_list_route():
    """ROUTE PRIORITY (route-tables-priority.html): after the longest prefix, "Static routes" come before
    "Prefix list routes": a static 52.216.0.0/15 route beats the S3 prefix list's 52.216.0.0/15."""
    doc = with_s3_gateway(base(), table="rtb-pub")
    rt = next(t for t in doc["RouteTables"] if t["RouteTableId"] == "rtb-pub")
    rt["Routes"].append({"DestinationCidrBlock": "52.216.0.0/15", "GatewayId": "igw-1", "State": "active"})
    s = snap(doc)
    table = route_table(s, s.subnets["subnet-pub"])
    assert best_route(s, table, ipaddress.ip_address("52.216.8.8"))[1] == "52.216.0.0/15"
    rt["Routes"].reverse()  # whatever the order the routes are listed in
    s = snap(doc)
    assert best_route(s, route_table(s, s.subnets["subnet-pub"]), ipaddress.ip_address("52.216.8.8"))[1] == \
        "52.216.0.0/15"


def test_local_route_carries_traffic_between_subnets():
    """ROUTES: the local route enables communication within the VPC; security groups decide."""
    doc = base()
    doc["SecurityGroups"][0]["IpPermissions"] = [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-batch"}]}]
    result = reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432)
    assert result.reachable and any("local" in hop for hop in result.path)


def test_blackhole_route_state_is_ignored():
    """ROUTES: a route whose target is gone is in state blackhole and carries no traffic."""
    doc = base()
    doc["RouteTables"][1]["Routes"][1]["State"] = "blackhole"
    assert not reach(doc, "subnet-pub:sg-app", "8.8.8.8").reachable


# --- internet and NAT gateways ---------------------------------------------------------------------

def test_public_subnet_host_reaches_internet():
    """IGW: a subnet with a route to an attached internet gateway, and a public IPv4 address, reach the internet."""
    assert reach(base(), "subnet-pub:sg-app", "8.8.8.8").reachable


def test_private_subnet_has_no_route_to_internet():
    """SUBNETS: a private subnet has no route to an internet gateway."""
    result = reach(base(), "subnet-priv:sg-app", "8.8.8.8")
    assert not result.reachable and "route" in result.blocked_by


def test_private_address_cannot_use_internet_gateway():
    """IGW: instances need a public IPv4 address to communicate through an internet gateway."""
    doc = base()
    doc["Subnets"][0]["MapPublicIpOnLaunch"] = False
    result = reach(doc, "subnet-pub:sg-app", "8.8.8.8")
    assert not result.reachable and "public" in result.reason


def test_internet_reaches_public_host_through_security_group():
    """IGW + SG_RULES: inbound from the internet needs a public address, the route and an ingress rule."""
    assert reach(base(), "internet", "subnet-pub:sg-web").reachable
    assert not reach(base(), "internet", "subnet-pub:sg-app").reachable


def test_internet_cannot_reach_private_subnet():
    """SUBNETS / NAT: nothing on the internet can reach a private subnet, even through a NAT gateway."""
    doc = base()
    doc["Subnets"][1]["MapPublicIpOnLaunch"] = True
    assert not reach(doc, "internet", "subnet-priv:sg-web").reachable


def test_nat_gateway_gives_outbound_only():
    """NAT: a private subnet reaches the internet through a NAT gateway in a public subnet."""
    doc = base()
    doc["NatGateways"].append({"NatGatewayId": "nat-1", "SubnetId": "subnet-pub", "State": "available"})
    doc["RouteTables"][2]["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"})
    result = reach(doc, "subnet-priv:sg-app", "8.8.8.8")
    assert result.reachable and any("NAT gateway nat-1" in hop for hop in result.path)


def test_detached_internet_gateway_carries_nothing():
    """IGW: the gateway must be attached to the VPC."""
    doc = base()
    doc["InternetGateways"][0]["Attachments"] = []
    assert not reach(doc, "subnet-pub:sg-app", "8.8.8.8").reachable


# --- interface endpoints ---------------------------------------------------------------------------

def test_interface_endpoint_admits_referenced_group_only():
    """INTERFACE: the endpoint's network interfaces are protected by its security groups."""
    doc = with_interface_endpoint(base())
    assert reach(doc, "subnet-app:sg-app", RUNTIME).reachable
    result = reach(doc, "subnet-app:sg-batch", RUNTIME)
    assert not result.reachable and "sg-ep" in result.blocked_by


def test_interface_endpoint_port_other_than_443_refused():
    """INTERFACE + SG_RULES: the endpoint group admits tcp 443 only."""
    assert not reach(with_interface_endpoint(base()), "subnet-app:sg-app", RUNTIME, 80).reachable


def test_without_private_dns_the_service_name_is_public():
    """INTERFACE: without private DNS the default service name resolves to public addresses; a
    subnet without a route to the internet cannot reach them."""
    result = reach(with_interface_endpoint(base(), private_dns=False), "subnet-app:sg-app", RUNTIME)
    assert not result.reachable
    assert reach(with_interface_endpoint(base(), private_dns=False), "subnet-app:sg-app", "vpce-rt").reachable


def test_interface_endpoint_policy_decides_the_request():
    """ENDPOINT_POLICY: an endpoint policy that does not allow the action refuses it."""
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sagemaker:InvokeEndpoint",
                             "Resource": "*"}]}
    s = snap(with_interface_endpoint(base(), policy=policy))
    src = host(s, "subnet-app:sg-app")
    assert analyze(s, src, Service(RUNTIME, "sagemaker:InvokeEndpoint", "*"), 443).reachable
    denied = analyze(s, src, Service(RUNTIME, "sagemaker:DeleteEndpoint", "*"), 443)
    assert not denied.reachable and "endpoint policy" in denied.blocked_by


def test_nacl_blocks_return_traffic_to_the_client():
    """NACL (stateless): the endpoint subnet must allow the answers out on the ephemeral ports."""
    doc = with_interface_endpoint(base())
    doc["NetworkAcls"].append({"NetworkAclId": "acl-priv", "VpcId": "vpc-1", "Associations": [
        {"SubnetId": "subnet-priv"}], "Entries": [
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": False, "CidrBlock": "10.0.0.0/16",
         "PortRange": {"From": 443, "To": 443}}]})
    result = reach(doc, "subnet-app:sg-app", RUNTIME)
    assert not result.reachable and "acl-priv outbound rule *" in result.blocked_by
    doc["NetworkAcls"][1]["Entries"].append({"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow",
                                             "Egress": True, "CidrBlock": "10.0.0.0/16",
                                             "PortRange": {"From": 1024, "To": 65535}})
    assert reach(doc, "subnet-app:sg-app", RUNTIME).reachable


def test_same_subnet_traffic_skips_network_acl():
    """NACL: a network ACL controls traffic entering and leaving a subnet, not within it."""
    doc = with_interface_endpoint(base())
    doc["NetworkAcls"].append({"NetworkAclId": "acl-priv", "VpcId": "vpc-1", "Associations": [
        {"SubnetId": "subnet-priv"}], "Entries": []})
    assert reach(doc, "subnet-priv:sg-app", RUNTIME).reachable
    assert not reach(doc, "subnet-app:sg-app", RUNTIME).reachable


# --- gateway endpoints -----------------------------------------------------------------------------

BUCKET_ONLY = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                              "Resource": "arn:aws:s3:::models/*"}]}


def test_gateway_endpoint_route_reaches_s3_privately():
    """GATEWAY_S3: the endpoint adds a route to the S3 prefix list to the chosen route tables."""
    result = reach(with_s3_gateway(base()), "subnet-priv:sg-app", "s3://models/m.tar.gz")
    assert result.reachable and any("gateway endpoint vpce-s3" in hop for hop in result.path)


def test_gateway_endpoint_only_for_associated_route_tables():
    """GATEWAY_S3: subnets whose route table lacks the endpoint route do not use it."""
    assert not reach(with_s3_gateway(base()), "subnet-app:sg-app", "s3://models/m.tar.gz").reachable


def test_default_endpoint_policy_allows_every_bucket():
    """ENDPOINT_POLICY: "the default policy allows full access through the endpoint"."""
    assert reach(with_s3_gateway(base()), "subnet-priv:sg-app", "s3://partner/data.csv").reachable


def test_endpoint_policy_limits_buckets():
    """ENDPOINT_POLICY + GATEWAY_S3: a policy naming one bucket refuses requests for the others."""
    doc = with_s3_gateway(base(), BUCKET_ONLY)
    assert reach(doc, "subnet-priv:sg-app", "s3://models/m.tar.gz").reachable
    result = reach(doc, "subnet-priv:sg-app", "s3://partner/data.csv")
    assert not result.reachable and result.blocked_by == "endpoint policy of vpce-s3"


def test_endpoint_policy_explicit_deny():
    """ENDPOINT_POLICY: endpoint policies follow IAM's logic; an explicit Deny wins."""
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
                            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": "arn:aws:s3:::partner/*"}]}
    doc = with_s3_gateway(base(), policy)
    assert not reach(doc, "subnet-priv:sg-app", "s3://partner/x").reachable
    assert reach(doc, "subnet-priv:sg-app", "s3://models/x").reachable


def test_public_subnet_s3_goes_through_the_endpoint_not_the_internet():
    """GATEWAY_S3: with both routes, S3 traffic takes the endpoint (the policy then applies)."""
    doc = with_s3_gateway(base(), BUCKET_ONLY, table="rtb-pub")
    assert not reach(doc, "subnet-pub:sg-app", "s3://partner/x").reachable


def test_s3_without_endpoint_from_public_subnet_uses_internet():
    """IGW: without an endpoint, S3's public addresses are reached over the internet gateway."""
    result = reach(base(), "subnet-pub:sg-app", "s3://partner/x")
    assert result.reachable and result.reason == "reachable over the internet"


def test_security_group_egress_to_prefix_list():
    """SG_RULES (prefix lists): egress limited to the S3 prefix list still reaches S3."""
    doc = with_s3_gateway(base())
    doc["SecurityGroups"][0]["IpPermissionsEgress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-s3"}]}]
    assert reach(doc, "subnet-priv:sg-app", "s3://models/x").reachable
    assert not reach(doc, "subnet-priv:sg-app", "s3://models/x", 80).reachable


# --- input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["subnet-nope", "vpce-nope", "eni-nope", "not-a-thing", "subnet-app:sg-nope"])
def test_unknown_names_are_refused(spec):
    from mlalab.engines.network import ReachError

    with pytest.raises(ReachError):
        resolve(snap(base()), spec)


def test_snapshot_shape_is_checked():
    with pytest.raises(SnapshotError):
        Snapshot.parse({"Vpcs": [{"CidrBlock": "10.0.0.0/16"}]})
    with pytest.raises(SnapshotError):
        Snapshot.parse([])
