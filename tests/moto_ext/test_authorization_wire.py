"""Wire tests of role-session authorization: boto3 signed with ``sts:AssumeRole`` credentials against
the lab's server.

AWS sources: IAM User Guide "Policy evaluation logic" (identity policies, permissions boundaries,
session policies, resource-based policies in the same account), "Troubleshoot access denied error
messages" (the message form), Amazon SNS API Reference "Publish" (AuthorizationError, 403), AWS
common errors (AccessDeniedException 400 / AccessDenied 403), AWS STS API Reference "GetCallerIdentity"
(no permission needed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from fixtures.moto_ext import authorization
from mlalab.server import LabServer

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})


def client(server: LabServer, name: str, credentials: dict | None = None):
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if credentials:
        keys = {"aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"]}
    return boto3.client(name, region_name=REGION, endpoint_url=server.endpoint_url, **keys)


@pytest.fixture
def admin(server: LabServer) -> Iterator:
    server.reset()
    yield lambda name: client(server, name)


def session(server: LabServer, admin, role: str, *statements: dict, boundary: dict | None = None,
            session_policy: dict | None = None):
    """A role with ``statements`` as its inline policy, assumed; returns a client factory for it."""
    iam = admin("iam")
    extra = {}
    if boundary is not None:
        arn = iam.create_policy(PolicyName=f"{role}-boundary", PolicyDocument=json.dumps(boundary))["Policy"]["Arn"]
        extra["PermissionsBoundary"] = arn
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, **extra)
    if statements:
        iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    more = {"Policy": json.dumps(session_policy)} if session_policy else {}
    credentials = admin("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName="s1",
                                           **more)["Credentials"]
    return lambda name: client(server, name, credentials)


def allow(action: str, resource: str = "*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_publish_without_permission_is_refused_with_sns_error_and_aws_message(server, admin) -> None:
    topic = admin("sns").create_topic(Name="alerts")["TopicArn"]
    as_role = session(server, admin, "no-sns")
    with pytest.raises(ClientError) as caught:
        as_role("sns").publish(TopicArn=topic, Message="hi")
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "AuthorizationError"
    assert error["Message"] == (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/no-sns/s1 is not authorized to perform: "
                                f"SNS:Publish on resource: {topic} because no identity-based policy allows the "
                                "SNS:Publish action")


def test_publish_with_permission_succeeds(server, admin) -> None:
    topic = admin("sns").create_topic(Name="alerts")["TopicArn"]
    as_role = session(server, admin, "sns-ok", allow("sns:Publish", topic))
    assert as_role("sns").publish(TopicArn=topic, Message="hi")["MessageId"]


def test_sagemaker_refusal_is_access_denied_exception(server, admin) -> None:
    as_role = session(server, admin, "no-sm", allow("sagemaker:DescribeEndpoint"))
    with pytest.raises(ClientError) as caught:
        as_role("sagemaker").update_endpoint_weights_and_capacities(
            EndpointName="Churn", DesiredWeightsAndCapacities=[{"VariantName": "a", "DesiredWeight": 1.0}])
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # SageMaker ARNs hold the name in lower case.
    assert caught.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/no-sm/s1 is not authorized to perform: "
        f"sagemaker:UpdateEndpointWeightsAndCapacities on resource: arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
        "endpoint/churn because no identity-based policy allows the sagemaker:UpdateEndpointWeightsAndCapacities "
        "action")


def test_boundary_denies_what_the_identity_policy_allows(server, admin) -> None:
    topic = admin("sns").create_topic(Name="alerts")["TopicArn"]
    boundary = {"Version": "2012-10-17", "Statement": [allow("sqs:*")]}
    as_role = session(server, admin, "bounded", allow("sns:Publish"), boundary=boundary)
    with pytest.raises(ClientError) as caught:
        as_role("sns").publish(TopicArn=topic, Message="hi")
    assert caught.value.response["Error"]["Message"].endswith(
        "because no permissions boundary allows the SNS:Publish action")


def test_explicit_deny_is_named(server, admin) -> None:
    as_role = session(server, admin, "denied", allow("cloudwatch:PutMetricData"),
                      {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                       "Condition": {"StringEquals": {"cloudwatch:namespace": "Prod"}}})
    cloudwatch = as_role("cloudwatch")
    cloudwatch.put_metric_data(Namespace="Dev", MetricData=[{"MetricName": "m", "Value": 1.0}])
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_data(Namespace="Prod", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/denied/s1 is not authorized to perform: "
        "cloudwatch:PutMetricData with an explicit deny in an identity-based policy")


def test_session_policy_limits_the_role(server, admin) -> None:
    topic = admin("sns").create_topic(Name="alerts")["TopicArn"]
    as_role = session(server, admin, "scoped", allow("sns:Publish"), allow("sqs:*"),
                      session_policy={"Version": "2012-10-17", "Statement": [allow("sqs:*")]})
    with pytest.raises(ClientError) as caught:
        as_role("sns").publish(TopicArn=topic, Message="hi")
    assert "because no session policy allows the SNS:Publish action" in caught.value.response["Error"]["Message"]


def test_queue_policy_grants_the_session_without_identity_policy(server, admin) -> None:
    sqs = admin("sqs")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    as_role = session(server, admin, "queue-writer")
    with pytest.raises(ClientError) as caught:
        as_role("sqs").send_message(QueueUrl=url, MessageBody="x")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    # Same account: a resource-based policy naming the session grants on its own ("Policy evaluation logic").
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/queue-writer/s1"},
         "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"}]})})
    assert as_role("sqs").send_message(QueueUrl=url, MessageBody="x")["MessageId"]


def test_bucket_policy_deny_wins_over_identity_allow(server, admin) -> None:
    s3 = admin("s3")
    s3.create_bucket(Bucket="models")
    as_role = session(server, admin, "reader", allow("s3:*"))
    as_role("s3").put_object(Bucket="models", Key="a/model.tar.gz", Body=b"x")
    assert as_role("s3").get_object(Bucket="models", Key="a/model.tar.gz")["Body"].read() == b"x"
    s3.put_bucket_policy(Bucket="models", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::models/a/*"}]}))
    with pytest.raises(ClientError) as caught:
        as_role("s3").get_object(Bucket="models", Key="a/model.tar.gz")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["Error"]["Message"].endswith(
        "on resource: arn:aws:s3:::models/a/model.tar.gz with an explicit deny in a resource-based policy")


def test_log_group_actions_need_the_colon_star_form(server, admin) -> None:
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/app"
    as_role = session(server, admin, "logger", allow("logs:CreateLogGroup", group),
                      allow(["logs:CreateLogStream", "logs:PutLogEvents"], f"{group}:log-stream:*"))
    logs = as_role("logs")
    with pytest.raises(ClientError) as caught:
        logs.create_log_group(logGroupName="/app")  # the grant names log-group:/app, not log-group:/app:*
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"on resource: {group}:log-stream: because" in caught.value.response["Error"]["Message"]
    admin("logs").create_log_group(logGroupName="/app")
    logs.create_log_stream(logGroupName="/app", logStreamName="s")
    logs.put_log_events(logGroupName="/app", logStreamName="s", logEvents=[{"timestamp": 1, "message": "m"}])


def test_get_caller_identity_needs_no_permission_and_other_keys_are_unchecked(server, admin) -> None:
    as_role = session(server, admin, "nothing")
    assert as_role("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/nothing/s1"
    topic = admin("sns").create_topic(Name="alerts")["TopicArn"]
    assert admin("sns").publish(TopicArn=topic, Message="admin")["MessageId"]  # the learner's own keys


def test_unmapped_operation_is_allowed_and_listed(server, admin) -> None:
    as_role = session(server, admin, "lister")
    as_role("sns").create_topic(Name="made-by-role")  # CreateTopic is not mapped here
    assert "sns:CreateTopic" in authorization.unmapped_operations()
