"""Lab 10 grader: a model-quality monitor with ground truth, graded on what it does over simulated hours.

The scenario (random names): the churn model (``fixtures.churn``) behind an endpoint whose config captures
every request and response, a bucket, the team's reviewed constraints (``world.team_constraints``), an
execution role, and last week's incident: the team's previous monitor ran one hour of the changed world and
left a violations report, which the learner's ``explain_violation`` explains.

After the learner's functions have run, the grader plays six hours on the simulated clock
(``fixtures.moto_ext.sagemaker.clock``): each hour 400 requests with an ``InferenceId`` go through
``InvokeEndpoint`` (captured to S3 at AWS's layout), then ``monitoring.advance`` runs the learner's hourly
schedule at the top of the next hour (the model-quality engine merges the labels the learner uploaded), and
the learner's alarm is evaluated every quarter of an hour (``cloudwatch.evaluate_alarms``). Three hours the
labels confirm the model; then the world changes (``churn.outcomes(concept_shift=True)``): the same
customers, other outcomes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from checks import model_quality as mqc
from checks import require, s3
from fixtures import scenarios
from fixtures.moto_ext import cloudwatch as cloudwatch_ext
from fixtures.moto_ext import sagemakerruntime as runtime_ext
from fixtures.moto_ext.sagemaker import clock
from fixtures.moto_ext.sagemaker import monitoring as monitoring_ext
from mlalab.catalog import lab_module
from mlalab.engines.modelmonitor import execution as monitor_run
from mlalab.engines.modelmonitor import model_quality as mq
from mlalab.engines.modelmonitor.documents import report_json

world = lab_module(__file__, "world")

VARIANT = "AllTraffic"
ANALYZER = "sagemaker-model-monitor-analyzer"
ANALYZER_ACCOUNT = "156813124566"  # the analyzer's registry in us-east-1 (model-monitor-pre-built-container.html)
EVALUATE_EVERY = timedelta(minutes=15)


@dataclass(frozen=True)
class Scenario:
    account: str
    region: str
    endpoint: str
    bucket: str
    role_arn: str
    image_uri: str
    constraints_uri: str
    constraints: dict
    ground_truth_prefix: str
    output_uri: str
    job_definition_name: str
    schedule_name: str
    alarm_name: str
    report_uri: str  # last week's violations report
    expected_explanation: dict[str, float]
    answer_key: str
    hours: list  # world.Hour, the six hours to play

    @property
    def ground_truth_uri(self) -> str:
        return f"s3://{self.bucket}/{self.ground_truth_prefix}"

    def s3_uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def _play_traffic(aws, endpoint: str, hour) -> None:
    for record in hour.records:
        clock.set_now(record.sent_at)
        runtime_ext.invoke(endpoint, record.body, "text/csv", inference_id=record.inference_id,
                           account=aws.account, region=aws.region)


def _upload_labels(aws, bucket: str, prefix: str, labels: list[dict]) -> None:
    """The grader's own ground truth (last week's), in AWS's format."""
    by_hour: dict[str, list[str]] = {}
    for label in labels:
        hour = datetime.fromisoformat(label["collected_at"].replace("Z", "+00:00"))
        by_hour.setdefault(f"{hour:%Y/%m/%d/%H}", []).append(
            mq.ground_truth_line(label["inference_id"], label["churned"]))
    for folder, lines in by_hour.items():
        aws.client("s3").put_object(Bucket=bucket, Key=f"{prefix}/{folder}/labels.jsonl", Body="\n".join(lines))


def _last_weeks_incident(aws, rng, endpoint: str, bucket: str, role: str, image: str, constraints_uri: str,
                         constraints: dict, when: datetime) -> tuple[str, dict[str, float]]:
    """The team's previous monitor's report of one hour of the changed world: the hour's traffic is played
    (and captured), its labels merged and analysed by the Model Monitor engine as an execution would, and the
    reports written at AWS's layout (``{output}/{endpoint}/{schedule}/yyyy/mm/dd/hh/``). Made by the engine,
    not through the schedule API, so the learner edition's grader does not spell out the monitor to build.
    Returns the report folder and the expected explanation ({metric: value - threshold} of its violations)."""
    hour = world.hour(rng, when, True, constraints, "lastweek")
    _play_traffic(aws, endpoint, hour)
    labels = world.labels([hour])
    ids = {label["inference_id"] for label in labels}
    records = [c.record for c in runtime_ext.captures(endpoint) if c.record.inference_id in ids]
    truth = "\n".join(mq.ground_truth_line(label["inference_id"], label["churned"]) for label in labels)
    at = when + timedelta(hours=1)
    schedule = scenarios.name(rng, "churn-quality-v1")
    outcome = monitor_run.model_quality(
        records, truth, constraints, problem_type=mq.BINARY,
        attributes={"probability_attribute": "0", "probability_threshold_attribute": world.THRESHOLD},
        endpoint=endpoint, schedule=schedule, timestamp=at, publish=False)
    if outcome.status != "CompletedWithViolations":
        raise RuntimeError(f"last week's incident did not produce violations: {outcome.status} "
                           f"{outcome.failure_reason}")
    report = f"s3://{bucket}/monitoring-v1/{endpoint}/{schedule}/{at:%Y/%m/%d/%H}"
    for name, document in outcome.reports.items():
        key = f"{report.removeprefix(f's3://{bucket}/')}/{name}"
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=(report_json(document) + "\n").encode())
    violations = outcome.reports["constraint_violations.json"]["violations"]
    values = mq.metric_values(outcome.reports["statistics.json"])
    thresholds = constraints[mq.CONSTRAINTS_KEY[mq.BINARY]]
    expected = {v["metric_name"]: values[v["metric_name"]] - thresholds[v["metric_name"]]["threshold"]
                for v in violations}
    return report, expected


def _read_json(aws, uri: str) -> dict:
    document, verdict = s3.read_json(aws, uri, "report")
    require(verdict)
    return document


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    s3 = aws.client("s3")
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    bucket = scenarios.bucket(aws, rng, "churn-monitoring")
    endpoint = scenarios.capturing_endpoint(aws, rng, bucket, VARIANT)
    role = scenarios.execution_role(aws, rng, "model-monitor")
    image = f"{ANALYZER_ACCOUNT}.dkr.ecr.{aws.region}.amazonaws.com/{ANALYZER}:latest"
    constraints = world.team_constraints(rng)
    constraints_key = f"baselines/{endpoint}/reviewed-{scenarios.suffix(rng)}/constraints.json"
    s3.put_object(Bucket=bucket, Key=constraints_key, Body=json.dumps(constraints, indent=2).encode())
    constraints_uri = f"s3://{bucket}/{constraints_key}"
    report_uri, expected = _last_weeks_incident(aws, rng, endpoint, bucket, role, image, constraints_uri,
                                                constraints, first - timedelta(days=7))
    s = Scenario(
        account=aws.account, region=aws.region, endpoint=endpoint, bucket=bucket, role_arn=role, image_uri=image,
        constraints_uri=constraints_uri, constraints=constraints,
        ground_truth_prefix=f"ground-truth/{endpoint}",
        output_uri=f"s3://{bucket}/monitoring/{scenarios.suffix(rng)}",
        job_definition_name=scenarios.name(rng, "churn-quality"),
        schedule_name=scenarios.name(rng, "churn-quality-hourly"),
        alarm_name=scenarios.name(rng, "churn-f1-low"), report_uri=report_uri, expected_explanation=expected,
        answer_key=f"answers/{scenarios.suffix(rng, 8)}/explanation.json",
        hours=world.hours(rng, first, constraints, scenarios.suffix(rng, 4)),
    )
    clock.set_now(first - timedelta(minutes=20))  # the learner sets the monitor up before the first hour
    learner({
        "upload_ground_truth": dict(bucket=bucket, prefix=s.ground_truth_prefix, labels=world.labels(s.hours)),
        "create_model_quality_monitor": dict(
            job_definition_name=s.job_definition_name, schedule_name=s.schedule_name, endpoint_name=endpoint,
            role_arn=role, image_uri=image, ground_truth_uri=s.ground_truth_uri, constraints_uri=constraints_uri,
            output_uri=s.output_uri),
        "create_f1_alarm": dict(alarm_name=s.alarm_name, endpoint_name=endpoint, schedule_name=s.schedule_name,
                                constraints_uri=constraints_uri),
        "record_explanation": dict(report_uri=report_uri, constraints_uri=constraints_uri, answer_bucket=bucket,
                                   answer_key=s.answer_key),
    })
    return s


# --- the simulated hours -------------------------------------------------------------------------------


@dataclass
class Played:
    runs: list[mqc.Run] | None  # None: no schedule
    timeline: list[mqc.AlarmState]
    alarm_exists: bool
    confirmed_runs: list[datetime]  # the executions analysing the confirmed hours
    drifted_runs: list[datetime]
    confirmed_until: datetime  # the alarm has seen only confirmed hours' f1 up to here
    end: datetime


def _runs(aws, s: Scenario) -> list[mqc.Run]:
    runs = []
    for execution in monitoring_ext.executions(s.schedule_name, account=s.account, region=s.region):
        run = mqc.Run(execution.scheduled_time, execution.status, execution.failure_reason)
        if execution.status != "Failed" and execution.report_uri:
            try:
                statistics = _read_json(aws, f"{execution.report_uri}/statistics.json")
                run.item_count = statistics.get("dataset", {}).get("item_count")
                run.f1 = round(mq.metric_values(statistics).get("f1", float("nan")), 4)
                run.violations = _read_json(aws, f"{execution.report_uri}/constraint_violations.json")["violations"]
            except Exception:  # noqa: BLE001 - a report that cannot be read: the check says what is missing
                pass
        runs.append(run)
    return runs


@pytest.fixture(scope="module")
def played(aws, scenario) -> Played:
    s = scenario
    sm = aws.client("sagemaker")
    try:
        sm.describe_monitoring_schedule(MonitoringScheduleName=s.schedule_name)
        has_schedule = True
    except sm.exceptions.ResourceNotFound:
        has_schedule = False
    alarm_exists = bool(aws.client("cloudwatch").describe_alarms(AlarmNames=[s.alarm_name])["MetricAlarms"])
    timeline: list[mqc.AlarmState] = []
    for hour in s.hours:
        _play_traffic(aws, s.endpoint, hour)
        top = hour.start + timedelta(hours=1)
        monitoring_ext.advance(top, account=s.account, region=s.region)
        at = top
        while at < top + timedelta(hours=1):
            at += EVALUATE_EVERY
            states = cloudwatch_ext.evaluate_alarms(s.account, s.region, at=at)
            if s.alarm_name in states:
                timeline.append(mqc.AlarmState(at, states[s.alarm_name]))
    tops = [h.start + timedelta(hours=1) for h in s.hours]
    confirmed = [t for t, h in zip(tops, s.hours, strict=True) if not h.drifted]
    drifted = [t for t, h in zip(tops, s.hours, strict=True) if h.drifted]
    return Played(_runs(aws, s) if has_schedule else None, timeline, alarm_exists, confirmed, drifted,
                  confirmed[-1] + timedelta(hours=1), drifted[-1] + timedelta(hours=1))


# --- checks --------------------------------------------------------------------------------------------


@pytest.mark.check("ground-truth")
def test_ground_truth(aws, scenario):
    s = scenario
    s3 = aws.client("s3")
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=s.bucket, Prefix=f"{s.ground_truth_prefix}/"):
        for item in page.get("Contents", []):
            objects[item["Key"]] = s3.get_object(Bucket=s.bucket, Key=item["Key"])["Body"].read().decode(
                "utf-8", "replace")
    require(mqc.ground_truth(objects, s.bucket, s.ground_truth_prefix, world.labels(s.hours)))


def _describe(call, **kwargs) -> dict | None:
    try:
        return call(**kwargs)
    except Exception as exc:  # noqa: BLE001 - ResourceNotFound / ValidationException: not there
        if "NotFound" in type(exc).__name__ or "ResourceNotFound" in str(exc) or "does not exist" in str(exc):
            return None
        raise


@pytest.mark.check("monitor-config")
def test_monitor_config(aws, scenario):
    s = scenario
    sm = aws.client("sagemaker")
    definition = _describe(sm.describe_model_quality_job_definition, JobDefinitionName=s.job_definition_name)
    schedule = _describe(sm.describe_monitoring_schedule, MonitoringScheduleName=s.schedule_name)
    require(mqc.monitor_config(definition, schedule, mqc.MonitorExpectation(
        s.job_definition_name, s.schedule_name, s.endpoint, s.ground_truth_uri, s.output_uri, "0", world.THRESHOLD)))


@pytest.mark.check("confirmed-hours")
def test_confirmed_hours(scenario, played):
    require(mqc.confirmed_hours(scenario.schedule_name, played.runs, played.confirmed_runs, world.RECORDS))


@pytest.mark.check("drift-caught")
def test_drift_caught(scenario, played):
    require(mqc.drift_caught(scenario.schedule_name, played.runs, played.drifted_runs))


@pytest.mark.check("alarm-metric")
def test_alarm_metric(aws, scenario):
    s = scenario
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNames=[s.alarm_name])["MetricAlarms"]
    require(mqc.alarm_metric(alarms[0] if alarms else None, s.alarm_name, s.endpoint, s.schedule_name,
                             world.f1_threshold(s.constraints)))


@pytest.mark.check("alarm-behaviour")
def test_alarm_behaviour(scenario, played):
    require(mqc.alarm_behaviour(scenario.alarm_name, played.alarm_exists, played.timeline, played.confirmed_until,
                                played.end))


@pytest.mark.check("explain")
def test_explain(aws, scenario):
    s = scenario
    try:
        answer = json.loads(aws.client("s3").get_object(Bucket=s.bucket, Key=s.answer_key)["Body"].read())
    except Exception:  # noqa: BLE001 - no answer file (the function did not run) or not JSON
        answer = None
    require(mqc.explanation(answer, s.expected_explanation, s.report_uri))
