"""``statistics.json`` as the Model Monitor analyzer writes it for a dataset (baseline or one monitored hour).

Schema: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html, and the real files
shared/reference/model-monitor/data-quality/statistics.json (numerical features: ``common``, ``mean``, ``sum``,
``std_dev``, ``min``, ``max``, a KLL ``distribution`` of 10 buckets plus the sketch) and
data-quality-strings/statistics.json (string features: ``distinct_count`` and ``categorical`` buckets).

The analyzer is Deequ on Spark; this module reproduces Deequ's computations (awslabs/deequ, Apache-2.0):

* Type inference, ``DataTypeHistogram.determineType`` over the regexes of ``StatefulDataType``
  (``^(-|\\+)? ?\\d*\\.\\d*$`` fractional, ``^(-|\\+)? ?\\d*$`` integral, ``^(true|false)$`` boolean): all
  null -> Unknown; any string, or booleans mixed with numbers -> String; any fractional -> Fractional; else
  Integral. Model Monitor's ``inferred_type`` has no Boolean (the schema lists Integral, Fractional, String,
  Unknown), so a boolean column is a String one here.
* The KLL sketch, ``QuantileNonSample`` with ``NonSampleCompactor`` (deterministic, alternating offsets),
  sketch size ``k`` 2048 and shrinking factor ``c`` 0.64 (the reference's ``parameters``). Compactor ``h``
  holds ``2 * (ceil(k * c**h / 2) + 1)`` items, so up to 2,050 values the sketch keeps every value exactly,
  in arrival order, as in the reference's ``data``; beyond, values are compacted level by level
  (a level-``h`` item weighs ``2**h``).
* The buckets, ``KLLSketch.computeMetricFrom``: bounds ``min + (max - min) * i / 10``, counts
  ``rankExclusive(high) - rankExclusive(low)`` (the last bucket ``rank(high) - rankExclusive(low)``),
  written as doubles.
* ``mean`` = ``sum`` / count, ``std_dev`` the population standard deviation (Spark's ``stddev_pop``,
  a running central moment), ``sum`` added in row order.
* String features: exact ``distinct_count`` (a double, as Deequ's ApproxCountDistinct writes it) and the
  histogram of values, most frequent first (Deequ's ``Histogram`` sorts by count, descending).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SKETCH_SIZE = 2048
SHRINKING_FACTOR = 0.64
BUCKETS = 10

INTEGRAL = "Integral"
FRACTIONAL = "Fractional"
STRING = "String"
UNKNOWN = "Unknown"
BOOLEAN = "Boolean"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)

_FRACTIONAL = re.compile(r"(-|\+)? ?\d*\.\d*", re.ASCII)
_INTEGRAL = re.compile(r"(-|\+)? ?\d*", re.ASCII)
_BOOLEAN = re.compile(r"true|false")


class Statistics(dict):
    """A ``statistics.json`` document (a plain dict to every reader and to ``json.dumps``) that also
    remembers the per-value type counts of the data it was computed from: the data type check needs
    them and the file format has no place for them."""

    type_counts: dict[str, dict[str, int]]


def as_text(value: Any) -> str | None:
    """A raw cell as the string Spark casts it to before Deequ's DataType analyzer sees it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    return str(value)


def value_type(text: str) -> str:
    """The Deequ data type of one non-null value (StatefulDataType's match order)."""
    if _FRACTIONAL.fullmatch(text):
        return FRACTIONAL
    if _INTEGRAL.fullmatch(text):
        return INTEGRAL
    if _BOOLEAN.fullmatch(text):
        return BOOLEAN
    return STRING


def type_histogram(values: Iterable[Any]) -> dict[str, int]:
    """Counts of Unknown (null), Fractional, Integral, Boolean and String values."""
    counts = {UNKNOWN: 0, FRACTIONAL: 0, INTEGRAL: 0, BOOLEAN: 0, STRING: 0}
    for value in values:
        text = as_text(value)
        counts[UNKNOWN if text is None else value_type(text)] += 1
    return counts


def determine_type(counts: Mapping[str, int]) -> str:
    """Deequ's ``determineType``, with Boolean reported as String (Model Monitor has no Boolean type)."""
    total = sum(counts.values())
    if total == 0 or counts.get(UNKNOWN, 0) == total:
        return UNKNOWN
    has = {kind: counts.get(kind, 0) > 0 for kind in (STRING, BOOLEAN, INTEGRAL, FRACTIONAL)}
    if has[STRING] or has[BOOLEAN]:
        return STRING
    if has[FRACTIONAL]:
        return FRACTIONAL
    return INTEGRAL


def to_number(text: str) -> float | None:
    """A numeric cell's value as Spark's cast to double reads it (None when it does not parse)."""
    try:
        return float(text.replace(" ", ""))
    except ValueError:
        return None


class KLLSketch:
    """Deequ's ``QuantileNonSample[Double]``: compactor levels, level ``h`` items weighing ``2**h``."""

    def __init__(self, sketch_size: int = SKETCH_SIZE, shrinking_factor: float = SHRINKING_FACTOR) -> None:
        self.sketch_size = sketch_size
        self.shrinking_factor = shrinking_factor
        self.levels: list[list[float]] = []
        self._compressions: list[int] = []
        self._offsets: list[int] = []
        self._size = 0
        self._capacity_total = 0
        self._expand()

    def capacity(self, height: int) -> int:
        return 2 * (math.ceil(self.sketch_size * self.shrinking_factor**height / 2) + 1)

    def _expand(self) -> None:
        self.levels.append([])
        self._compressions.append(0)
        self._offsets.append(0)
        self._capacity_total = sum(self.capacity(h) for h in range(len(self.levels)))

    def _compact(self, height: int) -> list[float]:
        buffer = self.levels[height]
        items = len(buffer)
        length = items - items % 2
        if self._compressions[height] % 2 == 1:
            self._offsets[height] = 1 - self._offsets[height]
        ordered = sorted(buffer[:length])
        output = ordered[self._offsets[height]:length:2]
        self.levels[height] = [buffer[items - 1]] if items % 2 else []
        self._compressions[height] += 1
        return output

    def _condense(self) -> None:
        for height in range(len(self.levels)):
            if len(self.levels[height]) >= self.capacity(height):
                if height + 1 >= len(self.levels):
                    self._expand()
                self.levels[height + 1].extend(self._compact(height))
                self._size = sum(len(level) for level in self.levels)
                return

    def update(self, value: float) -> None:
        self.levels[0].append(value)
        self._size += 1
        if self._size > self._capacity_total:
            self._condense()

    def weighted(self) -> list[tuple[float, int]]:
        return [(v, 1 << h) for h, level in enumerate(self.levels) for v in level]


def kll_buckets(sketch: KLLSketch, low: float, high: float, buckets: int = BUCKETS) -> list[dict[str, float]]:
    """The ``kll.buckets`` of a sketch between the column's min and max."""
    ordered = sorted(sketch.weighted())
    values = [v for v, _ in ordered]
    cumulative = [0]
    for _, weight in ordered:
        cumulative.append(cumulative[-1] + weight)

    def below(x: float) -> int:  # rankExclusive
        return cumulative[bisect.bisect_left(values, x)]

    def at_most(x: float) -> int:  # rank
        return cumulative[bisect.bisect_right(values, x)]

    out = []
    for i in range(buckets):
        lower = low + (high - low) * i / buckets
        upper = low + (high - low) * (i + 1) / buckets
        top = at_most(upper) if i == buckets - 1 else below(upper)
        out.append({"lower_bound": lower, "upper_bound": upper, "count": float(top - below(lower))})
    return out


def _common(present: int, missing: int) -> dict[str, int]:
    return {"num_present": present, "num_missing": missing}


def numerical_statistics(numbers: Sequence[float], present: int, missing: int) -> dict[str, Any]:
    """``numerical_statistics`` of a numeric column's parsed values."""
    total = 0.0
    mean = m2 = 0.0
    sketch = KLLSketch()
    for i, x in enumerate(numbers, start=1):
        total += x
        delta = x - mean  # Spark's CentralMomentAgg update
        delta_n = delta / i
        mean += delta_n
        m2 += delta * (delta - delta_n)
        sketch.update(x)
    count = len(numbers)
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 0.0)
    return {
        "common": _common(present, missing),
        "mean": total / count if count else 0.0,
        "sum": total,
        "std_dev": math.sqrt(m2 / count) if count else 0.0,
        "min": low,
        "max": high,
        "distribution": {
            "kll": {
                "buckets": kll_buckets(sketch, low, high),
                "sketch": {
                    "parameters": {"c": sketch.shrinking_factor, "k": float(sketch.sketch_size)},
                    "data": [list(level) for level in sketch.levels],
                },
            }
        },
    }


def string_statistics(texts: Sequence[str], present: int, missing: int) -> dict[str, Any]:
    """``string_statistics``: distinct count and the categorical histogram, most frequent first."""
    counts: dict[str, int] = {}
    for text in texts:
        counts[text] = counts.get(text, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: -item[1])
    return {
        "common": _common(present, missing),
        "distinct_count": float(len(counts)),
        "distribution": {"categorical": {"buckets": [{"value": v, "count": c} for v, c in ordered]}},
    }


def feature(name: str, values: Sequence[Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """One feature's entry and its type counts."""
    texts = [as_text(v) for v in values]
    present_texts = [t for t in texts if t is not None]
    counts = {UNKNOWN: len(texts) - len(present_texts), FRACTIONAL: 0, INTEGRAL: 0, BOOLEAN: 0, STRING: 0}
    for text in present_texts:
        counts[value_type(text)] += 1
    inferred = determine_type(counts)
    present, missing = len(present_texts), counts[UNKNOWN]
    entry: dict[str, Any] = {"name": name, "inferred_type": inferred}
    if inferred in NUMERIC_TYPES:
        numbers = [n for n in (to_number(t) for t in present_texts) if n is not None]
        entry["numerical_statistics"] = numerical_statistics(numbers, present, missing)
    elif inferred == STRING:
        entry["string_statistics"] = string_statistics(present_texts, present, missing)
    else:  # all null: no distribution to describe, completeness still needs the counts
        entry["string_statistics"] = {"common": _common(0, missing), "distinct_count": 0.0}
    return entry, counts


def compute(table: Mapping[str, Sequence[Any]]) -> Statistics:
    """The ``statistics.json`` document of a table (columns in the table's order)."""
    item_count = max((len(values) for values in table.values()), default=0)
    doc = Statistics(version=0.0, dataset={"item_count": item_count}, features=[])
    doc.type_counts = {}
    for name, values in table.items():
        padded = list(values) + [None] * (item_count - len(values))
        entry, counts = feature(name, padded)
        doc["features"].append(entry)
        doc.type_counts[name] = counts
    return doc


def sketch_items(kll: Mapping[str, Any]) -> list[tuple[float, int]]:
    """(value, weight) pairs of a ``kll`` distribution's sketch as written in a statistics file."""
    sketch = kll.get("sketch") or {}
    return [(float(v), 1 << h) for h, level in enumerate(sketch.get("data") or []) for v in level]


__all__ = [
    "BUCKETS", "FRACTIONAL", "INTEGRAL", "NUMERIC_TYPES", "SHRINKING_FACTOR", "SKETCH_SIZE", "STRING", "UNKNOWN",
    "KLLSketch", "Statistics", "as_text", "compute", "determine_type", "feature", "kll_buckets",
    "numerical_statistics", "sketch_items", "string_statistics", "to_number", "type_histogram", "value_type",
]
