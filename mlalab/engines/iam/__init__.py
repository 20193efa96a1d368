"""IAM policy evaluation following AWS's documented evaluation logic, and least-privilege findings.

The public API used by the checks, the moto wire layer and the CLI; the modules behind it are split
by job (``policy``: grammar and validation; ``matching``: actions, resources, principals, variables;
``conditions``: condition operators; ``request``: the caller and the request context; ``decision``:
the evaluation order; ``findings``: breadth findings) and may move, this list does not."""

from .decision import Decision, MatchedStatement, default_key_policy, evaluate
from .findings import Finding, breadth_findings
from .matching import match_action, match_resource
from .policy import Policy, PolicyError, iter_statements, parse_policy
from .request import DEFAULT_PRINCIPAL, Request, RequestError

__all__ = [
    "DEFAULT_PRINCIPAL",
    "Decision",
    "Finding",
    "MatchedStatement",
    "Policy",
    "PolicyError",
    "Request",
    "RequestError",
    "breadth_findings",
    "default_key_policy",
    "evaluate",
    "iter_statements",
    "match_action",
    "match_resource",
    "parse_policy",
]
