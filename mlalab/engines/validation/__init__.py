"""Request validation: decide, as AWS would, whether a request is refused before anything happens.

moto accepts many requests that the real services refuse (values outside a member's documented
length, range, enum or pattern; parameters the API reference calls mutually exclusive; policy
documents that break IAM's grammar or size quotas). A learner whose code is accepted here must not
fail on the first real call, so every request is put through two layers:

1. :mod:`.model`: the constraints of the operation's input shape in botocore's service model
   (required members, lengths, ranges, enums, patterns), the ones AWS's front end enforces and
   botocore's client only partly checks (it checks required members, types and minimums, not
   maximums, enums or patterns). It applies to every operation of every service.
2. one module per service (:mod:`.cloudwatch`, :mod:`.iam`, ...) with the cross-parameter rules of
   the API reference that no model expresses, and :mod:`.tagging` with the tag restrictions every
   service shares (reserved ``aws:`` prefix, 50 tags per resource). Each rule cites the page it comes from.

The engine is pure: it imports nothing from moto and keeps no state. A rule that needs the current
state of an account (the inline policies a role already has) asks the ``lookup`` callable the wire
layer passes in; without one the rule is skipped, never guessed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session

from .model import model_rejection


@dataclass(frozen=True)
class Rejection:
    """AWS's answer to a refused request: the error code, its message and the HTTP status."""

    code: str
    message: str
    status: int = 400


# ``lookup(kind, **keys)`` returns state the wire layer knows (or None when it does not).
Lookup = Callable[..., Any]
Rule = Callable[[Mapping[str, Any], "Lookup | None"], "Rejection | None"]

# Services with cross-parameter rules: each module has ``RULES: dict[operation, list[Rule]]``.
RULE_MODULES = ("cloudwatch", "iam", "sts", "s3", "kms", "logs", "sagemaker", "cloudtrail", "ec2")

# The error code a service answers a model-constraint violation with. AWS Query services say
# ValidationError, JSON services ValidationException; CloudWatch Logs says InvalidParameterException
# (e.g. for a retentionInDays outside its enum).
_MODEL_ERROR_CODE = {"logs": "InvalidParameterException"}


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(service: str):
    """botocore's model of a service (cached: loading one takes milliseconds)."""
    return _session().get_service_model(service)


@cache
def _rules(service: str, kind: str = "RULES") -> Mapping[str, list[Rule]]:
    """A service's rules; ``EARLY`` ones run before the model check, for the services that answer a
    model-constraint violation with an error of their own (CloudTrail's InvalidMaxResultsException)."""
    own = getattr(importlib.import_module(f"{__name__}.{service}"), kind, {}) if service in RULE_MODULES else {}
    if kind != "RULES":
        return own
    # The tag restrictions every service shares (:mod:`.tagging`) run after the service's own rules.
    shared = importlib.import_module(f"{__name__}.tagging").RULES.get(service, {})
    return {op: [*own.get(op, ()), *shared.get(op, ())] for op in {*own, *shared}}


def model_error_code(service: str) -> str:
    if service in _MODEL_ERROR_CODE:
        return _MODEL_ERROR_CODE[service]
    model = service_model(service)
    query = model.protocol == "query" or "awsQueryCompatible" in model.metadata  # CloudWatch is query-compatible
    return "ValidationError" if query else "ValidationException"


def validate(service: str, operation: str, params: Mapping[str, Any], lookup: Lookup | None = None,
             *, model: bool = True) -> Rejection | None:
    """AWS's refusal of ``operation`` of ``service`` with these (parsed, botocore-shaped) parameters,
    or None when AWS would accept the request as far as these rules know. ``model=False`` skips the
    model constraints (S3 answers them in its own, non-Coral error format)."""
    for rule in _rules(service, "EARLY").get(operation, ()):
        rejection = rule(params, lookup)
        if rejection:
            return rejection
    if model:
        try:
            shape = service_model(service).operation_model(operation).input_shape
        except Exception:  # an operation botocore does not know: nothing to check it against
            shape = None
        if shape is not None:
            message = model_rejection(shape, params)
            if message:
                return Rejection(model_error_code(service), message)
    for rule in _rules(service).get(operation, ()):
        rejection = rule(params, lookup)
        if rejection:
            return rejection
    return None


def rules_table() -> dict[str, dict[str, list[str]]]:
    """Every cross-parameter rule, by service and operation: the first docstring line of each rule
    (the list the closing note publishes)."""
    table: dict[str, dict[str, list[str]]] = {}
    shared = importlib.import_module(f"{__name__}.tagging").RULES
    for service in dict.fromkeys((*RULE_MODULES, *shared)):
        for operation, rules in (*_rules(service, "EARLY").items(), *_rules(service).items()):
            table.setdefault(service, {})[operation] = [
                (rule.__doc__ or rule.__name__).strip().splitlines()[0] for rule in rules]
    return table


__all__ = ["Lookup", "Rejection", "Rule", "model_error_code", "rules_table", "service_model", "validate"]
