"""Lab 05 grader: a private network for inference, graded on what the network allows.

The grader stands up an existing VPC (a public subnet behind an internet gateway, two application
subnets with the application's security group and a batch-jobs group beside it), a model bucket and
another bucket, then calls the learner's functions. It reads the VPC state back with EC2's Describe*
calls and asks the reachability evaluator (``mlalab reachability``'s engine) the questions of the
lab: does the application reach the SageMaker endpoints on 443 and on nothing else, does anything
reach the internet or come from it, do the private subnets reach S3 only through the gateway endpoint
and only the model bucket. Flow logs and the model's VpcConfig are read as configured."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from checks import network, require
from fixtures import scenarios


@dataclass(frozen=True)
class Scenario:
    region: str
    net: scenarios.InferenceVpc
    endpoint_group: str
    model_group: str
    model_bucket: str
    other_bucket: str
    log_group: str
    flow_logs_role: str
    model_name: str
    config_name: str


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    net = scenarios.inference_vpc(aws, rng)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}}]}
    flow_role = aws.client("iam").create_role(RoleName=scenarios.name(rng, "vpc-flow-logs"),
                                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    s = Scenario(region=aws.region, net=net, endpoint_group=scenarios.name(rng, "sagemaker-endpoints"),
                 model_group=scenarios.name(rng, "model-containers"),
                 model_bucket=scenarios.bucket(aws, rng, "ml-models"),
                 other_bucket=scenarios.bucket(aws, rng, "partner-exports"),
                 log_group=scenarios.name(rng, "/vpc/flow-logs/rejected"), flow_logs_role=flow_role,
                 model_name=scenarios.name(rng, "churn-xgb-private"),
                 config_name=scenarios.name(rng, "churn-xgb-private-config"))
    aws.client("logs").create_log_group(logGroupName=s.log_group)
    role = scenarios.execution_role(aws, rng)
    cidrs = list(net.private_cidrs)
    learner({
        "create_private_subnets": dict(vpc_id=net.vpc_id, private_cidrs=cidrs),
        "create_endpoints": dict(vpc_id=net.vpc_id, private_cidrs=cidrs, app_security_group_id=net.app_group,
                                 endpoint_group_name=s.endpoint_group, model_group_name=s.model_group,
                                 model_bucket=s.model_bucket),
        "enable_flow_logs": dict(vpc_id=net.vpc_id, log_group_name=s.log_group, role_arn=flow_role),
        "host_model": dict(model_name=s.model_name, endpoint_config_name=s.config_name,
                           image_uri=f"{aws.account}.dkr.ecr.{aws.region}.amazonaws.com/xgboost:1.7-1",
                           model_data_url=f"s3://{s.model_bucket}/churn/model.tar.gz", role_arn=role,
                           vpc_id=net.vpc_id, private_cidrs=cidrs, model_group_name=s.model_group),
    })
    return s


@pytest.fixture(scope="module")
def snap(aws, scenario):
    return network.snapshot(aws)


def _private(snap, s: Scenario) -> list[str]:
    found = network.subnets_by_cidr(snap, s.net.vpc_id, s.net.private_cidrs)
    return [found[c] for c in s.net.private_cidrs if c in found]


def _model_hosts(snap, s: Scenario):
    groups = [g["GroupId"] for g in snap.groups.values()
              if g.get("GroupName") == s.model_group and g.get("VpcId") == s.net.vpc_id]
    return [network.host(snap, subnet, groups) for subnet in _private(snap, s)]


def _endpoint_hosts(snap, s: Scenario):
    return [h for e in snap.endpoints.values() if e.get("VpcId") == s.net.vpc_id
            for h in network.interface_hosts(snap, e)]


@pytest.mark.check("private-subnets")
def test_private_subnets(snap, scenario):
    require(network.private_subnets(snap, scenario.net.vpc_id, scenario.net.private_cidrs))


@pytest.mark.check("no-internet-path")
def test_no_internet_path(snap, scenario):
    require(network.no_internet_path(snap, scenario.net.vpc_id, scenario.net.private_cidrs,
                                     _endpoint_hosts(snap, scenario)))


@pytest.mark.check("endpoint-access")
def test_endpoint_access(snap, scenario):
    net = scenario.net
    client = network.host(snap, net.app_subnets[0], [net.app_group])
    other = network.host(snap, net.app_subnets[1], [net.batch_group])
    require(network.endpoint_access(snap, scenario.region, client, other, scenario.endpoint_group))


@pytest.mark.check("s3-gateway")
def test_s3_gateway(snap, scenario):
    hosts = _model_hosts(snap, scenario)
    if len(hosts) < 2:
        require(network.fail(f"the private subnets {', '.join(scenario.net.private_cidrs)} or the model's security "
                             f"group {scenario.model_group} do not exist: nothing to reach S3 from."))
    require(network.s3_through_gateway(snap, hosts, scenario.model_bucket, scenario.other_bucket))


@pytest.mark.check("network-acl")
def test_network_acl(snap, scenario):
    require(network.network_acl_guards(snap, scenario.net.vpc_id, scenario.net.private_cidrs))


@pytest.mark.check("no-open-ingress")
def test_no_open_ingress(snap, scenario):
    groups = [g for g in snap.groups.values() if g.get("VpcId") == scenario.net.vpc_id
              and g.get("GroupName") in (scenario.endpoint_group, scenario.model_group)]
    if len(groups) < 2:
        require(network.fail(f"security groups {scenario.endpoint_group} and {scenario.model_group} do not both "
                             f"exist in VPC {scenario.net.vpc_id}."))
    require(network.no_open_ingress(snap, scenario.net.vpc_id))


@pytest.mark.check("flow-logs")
def test_flow_logs(aws, snap, scenario):
    require(network.flow_logs_reject(aws, scenario.net.vpc_id, _private(snap, scenario), scenario.log_group))


@pytest.mark.check("model-isolation")
def test_model_isolation(aws, snap, scenario):
    require(network.model_isolation(aws, scenario.model_name, scenario.config_name, _private(snap, scenario),
                                    scenario.net.vpc_id))
