"""Network checks: what a VPC lets through, decided by the reachability evaluator
(:mod:`mlalab.engines.network`, the engine of ``mlalab reachability``) over the EC2 state read with
Describe* calls, plus the few properties behaviour cannot show (flow logs, a model's VpcConfig).

Behaviour first: any configuration AWS would accept that lets exactly the right traffic through
passes (one network ACL or two, a CIDR or a prefix list, rules in any order).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from botocore.exceptions import ClientError

from mlalab.checking import Verdict, fail, ok  # noqa: F401  (fail: for the grader)
from mlalab.engines.network import (
    INTERNET_ADDRESS,
    Host,
    Result,
    Service,
    Snapshot,
    acl_decides,
    analyze,
    collect,
    endpoint_hosts,
    network_acl,
    resolve,
    route_table,
)

SUBNET_TYPES = "https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html#subnet-types"
INTERNET = Host("an internet host", INTERNET_ADDRESS)
K3 = ("Controls for network access to ML resources: a private subnet has no route to an internet gateway, "
      "security groups admit traffic by the caller's security group rather than by address, and interface "
      "endpoints with private DNS keep SageMaker API and runtime calls inside the VPC.")


def snapshot(aws) -> Snapshot:
    """The account's VPC state now, as the evaluator reads it."""
    return Snapshot.parse(collect(aws.client("ec2"), aws.region))


def interface_hosts(snap: Snapshot, endpoint: dict) -> list[Host]:
    """An interface endpoint's network interfaces (none for a gateway endpoint)."""
    if endpoint.get("VpcEndpointType", "").lower() != "interface":
        return []
    return endpoint_hosts(snap, endpoint)


def subnets_by_cidr(snap: Snapshot, vpc_id: str, cidrs: Sequence[str]) -> dict[str, str]:
    """CIDR -> subnet id for the subnets of ``vpc_id`` with those CIDR blocks."""
    return {str(s.cidr): s.id for s in snap.subnets.values() if s.vpc_id == vpc_id and str(s.cidr) in cidrs}


def private_subnets(snap: Snapshot, vpc_id: str, cidrs: Sequence[str]) -> Verdict:
    """Two subnets with the given CIDRs, in two Availability Zones."""
    found = subnets_by_cidr(snap, vpc_id, cidrs)
    missing = [c for c in cidrs if c not in found]
    if missing:
        return fail(f"VPC {vpc_id} has no subnet with CIDR block {', '.join(missing)}; expected one subnet for "
                    f"each of {', '.join(cidrs)} (ec2.create_subnet(VpcId=..., CidrBlock=..., AvailabilityZone=...)).")
    zones = {snap.subnets[s].az for s in found.values()}
    if len(zones) < 2:
        return fail(f"subnets {', '.join(found.values())} are all in {zones.pop()}; expected two Availability Zones. "
                    "An endpoint or a model whose network interfaces are in one zone stops when that zone does: "
                    "SageMaker spreads instances across the subnets you give it, so give it subnets in at least two "
                    "Availability Zones.")
    return ok()


def host(snap: Snapshot, subnet: str, groups: Sequence[str] = ()) -> Host:
    """A hypothetical instance in ``subnet`` carrying ``groups``."""
    hosts = resolve(snap, f"{subnet}:{','.join(groups)}" if groups else subnet)
    assert isinstance(hosts, list)
    return hosts[0]


def no_internet_path(snap: Snapshot, vpc_id: str, cidrs: Sequence[str], endpoints: Sequence[Host]) -> Verdict:
    """No route of the private subnets leads to an internet gateway, nothing in them reaches the
    internet and nothing on the internet reaches them."""
    found = subnets_by_cidr(snap, vpc_id, cidrs)
    if len(found) < len(cidrs):
        return fail(f"the private subnets {', '.join(cidrs)} do not exist in VPC {vpc_id}, so nothing is isolated.")
    for cidr, subnet_id in sorted(found.items()):
        subnet = snap.subnets[subnet_id]
        table = route_table(snap, subnet)
        for route in (table or {}).get("Routes", []):
            target = route.get("GatewayId") or route.get("NatGatewayId") or ""
            if target.startswith(("igw-", "nat-")):
                dest = route.get("DestinationCidrBlock") or route.get("DestinationPrefixListId")
                return fail(f"subnet {subnet_id} ({cidr}) uses route table {table['RouteTableId']}, which has the "
                            f"route {dest} -> {target}; expected no route to an internet or NAT gateway. A subnet "
                            f"with a route to an internet gateway is a public subnet ({SUBNET_TYPES}): one public "
                            "address or one open rule away from the internet. The model reaches S3 through the "
                            f"gateway endpoint and SageMaker through the interface endpoints. {K3}")
        out = analyze(snap, host(snap, subnet_id), INTERNET, 443)
        if out.reachable:
            return _leak(f"a host in subnet {subnet_id} reaches the internet", out)
    for target in [*endpoints, *(host(snap, s) for s in found.values())]:
        inbound = analyze(snap, INTERNET, target, 443)
        if inbound.reachable:
            return _leak(f"the internet reaches {target.label}", inbound)
    return ok()


def _leak(what: str, result: Result) -> Verdict:
    return fail(f"{what} on tcp 443: {' -> '.join(result.path)}; expected no path. {K3}")


def endpoint_access(snap: Snapshot, region: str, client: Host, other: Host, endpoint_group_name: str) -> Verdict:
    """The application reaches both SageMaker interface endpoints by their service name on 443 and on
    no other port; another security group in the same subnet does not reach them at all."""
    for service in ("sagemaker.api", "sagemaker.runtime"):
        name = f"com.amazonaws.{region}.{service}"
        endpoints = [e for e in snap.endpoints.values() if e.get("ServiceName") == name
                     and e.get("VpcId") == (client.subnet.vpc_id if client.subnet else None)]
        if not endpoints:
            return fail(f"VPC has no interface endpoint for {name}; expected one in the private subnets "
                        f"(ec2.create_vpc_endpoint(VpcEndpointType='Interface', ServiceName='{name}', ...)). "
                        f"Without it SageMaker calls from the VPC need a path to the internet. {K3}")
        if not any(e.get("PrivateDnsEnabled") for e in endpoints):
            return fail(f"interface endpoint {endpoints[0]['VpcEndpointId']} for {name} has PrivateDnsEnabled "
                        "false; expected true. Without private DNS, the SDK's default endpoint name "
                        f"({service.split('.')[1]}.sagemaker.{region}.amazonaws.com) still resolves to public "
                        "addresses, so the application's calls leave through the internet (or fail) instead of "
                        f"using the endpoint. {K3}")
        reached = analyze(snap, client, Service(name), 443)
        if not reached.reachable:
            return fail(f"the application ({client.label}) cannot reach {name} on tcp 443: blocked by "
                        f"{reached.blocked_by} ({reached.reason}). Path so far: {' -> '.join(reached.path)}. "
                        f"Expected the endpoint's security group {endpoint_group_name} to admit HTTPS from the "
                        "application's security group, and the network ACLs to pass it both ways.")
        for port in (22, 80, 8080):
            extra = analyze(snap, client, Service(name), port)
            if extra.reachable:
                return fail(f"the application reaches {name} on tcp {port}: {' -> '.join(extra.path)}; expected "
                            "HTTPS (443) only. Security group rules name the port: allow tcp 443, not all traffic.")
        intruder = analyze(snap, other, Service(name), 443)
        if intruder.reachable:
            return fail(f"{other.label}, a host of another security group in the application's subnet, reaches "
                        f"{name} on 443: {' -> '.join(intruder.path)}; expected only the application's security "
                        "group. A rule by CIDR admits every host in the range; a rule whose source is the "
                        f"application's security group admits only the interfaces that carry it. {K3}")
    return ok()


def s3_through_gateway(snap: Snapshot, hosts: Sequence[Host], model_bucket: str, other_bucket: str) -> Verdict:
    """Each private subnet reaches the model bucket through the S3 gateway endpoint and no other bucket."""
    for host in hosts:
        result = analyze(snap, host, _s3(snap, model_bucket), 443)
        if not result.reachable:
            return fail(f"{host.label} cannot read s3://{model_bucket}: blocked by {result.blocked_by} "
                        f"({result.reason}); path: {' -> '.join(result.path)}. Expected a route to the S3 prefix "
                        "list through a gateway endpoint on the private subnets' route table, with an endpoint "
                        "policy that allows the model bucket.")
        if not any("gateway endpoint" in hop for hop in result.path):
            return fail(f"{host.label} reaches s3://{model_bucket} over {' -> '.join(result.path)}; expected "
                        "the S3 gateway endpoint (a route to the S3 prefix list, no internet).")
        other = analyze(snap, host, _s3(snap, other_bucket), 443)
        if other.reachable:
            endpoint = next((hop for hop in other.path if "gateway endpoint" in hop), "the path")
            return fail(f"{host.label} can read s3://{other_bucket}, another account's data, through {endpoint}: "
                        "expected the endpoint policy to allow the model bucket only (Resource "
                        f"arn:aws:s3:::{model_bucket} and arn:aws:s3:::{model_bucket}/*). The default endpoint "
                        "policy allows every bucket: a data-exfiltration path. Endpoint policies are evaluated with "
                        "IAM's logic (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html).")
    return ok()


def _s3(snap: Snapshot, bucket: str) -> Service:
    found = resolve(snap, f"s3://{bucket}/model.tar.gz")
    assert isinstance(found, Service)
    return found


def network_acl_guards(snap: Snapshot, vpc_id: str, cidrs: Sequence[str]) -> Verdict:
    """Both private subnets use a network ACL of the learner's that refuses new connections from outside
    the VPC (the default ACL allows everything)."""
    found = subnets_by_cidr(snap, vpc_id, cidrs)
    if len(found) < len(cidrs):
        return fail(f"the private subnets {', '.join(cidrs)} do not exist in VPC {vpc_id}.")
    for cidr, subnet_id in sorted(found.items()):
        acl = network_acl(snap, snap.subnets[subnet_id])
        if acl is None or acl.get("IsDefault"):
            return fail(f"subnet {subnet_id} ({cidr}) uses the VPC's default network ACL "
                        f"{acl['NetworkAclId'] if acl else ''}, which allows all traffic in and out; expected a "
                        "network ACL of yours associated with both private subnets "
                        "(ec2.replace_network_acl_association). A network ACL is the subnet-level, stateless second "
                        "layer behind security groups: it can deny, and it needs rules for return traffic on the "
                        "ephemeral ports 1024-65535.")
        for port in (22, 80, 443):  # below the ephemeral range, which return traffic needs open
            decision = acl_decides(acl, False, INTERNET_ADDRESS, "tcp", port)
            if decision.allowed:
                return fail(f"network ACL {acl['NetworkAclId']} of subnet {subnet_id} allows tcp {port} in from "
                            f"{INTERNET_ADDRESS} (an internet address) by {decision.rule}; expected only the VPC's "
                            "addresses on 443, plus return traffic on the ephemeral ports.")
    return ok()


def no_open_ingress(snap: Snapshot, vpc_id: str) -> Verdict:
    """No security group of the VPC admits 0.0.0.0/0 or ::/0."""
    for group in snap.groups.values():
        if group.get("VpcId") != vpc_id:
            continue
        for perm in group.get("IpPermissions", []):
            ranges = [r.get("CidrIp") for r in perm.get("IpRanges", [])] + [
                r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", [])]
            if "0.0.0.0/0" in ranges or "::/0" in ranges:
                return fail(f"security group {group['GroupId']} ({group.get('GroupName')}) has the ingress rule "
                            f"{perm.get('IpProtocol')} {perm.get('FromPort', 'all')}-{perm.get('ToPort', 'all')} "
                            "from 0.0.0.0/0; expected no rule open to every address. A SageMaker model container "
                            "needs no inbound rule at all (SageMaker reaches it through its own interfaces), and the "
                            "endpoints need HTTPS from the application's security group only.")
    return ok()


def flow_logs_reject(aws, vpc_id: str, subnets: Sequence[str], log_group: str) -> Verdict:
    """A flow log of the VPC (or of every private subnet) captures rejected traffic into ``log_group``."""
    logs = aws.client("ec2").describe_flow_logs(
        Filters=[{"Name": "resource-id", "Values": [vpc_id, *subnets]}])["FlowLogs"]
    capturing = [f for f in logs if f.get("TrafficType") in ("REJECT", "ALL")
                 and f.get("LogGroupName") == log_group]
    covered = {f["ResourceId"] for f in capturing}
    if vpc_id in covered or (subnets and set(subnets) <= covered):
        return ok()
    found = "; ".join(f"{f['ResourceId']} {f.get('TrafficType')} -> {f.get('LogGroupName') or f.get('LogDestination')}"
                      for f in logs) or "no flow log"
    return fail(f"VPC {vpc_id}: {found}; expected a flow log of the VPC with TrafficType REJECT (or ALL) delivered "
                f"to the log group {log_group}. Rejected flows are the evidence that a control works and the first "
                "place to look when a call times out (a security group or network ACL dropped it).")


def model_isolation(aws, model_name: str, config_name: str, subnets: Sequence[str], vpc_id: str) -> Verdict:
    """The model runs in the private subnets with a security group of the VPC and network isolation,
    and the endpoint configuration serves it."""
    sm = aws.client("sagemaker")
    try:
        model = sm.describe_model(ModelName=model_name)
    except ClientError:
        return fail(f"model {model_name} does not exist; expected sagemaker.create_model(ModelName=..., VpcConfig=..., "
                    "EnableNetworkIsolation=True).")
    vpc = model.get("VpcConfig") or {}
    if sorted(vpc.get("Subnets", [])) != sorted(subnets) or not vpc.get("SecurityGroupIds"):
        return fail(f"model {model_name} has VpcConfig {json.dumps(vpc)}; expected Subnets {sorted(subnets)} (the "
                    "two private subnets) and a security group of the VPC. Without VpcConfig the model's containers "
                    "run in a VPC SageMaker manages, outside your network controls.")
    groups = aws.client("ec2").describe_security_groups(GroupIds=vpc["SecurityGroupIds"])["SecurityGroups"]
    if any(g["VpcId"] != vpc_id for g in groups):
        return fail(f"model {model_name} uses security groups {vpc['SecurityGroupIds']}, not all in VPC {vpc_id}.")
    if not model.get("EnableNetworkIsolation"):
        return fail(f"model {model_name} has EnableNetworkIsolation false; expected true. With network isolation "
                    "the container can make no outbound network call at all (SageMaker still downloads the model "
                    "artefact and writes logs for it): inference code cannot leak data even if compromised "
                    "(SageMaker AI security feature, 4.3 K2).")
    try:
        config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    except ClientError:
        return fail(f"endpoint configuration {config_name} does not exist; expected one serving {model_name}.")
    if not any(v.get("ModelName") == model_name for v in config.get("ProductionVariants", [])):
        return fail(f"endpoint configuration {config_name} does not serve model {model_name}.")
    return ok()
