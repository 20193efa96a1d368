"""Lab 08's world and its monitored hours: the endpoint the grader deploys, the baseline, the retraining
pipeline, the reports an earlier schedule left, and the three hours the grader plays on the simulated clock.

Facts the timing rests on:

* an hourly schedule's execution at ``T`` analyses the capture of ``[T - 1h, T)`` and publishes its metrics
  stamped ``T`` ("Schedule monitoring jobs", model-monitor-scheduling; ``fixtures.moto_ext.sagemaker.monitoring``);
* CloudWatch evaluates an alarm over complete periods: an hourly datapoint stamped ``T`` is in the period
  ``[T, T + 1h)``, so an alarm with ``Period=3600`` sees it at ``T + 1h`` (shorter periods, sooner). The grader
  therefore evaluates every alarm each minute of the hour after each execution.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from checks import actions
from checks.actions import Change
from checks.monitoring import DATA_METRICS, Hour
from fixtures import churn, scenarios
from fixtures.memo import by_rng_state, frozen, immutable
from fixtures.moto_ext import cloudwatch as cloudwatch_ext
from fixtures.moto_ext import events as events_ext
from fixtures.moto_ext import sagemakerruntime as runtime
from fixtures.moto_ext.sagemaker import clock, monitoring
from mlalab.engines.modelmonitor import constraints, datasets, execution, statistics, violations

#: The features the model weighs (``churn._logit``): its drift is a reason to retrain. ``evening_minutes``
#: is an input the model ignores: its drift is the data team's concern, not a retraining.
FEATURES_THAT_MATTER = ("service_calls", "day_minutes")
IGNORED_FEATURE = "evening_minutes"
TRAINING_ROWS = 2000
REQUESTS_PER_HOUR = 240
DRIFT = 1.5  # how far a drifted feature's mean moves, in spreads (fixtures.churn.rows)
THRESHOLDS = (0.15, 0.2, 0.25)  # the baseline's comparison_threshold, one per run (AWS's default is 0.1)
VARIANT = "AllTraffic"

__all__ = ["Baseline", "Story", "clock", "deploy", "earlier_reports", "events_role", "first_hour", "pipeline",
           "play", "team_alarm", "baseline"]


@dataclass(frozen=True)
class Baseline:
    statistics_uri: str
    constraints_uri: str
    statistics: dict
    constraints: dict
    threshold: float


@dataclass(frozen=True)
class Story:
    name: str
    drift: dict[str, float]


def stories(feature: str) -> list[Story]:
    return [
        Story("a normal hour", {}),
        Story(f"an hour where {IGNORED_FEATURE} drifts (an input the model ignores)", {IGNORED_FEATURE: DRIFT}),
        Story(f"an hour where {feature} drifts", {feature: DRIFT}),
    ]


# --- the world before the learner's code runs -----------------------------------------------------------------


def deploy(aws, rng: random.Random, bucket: str) -> tuple[str, str]:
    """The churn model on an endpoint capturing every request and answer to s3://bucket/datacapture."""
    return scenarios.capturing_endpoint(aws, rng, bucket, VARIANT), VARIANT


@by_rng_state  # pure: drawn once per seed in a warm grader (fixtures.memo); a deep copy per call
def _baseline_documents(rng: random.Random) -> tuple[dict, dict, float]:
    """The training set's statistics, the suggested constraints with this run's comparison threshold, and
    the threshold."""
    training = datasets.read_csv(churn.to_csv(churn.rows(rng, TRAINING_ROWS)), header=True)
    stats = statistics.compute(training)
    suggested = constraints.suggest(stats)
    threshold = rng.choice(THRESHOLDS)
    distribution = suggested["monitoring_config"]["distribution_constraints"]
    distribution["comparison_threshold"] = threshold
    distribution["categorical_comparison_threshold"] = threshold
    return stats, suggested, threshold


def baseline(aws, rng: random.Random, bucket: str, prefix: str) -> Baseline:
    """Statistics and constraints of the training set, as the analyzer writes them (lab 07 makes them), with
    this run's comparison threshold."""
    stats, suggested, threshold = _baseline_documents(rng)
    s3 = aws.client("s3")
    for name, document in (("statistics.json", stats), ("constraints.json", suggested)):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=json.dumps(document, indent=2).encode())
    return Baseline(f"s3://{bucket}/{prefix}/statistics.json", f"s3://{bucket}/{prefix}/constraints.json", stats,
                    suggested, threshold)


def first_hour(rng: random.Random) -> datetime:
    """The first monitored hour: yesterday (CloudWatch takes datapoints of the past two weeks), between 06:00
    and 15:00 UTC, so the graded hours never cross midnight (a daily schedule runs at a fixed hour)."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    return yesterday.replace(hour=rng.randrange(6, 16), minute=0, second=0, microsecond=0)


def _with_missing(text: str, column: int, every: int) -> str:
    """Headerless CSV rows with ``column`` left empty in every ``every``-th row (a broken upstream join)."""
    lines = []
    for index, line in enumerate(text.splitlines()):
        values = line.split(",")
        if index % every == 0:
            values[column] = ""
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


def _report(base: Baseline, rows: list[dict[str, object]], missing: str | None = None) -> dict[str, dict]:
    """The three report files Model Monitor writes for one hour of these rows."""
    text = churn.to_csv(rows, header=False)
    if missing:
        text = _with_missing(text, churn.NAMES.index(missing), 8)
    table = datasets.read_payloads([("CSV", line) for line in text.splitlines()], list(churn.NAMES))
    current = statistics.compute(table)
    return {"constraint_violations.json": violations.evaluate(base.constraints, base.statistics, current),
            "constraints.json": constraints.suggest(current), "statistics.json": current}


def _documents_key(base: Baseline, feature: str) -> tuple[str, str, str]:
    """The memo key of ``_earlier_documents``' arguments: the baseline's documents are JSON (written to S3 as
    such), so their canonical JSON text stands for them (a few times faster than ``memo.frozen``)."""
    return json.dumps(base.statistics, sort_keys=True), json.dumps(base.constraints, sort_keys=True), feature


@by_rng_state(key=_documents_key)
def _earlier_documents(rng: random.Random, base: Baseline, feature: str) -> tuple[int, dict, dict]:
    """The incident hour's distance before the graded hours' start (in hours, beyond two days) and the
    reports of the incident hour and of the quiet hour after it. Pure (memoized per seed, a deep copy per call):
    the start itself comes from the clock, so it stays out."""
    others = [f for f in churn.NAMES if f not in (feature, "plan")]
    second, incomplete = rng.sample(others, 2)
    drift = {feature: round(rng.uniform(1.0, 2.0), 2), second: round(rng.uniform(1.0, 2.0), 2)}
    if rng.random() < 0.5:
        drift["plan"] = 1.0  # customers moved to the premium plan: categorical drift too
    hours_before = rng.randrange(1, 6)
    return (hours_before, _report(base, churn.rows(rng, 300, drift), missing=incomplete),
            _report(base, churn.rows(rng, 300)))


def earlier_reports(aws, rng: random.Random, bucket: str, base: Baseline, reports: str, endpoint: str,
                    old_schedule: str, start: datetime, feature: str) -> tuple[str, str, dict[str, float]]:
    """Two report folders the team's earlier schedule left (an incident hour and a quiet hour two days
    before the graded hours), at the documented layout; and the incident's {feature: drift distance}."""
    hours_before, incident_report, quiet_report = _earlier_documents(rng, base, feature)
    incident_hour = start - timedelta(days=2, hours=hours_before)
    made = {incident_hour: incident_report, incident_hour + timedelta(hours=1): quiet_report}
    s3 = aws.client("s3")
    uris = []
    for hour, files in made.items():
        folder = f"{reports}/{endpoint}/{old_schedule}/{hour:%Y/%m/%d/%H}"
        prefix = folder.removeprefix(f"s3://{bucket}/")
        for name, document in files.items():
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=json.dumps(document, indent=2).encode())
        uris.append(folder)
    incident = execution.distances_from_violations(made[incident_hour]["constraint_violations.json"])
    return uris[0], uris[1], incident


def pipeline(aws, rng: random.Random) -> str:
    """The retraining pipeline (its steps are the ML team's; here one training step)."""
    name = scenarios.name(rng, "churn-retraining")
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [{
        "Name": "Retrain", "Type": "Training", "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": f"{aws.account}.dkr.ecr.{aws.region}.amazonaws.com/churn:1",
                                       "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://churn-models/retrained/"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}}]}
    aws.client("sagemaker").create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(definition),
                                            RoleArn=scenarios.execution_role(aws, rng, "pipeline-exec"))
    return name


def events_role(aws, rng: random.Random, pipeline_arn: str) -> str:
    """The role EventBridge assumes to start the pipeline (AWS's documented policy for a pipeline target)."""
    iam = aws.client("iam")
    name = scenarios.name(rng, "eventbridge-start-retraining")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "events.amazonaws.com"}}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="start-retraining", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:StartPipelineExecution",
                                                "Resource": pipeline_arn}]}))
    return arn


def team_alarm(aws, name: str, endpoint: str, schedule: str, threshold: float) -> None:
    """The data team's alarm on the ignored feature's drift (it watches the upstream feed, not the model)."""
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace=DATA_METRICS, MetricName=f"feature_baseline_drift_{IGNORED_FEATURE}",
        Dimensions=[{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule}],
        Statistic="Maximum", Period=3600, EvaluationPeriods=1, Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")


# --- the hours ---------------------------------------------------------------------------------------------


@by_rng_state(copy=immutable, key=lambda count, drift: (count, frozen(drift)))
def request_bodies(rng: random.Random, count: int, drift: dict[str, float]) -> tuple[str, ...]:
    """An hour's request bodies: ``count`` customers (``churn.rows``) as headerless CSV lines. Pure (memoized
    per seed: three hours a grading, so the cache holds them all)."""
    return tuple(churn.to_csv([customer], header=False).strip() for customer in churn.rows(rng, count, drift))


class Player:
    """Plays the stories, one hour each, and records what each caused."""

    def __init__(self, aws, rng: random.Random, s: Any) -> None:
        self.aws, self.rng, self.s = aws, rng, s
        self.states = self._states()
        self.seen_runs = self._pipeline_runs()
        self.seen_deliveries = len(events_ext.deliveries(rule_name=s.rule_name))

    def _states(self) -> dict[str, str]:
        alarms = self.aws.client("cloudwatch").describe_alarms(AlarmTypes=["MetricAlarm"])["MetricAlarms"]
        return {a["AlarmName"]: a["StateValue"] for a in alarms}

    def _pipeline_runs(self) -> list[dict]:
        return self.aws.client("sagemaker").list_pipeline_executions(
            PipelineName=self.s.pipeline_name)["PipelineExecutionSummaries"]

    def play(self) -> list[Hour]:
        played = []
        for index, story in enumerate(stories(self.s.feature)):
            played.append(self.hour(story, self.s.start + timedelta(hours=index)))
        return played

    def hour(self, story: Story, start: datetime) -> Hour:
        s = self.s
        hour = Hour(story.name, start + timedelta(hours=1), tuple(story.drift))
        try:
            self.traffic(story, start, hour)
            monitoring.advance(hour.scheduled, account=s.account, region=s.region)
            hour.executions = [e for e in monitoring.executions(s.schedule_name, account=s.account, region=s.region)
                               if e.scheduled_time == hour.scheduled]
            hour.report = self.report(hour.scheduled)
            if not self.published(hour.scheduled):
                hour.stand_in = self.stand_in(start, hour.scheduled)
            self.evaluate(story, hour)
        except Exception as exc:  # noqa: BLE001 - the server refused something: the checks say so
            hour.error = f"{type(exc).__name__}: {exc}"
        runs = self._pipeline_runs()
        known = {r["PipelineExecutionArn"] for r in self.seen_runs}
        hour.started = [r for r in runs if r["PipelineExecutionArn"] not in known]
        self.seen_runs = runs
        deliveries = events_ext.deliveries(rule_name=s.rule_name)
        hour.deliveries, self.seen_deliveries = deliveries[self.seen_deliveries:], len(deliveries)
        return hour

    def traffic(self, story: Story, start: datetime, hour: Hour) -> None:
        """The hour's requests, spread over it on the simulated clock (data capture stamps them)."""
        bodies = request_bodies(self.rng, REQUESTS_PER_HOUR, story.drift)
        step = (3600 - 60) / len(bodies)
        for index, body in enumerate(bodies):
            clock.set_now(start + timedelta(seconds=30 + index * step))
            runtime.invoke(self.s.endpoint, body, "text/csv", account=self.s.account, region=self.s.region)
        hour.records = len(bodies)

    def report(self, scheduled: datetime) -> dict | None:
        s = self.s
        prefix = f"{s.expected.output_uri.rstrip('/')}/{s.endpoint}/{s.schedule_name}/{scheduled:%Y/%m/%d/%H}"
        key = f"{prefix.removeprefix(f's3://{s.bucket}/')}/constraint_violations.json"
        try:
            return json.loads(self.aws.client("s3").get_object(Bucket=s.bucket, Key=key)["Body"].read())
        except Exception:  # noqa: BLE001 - no report (wrong place, no execution)
            return None

    def _dimensions(self) -> list[dict[str, str]]:
        return execution.dimensions(self.s.endpoint, self.s.schedule_name)

    def published(self, scheduled: datetime) -> bool:
        """Did the learner's schedule publish the drift metric of the feature that matters for this hour?"""
        points = self.aws.client("cloudwatch").get_metric_statistics(
            Namespace=DATA_METRICS, MetricName=f"feature_baseline_drift_{self.s.feature}",
            Dimensions=self._dimensions(), StartTime=scheduled, EndTime=scheduled + timedelta(hours=1), Period=3600,
            Statistics=["SampleCount"])["Datapoints"]
        return bool(points)

    def stand_in(self, start: datetime, scheduled: datetime) -> bool:
        """Publish the data metrics a schedule of the given baseline publishes for this hour (the same engine),
        under the learner's schedule name: the alarm is then graded on its own."""
        s = self.s
        records = monitoring.read_captures(s.account, s.capture_uri, s.endpoint, [s.variant], start, scheduled)
        outcome = execution.data_quality(records, s.baseline.statistics, s.baseline.constraints, endpoint=s.endpoint,
                                         schedule=s.schedule_name, timestamp=scheduled)
        if outcome.metrics:
            self.aws.client("cloudwatch").put_metric_data(Namespace=outcome.namespace, MetricData=outcome.metrics)
        return bool(outcome.metrics)

    def evaluate(self, story: Story, hour: Hour) -> None:
        """Every alarm, each minute of the hour after the execution; stop once the learner's alarm fires on
        the drift that matters, or force it at the end of that hour."""
        s = self.s
        matters = s.feature in story.drift
        for minute in range(1, 61):
            at = hour.scheduled + timedelta(minutes=minute)
            states = cloudwatch_ext.evaluate_alarms(s.account, s.region, at=at)
            changes = [Change(minute, name, self.states.get(name, "INSUFFICIENT_DATA"), state)
                       for name, state in states.items() if self.states.get(name) != state]
            self.states.update(states)
            hour.changes += changes
            if matters and hour.entered(s.alarm_name):
                return
        if matters:
            hour.forced = self.force(hour)

    def force(self, hour: Hour) -> bool:
        """The learner's alarm did not enter ALARM: put it there (actions.force_alarm), so the rule is graded
        even when the alarm is wrong."""
        s = self.s
        if s.alarm_name not in self.states:
            return False
        for before, after in actions.force_alarm(self.aws, s.alarm_name, self.states[s.alarm_name],
                                                 "testing what the alarm triggers"):
            hour.changes.append(Change(60, s.alarm_name, before, after))
            self.states[s.alarm_name] = after
        return True


def play(aws, rng: random.Random, s: Any) -> list[Hour]:
    """The three hours, in order (the schedule, the alarms and the rule keep their state between them)."""
    return Player(aws, rng, s).play()
