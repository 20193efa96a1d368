"""IAM checks: read a role's policies through boto3 and ask the project's IAM policy engine
(``mlalab.engines.iam``) what AWS would decide for a matrix of requests, and what the policies grant
in full (``mlalab.engines.iam.grants``): least privilege is judged on every grant, not on a sample."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.iam import (
    Policy,
    PolicyError,
    Request,
    RequestError,
    breadth_findings,
    evaluate,
    iter_statements,
    parse_policy,
)
from mlalab.engines.iam.grants import Grant, Need, excess, expand_actions, policy_grants, sibling_prefix_probes


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
    trust: Policy | None  # None when AWS would reject the trust policy (``trust_error`` says why)
    identity: list[Policy] = field(default_factory=list)
    boundary: Policy | None = None
    # KMS key ARN -> its key policy: without the key policy's permission IAM policies have no effect on
    # the key ("Key policies in AWS KMS"), so KMS requests are evaluated with it.
    key_policies: dict[str, Policy] = field(default_factory=dict)
    trust_error: str | None = None


def role_policies(aws, role_name: str, kms_keys: Sequence[str] = ()) -> RolePolicies | None:
    """The role's trust policy, inline and attached managed policies, its permissions boundary and
    the key policy of each of ``kms_keys`` (kms:GetKeyPolicy, policy name "default"), or None when
    the role does not exist."""
    iam = aws.client("iam")
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None
    # An invalid trust policy costs the trust check only: the permissions can still be graded.
    try:
        trust, trust_error = parse_policy("trust policy", _document(role["AssumeRolePolicyDocument"])), None
    except PolicyError as exc:
        trust, trust_error = None, str(exc)
    result = RolePolicies(role_name, role["Arn"], trust, trust_error=trust_error)
    for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        result.identity.append(parse_policy(f"inline policy {policy_name}", _document(doc)))
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        result.identity.append(_managed(iam, attached["PolicyArn"], f"managed policy {attached['PolicyName']}"))
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    if boundary:
        result.boundary = _managed(iam, boundary, "permissions boundary")
    kms = aws.client("kms") if kms_keys else None
    for key in kms_keys:
        text = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
        result.key_policies[key] = parse_policy(f"key policy of {key}", _document(text), kind="resource")
    return result


def _managed(iam, arn: str, label: str) -> Policy:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return parse_policy(label, _document(doc))


def role_exists(role: RolePolicies | None, role_name: str) -> Verdict:
    if role is None:
        return fail(f"no IAM role named {role_name!r} exists; create it with the name passed to your function")
    return ok()


# What a service execution role's trust policy may allow its service to do. SageMaker needs
# sts:AssumeRole ("How to use SageMaker AI execution roles": the trust policy of every execution role);
# sts:SetSourceIdentity (Studio's user-profile source identity, "Monitoring user resource access from
# Amazon SageMaker Studio") and sts:TagSession (session tags, "Passing session tags in AWS STS") are
# added by SageMaker features and grant no one else anything, so they are accepted too.
TRUST_ACTIONS = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")
TRUST_RULE = ("allow only sts:AssumeRole (sts:SetSourceIdentity and sts:TagSession, which SageMaker Studio "
              "features add, are accepted too)")


def _trust_problem(statement: dict, service: str) -> str | None:
    """Why one Allow statement of a trust policy trusts more than ``service``, or None."""
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
    patterns = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
    extra = [a for a in patterns if a.lower() not in allowed]
    if extra:
        granted = sorted(f"{service}:{d['name']}" for service, d in expand_actions({"Action": extra}))
        beyond = [a for a in granted if a.lower() not in allowed]
        shown = f" (that grants {', '.join(beyond[:4])}{' and more' if len(beyond) > 4 else ''})" \
            if beyond and beyond != extra else ""
        return (f"allows {', '.join(extra)}{shown}: a SageMaker execution role's trust policy needs only "
                "sts:AssumeRole (sts:SetSourceIdentity and sts:TagSession are accepted, SageMaker Studio "
                "features add them)")
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
    if role.trust is None:
        return fail(f"role {role.name}: IAM would reject its trust policy ({role.trust_error}), so the role "
                    "could not be created in AWS. A trust policy names who may assume the role in a Principal "
                    f'element: {{"Service": "{service}"}}.')
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
                        f'Every Allow must name only {{"Service": "{service}"}} and {TRUST_RULE}: '
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
        decision = _evaluate(role, request)
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


def _evaluate(role: RolePolicies, request: Request):
    """Evaluate with the role's identity policies and boundary, plus the key policy for a KMS request
    on a key whose policy the grader read."""
    key_policy = role.key_policies.get(request.resource) if request.action.lower().startswith("kms:") else None
    return evaluate(request, identity=role.identity, boundary=role.boundary,
                    resource=[key_policy] if key_policy else [])


def no_broad_statements(role: RolePolicies) -> Verdict:
    for policy in role.identity:
        findings = breadth_findings(policy)
        if findings:
            f = findings[0]
            return fail(f"role {role.name}, {policy.name}: {f.message}")
    return ok()


# --- least privilege on everything the policies grant ----------------------------------------------------


def role_grants(role: RolePolicies) -> list[Grant]:
    """Every grant of the role's identity policies, and of each key policy statement that names the
    role itself (a key policy can grant a role access on its own, "Key policies in AWS KMS")."""
    grants = [g for policy in role.identity for g in policy_grants(policy)]
    for key, policy in role.key_policies.items():
        naming = [s for s in iter_statements(policy) if role.arn in _principals(s)]
        if naming:
            own = Policy(policy.name, {"Version": "2012-10-17", "Statement": naming})
            grants += policy_grants(own, resource_arn=key)
    return grants


def _principals(statement: dict) -> list[str]:
    principal = statement.get("Principal")
    values = principal.get("AWS", []) if isinstance(principal, dict) else []
    return [values] if isinstance(values, str) else list(values)


@dataclass(frozen=True)
class OverGrant:
    """One grant beyond what the task needs, confirmed by the evaluator, with a teaching message."""

    grant: Grant
    resource: str  # an ARN the role can reach beyond the task's needs
    message: str


def over_grants(role: RolePolicies, needs: Sequence[Need], *, region: str) -> list[OverGrant]:
    """Every grant of the role beyond ``needs``, most sensitive access level first.

    Each excess grant is confirmed with the evaluator on an ARN it reaches beyond the needs: an
    explicit Deny, the permissions boundary or a key policy that does not delegate to IAM makes it
    ineffective, so it is not reported. A Condition does not: it narrows when the grant applies,
    not what it grants (as in IAM Access Analyzer's policy checks). A needed action on a prefix
    pattern without its delimiter is shown on the sibling prefixes it reaches by accident."""
    grants = role_grants(role)
    found: list[OverGrant] = []
    for item in excess(grants, needs):
        g = item.grant
        probes = sibling_prefix_probes(g.resource) if item.needed_on else []
        resource = next((p for p in probes if _effective(role, g.action, p, region)), None)
        if resource is not None:
            prefix = g.resource.rsplit("/", 1)[-1][:-1]
            message = (f"{g.statement_label()} grants {g.action} on {g.resource}, so the role can {g.action} on "
                       f"{resource}: a sibling prefix that begins like {prefix!r} but is not under "
                       f"{item.needed_on[0]}. IAM's '*' matches any characters, '/' included: end the prefix "
                       f"with '/' ({g.resource[:-1]}/*), so the pattern stops at the delimiter.")
        elif _effective(role, g.action, item.example, region):
            resource = item.example
            message = item.message()
        else:
            continue
        found.append(OverGrant(g, resource, message))
    return found


def _effective(role: RolePolicies, action: str, resource: str, region: str) -> bool:
    """Would the grant take effect on ``resource`` (conditions aside)? Without a Deny, a boundary or a
    key policy, an Allow always does, so the evaluator is only asked when one of them could matter."""
    limited = role.boundary is not None or (action.lower().startswith("kms:") and resource in role.key_policies)
    if not limited and not any(s.get("Effect") == "Deny" for p in role.identity for s in iter_statements(p)):
        return True
    row = Expect(action, resource, True, "")
    request = Request(action, resource, principal=role.arn, context=request_context(role, row, region))
    try:
        decision = _evaluate(role, request)
    except RequestError:  # an action name the evaluator does not parse (e.g. a '-' in it): keep the grant
        return True
    if decision.decision == "explicit_deny" or decision.allowed_by_boundary is False:
        return False
    key_policy_blocks = request.resource in role.key_policies and decision.identity_decision == "allowed"
    return decision.allowed or not key_policy_blocks


def no_over_grants(role: RolePolicies, found: Sequence[OverGrant], select: Callable[[OverGrant], bool],
                   advice: str) -> Verdict:
    """Fail on the first over-grant ``select`` picks, listing up to five more of them; ``advice`` says
    what the task allows and why (the exam concept)."""
    mine = [o for o in found if select(o)]
    if not mine:
        return ok()
    first, rest = mine[0], mine[1:]
    more = ""
    if rest:
        shown = ", ".join(dict.fromkeys(f"{o.grant.action} ({o.grant.access_level})" for o in rest))
        names = shown.split(", ")
        more = f" It also grants {', '.join(names[:5])}" + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        more += "."
    return fail(f"role {role.name}: {first.message}.{more} {advice}")


__all__ = ["TRUST_ACTIONS", "Expect", "OverGrant", "PolicyError", "RolePolicies", "decisions", "no_broad_statements",
           "no_over_grants", "over_grants", "request_context", "role_exists", "role_grants", "role_policies",
           "trusts_only_service"]
