"""IAM policy evaluation following AWS's documented evaluation logic, and least-privilege findings.

The public API used by the checks, the moto wire layer and the CLI; the modules behind it are split
by job and may move, this list does not."""

from .evaluator import (
    Decision,
    MatchedStatement,
    Policy,
    PolicyError,
    Request,
    RequestError,
    evaluate,
    iter_statements,
    match_action,
    match_resource,
    parse_policy,
)
from .findings import Finding, breadth_findings

__all__ = [
    "Decision",
    "Finding",
    "MatchedStatement",
    "Policy",
    "PolicyError",
    "Request",
    "RequestError",
    "breadth_findings",
    "evaluate",
    "iter_statements",
    "match_action",
    "match_resource",
    "parse_policy",
]
