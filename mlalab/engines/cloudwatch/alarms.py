"""Metric alarm evaluation as "Using Amazon CloudWatch alarms" documents it
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).

* Periods are aligned to multiples of ``Period`` seconds since the Unix epoch: a datapoint covers
  ``[t, t + Period)``. At time ``at`` the alarm looks only at *complete* periods; the newest evaluated
  period is ``[floor(at / P) * P - P, floor(at / P) * P)``.
* CloudWatch retrieves more datapoints than ``EvaluationPeriods`` (the *evaluation range*; five for
  three evaluation periods in the docs' example). We use ``EvaluationPeriods + 2`` periods.
* Missing data follows "How alarm state is evaluated when data is missing": with at least
  ``EvaluationPeriods`` real datapoints in the range, the newest ``EvaluationPeriods`` of them are
  evaluated and ``TreatMissingData`` is not consulted. With fewer, every real datapoint in the range is
  used and the rest is filled: ``breaching`` / ``notBreaching`` fill with breaching / non-breaching
  points; ``missing`` and ``ignore`` fill nothing: ``DatapointsToAlarm`` breaching points give ALARM, any
  non-breaching point gives OK, and otherwise ``missing`` gives INSUFFICIENT_DATA (or ALARM when the
  oldest datapoint of the range is breaching, the docs' sixth row) while ``ignore`` keeps the current
  state. Alarms on the ``AWS/DynamoDB`` namespace always behave as ``ignore``, as documented.
* ``Unit`` (PutMetricAlarm): "if you specify a unit, the alarm only sees datapoints with that unit";
  on a metric math alarm, each MetricStat's ``Unit`` filters that metric the same way.
* ``EvaluateLowSampleCountPercentile=ignore``: a percentile datapoint is statistically insignificant
  when it rests on fewer samples than :func:`low_sample_threshold`; if any datapoint the alarm would
  evaluate is insignificant, the state is kept.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .metric_math import math_datapoints, math_period
from .metrics import (
    BASIC_STATISTICS,
    Datapoint,
    MetricStore,
    dimensions_dict,
    low_sample_threshold,
    period_starts,
    utc,
)

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)

#: How many periods beyond EvaluationPeriods the evaluation range holds (docs example: 3 -> 5).
EXTRA_EVALUATION_PERIODS = 2

TREAT_MISSING_DATA = ("missing", "ignore", "breaching", "notBreaching")


@dataclass
class AlarmState:
    """The state an alarm is in at ``timestamp`` (the evaluation time), with CloudWatch-style
    StateReason text and a StateReasonData-like dict."""

    timestamp: datetime
    state: str
    reason: str
    reason_data: dict = field(default_factory=dict)


_COMPARATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
_ANOMALY_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)


def _comparator(name: str) -> tuple[Callable[[float, float], bool], str]:
    if name in _ANOMALY_OPERATORS:
        raise NotImplementedError(
            f"ComparisonOperator {name} needs an anomaly detection band; anomaly detection is out of "
            "scope for the alarm evaluator"
        )
    if name not in _COMPARATORS:
        raise ValueError(f"Unknown ComparisonOperator {name!r}")
    return _COMPARATORS[name]


def breaches(alarm: Mapping, value: float) -> bool:
    """Whether one datapoint of ``value`` is breaching for this alarm's ComparisonOperator and Threshold."""
    return bool(_comparator(alarm["ComparisonOperator"])[0](value, float(alarm["Threshold"])))


def _single_metric_datapoints(
    alarm: Mapping, store: MetricStore, starts: list[datetime], period: int
) -> tuple[list[Datapoint], str]:
    statistic = alarm.get("ExtendedStatistic") or alarm.get("Statistic")
    if not statistic:
        raise ValueError(f"Alarm {alarm.get('AlarmName')!r} has neither Statistic nor ExtendedStatistic")
    dims = dimensions_dict(alarm.get("Dimensions"))
    points = []
    for start in starts:
        value, count = store.period_statistic(
            alarm["Namespace"], alarm["MetricName"], dims, start, start + timedelta(seconds=period), statistic,
            alarm.get("Unit"),
        )
        points.append(Datapoint(start, value, count))
    return points, statistic


@dataclass(frozen=True)
class Decision:
    """Outcome of the missing-data rules over one evaluation range."""

    state: str
    evaluated: tuple[int, ...]  # indexes into the range of the real datapoints that were evaluated
    filled: int  # how many missing datapoints were filled with the TreatMissingData value
    breaching: int  # breaching datapoints among evaluated + filled
    retained: bool = False  # TreatMissingData=ignore kept the previous state


def decide_state(
    window: Sequence[bool | None],
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing_data: str,
    previous_state: str,
) -> Decision:
    """Apply "How alarm state is evaluated when data is missing" to an evaluation range.

    ``window`` is oldest first: True = breaching, False = not breaching, None = missing.
    """
    n, m = evaluation_periods, datapoints_to_alarm
    existing = [i for i, b in enumerate(window) if b is not None]
    if len(existing) >= n:
        evaluated = tuple(existing[-n:])
        breaching = sum(1 for i in evaluated if window[i])
        return Decision(ALARM if breaching >= m else OK, evaluated, 0, breaching)

    evaluated = tuple(existing)
    real_breaching = sum(1 for i in evaluated if window[i])
    filled = n - len(existing)
    if treat_missing_data == "breaching":
        breaching = real_breaching + filled
        return Decision(ALARM if breaching >= m else OK, evaluated, filled, breaching)
    if treat_missing_data == "notBreaching":
        return Decision(ALARM if real_breaching >= m else OK, evaluated, filled, real_breaching)

    # 'missing' and 'ignore' never invent datapoints.
    if real_breaching >= m:
        return Decision(ALARM, evaluated, 0, real_breaching)
    if any(window[i] is False for i in evaluated):
        return Decision(OK, evaluated, 0, real_breaching)
    if treat_missing_data == "missing":
        if window and window[0] is True:
            # Docs, sixth row of the first table: the oldest datapoint in range breaches and none is OK.
            return Decision(ALARM, evaluated, 0, real_breaching)
        return Decision(INSUFFICIENT_DATA, evaluated, 0, real_breaching)
    return Decision(previous_state, evaluated, 0, real_breaching, retained=True)


def _fmt_time(ts: datetime) -> str:
    return ts.strftime("%d/%m/%y %H:%M:%S")


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _reason(
    decision: Decision,
    points: list[Datapoint],
    window: list[bool | None],
    n: int,
    m: int,
    threshold: float,
    phrase: str,
    treat: str,
) -> str:
    if decision.retained:
        return f"Unchanged: missing data is ignored (TreatMissingData=ignore); state stays {decision.state}."
    if decision.state == INSUFFICIENT_DATA:
        unknown = sum(1 for b in window if b is None)
        return (
            f"Insufficient Data: {_plural(unknown, 'datapoint')} {'was' if unknown == 1 else 'were'} unknown."
        )

    to_alarm = decision.state == ALARM
    wanted = [i for i in reversed(decision.evaluated) if bool(window[i]) is to_alarm]
    listed = ", ".join(f"{points[i].value!r} ({_fmt_time(points[i].start)})" for i in wanted)
    count = len(wanted)
    if decision.evaluated:
        verb = ("was" if count == 1 else "were") + ("" if to_alarm else " not")
        text = (
            f"Threshold Crossed: {count} out of the last {n} datapoints [{listed}] "
            f"{verb} {phrase} the threshold ({threshold!r})"
        )
        if decision.filled:
            text += " and "
    else:
        text = f"Threshold Crossed: no datapoints were received for {_plural(decision.filled, 'period')} and "
    if decision.filled:
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        verb = "was" if decision.filled == 1 else "were"
        text += f"{_plural(decision.filled, 'missing datapoint')} {verb} treated as [{kind}]"
    if to_alarm:
        return f"{text} (minimum {_plural(m, 'datapoint')} for OK -> ALARM transition)."
    return f"{text} (minimum 1 datapoint for ALARM -> OK transition)."


def _treat_missing_data(alarm: Mapping) -> str:
    treat = alarm.get("TreatMissingData") or "missing"
    if treat not in TREAT_MISSING_DATA:
        raise ValueError(
            f"Unknown TreatMissingData {treat!r}; expected one of {', '.join(TREAT_MISSING_DATA)}"
        )
    namespaces = {alarm.get("Namespace")} | {
        q.get("MetricStat", {}).get("Metric", {}).get("Namespace") for q in alarm.get("Metrics") or []
    }
    if "AWS/DynamoDB" in namespaces:
        # Documented: alarms on AWS/DynamoDB metrics always ignore missing data.
        return "ignore"
    return treat


def evaluate_metric_alarm(
    alarm: dict, store: MetricStore, at: datetime, previous_state: str = "INSUFFICIENT_DATA"
) -> AlarmState:
    """Evaluate one metric alarm at ``at``.

    ``alarm`` is a dict in DescribeAlarms' MetricAlarms shape (as boto3 returns it): MetricName /
    Namespace / Statistic or ExtendedStatistic / Dimensions / Period / EvaluationPeriods /
    DatapointsToAlarm / Threshold / ComparisonOperator / TreatMissingData /
    EvaluateLowSampleCountPercentile, or ``Metrics`` (metric math: MetricDataQuery dicts with Id,
    Expression or MetricStat {Metric {Namespace, MetricName, Dimensions}, Period, Stat, Unit}, ReturnData,
    Label), and ``Unit``, which selects the datapoints published in that unit. ``previous_state`` is
    what the alarm was in before, used by TreatMissingData=ignore and
    EvaluateLowSampleCountPercentile=ignore.
    """
    at = utc(at)
    if previous_state not in STATES:
        raise ValueError(f"previous_state must be one of {STATES}, got {previous_state!r}")
    if alarm.get("ThresholdMetricId"):
        raise NotImplementedError("Alarms on an anomaly detection band (ThresholdMetricId) are out of scope")
    n = int(alarm["EvaluationPeriods"])
    m = int(alarm.get("DatapointsToAlarm") or n)
    if n < 1 or not 1 <= m <= n:
        raise ValueError(f"Need 1 <= DatapointsToAlarm ({m}) <= EvaluationPeriods ({n})")
    compare, phrase = _comparator(alarm["ComparisonOperator"])
    threshold = float(alarm["Threshold"])
    treat = _treat_missing_data(alarm)

    if alarm.get("Metrics"):
        period = math_period(alarm)
        starts = period_starts(at, period, n + EXTRA_EVALUATION_PERIODS)
        points = math_datapoints(alarm["Metrics"], store, starts, period)
        statistic = None
    else:
        period = int(alarm["Period"])
        starts = period_starts(at, period, n + EXTRA_EVALUATION_PERIODS)
        points, statistic = _single_metric_datapoints(alarm, store, starts, period)

    window = [None if p.value is None else bool(compare(p.value, threshold)) for p in points]
    decision = decide_state(window, n, m, treat, previous_state)
    reason_data = {
        "version": "1.0",
        "queryDate": _iso(at),
        "startDate": _iso(starts[-n]),
        "period": period,
        "recentDatapoints": [p.value for p in points[-n:] if p.value is not None],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {
                "timestamp": _iso(points[i].start),
                "sampleCount": points[i].sample_count,
                "value": points[i].value,
            }
            for i in reversed(decision.evaluated)
        ],
    }
    if statistic:
        reason_data["statistic" if statistic in BASIC_STATISTICS else "extendedStatistic"] = statistic

    minimum = low_sample_threshold(statistic) if statistic else None
    if minimum is not None and (alarm.get("EvaluateLowSampleCountPercentile") or "evaluate") == "ignore":
        thin = [i for i in decision.evaluated if points[i].sample_count < minimum]
        if thin:
            newest = points[thin[-1]]
            reason = (
                f"Unchanged: {statistic} datapoint ({_fmt_time(newest.start)}) rests on "
                f"{_plural(int(newest.sample_count), 'sample')}, fewer than the {float(minimum):g} needed "
                f"(EvaluateLowSampleCountPercentile=ignore); state stays {previous_state}."
            )
            return AlarmState(at, previous_state, reason, reason_data)

    reason = _reason(decision, points, window, n, m, threshold, phrase, treat)
    if not decision.evaluated and not alarm.get("Metrics"):
        reason += _unit_note(alarm, store)
    return AlarmState(at, decision.state, reason, reason_data)


def _unit_note(alarm: Mapping, store: MetricStore) -> str:
    """Why a single-metric alarm with a Unit sees nothing although the metric has data: the Unit
    matches none of the units the metric was published in."""
    unit = alarm.get("Unit")
    if not unit:
        return ""
    published = store.units(alarm["Namespace"], alarm["MetricName"], dimensions_dict(alarm.get("Dimensions")))
    if not published or unit in published:
        return ""
    return (f" No datapoint has Unit {unit}: {alarm['MetricName']} is published in {', '.join(sorted(published))}, "
            "and an alarm's Unit only selects datapoints published in that unit; it never converts.")


