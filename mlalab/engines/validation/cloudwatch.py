"""CloudWatch's cross-parameter rules: what the API reference says about combinations of
parameters, which botocore's model cannot express.

Pages (API reference, version 2010-08-01):
* PutMetricAlarm: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
* MetricDataQuery: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html
* PutCompositeAlarm: its AlarmRule length (10240) and names are model constraints; the AlarmRule
  grammar and the ActionsSuppressor* rules are decided by the composite-alarm extension itself
  (``fixtures/moto_ext/cloudwatch``, engine ``mlalab.engines.cloudwatch``), so one rule has one answer.
* PutMetricData / MetricDatum: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html

Wording: messages recorded from AWS (in LocalStack's snapshot-verified provider, or quoted from AWS
errors in public issues) are used as they are; where no recording was found, the message follows
AWS's style for the same family of errors and says so in a comment (``# wording: inferred``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection

_SINGLE_METRIC = ("MetricName", "Namespace", "Dimensions", "Period", "Statistic", "ExtendedStatistic")
_PERIODS_BELOW_A_MINUTE = (10, 20, 30)  # high-resolution alarms; otherwise a multiple of 60
_TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")
_METRIC_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")
# p0.0..p100, trimmed mean/count/sum, winsorized mean, percentile rank: pNN, tmNN, TM(a:b), PR(a:b)...
_EXTENDED_STAT = re.compile(r"(?i)(p(100(\.0+)?|\d{1,2}(\.\d+)?)|(tm|wm|tc|ts)\d{1,2}(\.\d+)?|"
                            r"(tm|wm|tc|ts|pr)\(\s*[\d.%]*\s*:\s*[\d.%]*\s*\))")
_IDENT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?!\s*\()")
_MAX_EVALUATION_SECONDS = 7 * 24 * 3600


def _validation(message: str) -> Rejection:
    return Rejection("ValidationError", message)


def _combination(message: str) -> Rejection:
    return Rejection("InvalidParameterCombination", message)


def _value(message: str) -> Rejection:
    return Rejection("InvalidParameterValue", message)


def metrics_exclude_single_metric(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """Metrics cannot be combined with MetricName, Namespace, Dimensions, Period, Statistic or
    ExtendedStatistic (PutMetricAlarm, parameter Metrics)."""
    if not p.get("Metrics"):
        return None
    for name in _SINGLE_METRIC:
        if p.get(name) not in (None, [], ""):
            # Recorded from AWS for Statistic ("Statistic should not be set if list of Metrics is set.",
            # cfn-lint issue 766); the same wording for the other members is inferred.
            return _validation(f"{name} should not be set if list of Metrics is set.")
    return None


def one_metric_source(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A metric alarm watches MetricName (with Namespace and Period) or a Metrics list (or, newer,
    EvaluationCriteria): one of them is required (PutMetricAlarm, MetricName and Metrics)."""
    if p.get("Metrics") or p.get("EvaluationCriteria"):
        return None
    for name in ("MetricName", "Namespace", "Period"):
        if p.get(name) in (None, ""):
            # "MetricName must not be null" is recorded from AWS (cfn-lint PR 771); Namespace/Period inferred.
            return _validation(f"{name} must not be null")
    return None


def one_statistic(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A single-metric alarm has exactly one of Statistic and ExtendedStatistic (PutMetricAlarm:
    "you must specify either Statistic or ExtendedStatistic, but not both")."""
    if p.get("Metrics") or p.get("EvaluationCriteria") or not p.get("MetricName"):
        return None
    has_stat, has_extended = bool(p.get("Statistic")), bool(p.get("ExtendedStatistic"))
    if has_stat and has_extended:
        # wording: as modelled by AWS emulators (no AWS recording found); the code is AWS's.
        return _combination("Exactly one of Statistic or ExtendedStatistic must be specified.")
    if not has_stat and not has_extended:
        return _validation("Exactly one of Statistic or ExtendedStatistic must be specified.")
    return None


def extended_statistic_format(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """ExtendedStatistic is a percentile p0.0-p100 or a trimmed/winsorized statistic such as tm90 or
    TM(10%:90%) (PutMetricAlarm, ExtendedStatistic; CloudWatch statistics definitions)."""
    value = p.get("ExtendedStatistic")
    if value and not _EXTENDED_STAT.fullmatch(value):
        # Recorded wording (LocalStack provider_v2, snapshot-verified).
        return _value(f"The value {value} for parameter ExtendedStatistic is not supported.")
    return None


def period_values(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """Period is 10, 20 or 30 (high resolution) or a multiple of 60 (PutMetricAlarm, Period)."""
    periods = [p.get("Period")] + [(q.get("MetricStat") or {}).get("Period") for q in p.get("Metrics") or ()]
    for period in periods:
        if isinstance(period, int) and period not in _PERIODS_BELOW_A_MINUTE and period % 60:
            # LocalStack's wording (which lists 10 and 30, the values before 20 was added).
            return _validation("Period must be 10, 30 or a multiple of 60")
    return None


def datapoints_within_evaluation_periods(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """DatapointsToAlarm is at most EvaluationPeriods: M out of N needs M <= N (PutMetricAlarm,
    DatapointsToAlarm)."""
    m, n = p.get("DatapointsToAlarm"), p.get("EvaluationPeriods")
    if isinstance(m, int) and isinstance(n, int) and m > n:
        # wording: inferred.
        return _validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
    return None


def evaluation_window_limit(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """EvaluationPeriods multiplied by Period is at most seven days (PutMetricAlarm,
    EvaluationPeriods: "cannot be more than 604,800 seconds")."""
    n = p.get("EvaluationPeriods")
    periods = [p.get("Period")] + [(q.get("MetricStat") or {}).get("Period") for q in p.get("Metrics") or ()]
    period = max((x for x in periods if isinstance(x, int)), default=None)
    if isinstance(n, int) and period and n * period > _MAX_EVALUATION_SECONDS:
        # wording: inferred.
        return _validation("The evaluation period of the alarm (EvaluationPeriods * Period) cannot exceed "
                           f"{_MAX_EVALUATION_SECONDS} seconds.")
    return None


def treat_missing_data_values(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """TreatMissingData is breaching, notBreaching, ignore or missing (PutMetricAlarm, TreatMissingData)."""
    value = p.get("TreatMissingData")
    if value is not None and value not in _TREAT_MISSING:
        # Recorded wording (LocalStack provider_v2, snapshot-verified).
        return _validation(f"The value {value} is not supported for TreatMissingData parameter. "
                           "Supported values are [breaching, notBreaching, ignore, missing].")
    return None


def low_sample_count_values(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """EvaluateLowSampleCountPercentile is evaluate or ignore (PutMetricAlarm)."""
    value = p.get("EvaluateLowSampleCountPercentile")
    if value is not None and value not in ("evaluate", "ignore"):
        # Recorded wording (LocalStack provider_v2, snapshot-verified).
        return _validation(f"Option {value} is not supported. Supported options for parameter "
                           "EvaluateLowSampleCountPercentile are evaluate and ignore.")
    return None


def metrics_list_rules(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """Metrics: every Id starts with a lowercase letter (letters, digits, underscore) and is unique;
    every entry has exactly one of MetricStat and Expression; exactly one entry returns data
    (ReturnData defaults to true); an expression refers only to Ids of the list and to at least one
    (MetricDataQuery, Id/Expression/ReturnData; PutMetricAlarm, Metrics)."""
    queries = p.get("Metrics")
    if not queries:
        return None
    ids = [q.get("Id") for q in queries]
    for query_id in ids:
        if not isinstance(query_id, str) or not _METRIC_ID.fullmatch(query_id):
            # Recorded from AWS ("Invalid metrics list", aws-cdk issues 13434 and 26674).
            return _validation("Invalid metrics list")
    if len(set(ids)) != len(ids):
        return _validation("Invalid metrics list")  # wording: inferred (same family)
    known = set(ids)
    for query in queries:
        has_stat, expression = bool(query.get("MetricStat")), query.get("Expression")
        if has_stat == bool(expression):
            # wording: inferred ("you must specify either Expression or MetricStat but not both").
            return _validation(f"Exactly one of MetricStat and Expression must be specified for Id {query['Id']}.")
        if expression and not _is_function_only(expression):
            refs = {r for r in _IDENT.findall(_strip_strings(expression)) if r.upper() not in _FUNCTIONS}
            unknown = sorted(r for r in refs if r[:1].islower() and r not in known)
            if unknown:
                # wording: inferred.
                return _validation(f"Error in expression '{query['Id']}': Unrecognized metric '{unknown[0]}'.")
            if not refs & known:
                # wording: inferred (an alarm's expression must be computed from the metrics it watches).
                return _validation(f"Error in expression '{query['Id']}': the expression must use at least "
                                   "one metric of the Metrics list.")
    returning = sum(1 for q in queries if q.get("ReturnData", True) is not False)
    if p.get("ThresholdMetricId"):  # anomaly-detection alarms return the band and the metric
        return None
    if returning != 1:
        # Recorded from AWS (Terraform user's ValidationError; CloudFormation docs of Metrics).
        return _validation("Exactly one element of the metrics list should return data.")
    return None


# Names in metric math that are functions or keywords, not metric Ids (metric math syntax page:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
_FUNCTIONS = {
    "ABS", "ANOMALY_DETECTION_BAND", "AVG", "CEIL", "DATAPOINT_COUNT", "DB_PERF_INSIGHTS", "DIFF",
    "DIFF_TIME", "FILL", "FIRST", "FLOOR", "IF", "INSIGHT_RULE_METRIC", "LAMBDA", "LAST", "LOG", "LOG10",
    "MAX", "METRICS", "MIN", "MINUTE", "HOUR", "DAY", "DATE", "MONTH", "YEAR", "EPOCH", "PERIOD", "RATE",
    "REMOVE_EMPTY", "RUNNING_SUM", "SEARCH", "SERVICE_QUOTA", "SLICE", "SORT", "STDDEV", "SUM",
    "TIME_SERIES", "TOP", "AND", "OR", "NOT", "REPEAT", "LINEAR", "ASC", "DESC", "SELECT", "FROM",
    "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "SCHEMA", "COUNT",
}


def _strip_strings(expression: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", " ", expression)


def _is_function_only(expression: str) -> bool:
    """SEARCH(), METRICS(), SELECT (Metrics Insights) and service-quota/insight functions produce
    time series without naming Ids: they are checked by CloudWatch at evaluation, not here."""
    upper = expression.upper()
    return any(f in upper for f in ("SEARCH(", "METRICS(", "SELECT ", "INSIGHT_RULE_METRIC(", "SERVICE_QUOTA(",
                                    "DB_PERF_INSIGHTS(", "LAMBDA("))


def metric_datum_rules(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """Each MetricDatum has at most one of Value, Values and StatisticValues, and Values and Counts
    have the same length (MetricDatum: Value/Values/StatisticValues/Counts)."""
    for index, datum in enumerate(p.get("MetricData") or (), start=1):
        prefix = f"MetricData.member.{index}"
        for first, second in (("Value", "Values"), ("Value", "StatisticValues"), ("Values", "StatisticValues")):
            if datum.get(first) not in (None, []) and datum.get(second) not in (None, []):
                # Recorded wording (LocalStack provider_v2, snapshot-verified).
                return _combination(f"The parameters {prefix}.{first} and {prefix}.{second} are mutually "
                                    "exclusive and you have specified both.")
        values, counts = datum.get("Values"), datum.get("Counts")
        if values and counts and len(values) != len(counts):
            return _value(f"The parameters {prefix}.Values and {prefix}.Counts must be of the same size.")
    return None


RULES = {
    "PutMetricAlarm": [metrics_exclude_single_metric, one_metric_source, one_statistic, extended_statistic_format,
                       period_values, datapoints_within_evaluation_periods, evaluation_window_limit,
                       treat_missing_data_values, low_sample_count_values, metrics_list_rules],
    "PutMetricData": [metric_datum_rules],
}
