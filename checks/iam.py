"""IAM checks: read a role's policies through boto3 and ask the project's IAM policy evaluator
(``fixtures.moto_ext.iam.evaluator``) what AWS would decide for a matrix of requests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import unquote

from checks.core import Verdict, fail, ok
from fixtures.moto_ext.iam.evaluator import Policy, PolicyError, Request, evaluate, parse_policy
from fixtures.moto_ext.iam.findings import breadth_findings


def _document(value) -> dict | str:
    """moto returns policy documents URL-encoded (like AWS) or already decoded; accept both."""
    if isinstance(value, dict):
        return value
    text = unquote(value)
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class RolePolicies:
    """Everything that decides what a role may do, as IAM holds it."""

    name: str
    arn: str
    trust: Policy
    identity: list[Policy] = field(default_factory=list)
    boundary: Policy | None = None


def role_policies(aws, role_name: str) -> RolePolicies | None:
    """The role's trust policy, inline and attached managed policies and its permissions boundary,
    or None when the role does not exist."""
    iam = aws.client("iam")
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None
    trust = parse_policy("trust policy", _document(role["AssumeRolePolicyDocument"]))
    result = RolePolicies(role_name, role["Arn"], trust)
    for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        result.identity.append(parse_policy(f"inline policy {policy_name}", _document(doc)))
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        result.identity.append(_managed(iam, attached["PolicyArn"], f"managed policy {attached['PolicyName']}"))
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    if boundary:
        result.boundary = _managed(iam, boundary, "permissions boundary")
    return result


def _managed(iam, arn: str, label: str) -> Policy:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return parse_policy(label, _document(doc))


def role_exists(role: RolePolicies | None, role_name: str) -> Verdict:
    if role is None:
        return fail(f"no IAM role named {role_name!r} exists; create it with the name passed to your function")
    return ok()


def trusts_only_service(role: RolePolicies, service: str) -> Verdict:
    """The trust policy lets the service assume the role, and nobody else."""
    allowed = evaluate(Request("sts:AssumeRole", role.arn, principal=service), resource=[role.trust])
    if not allowed.allowed:
        return fail(f"role {role.name}: its trust policy does not let {service} call sts:AssumeRole "
                    f"({allowed.reason}). A SageMaker execution role must trust the SageMaker service "
                    "principal, or training jobs cannot use it.")
    for stranger in ("arn:aws:iam::999999999999:root", "ec2.amazonaws.com",
                     "arn:aws:iam::123456789012:user/intern"):
        decision = evaluate(Request("sts:AssumeRole", role.arn, principal=stranger), resource=[role.trust])
        if decision.allowed:
            return fail(f"role {role.name}: its trust policy also lets {stranger} assume it "
                        f"({_statement(decision)}). Trust only {service}: anyone who can assume an "
                        "execution role gets all of its data access.")
    return ok()


@dataclass(frozen=True)
class Expect:
    """One row of a request matrix: what the role should be able to do, and why."""

    action: str
    resource: str
    allowed: bool
    why: str
    context: dict = field(default_factory=dict)


def _statement(decision) -> str:
    s = decision.statement
    if s is None:
        return "no statement allows it"
    return f"allowed by {s.label()}: {json.dumps(s.statement)}"


def decisions(role: RolePolicies, rows: list[Expect]) -> Verdict:
    """Every row decided as expected, or the first surprise explained with the deciding statement."""
    for row in rows:
        request = Request(row.action, row.resource, principal=role.arn, context=dict(row.context))
        decision = evaluate(request, identity=role.identity, boundary=role.boundary)
        if decision.allowed == row.allowed:
            continue
        context = f" with {row.context}" if row.context else ""
        if row.allowed:
            reason = decision.reason.rstrip(".")
            return fail(f"role {role.name} cannot {row.action} on {row.resource}{context}: {reason}. "
                        f"It needs to: {row.why}")
        return fail(f"role {role.name} can {row.action} on {row.resource}{context}, "
                    f"{_statement(decision)}. It must not: {row.why}")
    return ok()


def no_broad_statements(role: RolePolicies) -> Verdict:
    for policy in role.identity:
        findings = breadth_findings(policy)
        if findings:
            f = findings[0]
            return fail(f"role {role.name}, {policy.name}: {f.message}")
    return ok()


__all__ = ["Expect", "PolicyError", "RolePolicies", "decisions", "no_broad_statements", "role_exists",
           "role_policies", "trusts_only_service"]
