"""Wire tests of the CloudTrail extension: boto3 -> the lab's moto server. Calls by the learner's and
the grader's keys are recorded; LookupEvents (API reference) parses through boto3 and its paginator;
a logging trail delivers selected events to its bucket as gzip JSON at AWS's key layout, with digest
files; seeded history answers an audit question; subscribers get each record; recording is cheap."""

from __future__ import annotations

import gzip
import json
import re
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fixtures.moto_ext import cloudtrail, hooks
from fixtures.moto_ext.cloudtrail.policies import bucket_policy_for_cloudtrail
from mlalab.engines.cloudtrail import delivery, identity
from mlalab.server import LabServer

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def client(server):
    LabServer.reset()

    def make(service: str, key: str = "testing", secret: str = "testing", token: str | None = None):
        return boto3.client(service, endpoint_url=server.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                            config=Config(retries={"max_attempts": 1}))

    return make


def _records(events: list[dict]) -> list[dict]:
    return [json.loads(e["CloudTrailEvent"]) for e in events]


def test_calls_are_recorded_with_identity_and_answered_through_boto3(client):
    sns = client("sns")
    arn = sns.create_topic(Name="security")["TopicArn"]
    grader = client("cloudtrail", key="grader")
    events = grader.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTopic"}])
    assert len(events["Events"]) == 1
    event = events["Events"][0]
    assert isinstance(event["EventTime"], datetime) and event["Username"] == "testing"
    record = json.loads(event["CloudTrailEvent"])
    assert record["eventSource"] == "sns.amazonaws.com" and record["requestParameters"] == {"name": "security"}
    assert record["responseElements"] == {"topicArn": arn}
    assert record["userIdentity"]["type"] == "IAMUser" and record["userIdentity"]["accessKeyId"] == "testing"
    assert record["readOnly"] is False and record["managementEvent"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["eventTime"])
    assert record["sourceIPAddress"] == "127.0.0.1" and record["userAgent"].startswith("Boto3/")
    # The grader's own LookupEvents call is in the history too, under its key.
    mine = grader.lookup_events(LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": "grader"}])
    assert [e["EventName"] for e in mine["Events"]] == ["LookupEvents"]


def test_failed_and_refused_calls_carry_the_error(client):
    sagemaker = client("sagemaker")
    with pytest.raises(ClientError):
        sagemaker.delete_endpoint(EndpointName="missing")
    cloudwatch = client("cloudwatch")
    with pytest.raises(ClientError):  # refused by validation before moto: AWS logs refused calls too
        cloudwatch.put_metric_alarm(AlarmName="a", MetricName="M", Namespace="N", Period=60, EvaluationPeriods=1,
                                    Threshold=1, ComparisonOperator="GreaterThanThreshold", Statistic="Average",
                                    ExtendedStatistic="p99")
    records = _records(client("cloudtrail").lookup_events()["Events"])
    by_name = {r["eventName"]: r for r in records}
    assert by_name["DeleteEndpoint"]["errorCode"] == "ValidationException"
    assert by_name["DeleteEndpoint"]["responseElements"] is None
    assert by_name["PutMetricAlarm"]["errorCode"] == "InvalidParameterCombination"
    assert by_name["PutMetricAlarm"]["eventSource"] == "monitoring.amazonaws.com"


def test_assumed_role_and_iam_user_keys_map_to_their_identities(client):
    iam = client("iam")
    iam.create_user(UserName="dana")
    key = iam.create_access_key(UserName="dana")["AccessKey"]
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=json.dumps(TRUST))
    read_models = {"Version": "2012-10-17",
                   "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListModels", "Resource": "*"}]}
    iam.put_role_policy(RoleName="ops", PolicyName="read-models",  # role sessions are authorized
                        PolicyDocument=json.dumps(read_models))
    creds = client("sts").assume_role(RoleArn="arn:aws:iam::123456789012:role/ops",
                                      RoleSessionName="night-shift")["Credentials"]
    client("sagemaker", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).list_endpoints()
    client("sagemaker", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
           token=creds["SessionToken"]).list_models()
    records = {r["eventName"]: r for r in _records(client("cloudtrail").lookup_events()["Events"])}
    user = records["ListEndpoints"]["userIdentity"]
    assert user["type"] == "IAMUser" and user["userName"] == "dana" and user["arn"].endswith(":user/dana")
    role = records["ListModels"]["userIdentity"]
    assert role["type"] == "AssumedRole"
    assert role["arn"] == "arn:aws:sts::123456789012:assumed-role/ops/night-shift"
    assert role["sessionContext"]["sessionIssuer"]["arn"] == "arn:aws:iam::123456789012:role/ops"
    assert records["AssumeRole"]["eventSource"] == "sts.amazonaws.com"


def test_paginator_and_max_results(client):
    sns = client("sns")
    for i in range(7):
        sns.create_topic(Name=f"t{i}")
    ct = client("cloudtrail")
    pages = list(ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTopic"}],
        PaginationConfig={"PageSize": 3}))
    assert [len(p["Events"]) for p in pages] == [3, 3, 1]
    names = [json.loads(e["CloudTrailEvent"])["requestParameters"]["name"] for p in pages for e in p["Events"]]
    assert names == [f"t{i}" for i in range(6, -1, -1)]  # newest first
    with pytest.raises(ClientError) as refused:
        ct.lookup_events(MaxResults=51)
    assert refused.value.response["Error"]["Code"] == "InvalidMaxResultsException"


def test_seeded_history_answers_the_audit_question(client):
    bob = identity.assumed_role("123456789012", "ml-admin", "bob", "ASIABOB0000000000001",
                                datetime(2026, 4, 1, 8, tzinfo=UTC))
    ana = identity.iam_user("123456789012", "ana", "AKIAANA0000000000001")
    now = datetime.now(UTC)
    cloudtrail.seed_events([
        dict(event_name="CreateEndpoint", service="sagemaker", user_identity=ana, time=now - timedelta(days=3),
             request_parameters={"endpointName": "fraud", "endpointConfigName": "fraud-v1"}),
        dict(event_name="DeleteEndpoint", service="sagemaker", user_identity=bob, time=now - timedelta(days=1),
             request_parameters={"endpointName": "fraud"}, source_ip="203.0.113.77"),
    ])
    events = client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "fraud"}])["Events"]
    delete = next(e for e in events if e["EventName"] == "DeleteEndpoint")
    assert delete["Username"] == "bob"
    assert json.loads(delete["CloudTrailEvent"])["sourceIPAddress"] == "203.0.113.77"
    assert abs(delete["EventTime"] - (now - timedelta(days=1))) < timedelta(seconds=1)


def test_logging_trail_delivers_selected_events_with_digests(client):
    s3, ct = client("s3"), client("cloudtrail")
    s3.create_bucket(Bucket="audit-logs")
    s3.create_bucket(Bucket="training")
    s3.put_bucket_policy(Bucket="audit-logs", Policy=bucket_policy_for_cloudtrail(  # CloudTrail checks it
        "audit-logs", "123456789012", "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"))
    ct.create_trail(Name="org-trail", S3BucketName="audit-logs", IsMultiRegionTrail=True,
                    EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName="org-trail", AdvancedEventSelectors=[
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "training objects", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::training/"]}]}])
    ct.start_logging(Name="org-trail")
    s3.put_object(Bucket="training", Key="data/part-0.csv", Body=b"1,2,3")
    s3.get_object(Bucket="training", Key="data/part-0.csv")
    s3.put_object(Bucket="audit-logs", Key="elsewhere.txt", Body=b"x")  # not selected: other bucket
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="audit-logs")["Contents"]]
    logs = [k for k in keys if "/CloudTrail/" in k]
    assert logs and all(re.fullmatch(r"AWSLogs/123456789012/CloudTrail/us-east-1/\d{4}/\d\d/\d\d/"
                                     r"123456789012_CloudTrail_us-east-1_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz", k)
                        for k in logs)
    records = [r for k in logs for r in json.loads(gzip.decompress(
        s3.get_object(Bucket="audit-logs", Key=k)["Body"].read()))["Records"]]
    data = [(r["eventName"], r["requestParameters"]["key"]) for r in records if r["eventCategory"] == "Data"]
    assert data == [("PutObject", "data/part-0.csv"), ("GetObject", "data/part-0.csv")]
    put = next(r for r in records if r["eventName"] == "PutObject")
    assert put["resources"][0] == {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::training/data/part-0.csv"}
    assert "StartLogging" in [r["eventName"] for r in records]
    digests = [k for k in keys if "/CloudTrail-Digest/" in k]
    assert digests
    head = s3.get_object(Bucket="audit-logs", Key=digests[0])
    document = json.loads(gzip.decompress(head["Body"].read()))
    assert head["Metadata"]["signature-algorithm"] == "SHA256withRSA"
    end = datetime.strptime(document["digestEndTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    raw = gzip.decompress(s3.get_object(Bucket="audit-logs", Key=digests[0])["Body"].read())
    import hashlib

    assert delivery.verify(delivery.signing_string(end, "audit-logs", digests[0], hashlib.sha256(raw).hexdigest(),
                                                   None), head["Metadata"]["signature"])
    # Data events are never in Event history.
    assert not ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutObject"}])[
        "Events"]


def test_stopped_trail_delivers_nothing_more(client):
    s3, ct = client("s3"), client("cloudtrail")
    s3.create_bucket(Bucket="audit-2")
    s3.put_bucket_policy(Bucket="audit-2", Policy=bucket_policy_for_cloudtrail(
        "audit-2", "123456789012", "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail-2"))
    ct.create_trail(Name="audit-trail-2", S3BucketName="audit-2")
    ct.start_logging(Name="audit-trail-2")
    ct.stop_logging(Name="audit-trail-2")
    client("sns").create_topic(Name="after-stop")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="audit-2").get("Contents", [])]
    names = [r["eventName"] for k in keys for r in json.loads(gzip.decompress(
        s3.get_object(Bucket="audit-2", Key=k)["Body"].read()))["Records"]]
    assert "StopLogging" in names and "CreateTopic" not in names


def test_subscribers_get_each_record_and_can_unsubscribe(client):
    seen: list[dict] = []
    unsubscribe = cloudtrail.subscribe(seen.append)
    try:
        client("sagemaker").list_endpoints()
    finally:
        unsubscribe()
    client("sagemaker").list_models()
    assert [r["eventName"] for r in seen] == ["ListEndpoints"]
    assert seen[0]["eventSource"] == "sagemaker.amazonaws.com"


def test_recording_is_cheap(client):
    """The after hook's own cost per request (< 0.2 ms), measured on calls like the labs' own."""
    sns = client("sns")
    arn = sns.create_topic(Name="cost")["TopicArn"]
    spent: list[float] = []
    original = cloudtrail.record_call

    def timed(call):
        start = time.perf_counter()
        original(call)
        spent.append(time.perf_counter() - start)

    hooks.remove(original)
    hooks.add_after(timed)
    try:
        for _ in range(100):
            sns.get_topic_attributes(TopicArn=arn)
    finally:
        hooks.remove(timed)
        hooks.add_after(original)
    spent.sort()
    median_ms = spent[len(spent) // 2] * 1000
    assert median_ms < 0.2, median_ms


def test_uninstall_leaves_no_hook():
    cloudtrail.uninstall()
    try:
        before, after = hooks.registered()
        assert cloudtrail.record_call not in after and cloudtrail.models.flush_for_bucket not in before
    finally:
        cloudtrail.install()
