"""AWS Config, the part moto leaves inert: evaluating managed rules (moto stores rules and never
evaluates them). Pure: no moto, no boto3.

* :mod:`.required_tags`: the ``REQUIRED_TAGS`` managed rule ("required-tags", AWS Config Developer
  Guide: https://docs.aws.amazon.com/config/latest/developerguide/required-tags.html), its
  parameters and the rule's ``Scope`` (https://docs.aws.amazon.com/config/latest/APIReference/API_Scope.html).
"""

from .required_tags import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Evaluation,
    ParameterError,
    RecordedResource,
    Rule,
    config_resource,
    evaluate_rule,
    in_scope,
    parse_parameters,
    rule_compliance,
)

__all__ = ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "Evaluation", "ParameterError", "RecordedResource", "Rule",
           "config_resource", "evaluate_rule", "in_scope", "parse_parameters", "rule_compliance"]
