"""IAM checks: read a role's policies through boto3 and ask the project's IAM policy evaluator
(``mlalab.engines.iam.evaluator``) what AWS would decide for a matrix of requests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import unquote

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.iam.evaluator import Policy, PolicyError, Request, evaluate, iter_statements, parse_policy
from mlalab.engines.iam.findings import breadth_findings


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


# What a service execution role's trust policy may allow its service to do: assume the role, and
# optionally set a source identity or pass session tags while doing so.
TRUST_ACTIONS = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")


def _trust_problem(statement: dict, service: str) -> str | None:
    """Why one Allow statement of a trust policy trusts more than ``service``, or None."""
    if "NotPrincipal" in statement:
        return (f"uses NotPrincipal with Allow ({json.dumps(statement['NotPrincipal'])}): it trusts every "
                "principal except the ones listed")
    if "Principal" not in statement:
        return "names no Principal, so it does not say who may assume the role"
    principal = statement["Principal"]
    if principal == "*":
        return 'trusts every principal ("Principal": "*")' + _condition_note(statement)
    others = [f"{ptype} {value!r}" for ptype, values in principal.items()
              for value in ([values] if isinstance(values, str) else values)
              if (ptype, value) != ("Service", service)]
    if others:
        every = any(o.startswith("AWS '*'") for o in others)
        return (f"also trusts {', '.join(others)}"
                + (" (every AWS principal)" + _condition_note(statement) if every else ""))
    if "NotAction" in statement:
        return "uses NotAction with Allow: it lets the service call every STS action except the ones listed"
    allowed = {a.lower() for a in TRUST_ACTIONS}
    extra = [a for a in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
             if a.lower() not in allowed]
    if extra:
        return (f"allows {', '.join(extra)}: a service execution role's trust policy needs only "
                "sts:AssumeRole (sts:SetSourceIdentity and sts:TagSession are acceptable too)")
    return None


def _condition_note(statement: dict) -> str:
    if "Condition" not in statement:
        return ""
    keys = sorted({key for block in statement["Condition"].values() for key in block})
    note = f"; its Condition on {', '.join(keys)} still lets every principal that meets it assume the role"
    if any(key.lower() == "aws:principalorgid" for key in keys):
        note += " (aws:PrincipalOrgID lets in every user and role of every account in the organization)"
    return note


def trusts_only_service(role: RolePolicies, service: str, context: dict | None = None) -> Verdict:
    """The trust policy lets ``service`` assume the role (with the request ``context`` the service
    sends, e.g. aws:SourceAccount/aws:SourceArn) and, in every Allow statement, names nobody else."""
    context = dict(context or {})
    request = Request("sts:AssumeRole", role.arn, principal=service, context=context)
    allowed = evaluate(request, resource=[role.trust])
    if not allowed.allowed:
        sent = f" with {context}" if context else ""
        return fail(f"role {role.name}: its trust policy does not let {service} call sts:AssumeRole{sent} "
                    f"({allowed.reason.rstrip('.')}). A SageMaker execution role must trust the SageMaker service "
                    "principal, or training jobs cannot use it.")
    for index, statement in enumerate(iter_statements(role.trust)):
        if statement.get("Effect") != "Allow":
            continue  # a Deny only narrows who may assume the role
        problem = _trust_problem(statement, service)
        if problem:
            sid = statement.get("Sid")
            where = f"Statement[{index}]" + (f" (Sid {sid!r})" if isinstance(sid, str) and sid else "")
            return fail(f"role {role.name}: {where} of its trust policy {problem}: {json.dumps(statement)}. "
                        f'Every Allow must name only {{"Service": "{service}"}} and allow only sts:AssumeRole: '
                        "anyone who can assume an execution role gets all of its data access. Conditions such "
                        "as aws:SourceAccount are welcome; they narrow it further.")
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


def request_context(role: RolePolicies, row: Expect, region: str) -> dict:
    """The context a SageMaker training job's call carries (over TLS, in ``region``, from the role's
    account), with the row's own keys on top (a None value removes a key).

    KMS rows are made the way S3 makes them for SSE-KMS objects: through S3 in the same region, so
    kms:ViaService is s3.REGION.amazonaws.com and kms:CallerAccount is the role's account.
    """
    account = role.arn.split(":")[4]
    context = {
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": region,
        "aws:PrincipalAccount": account,
        # S3 ARNs carry no account; the lab's buckets are the role's account's.
        "aws:ResourceAccount": _arn_account(row.resource) or account,
    }
    if row.action.lower().startswith("kms:"):
        context.update({"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": account})
    context.update(row.context)
    return {key: value for key, value in context.items() if value is not None}


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else None


def _condition_held(decision, request: Request) -> str:
    """' (its Condition holds: ...)' - the request values that met the deciding statement's Condition."""
    condition = decision.statement.statement.get("Condition") if decision.statement else None
    if not isinstance(condition, dict):
        return ""
    context = {key.lower(): (key, value) for key, value in request.context.items()}
    keys = [key for block in condition.values() if isinstance(block, dict) for key in block]
    held = [f"{context[k.lower()][0]}={context[k.lower()][1]}" for k in keys if k.lower() in context]
    if not held:
        return ""
    return f" (its Condition holds: a training job's request carries {', '.join(dict.fromkeys(held))})"


def decisions(role: RolePolicies, rows: list[Expect], *, region: str) -> Verdict:
    """Every row decided as expected, or the first surprise explained with the deciding statement.

    Each request carries the context a real training job's call would (see ``request_context``), so a
    Condition on request properties (aws:SecureTransport, aws:RequestedRegion, kms:ViaService...)
    neither blocks the calls the job makes nor hides what else a statement allows.
    """
    for row in rows:
        request = Request(row.action, row.resource, principal=role.arn, context=request_context(role, row, region))
        decision = evaluate(request, identity=role.identity, boundary=role.boundary)
        if decision.allowed == row.allowed:
            continue
        context = f" with {row.context}" if row.context else ""
        if row.allowed:
            reason = decision.reason.rstrip(".")
            return fail(f"role {role.name} cannot {row.action} on {row.resource}{context}: {reason}. "
                        f"It needs to: {row.why}")
        return fail(f"role {role.name} can {row.action} on {row.resource}{context}, "
                    f"{_statement(decision)}{_condition_held(decision, request)}. It must not: {row.why}")
    return ok()


def no_broad_statements(role: RolePolicies) -> Verdict:
    for policy in role.identity:
        findings = breadth_findings(policy)
        if findings:
            f = findings[0]
            return fail(f"role {role.name}, {policy.name}: {f.message}")
    return ok()


__all__ = ["TRUST_ACTIONS", "Expect", "PolicyError", "RolePolicies", "decisions", "no_broad_statements",
           "request_context", "role_exists", "role_policies", "trusts_only_service"]
