"""CloudWatch checks: alarm configuration read through boto3, and alarm behaviour replayed through
the CloudWatch evaluator over recorded metric timelines."""

from __future__ import annotations

from datetime import datetime, timedelta

from checks.core import CheckFailed, Verdict, fail, ok
from fixtures.moto_ext.cloudwatch.evaluator import MetricStore, Replay, replay


def metric_alarm(aws, alarm_name: str) -> dict | None:
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNames=[alarm_name], AlarmTypes=["MetricAlarm"])
    return next(iter(alarms.get("MetricAlarms", [])), None)


def composite_alarm(aws, alarm_name: str) -> dict | None:
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNames=[alarm_name], AlarmTypes=["CompositeAlarm"])
    return next(iter(alarms.get("CompositeAlarms", [])), None)


def _dims(dimensions: list[dict]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in dimensions or []}


def exists(alarm: dict | None, alarm_name: str, what: str) -> Verdict:
    if alarm is None:
        return fail(f"no {what} named {alarm_name!r} exists. Create it with exactly the name the grader passes "
                    "to your function (names change on every run).")
    return ok()


def watches_metric(alarm: dict, namespace: str, metric_name: str, dimensions: dict[str, str]) -> Verdict:
    """The alarm's single metric: namespace, name and the exact dimension set (CloudWatch matches
    dimensions exactly: a metric published with EndpointName+VariantName is a different metric from
    one with EndpointName alone)."""
    name = alarm["AlarmName"]
    if alarm.get("Metrics"):
        return fail(f"alarm {name} uses metric math; it should watch the single metric {namespace} "
                    f"{metric_name}")
    found_ns, found_metric = alarm.get("Namespace"), alarm.get("MetricName")
    if (found_ns, found_metric) != (namespace, metric_name):
        return fail(f"alarm {name} watches {found_ns} {found_metric}; expected namespace {namespace!r} and "
                    f"metric {metric_name!r} (SageMaker endpoint invocation metrics live in AWS/SageMaker; "
                    "namespaces and metric names are case-sensitive)")
    found = _dims(alarm.get("Dimensions", []))
    if found != dimensions:
        return fail(f"alarm {name} has dimensions {found}; expected {dimensions}. SageMaker publishes "
                    "endpoint metrics per EndpointName and VariantName, and CloudWatch matches the whole "
                    "dimension set exactly: any other combination is a metric with no data")
    return ok()


def uses_statistic(alarm: dict, extended: str) -> Verdict:
    name = alarm["AlarmName"]
    found = alarm.get("ExtendedStatistic") or alarm.get("Statistic")
    if alarm.get("ExtendedStatistic") != extended:
        return fail(f"alarm {name} uses statistic {found!r}; expected ExtendedStatistic {extended!r}. Latency "
                    f"SLOs are about the tail: an average hides the slowest requests that {extended} shows")
    return ok()


def threshold(alarm: dict, expected: float, unit_note: str) -> Verdict:
    found = alarm.get("Threshold")
    if found != expected:
        return fail(f"alarm {alarm['AlarmName']} has Threshold {found:g}; expected {expected:g}. {unit_note}")
    return ok()


def evaluation_window(alarm: dict, period: int, evaluation_periods: int, datapoints: int) -> Verdict:
    name = alarm["AlarmName"]
    found = (alarm.get("Period"), alarm.get("EvaluationPeriods"), alarm.get("DatapointsToAlarm") or
             alarm.get("EvaluationPeriods"))
    if found != (period, evaluation_periods, datapoints):
        return fail(f"alarm {name} evaluates Period={found[0]}, EvaluationPeriods={found[1]}, "
                    f"DatapointsToAlarm={found[2]}; expected {period} s periods with {datapoints} out of "
                    f"{evaluation_periods} datapoints breaching ('M out of N' ignores a single bad minute "
                    "but still fires within minutes)")
    return ok()


def treats_missing_data(alarm: dict, mode: str, why: str) -> Verdict:
    found = alarm.get("TreatMissingData", "missing")
    if found != mode:
        return fail(f"alarm {alarm['AlarmName']} has TreatMissingData {found!r}; expected {mode!r}. {why}")
    return ok()


def actions(alarm: dict, expected: list[str], forbidden: list[str], why: str) -> Verdict:
    name = alarm["AlarmName"]
    found = alarm.get("AlarmActions", [])
    for arn in forbidden:
        if arn in found or arn in alarm.get("OKActions", []) or arn in alarm.get("InsufficientDataActions", []):
            return fail(f"alarm {name} notifies {arn}, which it must not. {why}")
    if sorted(found) != sorted(expected):
        return fail(f"alarm {name} has AlarmActions {found}; expected {expected}. {why}")
    if not alarm.get("ActionsEnabled", True):
        return fail(f"alarm {name} has ActionsEnabled=false: it would change state but notify nobody")
    return ok()


def ratio_math(alarm: dict, numerator: str, denominator: str, namespace: str, dimensions: dict[str, str],
               stat: str = "Sum", period: int = 60) -> Verdict:
    """A metric-math alarm over two metrics, returning one expression that uses both."""
    name = alarm["AlarmName"]
    queries = alarm.get("Metrics") or []
    if not queries:
        return fail(f"alarm {name} watches a single metric; an error *rate* needs metric math: two MetricStat "
                    f"queries ({numerator} and {denominator}) and one Expression dividing them")
    stats = {q["Id"]: q["MetricStat"] for q in queries if q.get("MetricStat")}
    by_metric = {s["Metric"]["MetricName"]: (qid, s) for qid, s in stats.items()}
    for metric in (numerator, denominator):
        if metric not in by_metric:
            return fail(f"alarm {name} has no MetricStat query for {metric}; found {sorted(by_metric)}")
        qid, s = by_metric[metric]
        if s["Metric"].get("Namespace") != namespace or _dims(s["Metric"].get("Dimensions", [])) != dimensions:
            return fail(f"alarm {name}: query {qid} reads {s['Metric'].get('Namespace')} {metric} with "
                        f"dimensions {_dims(s['Metric'].get('Dimensions', []))}; expected {namespace} with "
                        f"{dimensions}")
        if s.get("Stat") != stat:
            return fail(f"alarm {name}: query {qid} uses Stat {s.get('Stat')!r} on {metric}; expected {stat!r}. "
                        f"{metric} is a count per period: the rate is Sum(errors) / Sum(invocations)")
        if s.get("Period") != period:
            return fail(f"alarm {name}: query {qid} has Period {s.get('Period')}; expected {period}")
    returned = [q for q in queries if q.get("ReturnData", True)]
    if len(returned) != 1 or not returned[0].get("Expression"):
        return fail(f"alarm {name}: exactly one query must return data, and it must be the expression "
                    f"(found {len(returned)} returning: {[q['Id'] for q in returned]}); set ReturnData=False "
                    "on the raw metrics")
    expression = returned[0]["Expression"]
    ids = [by_metric[numerator][0], by_metric[denominator][0]]
    if not all(i in expression for i in ids):
        return fail(f"alarm {name}: the expression {expression!r} must use both {ids[0]} and {ids[1]}")
    return ok()


def composite_rule_uses(composite: dict, alarm_names: list[str]) -> Verdict:
    rule = composite.get("AlarmRule", "")
    missing = [n for n in alarm_names if n not in rule]
    if missing:
        return fail(f"composite alarm {composite['AlarmName']} has rule {rule!r}, which does not reference "
                    f"{missing}; a composite alarm combines the states of the alarms it names")
    return ok()


# --- behaviour ----------------------------------------------------------------------------------


def defined_alarms(aws, metric_alarm_names: list[str], composite_names: list[str]) -> tuple[list[dict], list[dict]]:
    """The learner's alarms as AWS holds them (those that exist), read once for every replay."""
    metric = [a for a in (metric_alarm(aws, n) for n in metric_alarm_names) if a]
    composites = [a for a in (composite_alarm(aws, n) for n in composite_names) if a]
    return metric, composites


def replay_alarms(alarms: tuple[list[dict], list[dict]], store: MetricStore, start: datetime,
                  end: datetime) -> Replay:
    """Replay a timeline through the learner's alarms (from ``defined_alarms``)."""
    try:
        return replay(alarms[0], alarms[1], store, start, end)
    except (NotImplementedError, ValueError, KeyError) as exc:
        raise CheckFailed(f"your alarms could not be replayed through CloudWatch's evaluation rules: {exc}. "
                          "Use the statistics, operators and metric math this lab asks for.") from exc


def never_in_alarm(result: Replay, alarm_names: list[str], story: str, since: datetime | None = None,
                   until: datetime | None = None) -> Verdict:
    """No alarm of ``alarm_names`` is in ALARM at any replayed minute (within [since, until] if given)."""
    for name in alarm_names:
        states = result.states.get(name)
        if states is None:
            return fail(f"alarm {name} does not exist, so there is nothing to replay {story} through "
                        "(an alarm that does not exist cannot prove it stays quiet)")
        bad = next((s for s in states if s.state == "ALARM" and (since is None or s.timestamp >= since)
                    and (until is None or s.timestamp <= until)), None)
        if bad:
            return fail(f"during {story}, alarm {name} went into ALARM at {bad.timestamp:%H:%M} "
                        f"({bad.reason.rstrip('.')}). It should have stayed quiet.")
    return ok()


def in_alarm_within(result: Replay, alarm_name: str, since: datetime, minutes: int, story: str) -> Verdict:
    if alarm_name not in result.states:
        return fail(f"alarm {alarm_name} does not exist, so nothing would fire during {story}")
    first = result.first_time_in(alarm_name, "ALARM")
    if first is None:
        last = result.states[alarm_name][-1]
        return fail(f"during {story}, alarm {alarm_name} never went into ALARM (last state {last.state}: "
                    f"{last.reason.rstrip('.')})")
    if first - since > timedelta(minutes=minutes):
        return fail(f"during {story}, alarm {alarm_name} went into ALARM only {(first - since).seconds // 60} "
                    f"minutes after it began; it must within {minutes}")
    return ok()
