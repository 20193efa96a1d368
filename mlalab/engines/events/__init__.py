"""EventBridge without moto: the event-pattern language, target input transformation and event
envelopes. Used by the moto wire layer (``fixtures/moto_ext/events``) and by checks."""

from .envelope import build_event, cloudtrail_event, endpoint_detail, is_read_only, training_job_detail
from .patterns import EventPattern, EventPatternError, matches, parse_pattern, validate_pattern
from .transform import RuleContext, TransformError, minified, render_template, target_input, validate_target_input

__all__ = [
    "EventPattern",
    "EventPatternError",
    "RuleContext",
    "TransformError",
    "build_event",
    "cloudtrail_event",
    "endpoint_detail",
    "is_read_only",
    "matches",
    "minified",
    "parse_pattern",
    "render_template",
    "target_input",
    "training_job_detail",
    "validate_pattern",
    "validate_target_input",
]
