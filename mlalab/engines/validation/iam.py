"""IAM's rules for policy documents: the grammar and the size quotas, which AWS answers with
``MalformedPolicyDocument`` or ``LimitExceeded`` and botocore's model cannot express.

Pages:
* Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
* Elements (Version, Principal, ...): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
* Quotas: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html ("IAM doesn't
  count white space when calculating the size of a policy against these limits"): role trust policy
  2,048 characters (default), managed policy 6,144, inline policies of a role 10,240 in aggregate
  (user 2,048, group 5,120).
* Operations: CreateRole, UpdateAssumeRolePolicy, PutRolePolicy, PutUserPolicy, PutGroupPolicy,
  CreatePolicy, CreatePolicyVersion (IAM API reference).

Messages are IAM's own, as AWS returns them (quoted in public issues): "Syntax errors in policy.",
"Policy document should not specify a principal.", "Policy statement must contain actions.",
"Cannot exceed quota for PolicySize: 6144", "Maximum policy size of 10240 bytes exceeded for role X",
"Cannot exceed quota for ACLSizePerRole: 2048".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection

_TOP = {"Version", "Id", "Statement"}
_STATEMENT = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
              "Condition"}
_VERSIONS = ("2012-10-17", "2008-10-17")
TRUST_POLICY_MAX = 2048
MANAGED_POLICY_MAX = 6144
INLINE_AGGREGATE_MAX = {"role": 10240, "user": 2048, "group": 5120}


def _malformed(message: str) -> Rejection:
    return Rejection("MalformedPolicyDocument", message)


def _limit(message: str) -> Rejection:
    return Rejection("LimitExceeded", message, 409)


def policy_size(document: str) -> int:
    """A policy's size as IAM counts it: characters that are not white space."""
    return sum(1 for character in document if not character.isspace())


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def policy_problem(document: str, kind: str) -> Rejection | None:
    """What IAM says of a policy document of this ``kind`` ("identity" or "trust"), or None when its
    grammar holds. The checks follow IAM's order: syntax, version, principal, actions, resources."""
    try:
        policy = json.loads(document)
    except (ValueError, RecursionError):
        return _malformed("Syntax errors in policy.")
    if not isinstance(policy, dict) or set(policy) - _TOP or "Statement" not in policy:
        return _malformed("Syntax errors in policy.")
    statements = _as_list(policy["Statement"])
    if not statements or not all(isinstance(s, dict) for s in statements):
        return _malformed("Syntax errors in policy.")
    for statement in statements:
        if set(statement) - _STATEMENT or str(statement.get("Effect")).lower() not in ("allow", "deny") \
                or ("Action" in statement and "NotAction" in statement) \
                or ("Resource" in statement and "NotResource" in statement) \
                or ("Principal" in statement and "NotPrincipal" in statement):
            return _malformed("Syntax errors in policy.")
    if "Version" in policy and policy["Version"] not in _VERSIONS:
        return _malformed("The policy failed legacy parsing")
    for statement in statements:
        has_principal = "Principal" in statement or "NotPrincipal" in statement
        if kind == "identity" and has_principal:
            return _malformed("Policy document should not specify a principal.")
        if kind == "trust" and not has_principal:
            return _malformed("Missing required field Principal")
    for statement in statements:
        actions = statement.get("Action", statement.get("NotAction"))
        if actions is None or actions == []:
            return _malformed("Policy statement must contain actions.")
        for action in _as_list(actions):
            if not isinstance(action, str):
                return _malformed("Syntax errors in policy.")
            if action != "*" and (":" not in action or not action.split(":", 1)[0]):
                return _malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    for statement in statements:
        has_resource = "Resource" in statement or "NotResource" in statement
        if kind == "identity" and not has_resource:
            return _malformed("Policy statement must contain resources.")
        if kind == "trust" and has_resource:
            return _malformed("Has prohibited field Resource.")
    sids = [s["Sid"] for s in statements if s.get("Sid")]
    if len(sids) != len(set(sids)):
        return _malformed("Statement IDs (SID) in a single policy must be unique.")
    return None


def trust_policy(p: Mapping[str, Any], _: Lookup | None, member: str = "AssumeRolePolicyDocument") -> Rejection | None:
    """A role's trust policy follows the grammar, names a Principal, has no Resource and is at most
    2,048 characters without white space (CreateRole/UpdateAssumeRolePolicy; IAM quotas page)."""
    document = p.get(member)
    if not isinstance(document, str):
        return None
    problem = policy_problem(document, "trust")
    if problem:
        return problem
    if policy_size(document) > TRUST_POLICY_MAX:
        return _limit(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}")
    return None


def updated_trust_policy(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
    """UpdateAssumeRolePolicy: the new trust policy follows the same rules as CreateRole's."""
    return trust_policy(p, lookup, "PolicyDocument")


def managed_policy(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A managed policy (or a new version of one) follows the identity-policy grammar (no Principal,
    Action and Resource in every statement) and is at most 6,144 characters without white space
    (CreatePolicy/CreatePolicyVersion; IAM quotas page)."""
    document = p.get("PolicyDocument")
    if not isinstance(document, str):
        return None
    problem = policy_problem(document, "identity")
    if problem:
        return problem
    if policy_size(document) > MANAGED_POLICY_MAX:
        return _limit(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}")
    return None


def _inline_policy(entity: str, name_member: str):
    def rule(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
        document = p.get("PolicyDocument")
        if not isinstance(document, str):
            return None
        problem = policy_problem(document, "identity")
        if problem:
            return problem
        name = p.get(name_member)
        existing = lookup("inline_policies", entity=entity, name=name) if lookup else None
        others = {k: v for k, v in (existing or {}).items() if k != p.get("PolicyName")}
        total = policy_size(document) + sum(policy_size(doc) for doc in others.values())
        limit = INLINE_AGGREGATE_MAX[entity]
        if total > limit:
            return _limit(f"Maximum policy size of {limit} bytes exceeded for {entity} {name}")
        return None

    rule.__name__ = f"inline_{entity}_policy"
    rule.__doc__ = (f"An inline {entity} policy follows the identity-policy grammar, and all inline policies "
                    f"of the {entity} together are at most {INLINE_AGGREGATE_MAX[entity]:,} characters "
                    f"without white space (Put{entity.title()}Policy; IAM quotas page).")
    return rule


RULES = {
    "CreateRole": [trust_policy],
    "UpdateAssumeRolePolicy": [updated_trust_policy],
    "CreatePolicy": [managed_policy],
    "CreatePolicyVersion": [managed_policy],
    "PutRolePolicy": [_inline_policy("role", "RoleName")],
    "PutUserPolicy": [_inline_policy("user", "UserName")],
    "PutGroupPolicy": [_inline_policy("group", "GroupName")],
}
