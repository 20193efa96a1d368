"""The metric store and its statistics: raw samples as PutMetricData published them, aggregated per
period the way an alarm retrieves them (GetMetricStatistics semantics, including ``Unit`` filtering
and percentiles)."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The unit CloudWatch records when PutMetricData gives none ("None" is a unit like any other).
NO_UNIT = "None"


def utc(ts: datetime) -> datetime:
    """Naive datetimes are taken as UTC (moto stores naive UTC); aware ones are converted."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


@dataclass(frozen=True)
class Sample:
    """One raw PutMetricData value; ``count`` > 1 means the value was reported that many times
    (PutMetricData ``Values``/``Counts``); ``unit`` is the unit it was published in."""

    timestamp: datetime
    value: float
    count: float = 1.0
    unit: str = NO_UNIT


@dataclass(frozen=True)
class Datapoint:
    """One aggregated period: ``value`` is None when the period has no data."""

    start: datetime
    value: float | None
    sample_count: float


MetricKey = tuple[str, str, frozenset[tuple[str, str]]]


def metric_key(namespace: str, metric_name: str, dimensions: Mapping[str, str] | None) -> MetricKey:
    return (namespace, metric_name, frozenset((dimensions or {}).items()))


def dimensions_dict(dimensions: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """``[{"Name": n, "Value": v}]`` (the API shape) -> ``{n: v}``."""
    return {d["Name"]: d["Value"] for d in dimensions or []}


class MetricStore:
    """Raw samples keyed by (namespace, metric_name, dimensions as frozenset of (name, value)).

    Lookups are exact-dimension matches, like CloudWatch: a metric published with dimensions {A, B}
    is a different metric from one with {A} and is not returned for a query on {A}.
    """

    def __init__(self) -> None:
        self._series: dict[MetricKey, list[Sample]] = {}
        # (key, start, end, statistic, unit) -> (value, sample count). A replay evaluates every alarm
        # each minute over its last N+2 periods, so each period is asked for several times.
        self._aggregates: dict[tuple, tuple[float | None, float]] = {}

    def add(
        self,
        namespace: str,
        metric_name: str,
        dimensions: dict[str, str],
        timestamp: datetime,
        value: float,
        count: float = 1.0,
        unit: str | None = None,
    ) -> None:
        sample = Sample(utc(timestamp), float(value), float(count), unit or NO_UNIT)
        self._aggregates.clear()
        series = self._series.setdefault(metric_key(namespace, metric_name, dimensions), [])
        bisect.insort(series, sample, key=lambda s: s.timestamp)

    def add_many(self, namespace: str, metric_name: str, dimensions: dict[str, str],
                 values: Iterable[tuple[datetime, float]], unit: str | None = None) -> None:
        """``add`` for many values of one metric (count 1 each): a recorded timeline publishes tens of
        thousands, and one key, one sort and no per-value lookup make that about 3x cheaper."""
        unit = unit or NO_UNIT
        new = [Sample(utc(timestamp), float(value), 1.0, unit) for timestamp, value in values]
        if not new:
            return
        self._aggregates.clear()
        series = self._series.setdefault(metric_key(namespace, metric_name, dimensions), [])
        in_order = all(a.timestamp <= b.timestamp for a, b in zip(new, new[1:], strict=False))
        late = bool(series) and new[0].timestamp < series[-1].timestamp
        series.extend(new)
        if late or not in_order:  # stable: equal timestamps keep their publishing order
            series.sort(key=lambda s: s.timestamp)

    def samples(
        self,
        namespace: str,
        metric_name: str,
        dimensions: dict[str, str],
        start: datetime,
        end: datetime,
        unit: str | None = None,
    ) -> list[Sample]:
        """Samples with ``start <= timestamp < end``, oldest first; only those published in ``unit``
        when one is given (PutMetricAlarm ``Unit``: "if you specify a unit, the alarm only sees
        datapoints with that unit" — it filters, it never converts)."""
        series = self._series.get(metric_key(namespace, metric_name, dimensions), [])
        lo = bisect.bisect_left(series, utc(start), key=lambda s: s.timestamp)
        hi = bisect.bisect_left(series, utc(end), key=lambda s: s.timestamp)
        found = series[lo:hi]
        return found if unit is None else [s for s in found if s.unit == unit]

    def period_statistic(
        self, namespace: str, metric_name: str, dimensions: dict[str, str], start: datetime, end: datetime,
        statistic: str, unit: str | None = None,
    ) -> tuple[float | None, float]:
        """``aggregate`` over the samples in ``[start, end)`` (in ``unit``, if given), and their count;
        memoised."""
        cache_key = (metric_key(namespace, metric_name, dimensions), start, end, statistic, unit)
        if cache_key not in self._aggregates:
            samples = self.samples(namespace, metric_name, dimensions, start, end, unit)
            self._aggregates[cache_key] = (aggregate(samples, statistic), sum(s.count for s in samples))
        return self._aggregates[cache_key]

    def units(self, namespace: str, metric_name: str, dimensions: dict[str, str]) -> set[str]:
        """Every unit the metric was published in (to explain an alarm whose Unit matches none)."""
        return {s.unit for s in self._series.get(metric_key(namespace, metric_name, dimensions), [])}


def period_starts(at: datetime, period: int, count: int) -> list[datetime]:
    """Starts of the ``count`` most recent complete periods at ``at``, oldest first. Periods are
    aligned to multiples of ``period`` seconds since the Unix epoch."""
    if period <= 0:
        raise ValueError(f"Period must be a positive number of seconds, got {period}")
    elapsed = int((utc(at) - EPOCH).total_seconds() // 1)
    last_end = elapsed - elapsed % period
    return [EPOCH + timedelta(seconds=last_end - period * i) for i in range(count, 0, -1)]


# --------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------

_PERCENTILE = re.compile(r"^p(\d{1,3}(?:\.\d{1,10})?)$")
_OTHER_EXTENDED = re.compile(r"^(tm|wm|tc|ts|pr|iqm)", re.IGNORECASE)
BASIC_STATISTICS = ("Average", "Sum", "SampleCount", "Minimum", "Maximum")


def parse_percentile(statistic: str) -> Fraction | None:
    """``'p99.9'`` -> Fraction(999, 10); ``None`` for anything that is not a percentile."""
    match = _PERCENTILE.match(statistic)
    if not match:
        return None
    pct = Fraction(match.group(1))
    if pct > 100:
        raise ValueError(f"Percentile out of range in statistic {statistic!r}: must be between p0 and p100")
    return pct


def _percentile(samples: Sequence[Sample], pct: Fraction) -> float:
    """Weighted nearest-rank: the smallest value whose cumulative count reaches ceil(pct% of N)."""
    ordered = sorted(samples, key=lambda s: s.value)
    if all(s.count == 1 for s in ordered):  # raw PutMetricData values: plain nearest rank, no Fractions
        return ordered[max(1, math.ceil(pct * len(ordered) / 100)) - 1].value
    total = sum(Fraction(s.count) for s in ordered)
    rank = max(1, math.ceil(pct / 100 * total))
    seen = Fraction(0)
    for sample in ordered:
        seen += Fraction(sample.count)
        if seen >= rank:
            return sample.value
    return ordered[-1].value


def aggregate(samples: list[Sample], statistic: str) -> float | None:
    """Statistic over one period: 'Average', 'Sum', 'SampleCount', 'Minimum', 'Maximum', or a
    percentile 'pNN' / 'pNN.N'. ``None`` when there are no samples (CloudWatch reports no datapoint).

    Other extended statistics (trimmed mean, winsorized mean, percentile rank, ...) raise
    NotImplementedError; unknown names raise ValueError.
    """
    pct = parse_percentile(statistic)
    if statistic not in BASIC_STATISTICS and pct is None:
        if _OTHER_EXTENDED.match(statistic):
            raise NotImplementedError(
                f"Extended statistic {statistic!r} is not supported by the alarm evaluator; "
                "only Average, Sum, SampleCount, Minimum, Maximum and percentiles (pNN) are"
            )
        raise ValueError(f"Unknown statistic {statistic!r}")
    live = [s for s in samples if s.count > 0]
    if not live:
        return None
    if statistic == "SampleCount":
        return float(sum(s.count for s in live))
    if statistic == "Sum":
        return float(sum(s.value * s.count for s in live))
    if statistic == "Average":
        return float(sum(s.value * s.count for s in live) / sum(s.count for s in live))
    if statistic == "Minimum":
        return min(s.value for s in live)
    if statistic == "Maximum":
        return max(s.value for s in live)
    assert pct is not None
    return _percentile(live, pct)


def low_sample_threshold(statistic: str) -> Fraction | None:
    """Minimum number of samples for a percentile datapoint to be statistically significant, per
    "Percentile-based alarms and low data samples": ``10 / (1 - p)`` for ``0.5 <= p < 1`` and
    ``10 / p`` for ``0 < p < 0.5``; ``None`` when the rule does not apply (p0, p100, not a percentile)."""
    pct = parse_percentile(statistic)
    if pct is None:
        return None
    p = pct / 100
    if Fraction(1, 2) <= p < 1:
        return 10 / (1 - p)
    if 0 < p < Fraction(1, 2):
        return 10 / p
    return None
