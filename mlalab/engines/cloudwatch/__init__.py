"""CloudWatch alarm evaluation with CloudWatch's documented semantics, one module per job:

* :mod:`.metrics` — the metric store (samples with their units) and statistics, percentiles included;
* :mod:`.alarms` — metric alarms: periods, M out of N, TreatMissingData, Unit, state reasons;
* :mod:`.metric_math` — metric math expressions as alarms evaluate them;
* :mod:`.composite` — composite alarm rules;
* :mod:`.replay` — recorded timelines replayed through alarms.

Nothing here imports moto or touches the network or the wall clock.
"""

from .alarms import (
    ALARM,
    EXTRA_EVALUATION_PERIODS,
    INSUFFICIENT_DATA,
    OK,
    STATES,
    TREAT_MISSING_DATA,
    AlarmState,
    Decision,
    breaches,
    decide_state,
    evaluate_metric_alarm,
)
from .composite import (
    ChildState,
    CompositeRule,
    alarm_name_from_reference,
    composite_configured_reason,
    composite_evaluation_order,
    composite_reason_data,
    composite_transition_reason,
    evaluate_composite_rule,
    lookup_state,
    parse_composite_rule,
    referenced_alarms,
)
from .metric_math import (
    FUNCTIONS,
    SEARCH_REFUSED,
    MathEvaluator,
    Series,
    SeriesArray,
    evaluate_expression,
    math_datapoints,
    math_period,
    returned_query,
)
from .metrics import (
    BASIC_STATISTICS,
    NO_UNIT,
    Datapoint,
    MetricStore,
    Sample,
    aggregate,
    dimensions_dict,
    low_sample_threshold,
    parse_percentile,
    period_starts,
)
from .replay import Replay, dumps_reason_data, replay

__all__ = [
    "ALARM", "BASIC_STATISTICS", "EXTRA_EVALUATION_PERIODS", "FUNCTIONS", "INSUFFICIENT_DATA", "NO_UNIT", "OK",
    "SEARCH_REFUSED", "STATES", "TREAT_MISSING_DATA", "AlarmState", "ChildState", "CompositeRule", "Datapoint",
    "Decision", "MathEvaluator", "MetricStore", "Replay", "Sample", "Series", "SeriesArray", "aggregate",
    "alarm_name_from_reference", "breaches", "composite_configured_reason", "composite_evaluation_order",
    "composite_reason_data", "composite_transition_reason", "decide_state", "dimensions_dict",
    "dumps_reason_data", "evaluate_composite_rule", "evaluate_expression", "evaluate_metric_alarm",
    "low_sample_threshold", "lookup_state", "math_datapoints", "math_period", "parse_composite_rule",
    "parse_percentile", "period_starts", "referenced_alarms", "replay", "returned_query",
]
