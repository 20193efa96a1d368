"""The decision: AWS's policy evaluation logic over every policy type that applies to a request.

Sources (AWS IAM User Guide; each rule below names the page it comes from):

* "Policy evaluation logic" and "Determining whether a request is allowed or denied within an
  account" (reference_policies_evaluation-logic.html): explicit deny wins; SCPs must allow; a
  same-account resource-based policy that names the user or the session is enough on its own; one
  that names the role ARN is still limited by the permissions boundary and the session policy;
  KMS key policies and role trust policies must always allow; session principals need a session
  policy allow when one is passed; federated-user sessions need one.
* "Cross-account policy evaluation logic": both the identity side and the resource policy must allow.
* "Permissions boundaries for IAM entities": a boundary limits identity-based permissions; a Deny
  with NotPrincipal always denies a principal that has a boundary.
* AWS KMS Developer Guide, "Key policies in AWS KMS" and "Default key policy": every KMS key has
  exactly one key policy; without permission from it, IAM policies have no effect. When the caller
  gives none for a key, the default key policy (which delegates to the account) is assumed.
* AWS STS API Reference, "GetCallerIdentity": "No permissions are required to perform this
  operation", even under an explicit deny.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .conditions import conditions_hold
from .matching import Unresolved, action_matches, not_principal_applies, principal_grant, resource_matches
from .policy import KIND_LABELS, VARIABLES_VERSION, Policy, PolicyError, iter_statements
from .request import Caller, Context, Request, parse_caller, validate_request

__all__ = ["Decision", "MatchedStatement", "default_key_policy", "evaluate"]

@dataclass
class MatchedStatement:
    """A statement that decided (or contributed to) a decision, labelled as the caller named it."""

    policy: str
    index: int
    sid: str | None
    effect: str
    statement: dict
    kind: str = ""  # identity | resource | boundary | session | scp
    start: tuple[int, int] | None = None  # (line, column), 1-based, when the policy came from text
    end: tuple[int, int] | None = None

    def label(self) -> str:
        """'Statement[1] (Sid 'X') in the identity-based policy 'p.json'' - for messages."""
        sid = f" (Sid {self.sid!r})" if self.sid else ""
        kind = KIND_LABELS.get(self.kind, "policy")
        return f"Statement[{self.index}]{sid} in the {kind} {self.policy!r}"


@dataclass
class Decision:
    """The outcome of one evaluation, with the deciding statement and a one-sentence reason."""

    decision: str  # "allowed" | "explicit_deny" | "implicit_deny"
    statement: MatchedStatement | None
    reason: str
    matched: list[MatchedStatement] = field(default_factory=list)  # every statement that contributed
    missing_context_keys: list[str] = field(default_factory=list)  # referenced but absent keys
    allowed_by_boundary: bool | None = None  # None when no boundary was given
    allowed_by_scps: bool | None = None  # None when no SCP was given
    cross_account: bool = False
    identity_decision: str = "implicit_deny"  # the identity side alone (identity+boundary+session)
    resource_decision: str | None = None  # the resource policy alone; None when none was given
    # No key policy was given for a KMS key, so AWS's default key policy (this one) was evaluated.
    assumed_key_policy: Policy | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


def _statement_applies(
    statement: dict,
    request: Request,
    caller: Caller,
    ctx: Context,
    *,
    resource_policy: bool,
    boundary_present: bool,
) -> tuple[bool, str | None]:
    """Does the statement apply to the request? For resource policies also return the grant kind."""
    if not action_matches(statement, request.action):
        return False, None
    try:
        if not resource_matches(statement, request.resource, ctx):
            return False, None
        grant = None
        if resource_policy:
            if "Principal" in statement:
                grant = principal_grant(statement["Principal"], caller)
                if grant is None:
                    return False, None
            elif "NotPrincipal" in statement:
                if statement.get("Effect") != "Deny":
                    return False, None  # NotPrincipal with Allow is not supported: it grants nothing
                # "Permissions boundaries for IAM entities": a Deny with NotPrincipal always denies a
                # principal that has a permissions boundary, whatever NotPrincipal lists.
                if not boundary_present and not not_principal_applies(statement["NotPrincipal"], caller):
                    return False, None
            else:
                return False, None
        return conditions_hold(statement.get("Condition"), ctx), grant
    except Unresolved:
        return False, None


@dataclass
class _Layer:
    kind: str
    policies: list[Policy]
    deny: MatchedStatement | None = None
    allows: list[tuple[MatchedStatement, str | None]] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return bool(self.allows)

    def first_allow(self, grant: str | None = None) -> MatchedStatement | None:
        for statement, statement_grant in self.allows:
            if grant is None or statement_grant == grant:
                return statement
        return None

    def names(self) -> str:
        return ", ".join(repr(p.name) for p in self.policies)


def _evaluate_layer(
    kind: str,
    policies: Sequence[Policy],
    request: Request,
    caller: Caller,
    ctx: Context,
    boundary_present: bool,
) -> _Layer:
    layer = _Layer(kind=kind, policies=list(policies))
    for policy in policies:
        ctx.variables = policy.version == VARIABLES_VERSION
        for index, statement in enumerate(iter_statements(policy)):
            try:
                applies, grant = _statement_applies(
                    statement,
                    request,
                    caller,
                    ctx,
                    resource_policy=kind == "resource",
                    boundary_present=boundary_present,
                )
            except ValueError as exc:  # only reachable for a Policy built without parse_policy
                raise PolicyError(f"policy {policy.name!r}, Statement[{index}]: {exc}") from None
            if not applies:
                continue
            start, end = policy.positions[index] if index < len(policy.positions) else (None, None)
            sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) else None
            matched = MatchedStatement(
                policy=policy.name,
                index=index,
                sid=sid,
                effect=str(statement.get("Effect")),
                statement=statement,
                kind=kind,
                start=start,
                end=end,
            )
            if matched.effect == "Deny":
                layer.deny = layer.deny or matched
            elif matched.effect == "Allow":
                layer.allows.append((matched, grant))
    ctx.variables = True
    return layer


# --------------------------------------------------------------------------------------------
# The decision
# --------------------------------------------------------------------------------------------

_KMS_KEY_ARN = re.compile(r"arn:(?P<partition>aws[a-zA-Z-]*):kms:[a-z0-9-]+:(?P<account>\d{12}):key/.+")
DEFAULT_KEY_POLICY_NAME = "AWS default key policy"


def default_key_policy(key_arn: str) -> Policy | None:
    """The key policy AWS gives a KMS key created without one, or None if ``key_arn`` is not a key.

    AWS KMS Developer Guide, "Default key policy": its one statement, "Enable IAM User Permissions",
    allows kms:* to the key's account (``arn:aws:iam::ACCOUNT:root``), which delegates access to the
    IAM policies of that account.
    """
    match = _KMS_KEY_ARN.fullmatch(key_arn)
    if not match:
        return None
    root = f"arn:{match.group('partition')}:iam::{match.group('account')}:root"
    document = {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    return Policy(name=DEFAULT_KEY_POLICY_NAME, document=document)


def _caller_identity(caller: Caller) -> Decision:
    """sts:GetCallerIdentity: AWS STS API Reference, GetCallerIdentity: "No permissions are required
    to perform this operation. If an administrator attaches a policy to your identity that explicitly
    denies access to the sts:GetCallerIdentity action, you can still perform this operation." """
    if caller.kind == "anonymous":
        return Decision(
            "implicit_deny",
            None,
            "implicitly denied: sts:GetCallerIdentity needs no permission, but it answers only signed "
            "requests, and an anonymous caller has no credentials to sign with.",
        )
    return Decision(
        "allowed",
        None,
        "allowed: sts:GetCallerIdentity needs no permission; AWS answers it for any signed request, "
        "even when a policy explicitly denies it.",
        identity_decision="allowed",
    )


def _resource_policy_type(action: str, requested: str | None) -> str:
    """kms | trust | default: which same-account rule the resource-based policy follows."""
    if requested:
        if requested not in ("kms", "trust", "default"):
            raise ValueError(f"resource_policy_type must be kms, trust or default, not {requested!r}")
        return requested
    lowered = action.lower()
    if lowered.startswith("kms:"):
        return "kms"
    if lowered.startswith("sts:assumerole"):
        return "trust"
    return "default"


def evaluate(
    request: Request,
    identity: Sequence[Policy] = (),
    resource: Sequence[Policy] = (),
    boundary: Policy | None = None,
    scps: Sequence[Policy | Sequence[Policy]] = (),
    session: Policy | None = None,
    *,
    resource_policy_type: str | None = None,
) -> Decision:
    """Decide one request the way AWS's enforcement code does (see the module docstring).

    Each entry of ``scps`` is one level of the organization (root, OUs, account) and each level
    must allow, as in the simulator's OrderedOrganizationPolicyInputList; an entry may be a list of
    the SCPs attached at that level (any one of them allowing is enough for the level).
    ``resource_policy_type`` ("kms", "trust" or "default") picks the same-account rule; by default
    kms:* actions follow the KMS key-policy rule and sts:AssumeRole* the role-trust rule.

    For a kms:* action on a KMS key, pass the key's policy in ``resource``: it is always part of the
    decision. Without one, AWS's default key policy is assumed (``Decision.assumed_key_policy``).
    """
    validate_request(request)
    caller = parse_caller(request.principal)
    if request.action.lower() == "sts:getcalleridentity":
        return _caller_identity(caller)
    ctx = Context(request, caller)
    rp_type = _resource_policy_type(request.action, resource_policy_type)
    assumed_key_policy = default_key_policy(request.resource) if rp_type == "kms" and not resource else None
    if assumed_key_policy is not None:
        resource = [assumed_key_policy]
    what = f"{request.action} on {request.resource}"

    def layer(kind: str, policies: Iterable[Policy]) -> _Layer:
        return _evaluate_layer(kind, list(policies), request, caller, ctx, boundary is not None)

    scp_layers = [layer("scp", [level] if isinstance(level, Policy) else list(level)) for level in scps]
    res = layer("resource", resource)
    idn = layer("identity", identity)
    bnd = layer("boundary", [boundary]) if boundary is not None else None
    ses = layer("session", [session]) if session is not None else None

    # SCP context keys are not reported by the simulator; ours come from every policy, which is
    # the more useful answer offline.
    missing = sorted(ctx.missing.values(), key=str.lower)
    scps_apply = bool(scp_layers) and caller.kind not in ("service", "anonymous")
    allowed_by_scps = all(s.allowed and not s.deny for s in scp_layers) if scps_apply else None
    allowed_by_boundary = (bnd.allowed and not bnd.deny) if bnd else None

    identity_ok = idn.allowed or caller.kind == "root"
    boundary_ok = bnd is None or bnd.allowed
    session_ok = ses is None or ses.allowed
    federated_without_session = caller.kind == "federated-user" and ses is None
    identity_side = (
        identity_ok
        and boundary_ok
        and session_ok
        and not federated_without_session
        and caller.kind not in ("service", "anonymous")
    )
    resource_account = ctx.values.get("aws:resourceaccount", [None])[0] or caller.account
    cross_account = bool(caller.account and resource_account and resource_account != caller.account)

    def decide(
        decision: str,
        statement: MatchedStatement | None,
        reason: str,
        matched: list[MatchedStatement] | None = None,
    ) -> Decision:
        resource_decision = None
        if res.policies:
            resource_decision = "explicit_deny" if res.deny else "allowed" if res.allowed else "implicit_deny"
        identity_decision = "allowed" if identity_side else "implicit_deny"
        if idn.deny or (bnd and bnd.deny) or (ses and ses.deny):
            identity_decision = "explicit_deny"
        if decision == "implicit_deny" and missing:
            keys = ", ".join(missing)
            reason = f"{reason[:-1]} (the request context has no {keys}, which a Condition or variable uses)."
        return Decision(
            decision=decision,
            statement=statement,
            reason=reason,
            matched=matched if matched is not None else ([statement] if statement else []),
            missing_context_keys=missing,
            allowed_by_boundary=allowed_by_boundary,
            allowed_by_scps=allowed_by_scps,
            cross_account=cross_account,
            identity_decision=identity_decision,
            resource_decision=resource_decision,
            assumed_key_policy=assumed_key_policy,
        )

    # 1. Explicit deny anywhere wins (checked in the documented order).
    deny_layers = [*(scp_layers if scps_apply else []), res, idn, *(x for x in (bnd, ses) if x)]
    for deny_layer in deny_layers:
        if deny_layer.deny:
            return decide(
                "explicit_deny",
                deny_layer.deny,
                f"explicitly denied by {deny_layer.deny.label()}; an explicit Deny overrides every Allow.",
            )

    # 2. Every SCP level must allow (SCPs do not restrict service principals).
    if scps_apply:
        for scp_layer in scp_layers:
            if not scp_layer.allowed:
                return decide(
                    "implicit_deny",
                    None,
                    f"denied by the service control policy {scp_layer.names()}: no statement "
                    f"in it allows {what}, and every SCP level from the root to the account must allow it.",
                )

    def identity_statements() -> list[MatchedStatement]:
        return [m for m, _ in idn.allows]

    def limits() -> str:
        parts = [f"the permissions boundary {boundary.name!r}"] if boundary is not None else []
        if session is not None:
            parts.append(f"the session policy {session.name!r}")
        return (", within " + " and ".join(parts)) if parts else ""

    def identity_failure() -> str:
        """Why the identity side does not allow: the first layer that fails, as one sentence."""
        if caller.kind in ("service", "anonymous"):
            return (
                f"{caller.describe()} has no identity-based policies; "
                "only a resource-based policy can grant it access"
            )
        if federated_without_session:
            return "a federated-user session without a session policy has no permissions"
        if not identity_ok:
            return f"no identity-based policy allows {what}"
        if not boundary_ok:
            return f"denied by the permissions boundary {boundary.name!r}: no statement in it allows {what}"
        return f"denied by the session policy {session.name!r}: no statement in it allows {what}"

    def implicit(text: str) -> str:
        return text if text.startswith("denied by") else f"implicitly denied: {text}"

    def limiter_failure() -> str:
        """Why a grant to the role ARN fails: the boundary or the session policy does not allow."""
        if not boundary_ok:
            return f"denied by the permissions boundary {boundary.name!r}: no statement in it allows {what}"
        return f"denied by the session policy {session.name!r}: no statement in it allows {what}"

    direct = res.first_allow("direct")
    via_role = res.first_allow("role")
    via_account = res.first_allow("account")
    any_grant = direct or via_role or via_account

    # 3. Cross-account: both the caller's side and the resource-based policy must allow.
    if cross_account:
        if not identity_side:
            return decide(
                "implicit_deny",
                None,
                implicit(identity_failure()) + f"; a cross-account request (caller account "
                f"{caller.account}, resource account {resource_account}) needs an Allow on both sides.",
            )
        if not any_grant:
            names = f" {res.names()}" if res.policies else ""
            return decide(
                "implicit_deny",
                None,
                f"implicitly denied: no resource-based policy{names} in account {resource_account} allows "
                f"{what} for {caller.describe()}; a cross-account request needs an Allow on both sides.",
            )
        first = idn.first_allow() or any_grant
        return decide(
            "allowed",
            first,
            f"allowed: {first.label()} and {any_grant.label()} both allow {what} across accounts{limits()}.",
            identity_statements() + [m for m, _ in res.allows],
        )

    if caller.kind == "root" and not (rp_type in ("kms", "trust") and res.policies):
        return decide(
            "allowed",
            None,
            "allowed: the AWS account root user has full access unless an explicit deny or an SCP applies.",
        )

    role_grant_ok = via_role is not None and boundary_ok and session_ok

    # 4. KMS key policies and role trust policies must allow the principal themselves.
    if rp_type in ("kms", "trust") and res.policies:
        label = "KMS key policy" if rp_type == "kms" else "role trust policy"
        if direct or role_grant_ok:
            chosen = direct or via_role
            return decide(
                "allowed",
                chosen,
                f"allowed by {chosen.label()}, the {label}, which names {caller.describe()}.",
            )
        if via_account and identity_side:
            first = idn.first_allow() or via_account  # the root user needs no identity-based Allow
            return decide(
                "allowed",
                first,
                f"allowed by {first.label()}{limits()}; the {label} ({via_account.label()}) delegates "
                f"access to account {caller.account}, so IAM policies apply.",
                identity_statements() + [via_account],
            )
        if via_role and not role_grant_ok:
            return decide(
                "implicit_deny",
                None,
                limiter_failure() + f"; the {label} names the role ARN, "
                "and such grants stay limited by the permissions boundary and session policy.",
            )
        if via_account:
            return decide(
                "implicit_deny",
                None,
                implicit(identity_failure())
                + f"; the {label} ({via_account.label()}) only delegates to account {caller.account}.",
            )
        if caller.account:
            how = f"neither directly nor through account {caller.account}"
            then = "without that, IAM policies have no effect"
        else:  # a service principal or an anonymous caller belongs to no account
            how = "no Allow statement names it with a Condition that holds"
            then = f"{caller.describe()} has no identity-based policies, so only the {label} can allow it"
        return decide(
            "implicit_deny",
            None,
            f"implicitly denied: the {label} {res.names()} does not allow {what} for {caller.describe()} "
            f"({how}); {then}.",
        )

    # 5. Same account: a resource-based policy that names the user or session (or '*') is enough;
    #    one that names the role ARN is still limited by the boundary and the session policy.
    if direct:
        return decide(
            "allowed",
            direct,
            f"allowed by {direct.label()}, which grants {what} to {caller.describe()} directly; in the same "
            "account that is enough without an identity-based Allow.",
        )
    if role_grant_ok:
        return decide(
            "allowed",
            via_role,
            f"allowed by {via_role.label()}, which names the role {caller.role_arn}{limits()}.",
        )
    if identity_side:
        first = idn.first_allow()
        return decide("allowed", first, f"allowed by {first.label()}{limits()}.", identity_statements())

    reason = identity_failure()
    if via_account and not identity_ok and caller.kind not in ("service", "anonymous"):
        reason += (
            f"; {via_account.label()} only names account {caller.account}, which delegates to IAM "
            "policies instead of granting access by itself"
        )
    elif via_role:
        reason = (
            f"{limiter_failure()}, and a resource-based policy that names the role ARN "
            "is limited by the permissions boundary and the session policy"
        )
    elif not identity_ok and res.policies and caller.kind not in ("service", "anonymous"):
        reason += f", and no resource-based policy grants it to {caller.describe()}"
    return decide("implicit_deny", None, implicit(reason) + ".")
