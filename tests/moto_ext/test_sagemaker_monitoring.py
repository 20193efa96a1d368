"""Monitoring schedules and executions through boto3 and a lab server, with the simulated clock
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateMonitoringSchedule.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-results.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fixtures.moto_ext.sagemaker import clock, monitoring
from mlalab.engines.modelmonitor import capture, constraints, statistics

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
BUCKET = "mm-bucket"
IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
H13 = datetime(2024, 5, 6, 13, tzinfo=UTC)  # the hour traffic is captured in
CREATED = H13 + timedelta(minutes=5)


@pytest.fixture
def aws(server) -> dict[str, Any]:
    server.reset()
    clock.set_now(CREATED)
    kwargs = {"region_name": REGION, "endpoint_url": server.endpoint_url, "aws_access_key_id": "testing",
              "aws_secret_access_key": "testing"}
    clients = {name: boto3.client(name, **kwargs) for name in ("sagemaker", "s3", "cloudwatch")}
    clients["s3"].create_bucket(Bucket=BUCKET)
    yield clients
    clock.reset()


def endpoint(sm, name: str = "churn") -> None:
    sm.create_model(ModelName=f"{name}-model", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"})
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 1.0}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100,
                           "DestinationS3Uri": f"s3://{BUCKET}/capture",
                           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]})
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def baseline(s3, rows: list[tuple[float, float]]) -> None:
    table = {"_c0": [str(a) for a, _ in rows], "_c1": [str(b) for _, b in rows]}
    stats = statistics.compute(table)
    s3.put_object(Bucket=BUCKET, Key="baseline/statistics.json", Body=json.dumps(stats))
    s3.put_object(Bucket=BUCKET, Key="baseline/constraints.json", Body=json.dumps(constraints.suggest(stats)))


def captured(s3, rows: list[tuple[float, float]], hour: datetime = H13, name: str = "churn",
             outputs: list[str] | None = None, ids: list[str] | None = None) -> None:
    """One capture file of ``rows`` (CSV inputs) in ``hour``, written as data capture writes it."""
    lines = []
    for i, (a, b) in enumerate(rows):
        when = hour + timedelta(seconds=i % 3600)
        lines.append(capture.CaptureRecord(
            event_id=str(uuid.uuid4()), inference_time=capture.format_inference_time(when),
            inference_id=ids[i] if ids else None,
            input=capture.Payload("text/csv", "INPUT", f"{a},{b}", "CSV"),
            output=capture.Payload("text/csv; charset=utf-8", "OUTPUT", outputs[i] if outputs else "0.5", "CSV"),
        ).to_line())
    bucket, key = capture.capture_key(f"s3://{BUCKET}/capture", name, "AllTraffic", hour + timedelta(minutes=1),
                                      uuid.uuid4().hex)
    s3.put_object(Bucket=bucket, Key=key, Body="\n".join(lines) + "\n")


def uniform(n: int, seed: int, shift: float = 0.0) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(round(rng.uniform(0, 10) + shift, 3), round(rng.uniform(0, 1), 3)) for _ in range(n)]


def inline_config(expression: str = "cron(0 * ? * * *)", *, environment: dict | None = None,
                  name: str = "churn", **schedule: str) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "BaselineConfig": {"ConstraintsResource": {"S3Uri": f"s3://{BUCKET}/baseline/constraints.json"},
                           "StatisticsResource": {"S3Uri": f"s3://{BUCKET}/baseline/statistics.json"}},
        "MonitoringInputs": [{"EndpointInput": {"EndpointName": name, "LocalPath": "/opt/ml/processing/input"}}],
        "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{BUCKET}/reports", "LocalPath": "/opt/ml/processing/output"}}]},
        "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 20}},
        "MonitoringAppSpecification": {"ImageUri": IMAGE},
        "RoleArn": ROLE,
    }
    if environment is not None:
        definition["Environment"] = environment
    return {"ScheduleConfig": {"ScheduleExpression": expression, **schedule}, "MonitoringJobDefinition": definition}


def report(s3, schedule: str, hour: datetime, file: str = "constraint_violations.json") -> dict:
    key = f"reports/churn/{schedule}/{hour:%Y/%m/%d/%H}/{file}"
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


# --- the API -----------------------------------------------------------------------------------------


def test_create_describe_list_and_errors(aws) -> None:
    sm = aws["sagemaker"]
    endpoint(sm)
    arn = sm.create_monitoring_schedule(MonitoringScheduleName="hourly", MonitoringScheduleConfig=inline_config(),
                                        Tags=[{"Key": "team", "Value": "ml"}])["MonitoringScheduleArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/hourly"
    first = sm.describe_monitoring_schedule(MonitoringScheduleName="hourly")
    assert first["MonitoringScheduleStatus"] == "Pending"
    described = sm.describe_monitoring_schedule(MonitoringScheduleName="hourly")
    assert described["MonitoringScheduleStatus"] == "Scheduled"
    assert (described["MonitoringType"], described["EndpointName"]) == ("DataQuality", "churn")
    assert described["CreationTime"] == CREATED
    assert described["MonitoringScheduleConfig"]["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert "LastMonitoringExecutionSummary" not in described

    with pytest.raises(ClientError) as error:
        sm.create_monitoring_schedule(MonitoringScheduleName="hourly", MonitoringScheduleConfig=inline_config())
    assert error.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as error:
        sm.describe_monitoring_schedule(MonitoringScheduleName="nope")
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"
    for bad in (inline_config("cron(30 * ? * * *)"), inline_config("NOW"), inline_config(name="missing")):
        with pytest.raises(ClientError) as error:
            sm.create_monitoring_schedule(MonitoringScheduleName="bad", MonitoringScheduleConfig=bad)
        assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "minutes field must be 0" in _message(sm, inline_config("cron(30 * ? * * *)"))

    clock.set_now(CREATED + timedelta(minutes=1))
    sm.create_monitoring_schedule(MonitoringScheduleName="daily-check", MonitoringScheduleConfig=inline_config(
        "cron(0 6 ? * * *)"))
    listed = sm.list_monitoring_schedules()["MonitoringScheduleSummaries"]
    assert [s["MonitoringScheduleName"] for s in listed] == ["daily-check", "hourly"]  # CreationTime descending
    assert listed[1] == {"MonitoringScheduleName": "hourly", "MonitoringScheduleArn": arn, "CreationTime": CREATED,
                         "LastModifiedTime": CREATED, "MonitoringScheduleStatus": "Scheduled",
                         "EndpointName": "churn", "MonitoringType": "DataQuality"}
    names = lambda **kw: [s["MonitoringScheduleName"] for s in  # noqa: E731
                          sm.list_monitoring_schedules(**kw)["MonitoringScheduleSummaries"]]
    assert names(NameContains="DAILY") == ["daily-check"]
    assert names(SortBy="Name", SortOrder="Ascending") == ["daily-check", "hourly"]
    assert names(EndpointName="other") == []
    assert names(CreationTimeAfter=CREATED) == ["daily-check"]
    page = sm.list_monitoring_schedules(MaxResults=1)
    assert len(page["MonitoringScheduleSummaries"]) == 1 and page["NextToken"]
    assert len(sm.list_monitoring_schedules(MaxResults=1, NextToken=page["NextToken"])
               ["MonitoringScheduleSummaries"]) == 1

    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "prod"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}, {"Key": "stage", "Value": "prod"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "prod"}]

    sm.stop_monitoring_schedule(MonitoringScheduleName="hourly")
    assert sm.describe_monitoring_schedule(MonitoringScheduleName="hourly")["MonitoringScheduleStatus"] == "Stopped"
    assert names(StatusEquals="Stopped") == ["hourly"]
    sm.start_monitoring_schedule(MonitoringScheduleName="hourly")
    assert sm.describe_monitoring_schedule(MonitoringScheduleName="hourly")["MonitoringScheduleStatus"] == "Scheduled"
    sm.update_monitoring_schedule(MonitoringScheduleName="hourly",
                                  MonitoringScheduleConfig=inline_config("cron(0 0/2 ? * * *)"))
    assert (sm.describe_monitoring_schedule(MonitoringScheduleName="hourly")["MonitoringScheduleConfig"]
            ["ScheduleConfig"]["ScheduleExpression"]) == "cron(0 0/2 ? * * *)"
    sm.delete_monitoring_schedule(MonitoringScheduleName="hourly")
    assert names() == ["daily-check"]
    with pytest.raises(ClientError) as error:
        sm.stop_monitoring_schedule(MonitoringScheduleName="hourly")
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"


def _message(sm, config: dict) -> str:
    try:
        sm.create_monitoring_schedule(MonitoringScheduleName="bad", MonitoringScheduleConfig=config)
    except ClientError as error:
        return error.response["Error"]["Message"]
    raise AssertionError("accepted")


# --- executions -------------------------------------------------------------------------------------------


def test_normal_then_drifted_hour(aws, monkeypatch) -> None:
    sm, s3, cw = aws["sagemaker"], aws["s3"], aws["cloudwatch"]
    events: list[tuple] = []
    import fixtures.moto_ext.events as events_ext

    monkeypatch.setattr(events_ext, "emit_event", lambda *a, **kw: events.append((a, kw)))
    endpoint(sm)
    baseline(s3, uniform(500, 1))
    sm.create_monitoring_schedule(MonitoringScheduleName="dq", MonitoringScheduleConfig=inline_config())
    captured(s3, uniform(300, 2))  # 13:00-13:59, like the baseline
    captured(s3, uniform(300, 3, shift=8.0), hour=H13 + timedelta(hours=1))  # 14:xx, _c0 drifted

    ran = monitoring.advance(H13 + timedelta(hours=2, minutes=10))
    assert clock.now() == H13 + timedelta(hours=2, minutes=10)
    assert [(r["ScheduledTime"], r["MonitoringExecutionStatus"]) for r in ran] == [
        (H13 + timedelta(hours=1), "Completed"), (H13 + timedelta(hours=2), "CompletedWithViolations")]

    listed = sm.list_monitoring_executions(MonitoringScheduleName="dq")["MonitoringExecutionSummaries"]
    assert [e["MonitoringExecutionStatus"] for e in listed] == ["CompletedWithViolations", "Completed"]
    normal = listed[1]
    assert normal["ProcessingJobArn"].startswith(
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/model-monitoring-202405061400-")
    assert (normal["EndpointName"], normal["MonitoringType"], normal["ScheduledTime"]) == (
        "churn", "DataQuality", H13 + timedelta(hours=1))
    assert report(s3, "dq", H13 + timedelta(hours=1)) == {"violations": []}
    assert report(s3, "dq", H13 + timedelta(hours=1), "statistics.json")["dataset"]["item_count"] == 300

    drifted = report(s3, "dq", H13 + timedelta(hours=2))["violations"]
    assert [(v["feature_name"], v["constraint_check_type"]) for v in drifted] == [("_c0", "baseline_drift_check")]
    job = sm.describe_processing_job(ProcessingJobName=listed[0]["ProcessingJobArn"].rsplit("/", 1)[1])
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["ExitMessage"] == "CompletedWithViolations: Job completed successfully with 1 violations."
    assert job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == (
        f"s3://{BUCKET}/reports/churn/dq/2024/05/06/15")
    last = sm.describe_monitoring_schedule(MonitoringScheduleName="dq")["LastMonitoringExecutionSummary"]
    assert last["MonitoringExecutionStatus"] == "CompletedWithViolations"

    dims = [{"Name": "Endpoint", "Value": "churn"}, {"Name": "MonitoringSchedule", "Value": "dq"}]
    stats = cw.get_metric_statistics(Namespace="aws/sagemaker/Endpoints/data-metrics",
                                     MetricName="feature_baseline_drift__c0", Dimensions=dims,
                                     StartTime=H13, EndTime=H13 + timedelta(hours=3), Period=3600,
                                     Statistics=["Maximum"])["Datapoints"]
    by_hour = {p["Timestamp"]: p["Maximum"] for p in stats}
    assert by_hour[H13 + timedelta(hours=2)] > 0.5 > by_hour[H13 + timedelta(hours=1)]
    distance = float(drifted[0]["description"].split("distance: ")[1].split(" ")[0])
    assert by_hour[H13 + timedelta(hours=2)] == pytest.approx(distance)
    count = cw.get_metric_statistics(Namespace="aws/sagemaker/Endpoints/data-metrics",
                                     MetricName="feature_data__c0", Dimensions=dims, StartTime=H13,
                                     EndTime=H13 + timedelta(hours=3), Period=3600,
                                     Statistics=["SampleCount"])["Datapoints"]
    assert sorted(p["SampleCount"] for p in count) == [300.0, 300.0]

    assert [(a[0], a[1]) for a, _ in events] == [("aws.sagemaker", "SageMaker Processing Job State Change")] * 2
    detail = events[1][0][2]
    assert detail["ProcessingJobStatus"] == "Completed"
    assert detail["ExitMessage"] == "CompletedWithViolations: Job completed successfully with 1 violations."
    assert detail["CreationTime"] == int((H13 + timedelta(hours=2)).timestamp() * 1000)
    assert events[1][1]["resources"] == [listed[0]["ProcessingJobArn"]]


def test_empty_hour_fails_and_stopped_hours_are_skipped(aws) -> None:
    sm, s3 = aws["sagemaker"], aws["s3"]
    endpoint(sm)
    baseline(s3, uniform(200, 1))
    sm.create_monitoring_schedule(MonitoringScheduleName="dq", MonitoringScheduleConfig=inline_config())
    ran = monitoring.advance(H13 + timedelta(hours=1))
    assert [(r["MonitoringExecutionStatus"], r.get("FailureReason")) for r in ran] == [
        ("Failed", "Job inputs had no data")]
    job = sm.describe_processing_job(ProcessingJobName=ran[0]["ProcessingJobArn"].rsplit("/", 1)[1])
    assert (job["ProcessingJobStatus"], job["FailureReason"]) == ("Failed", "Job inputs had no data")
    with pytest.raises(ClientError):
        report(s3, "dq", H13 + timedelta(hours=1))

    sm.stop_monitoring_schedule(MonitoringScheduleName="dq")
    assert monitoring.advance(H13 + timedelta(hours=3, minutes=30)) == []
    sm.start_monitoring_schedule(MonitoringScheduleName="dq")
    ran = monitoring.advance(H13 + timedelta(hours=5))
    assert [r["ScheduledTime"] for r in ran] == [H13 + timedelta(hours=4), H13 + timedelta(hours=5)]
    sm.delete_monitoring_schedule(MonitoringScheduleName="dq")
    assert len(sm.list_monitoring_executions(EndpointName="churn")["MonitoringExecutionSummaries"]) == 3
    failed = sm.list_monitoring_executions(StatusEquals="Failed", SortBy="ScheduledTime", SortOrder="Ascending")
    assert [e["ScheduledTime"] for e in failed["MonitoringExecutionSummaries"]] == [
        H13 + timedelta(hours=1), H13 + timedelta(hours=4), H13 + timedelta(hours=5)]
    assert monitoring.advance(H13 + timedelta(hours=8)) == []


def test_job_definition_name_now_and_metrics_disabled(aws) -> None:
    sm, s3, cw = aws["sagemaker"], aws["s3"], aws["cloudwatch"]
    endpoint(sm)
    baseline(s3, uniform(200, 1))
    captured(s3, uniform(100, 4))
    inline = inline_config()["MonitoringJobDefinition"]
    sm.create_data_quality_job_definition(
        JobDefinitionName="dq-def",
        DataQualityBaselineConfig={"ConstraintsResource": inline["BaselineConfig"]["ConstraintsResource"],
                                   "StatisticsResource": inline["BaselineConfig"]["StatisticsResource"]},
        DataQualityAppSpecification={"ImageUri": IMAGE, "Environment": {"publish_cloudwatch_metrics": "Disabled"}},
        DataQualityJobInput={"EndpointInput": inline["MonitoringInputs"][0]["EndpointInput"]},
        DataQualityJobOutputConfig=inline["MonitoringOutputConfig"],
        JobResources=inline["MonitoringResources"], RoleArn=ROLE)
    clock.set_now(H13 + timedelta(hours=1, minutes=2))
    sm.create_monitoring_schedule(MonitoringScheduleName="once", MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT2H",
                           "DataAnalysisEndTime": "-PT0H"},
        "MonitoringJobDefinitionName": "dq-def", "MonitoringType": "DataQuality"})
    summary = sm.list_monitoring_schedules()["MonitoringScheduleSummaries"][0]
    assert summary["MonitoringJobDefinitionName"] == "dq-def"
    ran = monitoring.advance(H13 + timedelta(hours=1, minutes=3))
    assert [(r["MonitoringExecutionStatus"], r["MonitoringJobDefinitionName"]) for r in ran] == [
        ("Completed", "dq-def")]
    assert ran[0]["ScheduledTime"] == H13 + timedelta(hours=1, minutes=2)
    assert monitoring.advance(H13 + timedelta(hours=9)) == []  # NOW runs once
    assert report(s3, "once", H13 + timedelta(hours=1), "statistics.json")["dataset"]["item_count"] == 100
    assert cw.list_metrics(Namespace="aws/sagemaker/Endpoints/data-metrics")["Metrics"] == []
    with pytest.raises(ClientError) as error:
        sm.create_monitoring_schedule(MonitoringScheduleName="ghost", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": "nope", "MonitoringType": "DataQuality"})
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"


def test_model_quality_schedule(aws) -> None:
    sm, s3, cw = aws["sagemaker"], aws["s3"], aws["cloudwatch"]
    endpoint(sm)
    rng = random.Random(7)
    ids = [f"id-{i}" for i in range(40)]
    scores = [rng.random() for _ in ids]
    captured(s3, uniform(40, 5), outputs=[f"{p:.3f}" for p in scores], ids=ids)
    truth = "\n".join(json.dumps({"groundTruthData": {"data": "1" if p >= 0.5 else "0", "encoding": "CSV"},
                                  "eventMetadata": {"eventId": i}, "eventVersion": "0"})
                      for i, p in zip(ids, scores, strict=True))
    s3.put_object(Bucket=BUCKET, Key="ground-truth/2024/05/06/13/labels.jsonl", Body=truth)
    s3.put_object(Bucket=BUCKET, Key="mq/constraints.json", Body=json.dumps({"version": 0.0,
                  "binary_classification_constraints": {"f1": {"threshold": 0.9,
                                                               "comparison_operator": "LessThanThreshold"}}}))
    sm.create_model_quality_job_definition(
        JobDefinitionName="mq-def",
        ModelQualityBaselineConfig={"ConstraintsResource": {"S3Uri": f"s3://{BUCKET}/mq/constraints.json"}},
        ModelQualityAppSpecification={"ImageUri": IMAGE, "ProblemType": "BinaryClassification"},
        ModelQualityJobInput={"EndpointInput": {"EndpointName": "churn", "LocalPath": "/opt/ml/processing/input",
                                                "ProbabilityAttribute": "0", "ProbabilityThresholdAttribute": 0.5},
                              "GroundTruthS3Input": {"S3Uri": f"s3://{BUCKET}/ground-truth"}},
        ModelQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{BUCKET}/reports", "LocalPath": "/opt/ml/processing/output"}}]},
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        RoleArn=ROLE)
    sm.create_monitoring_schedule(MonitoringScheduleName="mq", MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinitionName": "mq-def", "MonitoringType": "ModelQuality"})
    ran = monitoring.advance(H13 + timedelta(hours=1))
    assert [(r["MonitoringExecutionStatus"], r["MonitoringType"]) for r in ran] == [("Completed", "ModelQuality")]
    stats = report(s3, "mq", H13 + timedelta(hours=1), "statistics.json")
    assert stats["binary_classification_metrics"]["f1"]["value"] == 1.0  # labels agree with the scores
    dims = [{"Name": "Endpoint", "Value": "churn"}, {"Name": "MonitoringSchedule", "Value": "mq"}]
    points = cw.get_metric_statistics(Namespace="aws/sagemaker/Endpoints/model-metrics", MetricName="f1",
                                      Dimensions=dims, StartTime=H13, EndTime=H13 + timedelta(hours=2),
                                      Period=3600, Statistics=["Average"])["Datapoints"]
    assert [(p["Timestamp"], p["Average"]) for p in points] == [(H13 + timedelta(hours=1), 1.0)]


def test_one_hour_of_1000_records(aws) -> None:
    """Its speed is a `make bench` figure (bench/bench.py: "one monitored hour"), not a timed test."""
    sm, s3 = aws["sagemaker"], aws["s3"]
    endpoint(sm)
    baseline(s3, uniform(1000, 1))
    sm.create_monitoring_schedule(MonitoringScheduleName="dq", MonitoringScheduleConfig=inline_config())
    captured(s3, uniform(1000, 9))
    ran = monitoring.advance(H13 + timedelta(hours=1))
    assert [r["MonitoringExecutionStatus"] for r in ran] == ["Completed"]
    assert report(s3, "dq", H13 + timedelta(hours=1), "statistics.json")["dataset"]["item_count"] == 1000
