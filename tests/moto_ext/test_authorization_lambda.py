"""End to end: a Lambda handler's calls are signed with its execution role's session and authorized
against that role ("Lambda execution role", lambda-intro-execution-role; IAM User Guide
"Troubleshoot access denied error messages" for the message; Amazon SNS API Reference "Publish" for
AuthorizationError)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from fixtures.moto_ext import authorization
from fixtures.moto_ext import lambda_ as lambda_ext
from mlalab.server import LabServer
from tests.moto_ext.test_lambda_invoke import BASIC, TRUST, package

REGION = "us-east-1"
ACCOUNT = "123456789012"

PUBLISHER = '''
import os, boto3
from botocore.exceptions import ClientError

def handler(event, context):
    try:
        boto3.client("sns").publish(TopicArn=os.environ["TOPIC"], Message="rolled back")
    except ClientError as error:
        return {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
    return {"code": None}
'''


@pytest.fixture
def aws(server: LabServer) -> Iterator[dict]:
    server.reset()
    yield {name: boto3.client(name, region_name=REGION, endpoint_url=server.endpoint_url,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
           for name in ("lambda", "iam", "sns")}
    lambda_ext.settle(60)


def publish_as(aws: dict, role: str, *statements: dict) -> dict:
    topic = aws["sns"].create_topic(Name="rollbacks")["TopicArn"]
    arn = aws["iam"].create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    aws["iam"].put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [BASIC, *statements]}))
    aws["lambda"].create_function(FunctionName="rollback", Runtime="python3.11", Role=arn, Handler="app.handler",
                                  Code={"ZipFile": package(PUBLISHER)},
                                  Environment={"Variables": {"TOPIC": topic}})
    answer = aws["lambda"].invoke(FunctionName="rollback", Payload=b"{}")
    assert "FunctionError" not in answer
    return {"topic": topic, **json.loads(answer["Payload"].read())}


def test_handler_whose_role_lacks_publish_gets_authorization_error(aws: dict) -> None:
    result = publish_as(aws, "no-publish")
    assert result["code"] == "AuthorizationError"
    assert result["message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/no-publish/rollback is not authorized to perform: SNS:Publish "
        f"on resource: {result['topic']} because no identity-based policy allows the SNS:Publish action")
    assert authorization.STATS.denied >= 1


def test_handler_whose_role_allows_publish_succeeds(aws: dict) -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:rollbacks"
    assert publish_as(aws, "may-publish", {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}) == {
        "topic": topic, "code": None}


def test_topic_policy_grants_the_role_without_identity_policy(aws: dict) -> None:
    topic = aws["sns"].create_topic(Name="rollbacks")["TopicArn"]
    aws["sns"].set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/granted-by-topic"},
             "Action": "sns:Publish", "Resource": topic}]}))
    assert publish_as(aws, "granted-by-topic")["code"] is None
