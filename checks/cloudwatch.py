"""CloudWatch checks: alarm configuration read through boto3, and alarm behaviour replayed through
the CloudWatch evaluator over recorded metric timelines."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from mlalab.checking import CheckFailed, Verdict, fail, ok
from mlalab.engines.cloudwatch.evaluator import (
    MetricStore,
    Replay,
    alarm_name_from_reference,
    parse_percentile,
    referenced_alarms,
    replay,
)


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


def single_metric_view(alarm: dict) -> dict:
    """The alarm as a single-metric alarm, also when it is written as ``Metrics`` with one MetricStat
    query that returns data and no expression (an equivalent form AWS accepts)."""
    queries = alarm.get("Metrics") or []
    if len(queries) != 1 or not queries[0].get("MetricStat") or not queries[0].get("ReturnData", True):
        return alarm
    stat = queries[0]["MetricStat"]
    view = {**alarm, "Namespace": stat["Metric"].get("Namespace"), "MetricName": stat["Metric"].get("MetricName"),
            "Dimensions": stat["Metric"].get("Dimensions", []), "Period": stat.get("Period"), "Metrics": []}
    key = "ExtendedStatistic" if parse_percentile(stat.get("Stat", "")) is not None else "Statistic"
    view[key] = stat.get("Stat")
    if stat.get("Unit"):
        view["Unit"] = stat["Unit"]
    return view


def watches_metric(alarm: dict, namespace: str, metric_name: str, dimensions: dict[str, str]) -> Verdict:
    """The alarm's single metric: namespace, name and the exact dimension set (CloudWatch matches
    dimensions exactly: a metric published with EndpointName+VariantName is a different metric from
    one with EndpointName alone)."""
    name = alarm["AlarmName"]
    alarm = single_metric_view(alarm)
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


def unit_is(alarm: dict, published_unit: str, metric_name: str) -> Verdict:
    """No ``Unit``, or the unit the metric is published in: ``Unit`` filters datapoints, it never converts."""
    unit = single_metric_view(alarm).get("Unit")
    if unit and unit != published_unit:
        return fail(f"alarm {alarm['AlarmName']} has Unit={unit!r}, but {metric_name} is published in "
                    f"{published_unit}. Unit does not convert: CloudWatch only evaluates datapoints published in "
                    f"that unit, so this alarm would see no data and never fire. Leave Unit out (or use "
                    f"{published_unit!r}) and give the threshold in {published_unit.lower()}.")
    return ok()


def uses_statistic(alarm: dict, extended: str) -> Verdict:
    """A percentile alarm: ``ExtendedStatistic`` equal to ``extended`` (``p99.0`` is ``p99``)."""
    name = alarm["AlarmName"]
    alarm = single_metric_view(alarm)
    wanted = parse_percentile(extended)
    found_ext, found_basic = alarm.get("ExtendedStatistic"), alarm.get("Statistic")
    if found_ext and parse_percentile(found_ext) == wanted:
        return ok()
    why = {
        "Average": f"an average hides the slowest requests that {extended} shows",
        "Maximum": f"Maximum is the single slowest request of the minute, so one outlier fires it; {extended} "
                   "ignores the slowest 1% and still sees a slow tail",
        "Minimum": "Minimum is the fastest request: it says nothing about the slow ones",
    }
    if found_basic and parse_percentile(found_basic) is not None:
        return fail(f"alarm {name} puts {found_basic!r} in Statistic; percentiles go in ExtendedStatistic "
                    f"(AWS rejects Statistic={found_basic!r}). Use ExtendedStatistic={extended!r}.")
    if found_basic:
        reason = why.get(found_basic, f"{found_basic} does not measure it")
        return fail(f"alarm {name} uses Statistic {found_basic!r}; expected ExtendedStatistic {extended!r}. "
                    f"Latency SLOs are about the tail: {reason}.")
    return fail(f"alarm {name} uses ExtendedStatistic {found_ext!r}; expected {extended!r}: the SLO is on the "
                f"{extended} tail, and {found_ext} ignores a different share of the slowest requests.")


def threshold(alarm: dict, expected: float, unit_note: str) -> Verdict:
    found = alarm.get("Threshold")
    if found is None:
        return fail(f"alarm {alarm['AlarmName']} has no static Threshold (an anomaly-detection band, "
                    f"ThresholdMetricId?); this lab asks for the static threshold {expected:g}. {unit_note}")
    if found != expected:
        return fail(f"alarm {alarm['AlarmName']} has Threshold {found:g}; expected {expected:g}. {unit_note}")
    return ok()


def evaluation_window(alarm: dict, period: int, evaluation_periods: int, datapoints: int) -> Verdict:
    name = alarm["AlarmName"]
    alarm = single_metric_view(alarm)
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
    if not set(ids) <= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)):
        return fail(f"alarm {name}: the expression {expression!r} must use both {ids[0]} and {ids[1]}")
    return ok()


def _rule_names(rule: str) -> list[str]:
    """The alarm names a composite rule refers to (names or ARNs), or none when it does not parse."""
    try:
        return [alarm_name_from_reference(r) for r in referenced_alarms(rule)]
    except ValueError:
        return []


def composite_rule_uses(composite: dict, alarm_names: list[str]) -> Verdict:
    rule = composite.get("AlarmRule", "")
    used = _rule_names(rule)
    missing = [n for n in alarm_names if n not in used]
    if missing:
        return fail(f"composite alarm {composite['AlarmName']} has rule {rule!r}, which does not reference "
                    f"{missing}; a composite alarm combines the states of the alarms it names")
    return ok()


# --- behaviour ----------------------------------------------------------------------------------


def defined_alarms(aws, metric_alarm_names: list[str], composite_names: list[str]) -> tuple[list[dict], list[dict]]:
    """The learner's alarms as AWS holds them (those that exist), read once for every replay, with
    every alarm their composite rules name (a learner may add children of their own)."""
    metric = {n: a for n in metric_alarm_names if (a := metric_alarm(aws, n))}
    composites = {n: a for n in composite_names if (a := composite_alarm(aws, n))}
    pending = [name for c in composites.values() for name in _rule_names(c.get("AlarmRule", ""))]
    while pending:
        name = pending.pop()
        if name in metric or name in composites:
            continue
        if child := metric_alarm(aws, name):
            metric[name] = child
        elif child := composite_alarm(aws, name):
            composites[name] = child
            pending += _rule_names(child.get("AlarmRule", ""))
    return list(metric.values()), list(composites.values())


def replay_alarms(alarms: tuple[list[dict], list[dict]], store: MetricStore, start: datetime,
                  end: datetime) -> Replay:
    """Replay a timeline through the learner's alarms (from ``defined_alarms``)."""
    try:
        return replay(alarms[0], alarms[1], store, start, end)
    except (NotImplementedError, ValueError, KeyError) as exc:
        raise CheckFailed(f"your alarms could not be replayed through CloudWatch's evaluation rules: {exc}. "
                          "mla-labs' offline evaluator supports the basic statistics and percentiles, and metric "
                          "math with arithmetic, FILL, ABS, CEIL, FLOOR and PERIOD: write the error rate as "
                          "arithmetic, e.g. 100 * errors / invocations.") from exc


def _children(result: Replay, composite: dict | None, at: datetime) -> str:
    """'critical-x was ALARM, errors-y was OK': why a composite was (or was not) in ALARM at ``at``."""
    if composite is None:
        return ""
    parts = []
    for name in _rule_names(composite.get("AlarmRule", "")):
        if name in result.states:
            parts.append(f"{name} was {result.state_at(name, at)}")
    return "; ".join(parts)


def never_in_alarm(result: Replay, alarm_names: list[str], story: str, since: datetime | None = None,
                   until: datetime | None = None, optional: tuple[str, ...] = (),
                   composites: dict[str, dict] | None = None) -> Verdict:
    """No alarm of ``alarm_names`` is in ALARM at any replayed minute (within [since, until] if given).

    Alarms in ``optional`` are judged only if they exist (so a missing composite does not cost the
    checks about the metric alarms); the others must exist.
    """
    for name in alarm_names:
        states = result.states.get(name)
        if states is None:
            if name in optional:
                continue
            return fail(f"alarm {name} does not exist, so there is nothing to replay {story} through "
                        "(an alarm that does not exist cannot prove it stays quiet)")
        bad = next((s for s in states if s.state == "ALARM" and (since is None or s.timestamp >= since)
                    and (until is None or s.timestamp <= until)), None)
        if bad:
            composite = (composites or {}).get(name)
            why = f"({bad.reason.rstrip('.')})"
            if composite is not None:
                why = f"(its rule {composite.get('AlarmRule')!r}: {_children(result, composite, bad.timestamp)})"
                if " OR " in f" {composite.get('AlarmRule', '').upper()} ":
                    why += ". A rule with OR fires on either symptom alone; page only when both hold: AND"
            return fail(f"during {story}, alarm {name} went into ALARM at {bad.timestamp:%H:%M} {why}. "
                        "It should have stayed quiet.")
    return ok()


def in_alarm_within(result: Replay, alarm_name: str, since: datetime, minutes: int, story: str,
                    composite: dict | None = None) -> Verdict:
    if alarm_name not in result.states:
        return fail(f"alarm {alarm_name} does not exist, so nothing would fire during {story}")
    first = result.first_time_in(alarm_name, "ALARM")
    if first is None:
        last = result.states[alarm_name][-1]
        children = _children(result, composite, last.timestamp)
        detail = f"; at the end {children}" if children else ""
        return fail(f"during {story}, alarm {alarm_name} never went into ALARM (last state {last.state}: "
                    f"{last.reason.rstrip('.')}{detail})")
    if first - since > timedelta(minutes=minutes):
        return fail(f"during {story}, alarm {alarm_name} went into ALARM only {(first - since).seconds // 60} "
                    f"minutes after it began; it must do so within {minutes}")
    return ok()
