"""Execution environments started ahead of need, and moto's EC2 offerings read on first use.

A function's environment process (interpreter, jail, boto3) may start when the function is created
or changed, but its init phase (the handler module's import) still runs on, and is reported with,
its first invocation, as in AWS's on-demand cold start ("Understanding the Lambda execution
environment lifecycle", lambda-runtime-environment: Init phase; "Working with Lambda function logs",
monitoring-cloudwatchlogs: the REPORT line's Init Duration on a cold start only)."""

from __future__ import annotations

import base64
import json
import sys
import time

import boto3
import pytest

from mlalab.server import LabServer
from tests.moto_ext.test_lambda_invoke import function, role

# Module-level code: AWS runs it in the init phase, on the first invocation, not at CreateFunction.
INIT_MARKS = '''
import boto3
boto3.client("sqs").create_queue(QueueName="init-ran")
print("init ran")

def handler(event, context):
    return {"ok": True}
'''


@pytest.fixture
def aws(server: LabServer) -> dict:
    server.reset()
    return {name: boto3.client(name, region_name="us-east-1", endpoint_url=server.endpoint_url,
                               aws_access_key_id="testing", aws_secret_access_key="testing")
            for name in ("lambda", "iam", "sqs")}


def idle_environments(server: LabServer) -> int:
    with server.lambda_pool.lock:
        return sum(len(v) for v in server.lambda_pool.idle.values())


def wait_for_idle(server: LabServer, count: int) -> bool:
    for _ in range(200):
        if idle_environments(server) >= count:
            return True
        time.sleep(0.05)
    return False


def test_create_function_starts_an_environment_but_not_the_init_phase(server: LabServer, aws: dict) -> None:
    arn = role(aws, "init-role", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    function(aws, "early", INIT_MARKS, arn)
    assert wait_for_idle(server, 1), "no environment was started ahead after CreateFunction"
    time.sleep(1.0)  # long enough for a child that (wrongly) ran the init phase to create the queue
    assert aws["sqs"].list_queues().get("QueueUrls", []) == []
    answer = aws["lambda"].invoke(FunctionName="early", Payload=b"{}", LogType="Tail")
    assert json.loads(answer["Payload"].read()) == {"ok": True}
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "init ran" in tail and "Init Duration:" in tail  # still a cold start for the learner
    assert [u.rsplit("/", 1)[-1] for u in aws["sqs"].list_queues()["QueueUrls"]] == ["init-ran"]
    again = aws["lambda"].invoke(FunctionName="early", Payload=b"{}", LogType="Tail")
    assert "Init Duration:" not in base64.b64decode(again["LogResult"]).decode()
    assert idle_environments(server) == 1  # the environment started ahead was the one used


def test_a_configuration_change_replaces_the_environment_started_ahead(server: LabServer, aws: dict) -> None:
    function(aws, "changing", INIT_MARKS, role(aws, "changing-role", {"Effect": "Allow", "Action": "sqs:*",
                                                                      "Resource": "*"}))
    assert wait_for_idle(server, 1)
    aws["lambda"].update_function_configuration(FunctionName="changing", Environment={"Variables": {"MODE": "blue"}})
    time.sleep(0.5)
    with server.lambda_pool.lock:
        keys = [key for key, environments in server.lambda_pool.idle.items() if environments]
    assert len(keys) == 1 and ("MODE", "blue") in keys[0][7]  # only the new configuration's environment


def test_reset_closes_environments_started_ahead(server: LabServer, aws: dict) -> None:
    function(aws, "dropped", INIT_MARKS, role(aws, "dropped-role"))
    assert wait_for_idle(server, 1)
    server.reset()
    assert idle_environments(server) == 0


def test_instance_type_offerings_are_read_on_first_use(server: LabServer) -> None:
    """DescribeInstanceTypeOfferings answers moto's data for the region (EC2 API reference), read
    from moto's file only when asked."""
    from moto.utilities.utils import load_resource

    ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=server.endpoint_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2.describe_availability_zones()  # loads moto's EC2 models
    offerings = sys.modules["moto.ec2.models.instance_types"].INSTANCE_TYPE_OFFERINGS
    assert list.__len__(offerings["availability-zone"]["ap-south-1"]) == 0  # not read yet
    answer = ec2.describe_instance_type_offerings(LocationType="availability-zone")["InstanceTypeOfferings"]
    expected = load_resource("ec2/resources/instance_type_offerings/availability-zone/eu-west-1.json")
    assert answer and answer == [dict(o, LocationType="availability-zone") for o in expected]
