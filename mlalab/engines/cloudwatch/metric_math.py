"""Metric math as CloudWatch evaluates it for an alarm: the expression language of "Using metric
math" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html,
"Metric math syntax and functions"), over the periods of one evaluation range.

Values are scalars (float), time series (``Series``: period index in the range -> value; a missing
index is a missing datapoint) and arrays of time series (``SeriesArray``). Rules from that page:

* Arithmetic ``+ - * / ^`` and unary minus on S, TS and TS[]: a value missing from one time series
  counts as 0 when the other has a value at that period; a period where no operand has data has no
  datapoint; a division by zero (or any non-finite result) drops the datapoint.
* Comparison ``== != <= >= < >`` and logical ``AND``/``&&``, ``OR``/``||`` return 1 (true) or 0,
  with the same missing-value rule ("the function treats the missing value in the other time series
  as 0").
* Every function of the page's table that an alarm can use. Functions that read data a replay does
  not hold (``INSIGHT_RULE_METRIC``, ``SERVICE_QUOTA``) yield a series with no datapoints, which is
  what an alarm would see with no such data. ``SEARCH`` is refused with CloudWatch's message ("You
  can't create an alarm based on a SEARCH expression"); ``ANOMALY_DETECTION_BAND`` only belongs in
  an anomaly-detection alarm (ThresholdMetricId).

Assumptions where the page is silent: operator precedence is the usual one (``^`` over unary minus
over ``* /`` over ``+ -`` over comparisons over AND over OR, ``^`` right-associative); functions
over "all data points" (AVG/MAX/MIN/SUM/STDDEV/DATAPOINT_COUNT of one series, RUNNING_SUM) see the
evaluation range the alarm retrieves (the page warns these "act differently when extra data is
requested"); STDDEV is the population standard deviation; ``FILL(ts, REPEAT)`` leaves a gap before
the first value empty and ``FILL(ts, LINEAR)`` leaves gaps at either end empty (nothing to repeat or
interpolate from).
"""

from __future__ import annotations

import math
import operator
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .metrics import Datapoint, MetricStore, dimensions_dict

Series = dict[int, float]  # period index in the evaluation range -> value


@dataclass(frozen=True)
class SeriesArray:
    """TS[]: time series with the ids of the queries they came from (METRICS() filters on ids)."""

    items: tuple[tuple[str, Series], ...]

    def map(self, fn: Callable[[Series], Series]) -> SeriesArray:
        return SeriesArray(tuple((label, fn(series)) for label, series in self.items))


@dataclass(frozen=True)
class Keyword:
    """A bare upper-case word used as an argument: REPEAT, LINEAR, ASC, DESC, or SORT's AVG/MIN/..."""

    word: str


Value = float | Series | SeriesArray

#: "You can't create an alarm based on a SEARCH expression" (Using metric math, functions table);
#: the message PutMetricAlarm returns.
SEARCH_REFUSED = "SEARCH is not supported on Metric Alarms."

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<str>\"[^\"]*\"|'[^']*'|“[^”]*”)|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^(),<>\[\]])|(?P<bad>\S))"
)


def tokenize(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(expression):
        kind = str(match.lastgroup)  # every match has exactly one group: the regex has no empty branch
        text = match.group(kind)
        if kind == "bad":
            raise ValueError(f"Unsupported character {text!r} in metric math expression {expression!r}")
        tokens.append((kind, text))  # AND / OR stay names: the grammar reads operators by their text
    return tokens


def _finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


def _safe(fn: Callable[..., float], *args: float) -> float | None:
    try:
        result = fn(*args)
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return float(result) if _finite(result) else None


def _truth(fn: Callable[[float, float], bool]) -> Callable[[float, float], float]:
    return lambda a, b: 1.0 if fn(a, b) else 0.0


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": math.pow,
    "==": _truth(operator.eq),
    "!=": _truth(operator.ne),
    "<": _truth(operator.lt),
    "<=": _truth(operator.le),
    ">": _truth(operator.gt),
    ">=": _truth(operator.ge),
    "AND": _truth(lambda a, b: bool(a) and bool(b)),
    "&&": _truth(lambda a, b: bool(a) and bool(b)),
    "OR": _truth(lambda a, b: bool(a) or bool(b)),
    "||": _truth(lambda a, b: bool(a) or bool(b)),
}
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")

_ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": math.ceil,
    "FLOOR": math.floor,
    "LOG": math.log,
    "LOG10": math.log10,
}
_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "AVG": statistics.fmean,
    "MAX": max,
    "MIN": min,
    "SUM": math.fsum,
    "STDDEV": statistics.pstdev,
}
_CLOCK: dict[str, Callable[[datetime], float]] = {
    "MINUTE": lambda t: t.minute,
    "HOUR": lambda t: t.hour,
    "DAY": lambda t: t.isoweekday(),  # 1 = Monday ... 7 = Sunday ("DAY(m1)<6" keeps weekdays)
    "DATE": lambda t: t.day,
    "MONTH": lambda t: t.month,
    "YEAR": lambda t: t.year,
    "EPOCH": lambda t: t.timestamp(),
}
_KEYWORDS = ("REPEAT", "LINEAR", "ASC", "DESC")
_NO_REPLAY_DATA = ("INSIGHT_RULE_METRIC", "SERVICE_QUOTA")
FUNCTIONS = tuple(sorted({
    *_ELEMENTWISE, *_REDUCERS, *_CLOCK, *_NO_REPLAY_DATA, "DATAPOINT_COUNT", "DIFF", "DIFF_TIME", "FILL",
    "FIRST", "LAST", "IF", "METRIC_COUNT", "METRICS", "PERIOD", "RATE", "REMOVE_EMPTY", "RUNNING_SUM",
    "SLICE", "SORT", "TIME_SERIES", "SEARCH", "ANOMALY_DETECTION_BAND",
}))


class MathEvaluator:
    """Recursive-descent evaluator of one metric math expression over an evaluation range.

    ``resolve`` returns the value of another query by id; ``metric_ids`` are the MetricStat queries
    (what METRICS() returns); ``starts`` are the period starts of the range (for DIFF_TIME, RATE and
    the clock functions).
    """

    def __init__(self, expression: str, resolve: Callable[[str], Value], starts: Sequence[datetime],
                 period: int, metric_ids: Sequence[str] = ()):
        self.expression = expression
        self.tokens = tokenize(expression)
        self.pos = 0
        self.resolve = resolve
        self.starts = list(starts)
        self.size = len(self.starts)
        self.period = period
        self.metric_ids = list(metric_ids)

    def error(self, message: str) -> ValueError:
        return ValueError(f"{message} in metric math expression {self.expression!r}")

    def run(self) -> Value:
        if not self.tokens:
            raise self.error("Empty expression")
        value = self._or()
        if self.pos != len(self.tokens):
            raise self.error(f"Unexpected {self.tokens[self.pos][1]!r}")
        if isinstance(value, (str, Keyword)):
            raise self.error(f"{value!r} is not a value")
        return value

    # ---- tokens ----------------------------------------------------------------------------------

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise self.error("Unexpected end")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise self.error(f"Expected {expected!r} but found {token[1]!r}")
        self.pos += 1
        return token

    # ---- grammar ---------------------------------------------------------------------------------

    def _left_assoc(self, operators: tuple[str, ...], operand: Callable[[], Value]) -> Value:
        value = operand()
        while self._peek() in operators:
            op = self._take()[1]
            value = self._binary(op, value, operand())
        return value

    def _or(self) -> Value:
        return self._left_assoc(("OR", "||"), self._and)

    def _and(self) -> Value:
        return self._left_assoc(("AND", "&&"), self._comparison)

    def _comparison(self) -> Value:
        return self._left_assoc(_COMPARISONS, self._sum)

    def _sum(self) -> Value:
        return self._left_assoc(("+", "-"), self._product)

    def _product(self) -> Value:
        return self._left_assoc(("*", "/"), self._unary)

    def _unary(self) -> Value:
        if self._peek() == "-":
            self._take()
            return self._binary("*", -1.0, self._unary())
        if self._peek() == "+":
            self._take()
            return self._unary()
        return self._power()

    def _power(self) -> Value:
        base = self._atom()
        if self._peek() == "^":
            self._take()
            return self._binary("^", base, self._unary())
        return base

    def _atom(self) -> Value:
        kind, text = self._take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1]  # type: ignore[return-value] - only METRICS() takes a string
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if text == "[":
            return self._array()
        if kind == "name":
            if self._peek() == "(" and text.isupper():
                return self._function(text)
            if text in _KEYWORDS or (text in _REDUCERS and self._peek() in (",", ")")):
                return Keyword(text)  # type: ignore[return-value]
            return self.resolve(text)
        raise self.error(f"Unexpected {text!r}")

    def _array(self) -> SeriesArray:
        items: list[tuple[str, Series]] = []
        while True:
            value = self._or()
            if isinstance(value, SeriesArray):
                items.extend(value.items)
            elif isinstance(value, dict):
                items.append((f"[{len(items)}]", value))
            else:
                raise self.error("An array [...] holds time series, not numbers")
            if self._peek() != ",":
                break
            self._take(",")
        self._take("]")
        return SeriesArray(tuple(items))

    # ---- arithmetic ------------------------------------------------------------------------------

    def _binary(self, op: str, left: Value, right: Value) -> Value:
        if isinstance(left, SeriesArray) and isinstance(right, SeriesArray):
            raise self.error(f"{op!r} cannot combine two arrays of time series")
        if isinstance(left, SeriesArray):
            return left.map(lambda s: self._binary(op, s, right))  # type: ignore[arg-type,return-value]
        if isinstance(right, SeriesArray):
            return right.map(lambda s: self._binary(op, left, s))  # type: ignore[arg-type,return-value]
        for operand in (left, right):
            if not isinstance(operand, (float, dict)):
                raise self.error(f"{operand!r} cannot be used with {op!r}")
        fn = _BINARY[op]
        if not isinstance(left, dict) and not isinstance(right, dict):
            result = _safe(fn, left, right)
            return math.nan if result is None else result
        keys = set(left if isinstance(left, dict) else ()) | set(right if isinstance(right, dict) else ())
        out: Series = {}
        for i in sorted(keys):
            a = left.get(i, 0.0) if isinstance(left, dict) else left
            b = right.get(i, 0.0) if isinstance(right, dict) else right
            value = _safe(fn, a, b)
            if value is not None:
                out[i] = value
        return out

    # ---- functions -------------------------------------------------------------------------------

    def _arguments(self) -> list:
        self._take("(")
        args: list = []
        if self._peek() == ")":
            self._take(")")
            return args
        args.append(self._or())
        while self._peek() == ",":
            self._take(",")
            args.append(self._or())
        self._take(")")
        return args

    def _arity(self, name: str, args: list, low: int, high: int) -> None:
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise self.error(f"{name} takes {wanted} argument{'s' if high > 1 else ''}, got {len(args)}")

    def _series_arg(self, name: str, value: object, arrays: bool = True) -> Series | SeriesArray:
        if isinstance(value, dict) or (arrays and isinstance(value, SeriesArray)):
            return value
        wanted = "a time series or an array of time series" if arrays else "a time series"
        raise self.error(f"{name} needs {wanted}, got {value!r}")

    def _each(self, value: Series | SeriesArray, fn: Callable[[Series], Series]) -> Series | SeriesArray:
        return value.map(fn) if isinstance(value, SeriesArray) else fn(value)

    def _function(self, name: str) -> Value:
        if name == "SEARCH":
            raise ValueError(SEARCH_REFUSED)
        if name == "ANOMALY_DETECTION_BAND":
            raise ValueError(
                "ANOMALY_DETECTION_BAND can only be the threshold of an anomaly detection alarm "
                "(ThresholdMetricId with a LessThanLowerOrGreaterThanUpperThreshold-style operator), not the "
                "metric of a static-threshold alarm"
            )
        if name not in FUNCTIONS:
            raise self.error(f"{name} is not a CloudWatch metric math function (known: {', '.join(FUNCTIONS)})")
        args = self._arguments()
        if name in _ELEMENTWISE:
            self._arity(name, args, 1, 1)
            fn = _ELEMENTWISE[name]
            if isinstance(args[0], float):
                return math.nan if (v := _safe(fn, args[0])) is None else v
            return self._each(self._series_arg(name, args[0]), lambda s: _map_values(s, fn))
        if name in _REDUCERS:
            return self._reduce(name, args)
        if name in _CLOCK:
            self._arity(name, args, 1, 1)
            self._series_arg(name, args[0], arrays=False)
            return {i: float(_CLOCK[name](start)) for i, start in enumerate(self.starts)}
        if name in _NO_REPLAY_DATA:
            return {}
        return getattr(self, f"_fn_{name.lower()}")(name, args)

    def _reduce(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)
        value = self._series_arg(name, args[0])
        fn = _REDUCERS[name]
        if isinstance(value, dict):
            values = list(value.values())
            return fn(values) if values else math.nan
        out: Series = {}
        for i in sorted({i for _, s in value.items for i in s}):
            if name in ("AVG", "SUM"):  # "Missing values are treated as 0"
                values = [s.get(i, 0.0) for _, s in value.items]
            else:
                values = [s[i] for _, s in value.items if i in s]
            out[i] = float(fn(values))
        return out

    def _fn_datapoint_count(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)
        value = self._series_arg(name, args[0])
        if isinstance(value, dict):
            return float(len(value))
        indexes = sorted({i for _, s in value.items for i in s})
        return {i: float(sum(1 for _, s in value.items if i in s)) for i in indexes}

    def _fn_metric_count(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)
        if not isinstance(args[0], SeriesArray):
            raise self.error("METRIC_COUNT needs an array of time series, e.g. METRIC_COUNT(METRICS())")
        return float(len(args[0].items))

    def _fn_metrics(self, name: str, args: list) -> Value:
        self._arity(name, args, 0, 1)
        needle = args[0] if args else ""
        if not isinstance(needle, str):
            raise self.error('METRICS takes an optional string, e.g. METRICS("errors")')
        ids = [i for i in self.metric_ids if needle in i]
        return SeriesArray(tuple((i, self.resolve(i)) for i in ids))  # type: ignore[misc]

    def _fn_period(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)
        self._series_arg(name, args[0], arrays=False)
        return float(self.period)

    def _fn_time_series(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)
        if not isinstance(args[0], float):
            raise self.error("TIME_SERIES takes a number, e.g. TIME_SERIES(0)")
        return {} if math.isnan(args[0]) else dict.fromkeys(range(self.size), args[0])

    def _consecutive(self, name: str, args: list, fn: Callable[[float, float, float], float]) -> Value:
        """DIFF / DIFF_TIME / RATE: ``fn(previous value, value, seconds between them)`` for every
        datapoint that has a preceding one."""
        self._arity(name, args, 1, 1)

        def apply(series: Series) -> Series:
            out: Series = {}
            indexes = sorted(series)
            for prev, cur in zip(indexes, indexes[1:], strict=False):
                seconds = (self.starts[cur] - self.starts[prev]).total_seconds()
                if (value := _safe(fn, series[prev], series[cur], seconds)) is not None:
                    out[cur] = value
            return out

        return self._each(self._series_arg(name, args[0]), apply)

    def _fn_diff(self, name: str, args: list) -> Value:
        return self._consecutive(name, args, lambda prev, cur, _: cur - prev)

    def _fn_diff_time(self, name: str, args: list) -> Value:
        return self._consecutive(name, args, lambda _p, _c, seconds: seconds)

    def _fn_rate(self, name: str, args: list) -> Value:
        return self._consecutive(name, args, lambda prev, cur, seconds: (cur - prev) / seconds)

    def _fn_running_sum(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)

        def apply(series: Series) -> Series:
            total, out = 0.0, {}
            for i in sorted(series):
                total += series[i]
                out[i] = total
            return out

        return self._each(self._series_arg(name, args[0]), apply)

    def _fn_fill(self, name: str, args: list) -> Value:
        self._arity(name, args, 2, 2)
        target, how = self._series_arg(name, args[0]), args[1]
        if isinstance(how, Keyword) and how.word in ("REPEAT", "LINEAR"):
            return self._each(target, _repeat if how.word == "REPEAT" else _linear)
        if isinstance(how, float):
            return self._each(target, lambda s: {**dict.fromkeys(range(self.size), how), **s})
        if isinstance(how, dict):
            return self._each(target, lambda s: {**how, **s})
        raise self.error("FILL takes a time series and a number, a time series, REPEAT or LINEAR, e.g. FILL(m1, 0)")

    def _fn_first(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)
        if not isinstance(args[0], SeriesArray):
            raise self.error(f"{name} needs an array of time series")
        items = args[0].items
        if not items:
            return {}
        return items[0][1] if name == "FIRST" else items[-1][1]

    _fn_last = _fn_first

    def _fn_remove_empty(self, name: str, args: list) -> Value:
        self._arity(name, args, 1, 1)
        if not isinstance(args[0], SeriesArray):
            raise self.error("REMOVE_EMPTY needs an array of time series")
        return SeriesArray(tuple(item for item in args[0].items if item[1]))

    def _fn_sort(self, name: str, args: list) -> Value:
        self._arity(name, args, 3, 4)
        array, by, order = args[0], args[1], args[2]
        if not isinstance(array, SeriesArray) or not isinstance(by, Keyword) or by.word not in _REDUCERS \
                or not isinstance(order, Keyword) or order.word not in ("ASC", "DESC"):
            raise self.error("SORT takes an array, AVG|MIN|MAX|SUM|STDDEV, ASC|DESC and an optional limit")
        fn = _REDUCERS[by.word]
        ranked = sorted(array.items, key=lambda item: fn(list(item[1].values())) if item[1] else -math.inf,
                        reverse=order.word == "DESC")
        if len(args) == 4:
            ranked = ranked[: int(args[3])]
        return SeriesArray(tuple(ranked))

    def _fn_slice(self, name: str, args: list) -> Value:
        self._arity(name, args, 2, 3)
        if not isinstance(args[0], SeriesArray) or not all(isinstance(a, float) for a in args[1:]):
            raise self.error("SLICE takes an array and one or two numbers")
        bounds = [int(a) for a in args[1:]]
        return SeriesArray(args[0].items[slice(*bounds)] if len(bounds) == 2 else args[0].items[bounds[0]:])

    def _fn_if(self, name: str, args: list) -> Value:
        """IF(condition, trueValue[, falseValue]) per "Using IF expressions": per datapoint of the
        condition, true (non-zero) takes trueValue (0 where a trueValue series has no datapoint), false
        takes falseValue (dropped where it has none, or when it is omitted); a period with no condition
        datapoint is dropped. A scalar condition picks one whole argument."""
        self._arity(name, args, 2, 3)
        condition, when_true = args[0], args[1]
        when_false = args[2] if len(args) == 3 else None
        for value in args:
            if not isinstance(value, (float, dict)):
                raise self.error("IF takes numbers or single time series")
        if isinstance(condition, float):
            chosen = when_true if condition else when_false
            if chosen is None:
                return {}
            return chosen if isinstance(chosen, dict) else dict.fromkeys(range(self.size), chosen)
        out: Series = {}
        for i, flag in sorted(condition.items()):
            if flag:
                out[i] = when_true.get(i, 0.0) if isinstance(when_true, dict) else when_true
            elif isinstance(when_false, dict):
                if i in when_false:
                    out[i] = when_false[i]
            elif when_false is not None:
                out[i] = when_false
        return out


def _map_values(series: Series, fn: Callable[[float], float]) -> Series:
    return {i: v for i, value in series.items() if (v := _safe(fn, value)) is not None}


def _repeat(series: Series) -> Series:
    """Each gap takes the most recent value before it (the first value has nothing before it)."""
    out: Series = {}
    indexes = sorted(series)
    for a, b in zip(indexes, [*indexes[1:], indexes[-1] + 1] if indexes else [], strict=True):
        for i in range(a, b):
            out[i] = series[a]
    return out


def _linear(series: Series) -> Series:
    out: Series = dict(series)
    indexes = sorted(series)
    for a, b in zip(indexes, indexes[1:], strict=False):
        for i in range(a + 1, b):
            out[i] = series[a] + (series[b] - series[a]) * (i - a) / (b - a)
    return out


# --------------------------------------------------------------------------------------------------
# Alarm side: the period of a math alarm and its datapoints over an evaluation range
# --------------------------------------------------------------------------------------------------


def math_period(alarm: Mapping) -> int:
    """The one period of a metric math alarm (every MetricStat must use the same one)."""
    periods = {int(q["MetricStat"]["Period"]) for q in alarm["Metrics"] if q.get("MetricStat")}
    periods |= {int(q["Period"]) for q in alarm["Metrics"] if q.get("Period") and not q.get("MetricStat")}
    if alarm.get("Period"):
        periods.add(int(alarm["Period"]))
    if not periods:
        raise ValueError("A metric math alarm needs a Period on its MetricStat queries")
    if len(periods) > 1:
        raise ValueError(
            f"All metrics in a metric math alarm must use the same period, got {sorted(periods)}"
        )
    return periods.pop()


def returned_query(queries: Sequence[Mapping]) -> Mapping:
    """The one query whose value the alarm watches (ReturnData true; an expression left unflagged
    when it is the only one, as the console writes it)."""
    returned = [q for q in queries if q.get("ReturnData") is True]
    if not returned:
        unflagged = [q for q in queries if q.get("Expression") and q.get("ReturnData") is None]
        returned = unflagged if len(unflagged) == 1 else []
    if len(returned) != 1:
        raise ValueError("Exactly one query in Metrics must have ReturnData set to true")
    return returned[0]


def math_datapoints(
    queries: Sequence[Mapping], store: MetricStore, starts: list[datetime], period: int
) -> list[Datapoint]:
    """The returned query's datapoint for each period start; ``sample_count`` adds up the samples of
    every MetricStat that had data in that period."""
    by_id = {q["Id"]: q for q in queries}
    final_id = returned_query(queries)["Id"]
    metric_ids = [q["Id"] for q in queries if q.get("MetricStat")]
    cache: dict[str, Value] = {}
    counts: dict[int, float] = {}

    def resolve(query_id: str) -> Value:
        if query_id in cache:
            return cache[query_id]
        if query_id not in by_id:
            raise ValueError(f"Metric math expression references unknown id {query_id!r}")
        query = by_id[query_id]
        cache[query_id] = {}  # guards against self-referencing expressions
        if query.get("MetricStat"):
            stat = query["MetricStat"]
            metric = stat["Metric"]
            series: Series = {}
            for i, start in enumerate(starts):
                value, count = store.period_statistic(
                    metric["Namespace"], metric["MetricName"], dimensions_dict(metric.get("Dimensions")),
                    start, start + timedelta(seconds=period), stat["Stat"], stat.get("Unit"),
                )
                if value is not None:
                    series[i] = value
                    counts[i] = counts.get(i, 0.0) + count
            cache[query_id] = series
        elif query.get("Expression"):
            cache[query_id] = MathEvaluator(query["Expression"], resolve, starts, period, metric_ids).run()
        else:
            raise ValueError(f"Query {query_id!r} has neither MetricStat nor Expression")
        return cache[query_id]

    final = resolve(final_id)
    if isinstance(final, SeriesArray):
        raise ValueError(
            f"Expression {by_id[final_id].get('Expression')!r} returns {len(final.items)} time series; an alarm "
            "watches exactly one (wrap it in SUM, MAX, FIRST, ...)"
        )
    if not isinstance(final, dict):
        raise ValueError(f"Expression {by_id[final_id].get('Expression')!r} must produce a time series, not a number")
    return [Datapoint(start, final.get(i), counts.get(i, 0.0)) for i, start in enumerate(starts)]


def evaluate_expression(
    expression: str, series: Mapping[str, Series], starts: Sequence[datetime], period: int = 60
) -> Value:
    """Evaluate one expression over given series (id -> Series): for graders that probe what an
    expression computes (e.g. whether a ratio grows with errors) without a metric store."""

    def resolve(query_id: str) -> Value:
        if query_id not in series:
            raise ValueError(f"Metric math expression references unknown id {query_id!r}")
        return series[query_id]

    return MathEvaluator(expression, resolve, starts, period, list(series)).run()
