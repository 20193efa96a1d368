"""CloudWatch checks: alarm configuration read through boto3, and alarm behaviour replayed through
the CloudWatch evaluator over recorded metric timelines."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from mlalab.checking import CheckFailed, Verdict, fail, ok
from mlalab.engines.cloudwatch import (
    ALARM,
    OK,
    MetricStore,
    Replay,
    alarm_name_from_reference,
    breaches,
    evaluate_composite_rule,
    math_datapoints,
    math_period,
    parse_percentile,
    referenced_alarms,
    replay,
    returned_query,
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


def _one_metric_query(alarm: dict) -> dict | None:
    """The MetricStat query of a ``Metrics`` alarm that watches one metric: a single MetricStat that
    returns data, or a single MetricStat with one returned expression over it alone (``m1 / 1000``
    converting microseconds to milliseconds is the same alarm on the same metric)."""
    queries = alarm.get("Metrics") or []
    stats = [q for q in queries if q.get("MetricStat")]
    if len(stats) != 1:
        return None
    if len(queries) == 1:
        return stats[0] if stats[0].get("ReturnData", True) else None
    try:
        returned = returned_query(queries)
    except ValueError:
        return None
    expressions = [q for q in queries if q.get("Expression")]
    if len(queries) != 2 or returned is not expressions[0]:
        return None
    names = set(re.findall(r"[a-z][A-Za-z0-9_]*", returned["Expression"]))
    return stats[0] if names == {stats[0]["Id"]} else None


def single_metric_view(alarm: dict) -> dict:
    """The alarm as a single-metric alarm, also when it is written as ``Metrics`` with one MetricStat
    query (alone, or under one expression that only rescales it): equivalent forms AWS accepts. The
    view keeps ``Metrics`` for an expression, so the threshold is still judged through it."""
    query = _one_metric_query(alarm)
    if query is None:
        return alarm
    stat = query["MetricStat"]
    view = {**alarm, "Namespace": stat["Metric"].get("Namespace"), "MetricName": stat["Metric"].get("MetricName"),
            "Dimensions": stat["Metric"].get("Dimensions", []), "Period": stat.get("Period"),
            "Metrics": [] if len(alarm["Metrics"]) == 1 else alarm["Metrics"]}
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
    if _one_metric_query(alarm) is None and alarm.get("Metrics"):
        return fail(f"alarm {name} uses metric math over several metrics; it should watch the single metric "
                    f"{namespace} {metric_name}")
    alarm = single_metric_view(alarm)
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


def alarm_value(alarm: dict, metric_values: Mapping[str, float]) -> float | None:
    """What the alarm compares with its threshold for one period in which each metric (by MetricName)
    has the given value: the metric itself, or the returned expression computed over them. The
    alarm's Units and statistics take part (each metric is one sample in its MetricStat's Unit)."""
    if not alarm.get("Metrics"):
        return metric_values.get(alarm.get("MetricName", ""))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store = MetricStore()
    for query in alarm["Metrics"]:
        stat = query.get("MetricStat")
        if stat and stat["Metric"].get("MetricName") in metric_values:
            metric = stat["Metric"]
            store.add(metric.get("Namespace", ""), metric["MetricName"], _dims(metric.get("Dimensions", [])), start,
                      metric_values[metric["MetricName"]], unit=stat.get("Unit"))
    return math_datapoints(alarm["Metrics"], store, [start], math_period(alarm))[0].value


def trigger_point(alarm: dict, values: Callable[[float], Mapping[str, float]], high: float) -> float | None:
    """The smallest x in [0, high] at which the alarm breaches for ``values(x)``, assuming it breaches
    from some x on (None when it does not breach at ``high``, 0 when it already breaches at 0)."""

    def hot(x: float) -> bool:
        value = alarm_value(alarm, values(x))
        return value is not None and breaches(alarm, value)

    if not hot(high):
        return None
    low = 0.0
    if hot(low):
        return low
    for _ in range(80):
        middle = (low + high) / 2
        low, high = (low, middle) if hot(middle) else (middle, high)
    return high


def threshold(alarm: dict, expected: float, unit_note: str, metric_unit: str = "µs") -> Verdict:
    """The alarm fires above ``expected`` (in the metric's own unit). A single-metric alarm needs
    Threshold == expected; an alarm written as an expression over its metric (``m1 / 1000`` with
    Threshold 300) is judged on what it does: it must breach just above ``expected`` and not below."""
    name = alarm["AlarmName"]
    found = alarm.get("Threshold")
    if found is None:
        return fail(f"alarm {name} has no static Threshold (an anomaly-detection band, "
                    f"ThresholdMetricId?); this lab asks for the static threshold {expected:g}. {unit_note}")
    view = single_metric_view(alarm)
    if not view.get("Metrics"):
        if found != expected:
            return fail(f"alarm {name} has Threshold {found:g}; expected {expected:g}. {unit_note}")
        return ok()
    metric = view["MetricName"]

    def hot(x: float) -> bool:
        value = alarm_value(view, {metric: x})
        return value is not None and breaches(view, value)

    if hot(expected * 1.001) and not hot(expected * 0.999):
        return ok()
    expression = returned_query(alarm["Metrics"])["Expression"]
    fires = trigger_point(view, lambda x: {metric: x}, expected * 1e6)
    where = (f"fires when {metric} is above about {fires:g} {metric_unit}" if fires is not None
             else f"does not fire even at {expected * 1e6:g} {metric_unit}")
    return fail(f"alarm {name} compares {expression!r} with Threshold {found:g}: it {where}; expected it to fire "
                f"above {expected:g} {metric_unit}. {unit_note} An expression that converts units needs the "
                "threshold in the converted unit.")


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


#: What each TreatMissingData mode does when an endpoint has no traffic for a night (no datapoints at
#: all), from "Configuring how CloudWatch alarms treat missing data"
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
QUIET_NIGHT = {
    "missing": "'missing' (the default) judges only real datapoints: once the evaluation range holds none, the "
               "alarm goes to INSUFFICIENT_DATA every night, so it is neither OK nor ALARM, dashboards show it as "
               "unknown, and any INSUFFICIENT_DATA action fires nightly",
    "ignore": "'ignore' keeps the alarm in whatever state it was in when traffic stopped: an alarm that was in "
              "ALARM at midnight stays in ALARM (and keeps the ticket open) all night, and one that was OK hides "
              "that nothing is being measured",
    "breaching": "'breaching' counts every empty minute as a breach: the alarm goes to ALARM a few minutes after "
                 "traffic stops and notifies every quiet night, although nothing is wrong",
    "notBreaching": "'notBreaching' counts every empty minute as good: the alarm stays OK through the night and "
                    "still fires as soon as real traffic breaches",
}


def treats_missing_data(alarm: dict, mode: str, why: str) -> Verdict:
    """TreatMissingData == ``mode``; a wrong mode is explained by what it does on a night with no traffic."""
    found = alarm.get("TreatMissingData") or "missing"
    if found != mode:
        effect = QUIET_NIGHT.get(found, f"{found!r} is not a TreatMissingData value")
        return fail(f"alarm {alarm['AlarmName']} has TreatMissingData {found!r}; expected {mode!r}. On a night with "
                    f"no traffic, {effect}; {QUIET_NIGHT.get(mode, mode)}. {why}")
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


def ratio_problem(alarm: dict, numerator: str, denominator: str) -> str | None:
    """In words, what is wrong with what an error-rate expression computes (None when it rises with
    ``numerator`` and falls with ``denominator``, as a rate does, or when it cannot be probed)."""
    try:
        base = alarm_value(alarm, {numerator: 20.0, denominator: 1000.0})
        more_errors = alarm_value(alarm, {numerator: 40.0, denominator: 1000.0})
        more_calls = alarm_value(alarm, {numerator: 20.0, denominator: 2000.0})
    except (ValueError, NotImplementedError, KeyError, TypeError):
        return None
    if base is None or more_errors is None or more_calls is None:
        return None
    expression = returned_query(alarm["Metrics"])["Expression"]
    if more_errors < base and more_calls > base:
        return (f"the ratio is inverted: {expression!r} computes {denominator} / {numerator}, which falls as errors "
                f"rise (1000 calls with 20 errors give {base:g}, with 40 errors {more_errors:g}); the error rate is "
                f"{numerator} / {denominator}")
    if more_errors <= base:
        return (f"{expression!r} does not rise when {numerator} rises (20 errors give {base:g}, 40 give "
                f"{more_errors:g}), so it does not measure the error rate {numerator} / {denominator}")
    if more_calls >= base:
        return (f"{expression!r} does not fall when {denominator} rises (1000 calls give {base:g}, 2000 give "
                f"{more_calls:g}): it grows with the number of errors, not with their share of the calls")
    return None


def rate_trigger(alarm: dict, numerator: str, denominator: str) -> float | None:
    """The error rate (a fraction of ``denominator``) above which the alarm breaches, or None."""
    try:
        return trigger_point(alarm, lambda r: {numerator: 1000.0 * r, denominator: 1000.0}, 1.0)
    except (ValueError, NotImplementedError, KeyError, TypeError):
        return None


def error_rate_notes(alarm: dict | None, numerator: str, denominator: str, expected: float) -> str:
    """What an error-rate alarm really does, when that differs from firing above ``expected`` (a
    fraction): for replay failures whose configuration passed."""
    if alarm is None or not alarm.get("Metrics"):
        return ""
    problem = ratio_problem(alarm, numerator, denominator)
    if problem:
        return f"Why: {problem}."
    fires = rate_trigger(alarm, numerator, denominator)
    if fires is not None and abs(fires - expected) > expected / 100:
        return (f"Why: with Threshold {alarm.get('Threshold'):g} the alarm fires above an error rate of "
                f"{100 * fires:.3g}%, not {100 * expected:g}%: a percentage expression (100 * errors / invocations) "
                f"takes Threshold {100 * expected:g}, a fraction (errors / invocations) takes {expected:g}.")
    if fires is None:
        return "Why: the alarm does not fire even when every call fails."
    return ""


def ratio_math(alarm: dict, numerator: str, denominator: str, namespace: str, dimensions: dict[str, str],
               stat: str = "Sum", period: int = 60, published_unit: str = "None") -> Verdict:
    """A metric-math alarm over two metrics, returning one expression that computes
    ``numerator / denominator`` (in any equivalent form: a fraction or a percentage)."""
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
        if s.get("Unit") and s["Unit"] != published_unit:
            return fail(f"alarm {name}: query {qid} has Unit={s['Unit']!r}, but {metric} is published with unit "
                        f"{published_unit!r}. A MetricStat Unit only selects datapoints published in that unit, so "
                        "this query sees no data and the rate is never computed. Leave Unit out.")
    returned = [q for q in queries if q.get("ReturnData", True)]
    if len(returned) != 1 or not returned[0].get("Expression"):
        return fail(f"alarm {name}: exactly one query must return data, and it must be the expression "
                    f"(found {len(returned)} returning: {[q['Id'] for q in returned]}); set ReturnData=False "
                    "on the raw metrics")
    expression = returned[0]["Expression"]
    ids = [by_metric[numerator][0], by_metric[denominator][0]]
    if not set(ids) <= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)):
        return fail(f"alarm {name}: the expression {expression!r} must use both {ids[0]} and {ids[1]}")
    problem = ratio_problem(alarm, numerator, denominator)
    if problem:
        return fail(f"alarm {name}: {problem}.")
    return ok()


def _rule_names(rule: str) -> list[str]:
    """The alarm names a composite rule refers to (names or ARNs), or none when it does not parse."""
    try:
        return [alarm_name_from_reference(r) for r in referenced_alarms(rule)]
    except ValueError:
        return []


def rule_problem(composite: dict | None) -> str:
    """What the composite's rule does wrong for a pager that must fire only when every alarm it names
    is in ALARM, judged on the rule's truth table, not its spelling ("" when nothing is wrong)."""
    if composite is None:
        return ""
    try:
        names = list(dict.fromkeys(_rule_names(composite.get("AlarmRule", ""))))
        alone = [n for n in names
                 if evaluate_composite_rule(composite["AlarmRule"], {m: ALARM if m == n else OK for m in names})]
        every = evaluate_composite_rule(composite["AlarmRule"], dict.fromkeys(names, ALARM))
    except (ValueError, KeyError):
        return ""
    if alone and len(names) > 1:
        return (f"its rule is true when only {' or only '.join(alone)} is in ALARM, so it pages on one symptom "
                "alone; page only when both hold: AND")
    if not every:
        return ("its rule is false even when every alarm it names is in ALARM, so it can never page; the pager "
                "rule is ALARM(latency) AND ALARM(errors), with nothing that requires an alarm to be OK")
    return ""


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
    except ValueError as exc:  # a definition CloudWatch itself would reject or could not evaluate
        raise CheckFailed(f"your alarms could not be replayed through CloudWatch's evaluation rules: {exc}") from exc
    except (NotImplementedError, KeyError) as exc:  # valid in AWS, but outside what the replay models
        raise CheckFailed(f"your alarms could not be replayed through CloudWatch's evaluation rules: {exc}. "
                          "This is a limit of mla-labs' offline evaluator, not a mistake of yours: express the alarm "
                          "with statistics, percentiles and metric math (e.g. 100 * errors / invocations).") from exc


def _children(result: Replay, composite: dict | None, at: datetime, reasons: bool = False) -> str:
    """'critical-x was ALARM, errors-y was OK': why a composite was (or was not) in ALARM at ``at``;
    with ``reasons``, each child not in ALARM says why (its own state reason)."""
    if composite is None:
        return ""
    parts = []
    for name in dict.fromkeys(_rule_names(composite.get("AlarmRule", ""))):
        if name in result.states:
            state = result.state_at(name, at)
            step = next((s for s in reversed(result.states[name]) if s.timestamp <= at), None)
            why = f" ({step.reason.rstrip('.')})" if reasons and state != ALARM and step else ""
            parts.append(f"{name} was {state}{why}")
    return "; ".join(parts)


def never_in_alarm(result: Replay, alarm_names: list[str], story: str, since: datetime | None = None,
                   until: datetime | None = None, optional: tuple[str, ...] = (),
                   composites: dict[str, dict] | None = None, notes: Mapping[str, str] | None = None) -> Verdict:
    """No alarm of ``alarm_names`` is in ALARM at any replayed minute (within [since, until] if given).
    ``notes`` add, per alarm, what its configuration really does (e.g. an inverted ratio).

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
                if problem := rule_problem(composite):
                    why += f". Why: {problem}"
            note = (notes or {}).get(name)
            return fail(f"during {story}, alarm {name} went into ALARM at {bad.timestamp:%H:%M} {why}. "
                        f"It should have stayed quiet.{' ' + note if note else ''}")
    return ok()


def in_alarm_within(result: Replay, alarm_name: str, since: datetime, minutes: int, story: str,
                    composite: dict | None = None, note: str = "") -> Verdict:
    """The alarm goes into ALARM within ``minutes`` of ``since``; ``note`` says what its configuration
    really does when it does not."""
    if composite is not None and not note and (problem := rule_problem(composite)):
        note = f"Why: {problem}."
    if alarm_name not in result.states:
        return fail(f"alarm {alarm_name} does not exist, so nothing would fire during {story}")
    first = result.first_time_in(alarm_name, "ALARM")
    if first is None:
        last = result.states[alarm_name][-1]
        children = _children(result, composite, last.timestamp, reasons=True)
        detail = f"; at the end {children}" if children else ""
        return fail(f"during {story}, alarm {alarm_name} never went into ALARM (last state {last.state}: "
                    f"{last.reason.rstrip('.')}{detail}){'. ' + note if note else ''}")
    if first - since > timedelta(minutes=minutes):
        return fail(f"during {story}, alarm {alarm_name} went into ALARM only {(first - since).seconds // 60} "
                    f"minutes after it began; it must do so within {minutes}")
    return ok()
