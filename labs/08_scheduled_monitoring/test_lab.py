"""Lab 08 grader: scheduled monitoring that acts, graded on what happens over monitored hours.

The scenario is the churn endpoint (``fixtures.churn``) with data capture on, its baseline in S3
(statistics and constraints computed from the training set, with a comparison threshold of this run),
a retraining SageMaker pipeline, the roles, and an alarm the data team already has on another feature's
drift. Before the learner's code runs, the simulated clock (``fixtures.moto_ext.sagemaker.clock``) is set
to the start of the first monitored hour, so the learner's schedule is created then.

Afterwards the grader plays three hours (``hours.py``): a normal one, one where a feature the model does
not use drifts, one where the feature that matters drifts. Each hour it sends the endpoint real requests
on the clock (captured), runs the schedule's execution due at the hour's end
(``monitoring.advance``), then evaluates every alarm minute by minute through the next hour, when the
hourly datapoint's period is complete (``cloudwatch.evaluate_alarms``): each state change is a
``CloudWatch Alarm State Change`` event the learner's rule may route to the pipeline. Per hour it records
the schedule's executions and report, the alarm changes, the pipeline executions and EventBridge's
deliveries. So that each check grades one thing: when the learner's schedule published no drift metric
for an hour, the grader publishes what Model Monitor would have (computed by the same engine); when the
alarm did not fire on the drift, the grader puts it into ALARM with SetAlarmState.

``drifted_features`` reads two reports an earlier schedule of the team wrote (an incident hour with
drift, missing values and more; a quiet hour), through the given ``save_drifted_features``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from checks import Verdict, fail, monitoring, require
from checks import cloudwatch as cw
from fixtures import scenarios
from mlalab.catalog import lab_module

hours_module = lab_module(__file__, "hours")

# The Model Monitor analyzer of us-east-1 (the lab's Region): "Amazon SageMaker Model Monitor prebuilt
# container", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-built-container.html
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


@dataclass(frozen=True)
class Scenario:
    account: str
    region: str
    bucket: str
    endpoint: str
    variant: str
    capture_uri: str
    schedule_name: str
    alarm_name: str
    rule_name: str
    pipeline_name: str
    feature: str  # the feature that matters
    threshold: float  # the baseline's comparison_threshold
    baseline: hours_module.Baseline
    expected: monitoring.ScheduleExpectation
    team_alarm: str  # the data team's alarm on another feature's drift
    start: datetime  # the first monitored hour
    incident_uri: str
    quiet_uri: str
    answer_key: str
    incident: dict[str, float]  # {feature: distance} of the incident report's drift violations


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    bucket = scenarios.bucket(aws, rng, "ml-monitoring")
    endpoint, variant = hours_module.deploy(aws, rng, bucket)
    run = scenarios.suffix(rng, 6)
    baseline = hours_module.baseline(aws, rng, bucket, f"baselines/{endpoint}/{run}")
    feature = rng.choice(hours_module.FEATURES_THAT_MATTER)
    schedule_name = scenarios.name(rng, "churn-data-quality")
    start = hours_module.first_hour(rng)
    old_schedule = scenarios.name(rng, "churn-dq-v1")
    reports = f"s3://{bucket}/monitoring/reports"
    incident_uri, quiet_uri, incident = hours_module.earlier_reports(aws, rng, bucket, baseline, reports, endpoint,
                                                                     old_schedule, start, feature)
    pipeline_name = hours_module.pipeline(aws, rng)
    s = Scenario(
        account=aws.account, region=aws.region, bucket=bucket, endpoint=endpoint, variant=variant,
        capture_uri=f"s3://{bucket}/datacapture", schedule_name=schedule_name,
        alarm_name=scenarios.name(rng, f"{feature.replace('_', '-')}-drift"),
        rule_name=scenarios.name(rng, "retrain-on-drift"), pipeline_name=pipeline_name, feature=feature,
        threshold=baseline.threshold, baseline=baseline,
        expected=monitoring.ScheduleExpectation(
            endpoint=endpoint, statistics_uri=baseline.statistics_uri, constraints_uri=baseline.constraints_uri,
            output_uri=reports, image_uri=ANALYZER, role_arn=scenarios.execution_role(aws, rng, "model-monitor")),
        team_alarm=scenarios.name(rng, "data-team-evening-minutes-drift"), start=start,
        incident_uri=incident_uri, quiet_uri=quiet_uri, answer_key=f"answers/{run}/drifted-features.json",
        incident=incident,
    )
    pipeline_arn = aws.client("sagemaker").describe_pipeline(PipelineName=pipeline_name)["PipelineArn"]
    events_role = hours_module.events_role(aws, rng, pipeline_arn)
    hours_module.team_alarm(aws, s.team_alarm, endpoint, schedule_name, s.threshold)
    hours_module.clock.set_now(start + timedelta(minutes=5))  # the learner creates the schedule now
    learner({
        "create_monitoring_schedule": dict(
            schedule_name=schedule_name, endpoint_name=endpoint, statistics_uri=baseline.statistics_uri,
            constraints_uri=baseline.constraints_uri, output_uri=reports, role_arn=s.expected.role_arn,
            analyzer_image=ANALYZER),
        "create_drift_alarm": dict(alarm_name=s.alarm_name, endpoint_name=endpoint, schedule_name=schedule_name,
                                   feature=feature, constraints_uri=baseline.constraints_uri),
        "route_alarm_to_retraining": dict(rule_name=s.rule_name, alarm_name=s.alarm_name,
                                          pipeline_name=pipeline_name, role_arn=events_role),
        "save_drifted_features": dict(incident_report_uri=incident_uri, quiet_report_uri=quiet_uri,
                                      answer_uri=f"s3://{bucket}/{s.answer_key}"),
    })
    return s


@pytest.fixture(scope="module")
def hours(aws, rng, scenario) -> list[monitoring.Hour]:
    return hours_module.play(aws, rng, scenario)


# --- the schedule --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def job(aws, scenario) -> monitoring.MonitoringJob | Verdict:
    return monitoring.monitoring_job(aws, scenario.schedule_name)


def existing(job) -> monitoring.MonitoringJob:
    if not isinstance(job, monitoring.MonitoringJob):
        require(job)
    return job


@pytest.mark.check("schedule")
def test_schedule(job, scenario, hours):
    found = existing(job)
    require(monitoring.schedule_config(found, scenario.expected))
    require(monitoring.schedule_ran(found, hours, scenario.expected))


@pytest.mark.check("metrics-published")
def test_metrics_published(job):
    require(monitoring.publishes_metrics(existing(job)))


# --- the alarm -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alarm(aws, scenario) -> dict | None:
    return cw.metric_alarm(aws, scenario.alarm_name)


@pytest.mark.check("alarm-fires")
def test_alarm_fires(alarm, scenario, hours):
    s = scenario
    require(cw.exists(alarm, s.alarm_name, "alarm"))
    require(monitoring.alarm_fires(hours, alarm, s.feature, s.endpoint, s.schedule_name))


@pytest.mark.check("alarm-threshold")
def test_alarm_threshold(alarm, scenario):
    require(cw.exists(alarm, scenario.alarm_name, "alarm"))
    require(monitoring.alarm_threshold(alarm, scenario.threshold))


# --- retraining ----------------------------------------------------------------------------------------


@pytest.mark.check("retrains")
def test_retrains(scenario, hours):
    s = scenario
    require(monitoring.retrained_once(hours[-1], s.pipeline_name, s.rule_name, s.alarm_name))


@pytest.mark.check("no-false-retraining")
def test_no_false_retraining(scenario, hours):
    s = scenario
    if not monitoring.retraining_started(hours[-1]):
        require(fail(f"graded once your rule starts pipeline {s.pipeline_name} when alarm {s.alarm_name} fires (see "
                     "the retrains check): when nothing is connected, nothing starts in any hour, which proves "
                     "nothing."))
    require(monitoring.no_false_retraining(hours, s.pipeline_name, s.alarm_name))


# --- reading a report ----------------------------------------------------------------------------------


@pytest.mark.check("drifted-features")
def test_drifted_features(aws, scenario):
    s = scenario
    where = f"s3://{s.bucket}/{s.answer_key}"
    try:
        body = aws.client("s3").get_object(Bucket=s.bucket, Key=s.answer_key)["Body"].read()
        answers = json.loads(body)
    except Exception as exc:  # noqa: BLE001 - no answer, or not JSON: the learner's side
        require(fail(f"no readable answer at {where} ({type(exc).__name__}); save_drifted_features writes what "
                     "drifted_features returns there (it must return a JSON-serialisable dict)."))
    if not isinstance(answers, dict):
        require(fail(f"the answer at {where} is not the object save_drifted_features writes"))
    require(monitoring.drifted_answer(answers.get("incident"), s.incident, s.incident_uri))
    require(monitoring.drifted_answer(answers.get("quiet"), {}, s.quiet_uri))

