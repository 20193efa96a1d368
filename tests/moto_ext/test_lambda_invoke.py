"""Wire tests for Lambda without Docker: boto3 against the lab's server, handlers run in the sandbox.

AWS sources: "Invoke" (API reference: FunctionError, LogResult, status codes); "Lambda function
errors in Python" (python-exceptions: the error payload); "Working with Lambda function logs"
(monitoring-cloudwatchlogs: /aws/lambda/<name>, START/END/REPORT); "How Lambda handles errors and
retries with asynchronous invocation" (invocation-async-error-handling); "Capturing records of
Lambda asynchronous invocations" (invocation-async-retain-records: the record, the DLQ attributes);
"Invoking Lambda functions with Amazon SNS notifications" (with-sns); "Python context"
(python-context).
"""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from collections.abc import Iterator

import boto3
import pytest

from fixtures.moto_ext import lambda_ as lambda_ext
from mlalab.server import LabServer

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
BASIC = {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}

HANDLER = '''
import json, os, boto3
CALLS = 0

def handler(event, context):
    global CALLS
    CALLS += 1
    print("got", json.dumps(event))
    body = {"event": event, "calls": CALLS, "greeting": os.environ["GREETING"],
            "context": {"function_name": context.function_name, "function_version": context.function_version,
                        "invoked_function_arn": context.invoked_function_arn,
                        "memory_limit_in_mb": context.memory_limit_in_mb, "aws_request_id": context.aws_request_id,
                        "log_group_name": context.log_group_name, "log_stream_name": context.log_stream_name,
                        "remaining": context.get_remaining_time_in_millis()},
            "caller": boto3.client("sts").get_caller_identity()["Arn"]}
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["QUEUE"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    return {"ok": True, "calls": CALLS}
'''

FAILING = '''
def handler(event, context):
    print("about to fail")
    raise KeyError("model_name")
'''

SLOW = '''
import time
def handler(event, context):
    print("sleeping")
    time.sleep(30)
'''

HOSTILE = '''
def handler(event, context):
    found = {}
    for path in event["paths"]:
        try:
            with open(path) as f:
                found[path] = f.read(100)
        except Exception as exc:
            found[path] = type(exc).__name__
    return found
'''


def package(source: str, module: str = "app") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


@pytest.fixture
def aws(server: LabServer) -> Iterator[dict]:
    server.reset()
    clients = {name: boto3.client(name, region_name=REGION, endpoint_url=server.endpoint_url,
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
               for name in ("lambda", "iam", "sqs", "sns", "logs", "events")}
    yield clients
    lambda_ext.settle(60)


def role(aws: dict, name: str, *statements: dict) -> str:
    arn = aws["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    document = {"Version": "2012-10-17", "Statement": [BASIC, *statements]}
    aws["iam"].put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return arn


def function(aws: dict, name: str, source: str, role_arn: str, **extra) -> str:
    return aws["lambda"].create_function(FunctionName=name, Runtime="python3.11", Role=role_arn,
                                         Handler="app.handler", Code={"ZipFile": package(source)},
                                         **extra)["FunctionArn"]


def messages(aws: dict, url: str, expected: int = 1) -> list[dict]:
    found: list[dict] = []
    for _ in range(20):
        answer = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        found += answer.get("Messages", [])
        if len(found) >= expected:
            break
    return found


def test_handler_reads_event_and_context_and_writes_to_sqs(aws: dict) -> None:
    url = aws["sqs"].create_queue(QueueName="out")["QueueUrl"]
    arn = role(aws, "fn-role", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    fn_arn = function(aws, "reader", HANDLER, arn, Timeout=7, MemorySize=256,
                      Environment={"Variables": {"GREETING": "hello", "QUEUE": "out"}})
    answer = aws["lambda"].invoke(FunctionName="reader", Payload=json.dumps({"alarm": "x"}), LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"ok": True, "calls": 1}
    assert answer["ExecutedVersion"] == "$LATEST"
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "got {\"alarm\": \"x\"}" in tail and "REPORT RequestId:" in tail
    body = json.loads(messages(aws, url)[0]["Body"])
    assert body["event"] == {"alarm": "x"} and body["greeting"] == "hello"
    context = body["context"]
    assert context["function_name"] == "reader" and context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == fn_arn and context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == "/aws/lambda/reader" and context["log_stream_name"].endswith(
        context["log_stream_name"][-32:]) and "[$LATEST]" in context["log_stream_name"]
    assert 0 < context["remaining"] <= 7000
    # The handler's calls are signed with a session of the execution role, named after the function.
    assert body["caller"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/reader"
    # A second invocation reuses the warm execution environment: module state survives, as in AWS.
    again = aws["lambda"].invoke(FunctionName="reader", Payload=b"{}")
    assert json.loads(again["Payload"].read())["calls"] == 2


def test_unhandled_error_payload_and_function_error(aws: dict) -> None:
    function(aws, "broken", FAILING, role(aws, "broken-role"))
    answer = aws["lambda"].invoke(FunctionName="broken", Payload=b"{}")
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    payload = json.loads(answer["Payload"].read())
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["errorType"] == "KeyError" and payload["errorMessage"] == "'model_name'"
    assert payload["requestId"] == answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert isinstance(payload["stackTrace"], list) and "raise KeyError" in payload["stackTrace"][-1]


def test_logs_go_to_the_function_log_group(aws: dict) -> None:
    function(aws, "logger", FAILING, role(aws, "logger-role"))
    aws["lambda"].invoke(FunctionName="logger", Payload=b"{}")
    streams = aws["logs"].describe_log_streams(logGroupName="/aws/lambda/logger")["logStreams"]
    assert len(streams) == 1 and "/[$LATEST]" in streams[0]["logStreamName"]
    lines = [e["message"] for e in aws["logs"].get_log_events(
        logGroupName="/aws/lambda/logger", logStreamName=streams[0]["logStreamName"])["events"]]
    assert lines[0].startswith("START RequestId: ") and lines[0].endswith(" Version: $LATEST")
    assert "about to fail" in lines
    assert any(line.startswith("[ERROR] KeyError: 'model_name'") for line in lines)
    assert lines[-2].startswith("END RequestId: ") and lines[-1].startswith("REPORT RequestId: ")
    assert "Init Duration:" in lines[-1] and "Memory Size: 128 MB" in lines[-1]


def test_no_logs_without_the_role_permission(aws: dict) -> None:
    arn = aws["iam"].create_role(RoleName="mute", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    function(aws, "mute", FAILING, arn)
    aws["lambda"].invoke(FunctionName="mute", Payload=b"{}")
    groups = aws["logs"].describe_log_groups(logGroupNamePrefix="/aws/lambda/mute")["logGroups"]
    assert groups == []


def test_timeout(aws: dict) -> None:
    function(aws, "slow", SLOW, role(aws, "slow-role"), Timeout=1)
    started = time.monotonic()
    answer = aws["lambda"].invoke(FunctionName="slow", Payload=b"{}")
    assert time.monotonic() - started < 10
    assert answer["FunctionError"] == "Unhandled"
    payload = json.loads(answer["Payload"].read())
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Task timed out after 1.00 seconds")
    stream = aws["logs"].describe_log_streams(logGroupName="/aws/lambda/slow")["logStreams"][0]["logStreamName"]
    lines = [e["message"] for e in aws["logs"].get_log_events(logGroupName="/aws/lambda/slow",
                                                              logStreamName=stream)["events"]]
    assert any("Task timed out after 1.00 seconds" in line for line in lines)
    assert "Status: timeout" in lines[-1]


def test_async_retries_then_on_failure_destination_and_dlq(aws: dict) -> None:
    failures = aws["sqs"].create_queue(QueueName="failures")["QueueUrl"]
    dead = aws["sqs"].create_queue(QueueName="dead")["QueueUrl"]
    arn = role(aws, "async-role", {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    fn_arn = function(aws, "flaky", FAILING, arn,
                      DeadLetterConfig={"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead"})
    aws["lambda"].put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"}})
    answer = aws["lambda"].invoke(FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"n": 1}))
    assert answer["StatusCode"] == 202
    assert lambda_ext.settle(60)
    (invocation,) = lambda_ext.invocations("flaky")
    assert len(invocation.attempts) == 2 and invocation.condition == "RetriesExhausted"
    record = json.loads(messages(aws, failures)[0]["Body"])
    assert list(record) == ["version", "timestamp", "requestContext", "requestPayload", "responseContext",
                            "responsePayload"]
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestContext"] == {"requestId": invocation.request_id, "functionArn": f"{fn_arn}:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 2}
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "KeyError"
    (letter,) = messages(aws, dead)
    assert json.loads(letter["Body"]) == {"n": 1}
    attributes = letter["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == invocation.request_id
    assert attributes["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attributes["ErrorMessage"]["StringValue"] == "'model_name'"
    assert aws["lambda"].get_function_configuration(FunctionName="flaky")["DeadLetterConfig"] == {
        "TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead"}


def test_default_retries_twice(aws: dict) -> None:
    function(aws, "always-fails", FAILING, role(aws, "fails-role"))
    aws["lambda"].invoke(FunctionName="always-fails", InvocationType="Event", Payload=b"{}")
    assert lambda_ext.settle(60)
    (invocation,) = lambda_ext.invocations("always-fails")
    assert len(invocation.attempts) == 3 and invocation.status == "failed"


def test_eventbridge_target_runs_the_handler(aws: dict) -> None:
    url = aws["sqs"].create_queue(QueueName="from-events")["QueueUrl"]
    arn = role(aws, "eb-role", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    fn_arn = function(aws, "on-event", HANDLER, arn,
                      Environment={"Variables": {"GREETING": "eb", "QUEUE": "from-events"}})
    rule = aws["events"].put_rule(Name="r", EventPattern=json.dumps({"source": ["mla.test"]}))["RuleArn"]
    aws["lambda"].add_permission(FunctionName="on-event", StatementId="eb", Action="lambda:InvokeFunction",
                                 Principal="events.amazonaws.com", SourceArn=rule)
    aws["events"].put_targets(Rule="r", Targets=[{"Id": "fn", "Arn": fn_arn}])
    aws["events"].put_events(Entries=[{"Source": "mla.test", "DetailType": "t", "Detail": json.dumps({"k": 1})}])
    assert lambda_ext.settle(60)
    body = json.loads(messages(aws, url)[0]["Body"])
    assert body["event"]["detail"] == {"k": 1} and body["event"]["source"] == "mla.test"
    from fixtures.moto_ext import events as events_ext

    assert [i.status for i in events_ext.lambda_invocations("on-event")] == ["succeeded"]


def test_sns_subscription_invokes_with_the_sns_event(aws: dict) -> None:
    url = aws["sqs"].create_queue(QueueName="from-sns")["QueueUrl"]
    arn = role(aws, "sns-role", {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})
    fn_arn = function(aws, "on-sns", HANDLER, arn, Environment={"Variables": {"GREETING": "sns", "QUEUE": "from-sns"}})
    topic = aws["sns"].create_topic(Name="t")["TopicArn"]
    aws["lambda"].add_permission(FunctionName="on-sns", StatementId="sns", Action="lambda:InvokeFunction",
                                 Principal="sns.amazonaws.com", SourceArn=topic)
    aws["sns"].subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)
    aws["sns"].publish(TopicArn=topic, Message="alarm!", Subject="s")
    assert lambda_ext.settle(60)
    record = json.loads(messages(aws, url)[0]["Body"])["event"]["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["Sns"]["TopicArn"] == topic
    assert record["Sns"]["Message"] == "alarm!" and record["Sns"]["Subject"] == "s"


def test_dry_run_runs_nothing(aws: dict) -> None:
    function(aws, "dry", FAILING, role(aws, "dry-role"))
    assert aws["lambda"].invoke(FunctionName="dry", InvocationType="DryRun")["StatusCode"] == 204
    assert lambda_ext.invocations("dry") == []


def test_hostile_handler_cannot_read_the_graders_files(aws: dict) -> None:
    import mlalab

    secret = str(__import__("pathlib").Path(mlalab.__file__).resolve().parent.parent / "labs" / "01_endpoint_alarms"
                 / "solution.py")
    function(aws, "hostile", HOSTILE, role(aws, "hostile-role"))
    answer = aws["lambda"].invoke(FunctionName="hostile", Payload=json.dumps({"paths": [secret, __file__]}))
    found = json.loads(answer["Payload"].read())
    assert found[secret] in ("FileNotFoundError", "PermissionError")
    assert found[__file__] in ("FileNotFoundError", "PermissionError")
