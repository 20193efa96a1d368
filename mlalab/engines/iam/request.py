"""The request side of an evaluation: who calls (the caller), what (action, resource), and with which
condition keys (the request context).

AWS fills some keys from the caller itself ("AWS global condition context keys": aws:PrincipalArn,
aws:PrincipalAccount, aws:PrincipalType, aws:username, aws:userid, aws:PrincipalServiceName,
aws:ResourceAccount); ``Context`` derives them when the request does not give them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_PRINCIPAL", "Caller", "Context", "Request", "RequestError", "parse_caller", "validate_request"]

DEFAULT_PRINCIPAL = "arn:aws:iam::123456789012:role/r"


class RequestError(ValueError):
    """A request the evaluator cannot simulate (bad action name, unrecognised principal...)."""


@dataclass
class Request:
    """One API call to authorize: who (principal) does what (action) to which resource.

    ``context`` holds condition keys; names are case-insensitive and a list is a multivalued key.
    Keys AWS derives from the caller (aws:PrincipalArn, aws:PrincipalAccount, aws:username,
    aws:PrincipalType, aws:ResourceAccount...) are filled in when absent.
    """

    action: str
    resource: str
    principal: str = DEFAULT_PRINCIPAL
    context: dict[str, str | list[str]] = field(default_factory=dict)


def validate_request(request: Request) -> None:
    """One concrete action (the simulator evaluates calls, not patterns) and a resource."""
    # Action names may hold hyphens (the Service Authorization Reference lists e.g.
    # vpc-lattice:AssociateViaAWSService-EventsAndStates); wildcards are what is refused.
    if not isinstance(request.action, str) or not re.fullmatch(r"[A-Za-z0-9-]+:[A-Za-z0-9-]+", request.action):
        raise RequestError(
            f"action {request.action!r} must name one action as service:Action, e.g. s3:GetObject "
            "(no wildcards)"
        )
    if not isinstance(request.resource, str) or not request.resource:
        raise RequestError('resource must be an ARN or "*"')


_ARN_PRINCIPAL = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)"
)


@dataclass
class Caller:
    """The principal of a request, classified the way principal matching needs it."""

    arn: str
    kind: str  # user | role | assumed-role | federated-user | root | service | anonymous
    account: str | None = None
    partition: str = "aws"
    name: str | None = None  # user name / role name / session name
    role_arn: str | None = None  # for role and assumed-role callers
    role_name: str | None = None

    def describe(self) -> str:
        return {"service": f"the service principal {self.arn}", "anonymous": "an anonymous caller"}.get(
            self.kind, self.arn
        )


def parse_caller(principal: str) -> Caller:
    """Classify a principal ARN, an account id, a service principal or "*" (anonymous)."""
    principal = (principal or "").strip()
    if principal in ("*", "anonymous"):
        return Caller(arn="*", kind="anonymous")
    if re.fullmatch(r"\d{12}", principal):
        return Caller(arn=f"arn:aws:iam::{principal}:root", kind="root", account=principal)
    if re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com(\.cn)?", principal):
        return Caller(arn=principal, kind="service")
    match = _ARN_PRINCIPAL.fullmatch(principal)
    if match:
        partition, service, account, rest = match.group("partition", "service", "account", "rest")
        base = {"account": account, "partition": partition}
        if service == "iam" and rest == "root":
            return Caller(arn=principal, kind="root", **base)
        if service == "iam" and rest.startswith("user/") and len(rest) > 5:
            return Caller(arn=principal, kind="user", name=rest.rsplit("/", 1)[1], **base)
        if service == "iam" and rest.startswith("role/") and len(rest) > 5:
            name = rest.rsplit("/", 1)[1]
            return Caller(arn=principal, kind="role", name=name, role_arn=principal, role_name=name, **base)
        session = re.fullmatch(r"assumed-role/([^/]+)/(.+)", rest)
        if service == "sts" and session:
            role_name = session.group(1)
            return Caller(
                arn=principal,
                kind="assumed-role",
                name=session.group(2),
                role_name=role_name,
                role_arn=f"arn:{partition}:iam::{account}:role/{role_name}",
                **base,
            )
        if service == "sts" and rest.startswith("federated-user/") and len(rest) > 15:
            return Caller(arn=principal, kind="federated-user", name=rest.split("/", 1)[1], **base)
    raise RequestError(
        f"principal {principal!r} is not an IAM user, role, role-session, federated-user or root ARN, "
        "an account id, or a service principal such as sagemaker.amazonaws.com"
    )


# aws:PrincipalType by caller kind ("AWS global condition context keys", aws:PrincipalType).
_PRINCIPAL_TYPES = {
    "user": "User",
    "role": "AssumedRole",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
    "root": "Account",
    "service": "Service",
    "anonymous": "Anonymous",
}


class Context:
    """Normalised request context: lower-case key -> list of values, plus bookkeeping.

    ``missing`` collects keys a policy referenced that the request lacks (reported like the
    simulator's MissingContextValues); ``variables`` says whether ``${...}`` is substituted in the
    policy being evaluated (only Version 2012-10-17 has policy variables).
    """

    def __init__(self, request: Request, caller: Caller):
        self.values: dict[str, list[str]] = {}
        for key, value in (request.context or {}).items():
            if value is None:
                continue  # None means "not in the request", like an absent key
            values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
            self.values.setdefault(str(key).strip().lower(), []).extend(_context_str(v) for v in values)
        self.missing: dict[str, str] = {}  # lower-case -> spelling as first seen in a policy
        self.variables = True
        derived = {
            "aws:principaltype": _PRINCIPAL_TYPES.get(caller.kind),
            "aws:principalaccount": caller.account,
            "aws:principalarn": caller.role_arn
            if caller.kind in ("role", "assumed-role")
            else (caller.arn if caller.kind in ("user", "federated-user", "root") else None),
            "aws:username": caller.name if caller.kind == "user" else None,
            "aws:userid": caller.account if caller.kind == "root" else None,
            "aws:principalservicename": caller.arn if caller.kind == "service" else None,
            "aws:resourceaccount": arn_account(request.resource),
        }
        for key, value in derived.items():
            if value and key not in self.values:
                self.values[key] = [value]

    def note_missing(self, key: str) -> None:
        self.missing.setdefault(key.lower(), key)


def _context_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def arn_account(arn: str) -> str | None:
    """The account field of an ARN, or None (S3 ARNs and "*" carry none)."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and re.fullmatch(r"\d{12}", parts[4]):
        return parts[4]
    return None
