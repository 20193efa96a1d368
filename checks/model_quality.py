"""Checks of a SageMaker Model Monitor model-quality set-up (lab 10): the ground-truth files, the job
definition and schedule, what the executions did hour by hour, the alarm on ``f1`` and an explanation
of a violations report.

AWS's pages these follow:

* ground truth records and their S3 layout:
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html
  (``{"groundTruthData": {"data": ..., "encoding": "CSV"}, "eventMetadata": {"eventId": ...},
  "eventVersion": "0"}`` under ``s3://bucket/prefix/yyyy/mm/dd/hh/``; ``eventId`` is the InferenceId when
  the request carried one);
* the job definition: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelQualityJobDefinition.html
  and https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_EndpointInput.html (ProbabilityAttribute,
  ProbabilityThresholdAttribute);
* the hourly schedule: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html;
* the metrics: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-cw.html
  (namespace ``aws/sagemaker/Endpoints/model-metrics``, dimensions ``Endpoint`` and ``MonitoringSchedule``).

Checks take what the grader read (documents, executions, alarm states) and return a ``Verdict`` whose
message names the resource, the property, what was expected, what was found and the exam concept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.modelmonitor import schedule as schedules

NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
CONCEPT = ("Concept drift (same inputs, other outcomes) is invisible to a data-quality monitor: only a model-quality "
           "monitor that merges ground truth with the captured predictions sees the model being wrong.")
GROUND_TRUTH = ("Model Monitor merges a label with the captured prediction whose InferenceId (else eventId) equals the "
                "label's eventMetadata.eventId, and reads labels from s3://bucket/prefix/yyyy/mm/dd/hh/ folders by the "
                "hour they were collected.")
#: Statistics an alarm on one f1 value an hour may use: any gives the value itself, Sum and SampleCount do not.
VALUE_STATISTICS = ("Average", "Minimum", "Maximum")
TOLERANCE = 0.002


def _show(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------------------------- ground truth


def _record_problem(doc: Any) -> str | None:
    """What makes one parsed line not a ground-truth record, or None."""
    if not isinstance(doc, dict):
        return "is not a JSON object"
    truth, meta = doc.get("groundTruthData"), doc.get("eventMetadata")
    if not isinstance(truth, dict) or "data" not in truth:
        return "has no groundTruthData.data"
    if str(truth.get("encoding", "")).upper() != "CSV":
        return f"has groundTruthData.encoding {_show(truth.get('encoding'))}, expected \"CSV\""
    if not isinstance(meta, dict) or not isinstance(meta.get("eventId"), str):
        return "has no eventMetadata.eventId string"
    if str(doc.get("eventVersion")) != "0":
        return f"has eventVersion {_show(doc.get('eventVersion'))}, expected \"0\""
    return None


def _label_of(data: Any) -> str | None:
    text = str(data).strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return str(int(number)) if number in (0.0, 1.0) else None


def ground_truth(objects: Mapping[str, str], bucket: str, prefix: str, labels: Sequence[Mapping[str, Any]]) -> Verdict:
    """Every given label is one ground-truth record (AWS's format, eventId = the InferenceId, the label as data)
    in the ``prefix/yyyy/mm/dd/hh/`` folder of the hour it was collected. ``objects``: key -> text under prefix."""
    where = f"s3://{bucket}/{prefix}/"
    if not objects:
        return fail(f"ground truth: nothing under {where}; expected one JSON line per label in "
                    f"{where}yyyy/mm/dd/hh/ folders. {GROUND_TRUTH}")
    found: dict[str, tuple[str, str | None]] = {}
    for key, text in sorted(objects.items()):
        folder = "/".join(key[len(prefix) + 1:].split("/")[:4])
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                return fail(f"ground truth s3://{bucket}/{key} line {number} is not JSON ({_show(line, 80)}); "
                            f"expected one JSON object per line (JSON Lines). {GROUND_TRUTH}")
            problem = _record_problem(doc)
            if problem:
                return fail(f"ground truth s3://{bucket}/{key} line {number} {problem}: found {_show(doc)}; expected "
                            '{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": '
                            f'"<InferenceId>"}}, "eventVersion": "0"}}. {GROUND_TRUTH}')
            found[doc["eventMetadata"]["eventId"]] = (folder, _label_of(doc["groundTruthData"]["data"]))
    missing = [label["inference_id"] for label in labels if label["inference_id"] not in found]
    if missing:
        return fail(f"ground truth under {where}: {len(missing)} of {len(labels)} labels have no record whose "
                    f"eventMetadata.eventId is their InferenceId (first: {missing[0]}); found eventIds such as "
                    f"{_show(sorted(found)[:2])}. A label that matches no capture is never merged. {GROUND_TRUTH}")
    for label in labels:
        folder, value = found[label["inference_id"]]
        if value != str(label["churned"]):
            return fail(f"ground truth for InferenceId {label['inference_id']}: groundTruthData.data is "
                        f"{_show(value)}, expected \"{label['churned']}\" (the class alone, as CSV text)")
        collected = datetime.fromisoformat(label["collected_at"].replace("Z", "+00:00"))
        expected = f"{collected:%Y/%m/%d/%H}"
        if folder != expected:
            return fail(f"ground truth for InferenceId {label['inference_id']} (collected {label['collected_at']}) is "
                        f"under {where}{folder}/, expected {where}{expected}/: the folder is the hour the label was "
                        f"collected, so each monitoring run finds the labels that had arrived by then. {GROUND_TRUTH}")
    return ok()


# ----------------------------------------------------------------------------------- job definition, schedule


@dataclass(frozen=True)
class MonitorExpectation:
    job_definition_name: str
    schedule_name: str
    endpoint_name: str
    ground_truth_uri: str
    output_uri: str
    probability_attribute: str
    threshold: float


def _same_uri(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.rstrip("/") == b.rstrip("/")


def monitor_config(definition: Mapping[str, Any] | None, schedule: Mapping[str, Any] | None,
                   e: MonitorExpectation) -> Verdict:
    """The model-quality job definition (as DescribeModelQualityJobDefinition answers) and the schedule that runs
    it (DescribeMonitoringSchedule)."""
    name = e.job_definition_name
    if definition is None:
        return fail(f"model-quality job definition {name}: not found (DescribeModelQualityJobDefinition); create it "
                    "with create_model_quality_job_definition: a model-quality monitor needs the problem type, where "
                    "the prediction is, and the ground truth.")
    app = definition.get("ModelQualityAppSpecification") or {}
    job_input = definition.get("ModelQualityJobInput") or {}
    endpoint = job_input.get("EndpointInput") or {}
    outputs = (definition.get("ModelQualityJobOutputConfig") or {}).get("MonitoringOutputs") or [{}]
    output = (outputs[0].get("S3Output") or {}).get("S3Uri")
    threshold = endpoint.get("ProbabilityThresholdAttribute")
    checks = [
        ("ModelQualityAppSpecification.ProblemType", app.get("ProblemType"), "BinaryClassification",
         app.get("ProblemType") == "BinaryClassification", "churn or not: two classes"),
        ("EndpointInput.EndpointName", endpoint.get("EndpointName"), e.endpoint_name,
         endpoint.get("EndpointName") == e.endpoint_name, "the endpoint whose captured predictions are merged"),
        ("EndpointInput.ProbabilityAttribute", endpoint.get("ProbabilityAttribute"), e.probability_attribute,
         str(endpoint.get("ProbabilityAttribute")) == e.probability_attribute,
         "the endpoint answers one CSV column, the churn probability: column index 0"),
        ("EndpointInput.ProbabilityThresholdAttribute", threshold, e.threshold,
         isinstance(threshold, int | float) and math.isclose(threshold, e.threshold, abs_tol=1e-9),
         "a probability at or above the threshold is a predicted churn (the baseline was computed with it)"),
        ("ModelQualityJobInput.GroundTruthS3Input.S3Uri", (job_input.get("GroundTruthS3Input") or {}).get("S3Uri"),
         e.ground_truth_uri, _same_uri((job_input.get("GroundTruthS3Input") or {}).get("S3Uri"), e.ground_truth_uri),
         "where the labels are (the yyyy/mm/dd/hh folders below it)"),
        ("MonitoringOutputs[0].S3Output.S3Uri", output, e.output_uri, _same_uri(output, e.output_uri),
         "the reports land under {S3Uri}/{endpoint}/{schedule}/yyyy/mm/dd/hh/, where the team looks for them"),
    ]
    for field_name, found, expected, good, why in checks:
        if not good:
            return fail(f"model-quality job definition {name}: {field_name} is {_show(found)}, expected "
                        f"{_show(expected)} ({why}).")
    if schedule is None:
        return fail(f"monitoring schedule {e.schedule_name}: not found (DescribeMonitoringSchedule); a job definition "
                    "runs only when a schedule names it.")
    config = schedule.get("MonitoringScheduleConfig") or {}
    if config.get("MonitoringType") != "ModelQuality" or config.get("MonitoringJobDefinitionName") != name:
        return fail(f"monitoring schedule {e.schedule_name}: MonitoringType {_show(config.get('MonitoringType'))} and "
                    f"MonitoringJobDefinitionName {_show(config.get('MonitoringJobDefinitionName'))}, expected "
                    f"\"ModelQuality\" and \"{name}\" (without MonitoringType ModelQuality a schedule runs a "
                    "data-quality job).")
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
    try:
        parsed = schedules.parse(expression)
    except (schedules.ScheduleError, TypeError, AttributeError):
        parsed = None
    if parsed is None or parsed.kind == schedules.NOW or (parsed.interval_hours or 0) != 1:
        return fail(f"monitoring schedule {e.schedule_name}: ScheduleExpression is {_show(expression)}, expected an "
                    "hourly one, cron(0 * ? * * *): labels arrive every hour, and each run analyses the hour before.")
    return ok()


# ----------------------------------------------------------------------------------------------- executions


@dataclass
class Run:
    """One monitoring execution as the grader saw it: status, failure reason, and its report's contents."""

    scheduled: datetime
    status: str
    failure_reason: str | None = None
    item_count: int | None = None
    f1: float | None = None
    violations: list[dict] = field(default_factory=list)


def _at(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


def _run_at(runs: Sequence[Run], when: datetime) -> Run | None:
    return next((r for r in runs if r.scheduled == when), None)


def confirmed_hours(schedule_name: str, runs: Sequence[Run] | None, due: Sequence[datetime], records: int) -> Verdict:
    """An execution at each of ``due`` (the confirmed hours' runs) merged all ``records`` predictions of its hour
    with their labels and completed with no violation."""
    if runs is None:
        return fail(f"monitoring schedule {schedule_name}: not found, so nothing ran in the simulated hours.")
    for when in due:
        run = _run_at(runs, when)
        if run is None:
            return fail(f"monitoring schedule {schedule_name}: no execution at {_at(when)}; expected one every hour "
                        f"(cron(0 * ? * * *)). Executions found at: {_show([_at(r.scheduled) for r in runs])}.")
        if run.status == "Failed":
            return fail(f"monitoring schedule {schedule_name}: the execution at {_at(when)} Failed "
                        f"({run.failure_reason}). It analyses the hour before it: that hour's captured predictions "
                        f"merged with the labels found under the ground truth prefix. {GROUND_TRUTH}")
        if run.item_count != records:
            return fail(f"monitoring schedule {schedule_name}: the execution at {_at(when)} merged {run.item_count} "
                        f"predictions with labels (statistics.json dataset.item_count), expected {records}: every "
                        f"request of the hour had a label. {GROUND_TRUTH}")
        if run.violations or run.status != "Completed":
            flagged = sorted({str(v.get("metric_name")) for v in run.violations})
            return fail(f"monitoring schedule {schedule_name}: the execution at {_at(when)} ended {run.status} with "
                        f"violations {flagged}, but in that hour the labels confirm the model (f1 {run.f1}). Expected "
                        "Completed: compare with the team's reviewed constraints (constraints_uri), whose thresholds "
                        "leave room for an ordinary hour's noise.")
    return ok()


def drift_caught(schedule_name: str, runs: Sequence[Run] | None, due: Sequence[datetime]) -> Verdict:
    """After the change, the executions at ``due`` report f1 violations: at least the last one, and every one
    that completed on data of the changed world."""
    if runs is None:
        return fail(f"monitoring schedule {schedule_name}: not found, so nothing ran in the simulated hours.")
    after = [r for r in (_run_at(runs, when) for when in due) if r is not None]
    last = _run_at(runs, due[-1])
    if last is None:
        return fail(f"monitoring schedule {schedule_name}: no execution at {_at(due[-1])}, after the world changed; "
                    "expected one every hour.")
    if last.status == "Failed":
        return fail(f"monitoring schedule {schedule_name}: the execution at {_at(last.scheduled)} Failed "
                    f"({last.failure_reason}). {GROUND_TRUTH}")
    flagged = {str(v.get("metric_name")) for v in last.violations}
    if "f1" not in flagged:
        seen = sorted({str(v.get("metric_name")) for r in after for v in r.violations})
        return fail(f"monitoring schedule {schedule_name}: after the world changed (the same customers, other "
                    f"outcomes: f1 {last.f1}), the execution at {_at(last.scheduled)} ended {last.status} "
                    f"flagging {sorted(flagged) or 'nothing'} (all runs since the change: {seen or 'nothing'}); "
                    "expected CompletedWithViolations naming f1. Violations need a baseline: "
                    f"ModelQualityBaselineConfig.ConstraintsResource with the team's constraints. {CONCEPT}")
    return ok()


# ---------------------------------------------------------------------------------------------------- alarm


def alarm_metric(alarm: Mapping[str, Any] | None, alarm_name: str, endpoint: str, schedule: str,
                 threshold: float) -> Verdict:
    """The alarm reads f1 of (Endpoint, MonitoringSchedule) in the model-metrics namespace, as a value (not a sum),
    and fires below the constraint's threshold. A plain metric alarm or one metric-math MetricStat both count."""
    if alarm is None:
        return fail(f"alarm {alarm_name}: not found (DescribeAlarms); create it with put_metric_alarm.")
    stats = [(alarm.get("Namespace"), alarm.get("MetricName"), alarm.get("Dimensions"), alarm.get("Statistic"),
              alarm.get("Period"))]
    if alarm.get("Metrics"):
        stats = [((q.get("MetricStat") or {}).get("Metric", {}).get("Namespace"),
                  (q.get("MetricStat") or {}).get("Metric", {}).get("MetricName"),
                  (q.get("MetricStat") or {}).get("Metric", {}).get("Dimensions"),
                  (q.get("MetricStat") or {}).get("Stat"), (q.get("MetricStat") or {}).get("Period"))
                 for q in alarm["Metrics"] if q.get("MetricStat")]
        returned = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
        if len(stats) != 1 or len(returned) != 1:
            return fail(f"alarm {alarm_name}: its metric math reads {len(stats)} metrics; expected one, f1.")
    namespace, metric, dimensions, statistic, _ = stats[0]
    dims = {d.get("Name"): d.get("Value") for d in dimensions or []}
    expected_dims = {"Endpoint": endpoint, "MonitoringSchedule": schedule}
    if namespace != NAMESPACE or metric != "f1" or dims != expected_dims:
        return fail(f"alarm {alarm_name}: watches {namespace}/{metric} with dimensions {_show(dims)}, expected "
                    f"{NAMESPACE}/f1 with {_show(expected_dims)}: Model Monitor publishes each model-quality metric "
                    "there, under the endpoint's and the schedule's names, and an alarm matches every dimension.")
    if statistic not in VALUE_STATISTICS:
        return fail(f"alarm {alarm_name}: statistic {_show(statistic)}, expected one of {list(VALUE_STATISTICS)}: f1 "
                    "is a score per execution; a sum or a count of scores is not an f1.")
    operator, found = alarm.get("ComparisonOperator"), alarm.get("Threshold")
    if operator not in ("LessThanThreshold", "LessThanOrEqualToThreshold") or not isinstance(found, int | float) \
            or not math.isclose(found, threshold, abs_tol=TOLERANCE):
        return fail(f"alarm {alarm_name}: {operator} {found}, expected LessThanThreshold {threshold}: the f1 "
                    "constraint's threshold in the team's constraints.json (binary_classification_constraints.f1), "
                    "so the alarm and the monitor's violations agree.")
    return ok()


@dataclass(frozen=True)
class AlarmState:
    at: datetime
    state: str


def alarm_behaviour(alarm_name: str, exists: bool, timeline: Sequence[AlarmState], confirmed_until: datetime,
                    end: datetime) -> Verdict:
    """Never ALARM up to ``confirmed_until`` (the alarm has then seen only confirmed hours) and OK there; ALARM at
    ``end`` (after the changed world's hours)."""
    if not exists:
        return fail(f"alarm {alarm_name}: not found, so it could not be evaluated over the simulated hours.")
    early = [s for s in timeline if s.at <= confirmed_until]
    fired = next((s for s in early if s.state == "ALARM"), None)
    if fired is not None:
        return fail(f"alarm {alarm_name}: ALARM at {_at(fired.at)}, while every f1 so far was above the threshold "
                    "(the labels confirm the model); expected OK.")
    at_confirmed = next((s for s in reversed(early)), None)
    if at_confirmed is None or at_confirmed.state != "OK":
        return fail(f"alarm {alarm_name}: {at_confirmed.state if at_confirmed else 'no state'} at "
                    f"{_at(confirmed_until)}, after three hourly executions with good f1; expected OK. Model Monitor "
                    "publishes one f1 datapoint an hour: with a period shorter than an hour most periods are empty "
                    "(INSUFFICIENT_DATA); use Period=3600.")
    final = next((s for s in timeline if s.at == end), None)
    if final is None or final.state != "ALARM":
        return fail(f"alarm {alarm_name}: {final.state if final else 'no state'} at {_at(end)}, after three hours of "
                    f"f1 below the threshold; expected ALARM. {CONCEPT}")
    return ok()


# ---------------------------------------------------------------------------------------------- explanation


def explanation(answer: Any, expected: Mapping[str, float], report_uri: str) -> Verdict:
    """The learner's {metric: value - threshold} for the report's violations (``answer``: the recorded document,
    ``{"returned": ...}`` or ``{"error": ...}``)."""
    right = ", ".join(f"{k}: {v:+.4f}" for k, v in expected.items())
    if not isinstance(answer, Mapping):
        return fail(f"explain_violation({report_uri!r}): nothing recorded; expected {{{right}}}.")
    if "error" in answer:
        return fail(f"explain_violation({report_uri!r}) raised {answer['error']}; expected {{{right}}}.")
    returned = answer.get("returned")
    if not isinstance(returned, Mapping):
        return fail(f"explain_violation({report_uri!r}) returned {_show(returned)}, expected a dict "
                    f"{{metric: value - threshold}}: {{{right}}}.")
    if set(returned) != set(expected):
        return fail(f"explain_violation: metrics {sorted(map(str, returned))}, expected {sorted(expected)}: every "
                    "metric_name in constraint_violations.json, and only those.")
    for name, value in expected.items():
        got = returned[name]
        if not isinstance(got, int | float) or isinstance(got, bool) or not math.isclose(got, value,
                                                                                        abs_tol=TOLERANCE):
            return fail(f"explain_violation: {name} {_show(got)}, expected {value:+.4f} (its value in the report's "
                        "statistics.json minus its threshold in the team's constraints; the constraints.json next to "
                        "the report is the run's own suggestion from the same data, its thresholds are the values).")
    return ok()


__all__ = ["AlarmState", "MonitorExpectation", "NAMESPACE", "Run", "alarm_behaviour", "alarm_metric",
           "confirmed_hours", "drift_caught", "explanation", "ground_truth", "monitor_config"]
