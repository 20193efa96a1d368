"""Model Monitor checks: a monitoring schedule as SageMaker holds it (inline job definition or a named
data-quality job definition: both are the same job), what its executions did over hours a grader played
on the simulated clock, the drift alarm on the metrics the executions publish, the retraining its alarm
started through EventBridge, and a learner's reading of a violations report.

Behaviour is judged on effects (executions and their statuses, alarm state changes, pipeline executions),
whatever the code looks like; configuration is read through boto3 and explained with AWS's rules
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-scheduling.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.modelmonitor import schedule as schedules

from .actions import Change
from .cloudwatch import single_metric_view, threshold

DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_CHECK = "baseline_drift_check"
SCHEDULE_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html"
METRICS_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-cloudwatch.html"
RESULTS_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-results.html"
PIPELINE_TARGET_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/pipeline-eventbridge.html"
ALARM_EVENTS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"


# --- reading the schedule -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringJob:
    """A schedule's job, the same whichever way it is written: an inline MonitoringJobDefinition, or a
    MonitoringJobDefinitionName naming a data-quality job definition."""

    schedule_name: str
    status: str
    monitoring_type: str
    expression: str
    endpoint: str | None
    statistics_uri: str | None
    constraints_uri: str | None
    output_uri: str | None
    image_uri: str | None
    role_arn: str | None
    environment: dict[str, str]
    definition_name: str | None = None  # None: inline

    @property
    def form(self) -> str:
        return f"job definition {self.definition_name}" if self.definition_name else "its inline job definition"


def _first_output(config: Mapping[str, Any] | None) -> str | None:
    outputs = (config or {}).get("MonitoringOutputs") or [{}]
    return (outputs[0].get("S3Output") or {}).get("S3Uri")


def _baseline(config: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    config = config or {}
    return ((config.get("StatisticsResource") or {}).get("S3Uri"),
            (config.get("ConstraintsResource") or {}).get("S3Uri"))


def monitoring_job(aws, schedule_name: str) -> MonitoringJob | Verdict:
    """The schedule's job as SageMaker describes it, or a failing verdict saying why there is none."""
    sm = aws.client("sagemaker")
    try:
        described = sm.describe_monitoring_schedule(MonitoringScheduleName=schedule_name)
    except sm.exceptions.ResourceNotFound:
        return fail(f"no monitoring schedule named {schedule_name!r} exists. Create it with "
                    "CreateMonitoringSchedule and exactly the name the grader passes (names change every run).")
    config = described.get("MonitoringScheduleConfig") or {}
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression", "")
    monitoring_type = described.get("MonitoringType") or config.get("MonitoringType") or "DataQuality"
    common = dict(schedule_name=schedule_name, status=described.get("MonitoringScheduleStatus", ""),
                  monitoring_type=monitoring_type, expression=expression)
    inline = config.get("MonitoringJobDefinition")
    if inline:
        statistics, constraints = _baseline(inline.get("BaselineConfig"))
        inputs = inline.get("MonitoringInputs") or [{}]
        return MonitoringJob(
            **common, endpoint=(inputs[0].get("EndpointInput") or {}).get("EndpointName"),
            statistics_uri=statistics, constraints_uri=constraints,
            output_uri=_first_output(inline.get("MonitoringOutputConfig")),
            image_uri=(inline.get("MonitoringAppSpecification") or {}).get("ImageUri"),
            role_arn=inline.get("RoleArn"), environment=dict(inline.get("Environment") or {}))
    name = config.get("MonitoringJobDefinitionName")
    if monitoring_type != "DataQuality":
        return fail(f"monitoring schedule {schedule_name} runs a {monitoring_type} job (job definition {name}); "
                    "expected a DataQuality job: data drift is what a data-quality monitor detects, comparing the "
                    "captured inputs with the baseline's statistics.")
    try:
        job = sm.describe_data_quality_job_definition(JobDefinitionName=name)
    except sm.exceptions.ResourceNotFound:
        return fail(f"monitoring schedule {schedule_name} names the data-quality job definition {name!r}, which "
                    "does not exist (was it deleted?).")
    app = job.get("DataQualityAppSpecification") or {}
    statistics, constraints = _baseline(job.get("DataQualityBaselineConfig"))
    return MonitoringJob(
        **common, endpoint=((job.get("DataQualityJobInput") or {}).get("EndpointInput") or {}).get("EndpointName"),
        statistics_uri=statistics, constraints_uri=constraints,
        output_uri=_first_output(job.get("DataQualityJobOutputConfig")), image_uri=app.get("ImageUri"),
        role_arn=job.get("RoleArn"), environment={**(app.get("Environment") or {}), **(job.get("Environment") or {})},
        definition_name=name)


def _same_uri(found: str | None, expected: str) -> bool:
    return (found or "").rstrip("/") == expected.rstrip("/")


@dataclass(frozen=True)
class ScheduleExpectation:
    """What the schedule must run: the grader's names and S3 URIs."""

    endpoint: str
    statistics_uri: str
    constraints_uri: str
    output_uri: str
    image_uri: str
    role_arn: str


def hourly(expression: str) -> bool:
    """Does the expression run at the top of every hour (``cron(0 * ? * * *)`` or its equivalents)?"""
    try:
        parsed = schedules.parse(expression)
    except schedules.ScheduleError:
        return False
    return parsed.recurring and parsed.interval_hours == 1


def schedule_config(job: MonitoringJob, expected: ScheduleExpectation) -> Verdict:
    """A data-quality job of the endpoint against the given baseline, hourly, reporting under the given prefix."""
    name = job.schedule_name
    if job.monitoring_type != "DataQuality":
        return fail(f"monitoring schedule {name} is a {job.monitoring_type} schedule; expected DataQuality: data "
                    "drift is what a data-quality monitor detects.")
    if not hourly(job.expression):
        return fail(f"monitoring schedule {name} has ScheduleExpression {job.expression!r}; expected an hourly "
                    "schedule, cron(0 * ? * * *): each execution then analyses the hour of captured data before it, "
                    f"and drift is caught within the hour ({SCHEDULE_DOC}).")
    if job.endpoint != expected.endpoint:
        return fail(f"monitoring schedule {name} monitors endpoint {job.endpoint!r} ({job.form}); expected "
                    f"{expected.endpoint!r}: the EndpointInput names the endpoint whose captured data is analysed.")
    for what, found, wanted, why in (
            ("StatisticsResource", job.statistics_uri, expected.statistics_uri,
             "the baseline's statistics are what the drift distances are computed against"),
            ("ConstraintsResource", job.constraints_uri, expected.constraints_uri,
             "the constraints say which checks run and with which thresholds")):
        if not _same_uri(found, wanted):
            return fail(f"monitoring schedule {name}: the BaselineConfig's {what} is {found!r} ({job.form}); "
                        f"expected {wanted}: {why}. Without both, no baseline_drift_check can run.")
    if not _same_uri(job.output_uri, expected.output_uri):
        return fail(f"monitoring schedule {name} writes its reports to {job.output_uri!r}; expected "
                    f"{expected.output_uri}, under which Model Monitor adds <endpoint>/<schedule>/yyyy/mm/dd/hh/ "
                    f"({RESULTS_DOC}).")
    if job.image_uri != expected.image_uri:
        return fail(f"monitoring schedule {name} runs image {job.image_uri!r}; expected the Model Monitor analyzer "
                    f"of this Region, {expected.image_uri}: the prebuilt container that computes the statistics "
                    "and the violations.")
    if job.role_arn != expected.role_arn:
        return fail(f"monitoring schedule {name} runs as {job.role_arn!r}; expected the role the grader gave, "
                    f"{expected.role_arn} (it can read the capture and the baseline and write the reports).")
    return ok()


def publishes_metrics(job: MonitoringJob) -> Verdict:
    """The job's ``publish_cloudwatch_metrics`` is not ``Disabled``: no metrics, nothing to alarm on."""
    value = job.environment.get("publish_cloudwatch_metrics")
    if value is not None and str(value).strip().lower() == "disabled":
        return fail(f"monitoring schedule {job.schedule_name} sets publish_cloudwatch_metrics={value!r} "
                    f"({job.form}): its executions then publish no feature_baseline_drift_* metrics to "
                    f"{DATA_METRICS}, and an alarm on them never has data. Set it to 'Enabled' ({METRICS_DOC}).")
    return ok()


# --- the hours a grader plays ----------------------------------------------------------------------------


@dataclass
class Hour:
    """One monitored hour the grader played: traffic captured during the hour, the execution scheduled at
    its end, then the alarms evaluated every minute of the next hour (an hourly metric's period is
    complete, and evaluated, only when that hour ends)."""

    story: str  # in words
    scheduled: datetime  # the execution that analyses this hour
    drifted: tuple[str, ...] = ()  # the features the grader drifted
    records: int = 0  # requests sent (all captured)
    executions: list[Any] = field(default_factory=list)  # the learner schedule's executions at ``scheduled``
    report: dict | None = None  # the constraint_violations.json the learner's execution wrote (None: none)
    stand_in: bool = False  # the schedule published no drift metric: the grader published what it would have
    changes: list[Change] = field(default_factory=list)  # alarm state changes (every alarm)
    started: list[dict] = field(default_factory=list)  # pipeline executions started (ListPipelineExecutions)
    deliveries: list[Any] = field(default_factory=list)  # EventBridge deliveries of the learner's rule
    forced: bool = False  # the grader put the alarm into ALARM with SetAlarmState
    error: str | None = None  # the grader could not play the hour to its end (why)

    def entered(self, alarm_name: str) -> list[Change]:
        return [c for c in self.changes if c.alarm == alarm_name and c.after == "ALARM"]


def _played(hours: Sequence[Hour]) -> Verdict:
    for hour in hours:
        if hour.error:
            return fail(f"the grader could not play '{hour.story}': {hour.error}")
    return ok()


def _status(hour: Hour) -> str:
    return ", ".join(f"{e.status}" + (f" ({e.failure_reason})" if e.failure_reason else "")
                     for e in hour.executions) or "none"


def schedule_ran(job: MonitoringJob, hours: Sequence[Hour], expected: ScheduleExpectation) -> Verdict:
    """Each played hour has exactly one execution at its end: Completed for an hour like the baseline,
    CompletedWithViolations naming the drifted features otherwise, its report at the documented place."""
    name = job.schedule_name
    for hour in hours:
        if hour.error and not hour.executions:
            return fail(f"the grader could not play '{hour.story}': {hour.error}")
        at = f"{hour.scheduled:%Y-%m-%d %H:%M}"
        if job.status == "Stopped":
            return fail(f"monitoring schedule {name} is Stopped: no execution ran at {at}, after '{hour.story}'. "
                        "A stopped schedule skips its hours; StartMonitoringSchedule resumes it.")
        if len(hour.executions) != 1:
            return fail(f"monitoring schedule {name}: {len(hour.executions)} execution(s) at {at} UTC, after "
                        f"'{hour.story}'; expected exactly one (an hourly schedule runs at the top of every hour, "
                        f"analysing the hour before). Its ScheduleExpression is {job.expression!r} ({SCHEDULE_DOC}).")
        execution = hour.executions[0]
        wanted = "CompletedWithViolations" if hour.drifted else "Completed"
        if execution.status != wanted:
            return fail(f"monitoring schedule {name}: the execution at {at} UTC, after '{hour.story}', ended "
                        f"{_status(hour)}; expected {wanted}. An hour like the baseline completes without "
                        "violations; an hour whose inputs drifted reports baseline_drift_check violations. Check "
                        "the BaselineConfig (statistics and constraints of the given baseline).")
        report = f"{expected.output_uri.rstrip('/')}/{expected.endpoint}/{name}/{hour.scheduled:%Y/%m/%d/%H}"
        if hour.report is None:
            return fail(f"monitoring schedule {name}: no constraint_violations.json at {report}/ after '{hour.story}'"
                        f"; Model Monitor writes each execution's reports to <S3Uri>/<endpoint>/<schedule>/"
                        f"yyyy/mm/dd/hh/ ({RESULTS_DOC}).")
        flagged = {v.get("feature_name") for v in hour.report.get("violations", [])
                   if v.get("constraint_check_type") == DRIFT_CHECK}
        if not set(hour.drifted) <= flagged:
            return fail(f"monitoring schedule {name}: the report of '{hour.story}' flags drift in {sorted(flagged)}; "
                        f"expected {sorted(hour.drifted)}. Is the baseline the given one?")
    return ok()


def _metric(alarm: dict) -> str:
    view = single_metric_view(alarm)
    if view.get("Metrics"):
        return "a metric-math expression"
    dims = ", ".join(f"{d['Name']}={d['Value']}" for d in view.get("Dimensions") or [])
    return f"{view.get('Namespace')} {view.get('MetricName')} ({dims or 'no dimensions'})"


def drift_metric(alarm: dict, feature: str, endpoint: str, schedule: str) -> str:
    """What is wrong with the metric the alarm watches, in words ("" when it is the feature's drift distance)."""
    view = single_metric_view(alarm)
    wanted = f"feature_baseline_drift_{feature}"
    dims = {d["Name"]: d["Value"] for d in view.get("Dimensions") or []}
    expected = {"Endpoint": endpoint, "MonitoringSchedule": schedule}
    if view.get("Metrics"):
        return (f"it uses metric math; the drift distance is one metric, {DATA_METRICS} {wanted}, and a "
                "single-metric alarm watches it")
    if view.get("Namespace") != DATA_METRICS:
        return (f"it watches namespace {view.get('Namespace')!r}; Model Monitor publishes a data-quality "
                f"schedule's metrics to {DATA_METRICS!r} (lower case, as written) ({METRICS_DOC})")
    if view.get("MetricName") != wanted:
        return (f"it watches {view.get('MetricName')!r}; the drift distance of {feature} is {wanted!r} "
                "(feature_data_* are the feature's values, feature_non_null_* its completeness)")
    if dims != expected:
        return (f"its dimensions are {dims}; Model Monitor publishes with exactly {expected}, and CloudWatch "
                "matches the whole dimension set: any other set is a metric with no data")
    return ""


def alarm_fires(hours: Sequence[Hour], alarm: dict, feature: str, endpoint: str, schedule: str) -> Verdict:
    """The alarm enters ALARM after the hour the feature drifted, and never after a quiet hour or
    another feature's drift."""
    verdict = _played(hours)
    if not verdict:
        return verdict
    name = alarm["AlarmName"]
    problem = drift_metric(alarm, feature, endpoint, schedule)
    why = f" Why: {problem}." if problem else ""
    for hour in hours:
        fired = hour.entered(name)
        if feature in hour.drifted:
            if not fired or hour.forced:
                return fail(f"alarm {name} did not enter ALARM after '{hour.story}' (evaluated every minute of the "
                            f"hour after the execution at {hour.scheduled:%H:%M}); expected it to fire when "
                            f"{feature}'s drift distance exceeds the baseline's threshold. It watches "
                            f"{_metric(alarm)}.{why}")
        elif fired:
            return fail(f"alarm {name} entered ALARM at {fired[0].minute} after '{hour.story}'"
                        f"{', where only ' + ', '.join(hour.drifted) + ' drifted' if hour.drifted else ''}; it must "
                        f"fire only when {feature} drifts. It watches {_metric(alarm)}.{why} A retraining is "
                        "expensive: alarm on the feature that matters to the model.")
    return ok()


def alarm_threshold(alarm: dict, comparison_threshold: float) -> Verdict:
    """The alarm's static threshold is the baseline's ``comparison_threshold``, above which drift is a violation."""
    note = (f"The baseline's constraints.json sets monitoring_config.distribution_constraints.comparison_threshold "
            f"to {comparison_threshold:g}: a distance above it is a baseline_drift_check violation. Read it from "
            "the constraints instead of assuming Model Monitor's default (0.1), so the alarm and the reports agree.")
    verdict = threshold(alarm, comparison_threshold, note, metric_unit="(distance)")
    if not verdict:
        return verdict
    operator = alarm.get("ComparisonOperator")
    if operator not in ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold"):
        return fail(f"alarm {alarm['AlarmName']} uses {operator}; a drift distance is a violation when it is "
                    "above the threshold: GreaterThanThreshold.")
    return ok()


def _deliveries_text(hour: Hour) -> str:
    failed = sorted({d.reason or "unknown" for d in hour.deliveries if d.status == "failed"})
    if failed:
        return f" EventBridge matched the alarm's event but could not start the pipeline: {'; '.join(failed)}."
    return ""


def retrained_once(hour: Hour, pipeline: str, rule_name: str, alarm_name: str) -> Verdict:
    """Exactly one execution of the retraining pipeline started when the alarm entered ALARM."""
    if hour.error:
        return fail(f"the grader could not play '{hour.story}': {hour.error}")
    forced = (" (your alarm had not fired, so the grader put it into ALARM with SetAlarmState, as you would to "
              "test what it triggers)") if hour.forced else ""
    entered = hour.entered(alarm_name) or hour.forced
    if not entered:
        return fail(f"alarm {alarm_name} does not exist or could not be put into ALARM, so nothing could start "
                    f"pipeline {pipeline}.")
    if not hour.started:
        if not hour.deliveries:
            why = (f" No event reached a target of rule {rule_name}: the rule does not exist, has no target, or its "
                   f"pattern does not match the alarm's 'CloudWatch Alarm State Change' event (source "
                   f"aws.cloudwatch, resources [the alarm's ARN], detail.state.value ALARM) ({ALARM_EVENTS}).")
        else:
            why = _deliveries_text(hour) or " The rule's targets are not the pipeline."
        return fail(f"pipeline {pipeline}: alarm {alarm_name} entered ALARM after '{hour.story}'{forced}, but no "
                    f"execution started.{why} A rule's target can be the pipeline itself (its ARN) with a RoleArn "
                    f"that EventBridge assumes to call sagemaker:StartPipelineExecution ({PIPELINE_TARGET_DOC}).")
    if len(hour.started) > 1:
        return fail(f"pipeline {pipeline}: {len(hour.started)} executions started when alarm {alarm_name} entered "
                    f"ALARM{forced}; expected exactly one. Each target (and each rule) that matches starts its own "
                    "execution: one drift, one retraining.")
    return ok()


def retraining_started(hour: Hour) -> bool:
    return bool(hour.started)


def no_false_retraining(hours: Sequence[Hour], pipeline: str, alarm_name: str) -> Verdict:
    """No pipeline execution in hours where the learner's alarm did not enter ALARM."""
    for hour in hours:
        if hour.error:
            return fail(f"the grader could not play '{hour.story}': {hour.error}")
        if hour.entered(alarm_name) or hour.forced or not hour.started:
            continue
        changes = ", ".join(f"{c.alarm} {c.before} -> {c.after}" for c in hour.changes) or "none"
        return fail(f"pipeline {pipeline}: {len(hour.started)} execution(s) started during '{hour.story}', when "
                    f"alarm {alarm_name} did not enter ALARM; expected none. Alarm state changes then: {changes}. "
                    "Every state change of every alarm is an event on the default bus: match your alarm (resources "
                    "[its ARN]) and the ALARM state (detail.state.value) in the rule's pattern.")
    return ok()


# --- reading a violations report --------------------------------------------------------------------------


def drifted_answer(found: Any, expected: Mapping[str, float], report_uri: str) -> Verdict:
    """``found`` is ``{feature: distance}`` of exactly the report's baseline_drift_check violations."""
    where = f"drifted_features({report_uri!r})"
    if not isinstance(found, dict):
        return fail(f"{where} returned {type(found).__name__} {str(found)[:120]}; expected a dict "
                    "{feature name: drift distance} ({} when nothing drifted).")
    extra = sorted(str(k) for k in found if k not in expected)
    missing = sorted(k for k in expected if k not in found)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if extra:
            parts.append(f"not drifted: {extra}")
        return fail(f"{where} returned features {sorted(map(str, found))}; expected {sorted(expected)} ("
                    f"{'; '.join(parts)}). Drift is a violation whose constraint_check_type is baseline_drift_check; "
                    "completeness_check, data_type_check and the others are other problems of the same hour "
                    f"({RESULTS_DOC}).")
    for feature, distance in expected.items():
        value = found[feature]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or abs(value - distance) > 1e-9 * max(1.0, abs(distance)):
            return fail(f"{where} says {feature} drifted by {value!r}; the report's description says distance "
                        f"{distance!r}. The description reads 'Baseline drift distance: <d> exceeds threshold: <t>': "
                        "the distance is the number after 'distance:', returned as a float.")
    return ok()


__all__ = [
    "DATA_METRICS", "Hour", "MonitoringJob", "ScheduleExpectation", "alarm_fires", "alarm_threshold",
    "drift_metric", "drifted_answer", "hourly", "monitoring_job", "no_false_retraining", "publishes_metrics",
    "retrained_once", "retraining_started", "schedule_config", "schedule_ran",
]
