"""Conformance: every hop of a path, in both directions, each case from AWS's documentation.

RA = https://docs.aws.amazon.com/vpc/latest/reachability/how-reachability-analyzer-works.html (a reachable
    path is reported hop by hop: the security group rules, network ACL rules and routes it crosses)
NACL = https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
CUSTOM_NACL = https://docs.aws.amazon.com/vpc/latest/userguide/custom-network-acl.html
ROUTES = https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
PRIORITY = https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html
IGW = https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html
NAT = https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html
PEERING = https://docs.aws.amazon.com/vpc/latest/peering/what-is-vpc-peering.html
INTERFACE = https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html
GATEWAY_S3 = https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html
ENDPOINT_POLICY = https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
"""

from __future__ import annotations

import ipaddress

from mlalab.engines.network import Host, Service, analyze, best_route, network_acl, route_table
from tests.engines.test_network_reach import (
    ALL,
    OPEN_ACL,
    RUNTIME,
    S3,
    base,
    host,
    reach,
    snap,
    with_interface_endpoint,
    with_s3_gateway,
)

IP = ipaddress.ip_address


def entry(number: int, action: str, egress: bool, ports: tuple[int, int] | None = None, cidr: str = "0.0.0.0/0",
          protocol: str = "6") -> dict:
    return {"RuleNumber": number, "Protocol": protocol, "RuleAction": action, "Egress": egress, "CidrBlock": cidr,
            **({"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {})}


def with_acl(doc: dict, subnet: str, *entries: dict) -> dict:
    """A custom network ACL associated with ``subnet``, ending (as DescribeNetworkAcls shows) with the * rules."""
    doc["NetworkAcls"].append({"NetworkAclId": f"acl-{subnet}", "VpcId": "vpc-1", "IsDefault": False,
                               "Associations": [{"SubnetId": subnet}],
                               "Entries": [*entries, entry(32767, "deny", False, protocol="-1"),
                                           entry(32767, "deny", True, protocol="-1")]})
    return doc


def open_ingress(doc: dict, group: str = "sg-app") -> dict:
    g = next(g for g in doc["SecurityGroups"] if g["GroupId"] == group)
    g["IpPermissions"] = [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                           "UserIdGroupPairs": [{"GroupId": "sg-batch"}]}]
    return doc


# --- hop-by-hop paths (RA) -------------------------------------------------------------------------

def test_path_inside_the_vpc_lists_every_hop_in_order():
    """RA + NACL + ROUTES: source, egress SG rule, source ACL out, local route, destination ACL in,
    ingress SG rule, the answers through both ACLs, destination."""
    doc = with_acl(with_acl(open_ingress(base()), "subnet-app", entry(100, "allow", True, (5432, 5432)),
                            entry(100, "allow", False, (1024, 65535))),
                   "subnet-priv", entry(100, "allow", False, (5432, 5432)), entry(100, "allow", True, (1024, 65535)))
    result = reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432)
    assert result.reachable
    assert result.path[0].startswith("source subnet-app:sg-batch")
    assert result.path[1] == "sg-batch egress rule all traffic all ports to 0.0.0.0/0"
    assert result.path[2] == "acl-subnet-app outbound rule 100 allow tcp port 5432 to 0.0.0.0/0 (subnet-app)"
    assert result.path[3] == "route 10.0.0.0/16 -> local (rtb-main)"
    assert result.path[4] == "acl-subnet-priv inbound rule 100 allow tcp port 5432 from 0.0.0.0/0 (subnet-priv)"
    assert result.path[5] == "sg-app ingress rule tcp port 5432 from sg-batch"
    assert result.path[6] == "acl-subnet-priv outbound rule 100 allow tcp ports 1024-65535 to 0.0.0.0/0 (subnet-priv)"
    assert result.path[7] == "acl-subnet-app inbound rule 100 allow tcp ports 1024-65535 from 0.0.0.0/0 (subnet-app)"
    assert result.path[8].startswith("destination subnet-priv:sg-app") and len(result.path) == 9
    assert result.as_dict() == {"reachable": True, "path": result.path, "blocked_by": None, "reason": "reachable"}


def test_path_to_the_internet_lists_the_gateway_and_the_return_rule():
    """RA + IGW: out through the internet gateway; the answers come back through the inbound ACL."""
    result = reach(base(), "subnet-pub:sg-app", "8.8.8.8")
    assert result.path[-3:] == ["route 0.0.0.0/0 -> igw-1 (rtb-pub)",
                                "acl-default inbound rule 100 allow all traffic from 0.0.0.0/0 (subnet-pub)",
                                "destination 8.8.8.8 (8.8.8.8)"]


def test_path_from_the_internet_lists_the_gateway_and_rules():
    """RA + IGW: in through the internet gateway, the inbound ACL and SG rules, the answers out."""
    result = reach(base(), "internet", "subnet-pub:sg-web")
    assert result.path == ["source internet (203.0.113.10)", "internet gateway igw-1 (rtb-pub: 0.0.0.0/0)",
                           "acl-default inbound rule 100 allow all traffic from 0.0.0.0/0 (subnet-pub)",
                           "sg-web ingress rule tcp port 443 from 0.0.0.0/0",
                           "acl-default outbound rule 100 allow all traffic to 0.0.0.0/0 (subnet-pub)",
                           "destination subnet-pub:sg-web (10.0.0.254)"]


def test_path_through_an_interface_endpoint_names_private_dns_and_the_policy():
    """RA + INTERFACE: private DNS sends the service name to the endpoint's interface; ENDPOINT_POLICY allows."""
    s = snap(with_interface_endpoint(base()))
    result = analyze(s, host(s, "subnet-app:sg-app"), Service(RUNTIME, "sagemaker:InvokeEndpoint", "*"), 443)
    assert result.reachable
    assert result.path[1] == f"private DNS: {RUNTIME} -> vpce-rt"
    assert result.path[-1] == "endpoint policy of vpce-rt allows sagemaker:InvokeEndpoint"


def test_path_through_a_gateway_endpoint():
    """RA + GATEWAY_S3: the egress rule, the prefix-list route, the endpoint, the return ACL rule, S3."""
    result = reach(with_s3_gateway(base()), "subnet-priv:sg-app", "s3://models/m.tar.gz")
    assert result.path[1] == "sg-app egress rule all traffic all ports to 0.0.0.0/0"
    assert result.path[-4:] == ["route pl-s3 -> vpce-s3 (rtb-priv)", "gateway endpoint vpce-s3 (policy allows "
                                "s3:GetObject)", "acl-default inbound rule 100 allow all traffic from 0.0.0.0/0 "
                                "(subnet-priv)", S3]


# --- network ACLs along the path -------------------------------------------------------------------

def test_subnet_without_association_uses_its_vpcs_default_acl():
    """NACL: "a subnet that you don't explicitly associate with a network ACL is automatically associated
    with the default network ACL" of its VPC, not with another VPC's."""
    doc = base()
    doc["NetworkAcls"][0]["Entries"] = [entry(100, "deny", False, protocol="-1"), *OPEN_ACL]
    doc["NetworkAcls"].append({"NetworkAclId": "acl-other", "VpcId": "vpc-2", "IsDefault": True,
                               "Associations": [], "Entries": OPEN_ACL})
    s = snap(doc)
    assert network_acl(s, s.subnets["subnet-app"])["NetworkAclId"] == "acl-default"
    result = reach(open_ingress(doc), "subnet-app:sg-batch", "subnet-priv:sg-app", 5432)
    assert not result.reachable and result.blocked_by.startswith("acl-default inbound rule 100 deny")


def test_source_subnet_outbound_rules_apply():
    """NACL: outbound rules of the source's subnet decide what leaves it (inbound rules do not)."""
    doc = with_acl(open_ingress(base()), "subnet-app", entry(100, "allow", False, protocol="-1"))
    result = reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432)
    assert not result.reachable and "acl-subnet-app outbound rule *" in result.blocked_by


def test_source_subnet_must_admit_the_answers():
    """NACL (stateless): the answers re-enter the source subnet through its inbound rules."""
    doc = with_acl(open_ingress(base()), "subnet-app", entry(100, "allow", True, protocol="-1"))
    result = reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432)
    assert not result.reachable and "acl-subnet-app inbound rule *" in result.blocked_by


def test_return_rule_must_cover_every_ephemeral_port():
    """CUSTOM_NACL: answers go to ports 1024-65535; a return rule for 1024-32767 misses Linux clients."""
    doc = with_acl(open_ingress(base()), "subnet-priv", entry(100, "allow", False, protocol="-1"),
                   entry(100, "allow", True, (1024, 32767)))
    assert not reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432).reachable
    doc["NetworkAcls"][-1]["Entries"][1]["PortRange"] = {"From": 1025, "To": 65535}
    assert not reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432).reachable


def test_internet_traffic_needs_inbound_then_outbound_ephemeral():
    """NACL + IGW: from the internet, the public subnet's inbound rules admit the request and its outbound
    rules must let the answers leave."""
    doc = with_acl(base(), "subnet-pub", entry(100, "allow", True, protocol="-1"))
    result = reach(doc, "internet", "subnet-pub:sg-web")
    assert not result.reachable and "inbound rule *" in result.blocked_by
    doc = with_acl(base(), "subnet-pub", entry(100, "allow", False, protocol="-1"),
                   entry(100, "allow", True, (443, 443)))
    result = reach(doc, "internet", "subnet-pub:sg-web")
    assert not result.reachable and "outbound rule *" in result.blocked_by


def test_internet_answers_need_the_inbound_ephemeral_rule():
    """NACL + IGW: to the internet, the answers come back in through the inbound rules."""
    doc = with_acl(base(), "subnet-pub", entry(100, "allow", True, protocol="-1"),
                   entry(100, "allow", False, (443, 443)))
    result = reach(doc, "subnet-pub:sg-app", "8.8.8.8")
    assert not result.reachable and "inbound rule *" in result.blocked_by


def test_gateway_endpoint_traffic_is_subject_to_the_subnet_acl():
    """GATEWAY_S3 + NACL: the subnet's network ACL must allow the traffic to and from S3."""
    doc = with_acl(with_s3_gateway(base()), "subnet-priv", entry(100, "allow", False, protocol="-1"))
    result = reach(doc, "subnet-priv:sg-app", "s3://models/x")
    assert not result.reachable and "outbound rule *" in result.blocked_by
    doc = with_acl(with_s3_gateway(base()), "subnet-priv", entry(100, "allow", True, protocol="-1"),
                   entry(100, "allow", False, (443, 443)))
    result = reach(doc, "subnet-priv:sg-app", "s3://models/x")
    assert not result.reachable and "inbound rule *" in result.blocked_by


# --- security groups along the path ----------------------------------------------------------------

def test_source_egress_rules_apply_inside_the_vpc():
    """SG rules (security-group-rules.html): without an outbound rule, nothing leaves the instance."""
    doc = open_ingress(base())
    doc["SecurityGroups"][1]["IpPermissionsEgress"] = []
    result = reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432)
    assert not result.reachable and result.blocked_by == "security groups sg-batch egress"


def test_destination_ingress_rule_is_an_inbound_rule():
    """SG rules: traffic entering an instance is checked against its inbound rules, not its outbound ones."""
    result = reach(base(), "subnet-app:sg-batch", "subnet-priv:sg-app", 5432)
    assert not result.reachable and result.blocked_by == "security groups sg-app ingress"


# --- routing -----------------------------------------------------------------------------------------

def test_more_specific_route_wins_whatever_its_position():
    """PRIORITY: the longest prefix wins, wherever the route is listed."""
    doc = base()
    doc["RouteTables"][1]["Routes"][2:2] = [{"DestinationCidrBlock": "172.16.5.0/24", "GatewayId": "pcx-1"},
                                            {"DestinationCidrBlock": "172.16.0.0/12", "GatewayId": "vgw-1"}]
    s = snap(doc)
    assert best_route(s, route_table(s, s.subnets["subnet-pub"]), IP("172.16.5.9"))[1] == "172.16.5.0/24"


def test_prefix_list_route_only_covers_its_cidrs():
    """GATEWAY_S3 + PRIORITY: the endpoint route carries the service's prefixes; other internet traffic
    keeps the default route."""
    s = snap(with_s3_gateway(base(), table="rtb-pub"))
    assert best_route(s, route_table(s, s.subnets["subnet-pub"]), IP("8.8.8.8"))[1] == "0.0.0.0/0"
    assert reach(with_s3_gateway(base(), table="rtb-pub"), "subnet-pub:sg-app", "8.8.8.8").reachable


def test_another_vpc_needs_a_peering_route():
    """PEERING + IGW: private addresses of another VPC are not reached through an internet gateway."""
    doc = base()
    doc["Vpcs"].append({"VpcId": "vpc-2", "CidrBlock": "10.1.0.0/16"})
    doc["Subnets"].append({"SubnetId": "subnet-other", "VpcId": "vpc-2", "CidrBlock": "10.1.0.0/24"})
    doc["SecurityGroups"].append({"GroupId": "sg-open", "VpcId": "vpc-2", "IpPermissions": ALL,
                                  "IpPermissionsEgress": ALL})
    result = reach(doc, "subnet-pub:sg-app", "subnet-other:sg-open")
    assert not result.reachable and result.blocked_by == "route 0.0.0.0/0 -> igw-1"


def test_nat_gateway_needs_a_public_subnet():
    """NAT: a public NAT gateway must be in a public subnet (one with a route to an internet gateway)."""
    doc = base()
    doc["NatGateways"].append({"NatGatewayId": "nat-1", "SubnetId": "subnet-app", "State": "available"})
    doc["RouteTables"][2]["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"})
    result = reach(doc, "subnet-priv:sg-app", "8.8.8.8")
    assert not result.reachable and result.blocked_by == "NAT gateway nat-1"


def test_deleted_nat_gateway_is_a_blackhole():
    """NAT + ROUTES: a route to a NAT gateway that no longer exists carries nothing."""
    doc = base()
    doc["NatGateways"].append({"NatGatewayId": "nat-1", "SubnetId": "subnet-pub", "State": "deleted"})
    doc["RouteTables"][2]["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"})
    result = reach(doc, "subnet-priv:sg-app", "8.8.8.8")
    assert not result.reachable and result.blocked_by == "route -> nat-1"


def test_host_without_public_address_is_not_reachable_from_the_internet():
    """IGW: only instances with a public IPv4 address are reached from the internet, even in a public subnet."""
    doc = base()
    doc["Subnets"][0]["MapPublicIpOnLaunch"] = False
    result = reach(doc, "internet", "subnet-pub:sg-web")
    assert not result.reachable and "no public IP" in result.blocked_by


def test_address_without_public_ip_cannot_use_the_internet_gateway():
    """IGW: a host known only by its private address has no public IPv4 address to talk through the gateway."""
    s = snap(base())
    result = analyze(s, Host("10.0.0.9", IP("10.0.0.9"), s.subnets["subnet-pub"], frozenset({"sg-app"})),
                     Host("8.8.8.8", IP("8.8.8.8")), 443)
    assert not result.reachable and result.blocked_by == "internet gateway igw-1"


def test_two_ends_outside_every_vpc():
    """RA: a path is analysed inside VPCs; two internet addresses have none."""
    s = snap(base())
    result = analyze(s, Host("a", IP("8.8.8.8")), Host("b", IP("1.1.1.1")), 443)
    assert not result.reachable and result.blocked_by == "no VPC"


# --- services ----------------------------------------------------------------------------------------

def test_from_the_internet_a_service_answers_on_its_public_endpoint():
    """INTERFACE: without an endpoint, AWS services are reached at their public endpoints."""
    s = snap(base())
    assert analyze(s, host(s, "internet"), Service(S3, "s3:GetObject", "*"), 443).reachable


def test_service_address_comes_from_the_services_prefix_list():
    """GATEWAY_S3: the endpoint's route and a security group naming the prefix list cover the service's
    addresses, whatever other prefix lists the Region has."""
    doc = with_s3_gateway(base())
    doc["PrefixLists"] = [{"PrefixListId": "pl-ddb", "PrefixListName": "com.amazonaws.us-east-1.dynamodb",
                           "Entries": [{"Cidr": "3.218.180.0/22"}]},
                          {"PrefixListId": "pl-s3", "PrefixListName": S3, "Entries": [{"Cidr": "54.231.0.0/16"}]}]
    doc["SecurityGroups"][0]["IpPermissionsEgress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-s3"}]}]
    assert reach(doc, "subnet-priv:sg-app", "s3://models/x").reachable


def test_gateway_endpoint_route_to_a_deleted_endpoint_carries_nothing():
    """GATEWAY_S3: deleting the endpoint removes what its route carried."""
    doc = with_s3_gateway(base())
    doc["VpcEndpoints"][0]["State"] = "deleted"
    result = reach(doc, "subnet-priv:sg-app", "s3://models/x")
    assert not result.reachable and result.blocked_by == "route -> vpce-s3"


def test_interface_endpoint_without_interfaces_carries_nothing():
    """INTERFACE: the endpoint is reached through its network interfaces; with none there is no path."""
    doc = with_interface_endpoint(base())
    doc["VpcEndpoints"][0].update(SubnetIds=[], NetworkInterfaceIds=[])
    result = reach(doc, "subnet-app:sg-app", RUNTIME)
    assert not result.reachable and result.blocked_by == "vpce-rt"


def test_invalid_endpoint_policy_allows_nothing():
    """ENDPOINT_POLICY: the policy is an IAM policy document; one that cannot be read grants nothing."""
    doc = with_s3_gateway(base())
    doc["VpcEndpoints"][0]["PolicyDocument"] = "{not json"
    result = reach(doc, "subnet-priv:sg-app", "s3://models/x")
    assert not result.reachable and result.blocked_by == "endpoint policy of vpce-s3"


def test_interface_endpoint_blocked_path_is_not_rescued_by_the_policy():
    """INTERFACE + ENDPOINT_POLICY: the policy allows the request, the security group still refuses it."""
    s = snap(with_interface_endpoint(base()))
    result = analyze(s, host(s, "subnet-app:sg-batch"), Service(RUNTIME, "sagemaker:InvokeEndpoint", "*"), 443)
    assert not result.reachable and "sg-ep" in result.blocked_by


def test_snapshot_without_network_acls_evaluates_the_other_hops():
    """RA: a hand-written state that leaves out DescribeNetworkAcls still checks security groups and routes."""
    doc = base()
    doc["NetworkAcls"] = []
    assert reach(doc, "subnet-pub:sg-app", "8.8.8.8").reachable
    assert not reach(doc, "subnet-app:sg-batch", "subnet-priv:sg-app", 5432).reachable
