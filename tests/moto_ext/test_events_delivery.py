"""Wire tests for EventBridge delivery: boto3 against moto (decorator mode and a ThreadedMotoServer),
one test per target kind, the permission rules AWS applies at delivery time, and the events AWS
services emit. Shapes are compared with the real samples in shared/reference/events."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from fixtures.moto_ext import events as events_ext
from fixtures.moto_ext.cloudtrail.policies import bucket_policy_for_cloudtrail
from tests.reference import REFERENCE as REFERENCE_ROOT

REGION = "us-east-1"
ACCOUNT = "123456789012"
REFERENCE = REFERENCE_ROOT / "events"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/"


@pytest.fixture(autouse=True, scope="module")
def _installed() -> Iterator[None]:
    events_ext.install()
    yield


@pytest.fixture
def aws() -> Iterator[dict]:
    with moto.mock_aws():
        events_ext.reset()
        # No Lambda runner unless a test registers one: a lab server earlier in this process (a lab 04
        # grading) installs the Lambda extension, whose runner outlives it.
        events_ext.register_lambda_runner(None)
        yield {
            name: boto3.client(name, region_name=REGION)
            for name in ("events", "sns", "sqs", "lambda", "iam", "sagemaker")
        }
        events_ext.register_lambda_runner(None)


def service_policy(action: str, resource: str, rule: str | None = None) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": action,
        "Resource": resource,
    }
    if rule:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": RULE_ARN + rule}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def queue(aws: dict, name: str, allow_events: bool = True) -> tuple[str, str]:
    url = aws["sqs"].create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    if allow_events:
        aws["sqs"].set_queue_attributes(QueueUrl=url, Attributes={"Policy": service_policy("sqs:SendMessage", arn)})
    return url, arn


def bodies(aws: dict, url: str) -> list[str]:
    messages = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [m["Body"] for m in messages]


def rule(aws: dict, name: str, pattern: dict, targets: list[dict], bus: str = "default", **extra) -> None:
    aws["events"].put_rule(Name=name, EventPattern=json.dumps(pattern), EventBusName=bus, **extra)
    aws["events"].put_targets(Rule=name, EventBusName=bus, Targets=targets)


def put(aws: dict, detail: dict, source: str = "com.example.ml", detail_type: str = "Job Done", **extra) -> dict:
    return aws["events"].put_events(
        Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), **extra}]
    )


def shape(value):  # same keys, nesting and types
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


# ---- SQS


def test_sqs_target_receives_the_minified_event_in_aws_envelope(aws) -> None:
    url, arn = queue(aws, "jobs")
    rule(aws, "done", {"source": ["com.example.ml"]}, [{"Id": "q", "Arn": arn}])
    answer = put(aws, {"job": "j-1", "score": 0.9})
    assert answer["FailedEntryCount"] == 0
    (body,) = bodies(aws, url)
    event = json.loads(body)
    assert " " not in body.replace("Job Done", "")  # minified (eb-transform-target-input)
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["detail"] == {"job": "j-1", "score": 0.9}
    sample = json.loads(
        (
            REFERENCE
            / "2-eventbridge-alarm-state-change"
            / "awsdocs-amazon-cloudwatch-user-guide__cloudwatch-and-eventbridge.md.block0.json"
        ).read_text()
    )
    assert {k: shape(v) for k, v in event.items() if k != "detail"} == {
        k: shape(v) for k, v in sample.items() if k != "detail"
    } | {"resources": []}
    assert len(event["time"]) == 20 and event["time"].endswith("Z")


def test_queue_without_a_policy_for_eventbridge_gets_nothing(aws) -> None:
    url, arn = queue(aws, "locked", allow_events=False)
    rule(aws, "done", {"source": ["com.example.ml"]}, [{"Id": "q", "Arn": arn}])
    assert put(aws, {"a": 1})["FailedEntryCount"] == 0  # PutEvents never fails on delivery
    assert bodies(aws, url) == []
    (delivery,) = events_ext.deliveries()
    assert delivery.status == "failed" and "sqs:SendMessage" in delivery.reason


def test_non_matching_and_disabled_rules_deliver_nothing(aws) -> None:
    url, arn = queue(aws, "jobs")
    rule(aws, "other", {"source": ["com.example.other"]}, [{"Id": "q", "Arn": arn}])
    rule(aws, "off", {"source": ["com.example.ml"]}, [{"Id": "q", "Arn": arn}], State="DISABLED")
    put(aws, {"a": 1})
    assert bodies(aws, url) == []


def test_input_transformer_delivers_the_filled_template(aws) -> None:
    url, arn = queue(aws, "retrain")
    transformer = {
        "InputPathsMap": {"job": "$.detail.TrainingJobName", "why": "$.detail.FailureReason"},
        "InputTemplate": '{"job": <job>, "reason": "failed: <why>", "rule": <aws.events.rule-name>}',
    }
    rule(
        aws,
        "failed",
        {"detail": {"TrainingJobStatus": ["Failed"]}},
        [{"Id": "q", "Arn": arn, "InputTransformer": transformer}],
    )
    put(aws, {"TrainingJobName": "churn-7", "TrainingJobStatus": "Failed", "FailureReason": "OOM"})
    (body,) = bodies(aws, url)
    assert json.loads(body) == {"job": "churn-7", "reason": "failed: OOM", "rule": "failed"}


def test_input_and_input_path(aws) -> None:
    url, arn = queue(aws, "q")
    rule(
        aws,
        "r",
        {"source": ["com.example.ml"]},
        [{"Id": "a", "Arn": arn, "Input": '{"fixed": true}'}, {"Id": "b", "Arn": arn, "InputPath": "$.detail.x"}],
    )
    put(aws, {"x": {"y": 1}})
    assert sorted(bodies(aws, url)) == ['{"fixed": true}', '{"y":1}']


# ---- SNS


def test_sns_target_publishes_and_fans_out_to_sqs(aws) -> None:
    topic = aws["sns"].create_topic(Name="security")["TopicArn"]
    aws["sns"].set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=service_policy("sns:Publish", topic, rule="destructive")
    )
    url, qarn = queue(aws, "inbox", allow_events=False)
    aws["sqs"].set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": qarn}]})})  # fmt: skip
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    rule(aws, "destructive", {"detail": {"eventName": [{"prefix": "Delete"}]}}, [{"Id": "t", "Arn": topic}])
    answer = put(aws, {"eventName": "DeleteEndpoint"})
    assert answer["FailedEntryCount"] == 0
    (body,) = bodies(aws, url)
    envelope = json.loads(body)
    sample = json.loads(
        (REFERENCE / "6-sns-envelope" / "aws-aws-cloudtrail-processing-library__SQSMessageBody").read_text()
    )
    assert set(sample) - set(envelope) <= {"Subject"} and envelope["Type"] == "Notification"
    assert json.loads(envelope["Message"])["detail"] == {"eventName": "DeleteEndpoint"}


def test_sns_topic_with_default_policy_is_not_published_to(aws) -> None:
    topic = aws["sns"].create_topic(Name="security")["TopicArn"]
    rule(aws, "r", {"source": ["com.example.ml"]}, [{"Id": "t", "Arn": topic}])
    assert put(aws, {"a": 1})["FailedEntryCount"] == 0
    (delivery,) = events_ext.deliveries("sns")
    assert delivery.status == "failed" and "sns:Publish" in delivery.reason


def test_sns_policy_scoped_to_another_rule_does_not_allow(aws) -> None:
    topic = aws["sns"].create_topic(Name="t")["TopicArn"]
    aws["sns"].set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=service_policy("sns:Publish", topic, rule="someone-else")
    )
    rule(aws, "mine", {"source": ["com.example.ml"]}, [{"Id": "t", "Arn": topic}])
    put(aws, {"a": 1})
    assert events_ext.deliveries("sns")[0].status == "failed"


# ---- Lambda


def _function(aws: dict, name: str) -> str:
    role = aws["iam"].create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]  # fmt: skip
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return aws["lambda"].create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.handler", Code={"ZipFile": code.getvalue()}
    )["FunctionArn"]


def test_lambda_target_is_recorded_pending_without_a_runner(aws) -> None:
    arn = _function(aws, "shift")
    aws["lambda"].add_permission(
        FunctionName="shift",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=RULE_ARN + "alarm",
    )
    rule(aws, "alarm", {"source": ["com.example.ml"]}, [{"Id": "f", "Arn": arn}])
    assert put(aws, {"state": "ALARM"})["FailedEntryCount"] == 0
    (invocation,) = events_ext.lambda_invocations("shift")
    assert invocation.status == "pending" and invocation.event["detail"] == {"state": "ALARM"}


def test_lambda_runner_receives_the_invocation(aws) -> None:
    seen = []
    events_ext.register_lambda_runner(lambda invocation: seen.append(invocation.event["detail"]))
    arn = _function(aws, "shift")
    aws["lambda"].add_permission(
        FunctionName="shift",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=RULE_ARN + "alarm",
    )
    rule(aws, "alarm", {"source": ["com.example.ml"]}, [{"Id": "f", "Arn": arn}])
    put(aws, {"state": "ALARM"})
    assert seen == [{"state": "ALARM"}]
    assert events_ext.lambda_invocations()[0].status == "succeeded"


def test_lambda_without_permission_is_not_invoked(aws) -> None:
    arn = _function(aws, "shift")
    rule(aws, "alarm", {"source": ["com.example.ml"]}, [{"Id": "f", "Arn": arn}])
    assert put(aws, {"state": "ALARM"})["FailedEntryCount"] == 0
    assert events_ext.lambda_invocations() == []
    assert "AddPermission" in events_ext.deliveries("lambda")[0].reason


# ---- SageMaker pipeline


def _pipeline_role(aws: dict, allow: bool = True) -> str:
    role = aws["iam"].create_role(RoleName="events-pipeline", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]  # fmt: skip
    if allow:
        aws["iam"].put_role_policy(RoleName="events-pipeline", PolicyName="start", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:StartPipelineExecution",
                                                    "Resource": "*"}]}))  # fmt: skip
    return role


def test_sagemaker_pipeline_target_starts_an_execution_with_parameters(aws) -> None:
    pipeline = aws["sagemaker"].create_pipeline(
        PipelineName="retrain", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [{"Name": "Job", "Type": "String"}],
                                       "Steps": []}),
    )["PipelineArn"]  # fmt: skip
    rule(
        aws,
        "r",
        {"source": ["com.example.ml"]},
        [
            {
                "Id": "p",
                "Arn": pipeline,
                "RoleArn": _pipeline_role(aws),
                "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "Job", "Value": "churn"}]},
            }
        ],
    )
    assert put(aws, {"a": 1})["FailedEntryCount"] == 0
    (summary,) = aws["sagemaker"].list_pipeline_executions(PipelineName="retrain")["PipelineExecutionSummaries"]
    parameters = aws["sagemaker"].list_pipeline_parameters_for_execution(
        PipelineExecutionArn=summary["PipelineExecutionArn"]
    )["PipelineParameters"]
    assert parameters == [{"Name": "Job", "Value": "churn"}]


def test_sagemaker_pipeline_target_without_role_permission_starts_nothing(aws) -> None:
    pipeline = aws["sagemaker"].create_pipeline(
        PipelineName="retrain",
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm",
        PipelineDefinition='{"Version":"2020-12-01","Steps":[]}',
    )["PipelineArn"]
    rule(
        aws, "r", {"source": ["com.example.ml"]}, [{"Id": "p", "Arn": pipeline, "RoleArn": _pipeline_role(aws, False)}]
    )
    put(aws, {"a": 1})
    assert aws["sagemaker"].list_pipeline_executions(PipelineName="retrain")["PipelineExecutionSummaries"] == []
    assert "StartPipelineExecution" in events_ext.deliveries()[0].reason


# ---- Event bus


def test_event_bus_target_forwards_the_same_event(aws) -> None:
    aws["events"].create_event_bus(Name="central")
    url, arn = queue(aws, "central-q")
    rule(aws, "sink", {"source": ["com.example.ml"]}, [{"Id": "q", "Arn": arn}], bus="central")
    role = aws["iam"].create_role(RoleName="bus", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]  # fmt: skip
    aws["iam"].put_role_policy(
        RoleName="bus",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": "*"}]}
        ),
    )
    bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/central"
    rule(aws, "forward", {"source": ["com.example.ml"]}, [{"Id": "b", "Arn": bus_arn, "RoleArn": role}])
    event_id = put(aws, {"a": 1})["Entries"][0]["EventId"]
    (body,) = bodies(aws, url)
    assert json.loads(body)["id"] == event_id


# ---- PutEvents answers, PutRule and TestEventPattern


def test_put_events_entry_errors_as_aws_answers(aws) -> None:
    answer = aws["events"].put_events(Entries=[
        {"Source": "com.example", "DetailType": "x", "Detail": "[1]"},
        {"Source": "aws.sagemaker", "DetailType": "SageMaker Training Job State Change", "Detail": "{}"},
        {"Source": "com.example", "DetailType": "x", "Detail": "{}"},
    ])  # fmt: skip
    assert answer["FailedEntryCount"] == 2
    assert answer["Entries"][0] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert answer["Entries"][1]["ErrorCode"] == "NotAuthorizedForSourceException"
    assert "EventId" in answer["Entries"][2]


def test_put_rule_refuses_an_invalid_pattern_with_aws_reason(aws) -> None:
    with pytest.raises(ClientError) as excinfo:
        aws["events"].put_rule(Name="bad", EventPattern='{"detail": {"n": [{"numeric": [">", "x"]}]}}')
    error = excinfo.value.response["Error"]
    assert error["Code"] == "InvalidEventPatternException"
    assert error["Message"] == "Event pattern is not valid. Reason: Value of > must be numeric"


def test_test_event_pattern_is_answered(aws) -> None:
    event = {
        "id": "1",
        "account": ACCOUNT,
        "source": "aws.ec2",
        "time": "2024-01-01T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail-type": "x",
        "detail": {"state": "running"},
    }
    pattern = {"detail": {"state": [{"anything-but": "stopped"}]}}
    assert aws["events"].test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]
    pattern = {"detail": {"state": [{"anything-but": ["running"]}]}}
    assert not aws["events"].test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]


# ---- Service events


def _training_job(aws: dict) -> None:
    aws["sagemaker"].create_training_job(
        TrainingJobName="churn-7", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://b/out"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )  # fmt: skip


def test_training_job_state_change_matches_the_documented_sample(aws) -> None:
    _training_job(aws)
    url, arn = queue(aws, "retrain")
    rule(
        aws,
        "failed",
        {
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Training Job State Change"],
            "detail": {"TrainingJobStatus": ["Failed"]},
        },
        [{"Id": "q", "Arn": arn}],
    )
    events_ext.emit_sagemaker_state_change("training-job", "churn-7", "Completed")
    assert bodies(aws, url) == []
    events_ext.emit_sagemaker_state_change("training-job", "churn-7", "Failed", "AlgorithmError: OOM")
    (body,) = bodies(aws, url)
    event = json.loads(body)
    sample = json.loads(
        (
            REFERENCE
            / "4-sagemaker-events"
            / "awsdocs-amazon-sagemaker-developer-guide__automating-sagemaker-with-eventbridge.md.block0.json"
        ).read_text()
    )
    assert list(event) == list(sample)
    assert set(sample["detail"]) <= set(event["detail"])
    assert event["detail"]["FailureReason"] == "AlgorithmError: OOM"
    assert isinstance(event["detail"]["CreationTime"], int)  # epoch milliseconds
    described = aws["sagemaker"].describe_training_job(TrainingJobName="churn-7")
    assert described["TrainingJobStatus"] == "Failed"


def test_cloudtrail_record_becomes_an_api_call_event_only_with_a_logging_trail(aws) -> None:
    url, arn = queue(aws, "security")
    rule(
        aws,
        "destructive",
        {
            "source": ["aws.sagemaker"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventName": ["DeleteEndpoint"]},
        },
        [{"Id": "q", "Arn": arn}],
    )
    sample = json.loads(
        (
            REFERENCE
            / "3-cloudtrail"
            / "awslabs-aws-lambda-rust-runtime__example-cloudwatch-cloudtrail-assumed-role.json"
        ).read_text()
    )
    record = sample | {
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": "DeleteEndpoint",
        "awsRegion": REGION,
        "recipientAccountId": ACCOUNT,
    }
    events_ext.on_cloudtrail_record(record)
    assert bodies(aws, url) == []  # no trail is logging
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="trail-bucket")
    s3.put_bucket_policy(Bucket="trail-bucket", Policy=bucket_policy_for_cloudtrail(  # CloudTrail checks it
        "trail-bucket", "123456789012", "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit"))
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    cloudtrail.create_trail(Name="audit", S3BucketName="trail-bucket", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="audit")
    events_ext.reset()
    events_ext.on_cloudtrail_record(record)
    bodies_now = bodies(aws, url)
    event = json.loads(next(b for b in bodies_now if "DeleteEndpoint" in b))
    derived = json.loads(
        (
            REFERENCE
            / "3-cloudtrail"
            / "aws-powertools-powertools-lambda-python__tests-functional-validator-conftest.py"
            ".lines333-404.DERIVED.json"
        ).read_text()
    )
    assert set(event) == set(derived) and event["source"] == "aws.sagemaker"
    assert event["detail"] == record and event["time"] == record["eventTime"]
    # read-only calls reach only rules that opt in to them
    rule(
        aws,
        "reads",
        {"source": ["aws.sagemaker"], "detail": {"eventName": ["DescribeEndpoint"]}},
        [{"Id": "q", "Arn": arn}],
    )
    events_ext.on_cloudtrail_record(record | {"eventName": "DescribeEndpoint", "readOnly": True})
    assert not [b for b in bodies(aws, url) if "DescribeEndpoint" in b]


# ---- Server mode: the failure the field notes measured


def test_put_events_with_sns_and_lambda_targets_never_fails_on_the_server() -> None:
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        kwargs = {
            "region_name": REGION,
            "endpoint_url": f"http://{host}:{port}",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        events = boto3.client("events", **kwargs)
        topic = boto3.client("sns", **kwargs).create_topic(Name="t")["TopicArn"]
        events.put_rule(Name="r", EventPattern='{"source": ["com.example.ml"]}')
        events.put_targets(
            Rule="r",
            Targets=[{"Id": "t", "Arn": topic}, {"Id": "f", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope"}],
        )
        answer = events.put_events(Entries=[{"Source": "com.example.ml", "DetailType": "x", "Detail": "{}"}])
        assert answer["FailedEntryCount"] == 0 and answer["Entries"][0]["EventId"]
    finally:
        server.stop()
