"""Conformance cases for the IAM policy evaluator, one documented AWS rule per test.

Every docstring names its source: the AWS documentation page title, its URL, and the rule tested.
"""

from __future__ import annotations

import json

import pytest

from mlalab.engines.iam import Policy, PolicyError, Request, evaluate, parse_policy
from mlalab.engines.iam.findings import breadth_findings

ACCOUNT = "123456789012"
OTHER = "999999999999"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ml-role"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ml-role/alice"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
OBJECT = "arn:aws:s3:::models/prod/model.tar.gz"

EVAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
CROSS = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
)
CONDOPS = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
)
CONDITION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html"
MULTI = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html"
VARS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html"
ACTION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"
NOTACTION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html"
RESOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"
NOTRESOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html"
PRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
NOTPRINCIPAL = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html"
)
BOUNDARY = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
SCP = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"
KMS = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"
VERSION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html"
GRAMMAR = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"


def pol(name: str, *statements: dict, version: str | None = "2012-10-17") -> Policy:
    document: dict = {"Statement": list(statements)}
    if version:
        document = {"Version": version, **document}
    return parse_policy(name, document)


def allow(action="s3:GetObject", resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def req(action="s3:GetObject", resource=OBJECT, principal=ROLE, **context) -> Request:
    return Request(action=action, resource=resource, principal=principal, context=context)


def ctx_req(context: dict, action="s3:GetObject", resource=OBJECT, principal=ROLE) -> Request:
    return Request(action=action, resource=resource, principal=principal, context=context)


def with_condition(condition: dict, context: dict, principal=ROLE) -> str:
    """Decision of one Allow statement guarded by ``condition`` under ``context``."""
    policy = pol("id.json", allow(Condition=condition))
    return evaluate(ctx_req(context, principal=principal), identity=[policy]).decision


# --- evaluation order -----------------------------------------------------------------------


def test_explicit_deny_overrides_allow():
    """Policy evaluation logic (EVAL): "An explicit deny in any policy overrides any allows."
    The deciding statement is the Deny, not the Allow."""
    policy = pol("id.json", allow(Sid="Read"), deny(Sid="NoModels", resource="arn:aws:s3:::models/*"))
    decision = evaluate(req(), identity=[policy])
    assert decision.decision == "explicit_deny"
    assert (decision.statement.policy, decision.statement.index, decision.statement.sid) == (
        "id.json",
        1,
        "NoModels",
    )
    assert decision.reason == (
        "explicitly denied by Statement[1] (Sid 'NoModels') in the identity-based policy 'id.json'; "
        "an explicit Deny overrides every Allow."
    )


def test_no_allow_is_implicit_deny():
    """Policy evaluation logic (EVAL): "By default, all requests are implicitly denied" unless an
    Allow applies; an implicit deny has no deciding statement."""
    decision = evaluate(req("s3:PutObject"), identity=[pol("ro.json", allow())])
    assert decision.decision == "implicit_deny" and decision.statement is None and not decision.allowed
    assert decision.reason == f"implicitly denied: no identity-based policy allows s3:PutObject on {OBJECT}."


def test_identity_allow_names_deciding_statement():
    """Policy evaluation logic (EVAL): "If any statement in any applicable identity-based policies
    allows the requested action" (and nothing else limits it) the request is allowed."""
    decision = evaluate(
        req(), identity=[pol("a.json", allow("s3:PutObject")), pol("b.json", allow(Sid="Get"))]
    )
    assert decision.allowed
    assert (decision.statement.policy, decision.statement.index, decision.statement.sid) == (
        "b.json",
        0,
        "Get",
    )
    assert decision.reason == "allowed by Statement[0] (Sid 'Get') in the identity-based policy 'b.json'."


def test_deny_in_resource_policy_beats_identity_allow():
    """Policy evaluation logic (EVAL), Deny evaluation: the enforcement code looks for a Deny in all
    policies, resource-based ones included; one explicit deny returns a final Deny."""
    bucket = pol("bucket.json", {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    decision = evaluate(req(), identity=[pol("id.json", allow())], resource=[bucket])
    assert decision.decision == "explicit_deny" and decision.statement.policy == "bucket.json"


# --- Action / NotAction -------------------------------------------------------------------


def test_action_matching_is_case_insensitive():
    """IAM JSON policy elements: Action (ACTION): action names and service prefixes are
    case-insensitive ("iam:ListAccessKeys" is the same as "IAM:listaccesskeys")."""
    assert evaluate(req(), identity=[pol("p", allow("S3:getobject"))]).allowed


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [("s3:Get*", True), ("s3:GetObjec?", True), ("s3:Get?", False), ("*", True), ("s3:*Object", True)],
)
def test_action_wildcards(pattern, allowed):
    """IAM JSON policy elements: Action (ACTION): "*" matches any run of characters and "?" exactly
    one character, anywhere in the action name."""
    assert evaluate(req(), identity=[pol("p", allow(pattern))]).allowed is allowed


def test_notaction_with_allow_allows_everything_else():
    """IAM JSON policy elements: NotAction (NOTACTION): with Allow, the statement allows every
    action except the ones listed; the listed ones are implicitly denied."""
    policy = pol("p", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert evaluate(req("sagemaker:CreateModel", resource="*"), identity=[policy]).allowed
    assert evaluate(req("iam:CreateUser", resource="*"), identity=[policy]).decision == "implicit_deny"


def test_notaction_with_deny_denies_everything_else():
    """IAM JSON policy elements: NotAction (NOTACTION): "Deny with NotAction" denies every action
    not listed (the doc's MFA example), and does not deny the listed actions."""
    policy = pol("p", allow("*"), {"Effect": "Deny", "NotAction": ["iam:ListUsers"], "Resource": "*"})
    assert evaluate(req("iam:ListUsers", resource="*"), identity=[policy]).allowed
    assert evaluate(req("s3:GetObject"), identity=[policy]).decision == "explicit_deny"


# --- Resource / NotResource --------------------------------------------------------------


def test_resource_matching_is_case_sensitive():
    """IAM JSON policy elements: Resource (RESOURCE): resource ARNs are case sensitive, so a
    pattern for bucket "Models" does not match bucket "models"."""
    policy = pol("p", allow(resource="arn:aws:s3:::Models/*"))
    assert evaluate(req(), identity=[policy]).decision == "implicit_deny"


@pytest.mark.parametrize(
    ("pattern", "resource", "allowed"),
    [
        ("arn:aws:s3:::models/*", "arn:aws:s3:::models/a/b/c.tar.gz", True),
        (
            "arn:aws:sagemaker:*:123456789012:endpoint/*",
            "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
            True,
        ),
        ("arn:aws:s3:::model?/*", OBJECT, True),
        ("arn:aws:s3:::models/dev/*", OBJECT, False),
    ],
)
def test_resource_wildcards_span_slashes_and_colons(pattern, resource, allowed):
    """IAM JSON policy elements: Resource (RESOURCE): wildcards (* and ?) can be used in the ARN;
    "*" matches across "/" (object paths) and ":"-separated segments such as the region."""
    assert evaluate(req(resource=resource), identity=[pol("p", allow(resource=pattern))]).allowed is allowed


def test_notresource_with_allow():
    """IAM JSON policy elements: NotResource (NOTRESOURCE): with Allow, the statement applies to
    every resource except those listed."""
    policy = pol("p", {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secrets/*"})
    assert evaluate(req(), identity=[policy]).allowed
    assert evaluate(req(resource="arn:aws:s3:::secrets/k"), identity=[policy]).decision == "implicit_deny"


# --- SCPs, boundaries, session policies ---------------------------------------------------


def test_scp_must_allow():
    """Policy evaluation logic (EVAL), Organizations SCPs: "If the enforcement code does not find any
    applicable Allow statements in the SCPs, then the request is implicitly denied"."""
    decision = evaluate(req(), identity=[pol("id", allow())], scps=[pol("scp-ec2-only", allow("ec2:*"))])
    assert decision.decision == "implicit_deny"
    assert decision.reason.startswith(
        "denied by the service control policy 'scp-ec2-only': no statement in it"
    )
    assert decision.allowed_by_scps is False


def test_every_scp_level_must_allow():
    """How SCPs work (SCP): at every level of the organization (root, OU, account) an SCP must allow
    the action; an Allow at the root does not help if the OU's SCP does not allow it."""
    root = pol("root", allow("*"))
    ou = pol("ou", allow("sagemaker:*"))
    identity = [pol("id", allow("*"))]
    assert evaluate(req("sagemaker:CreateModel", resource="*"), identity=identity, scps=[root, ou]).allowed
    decision = evaluate(req(), identity=identity, scps=[root, ou])
    assert decision.decision == "implicit_deny" and "'ou'" in decision.reason


def test_scp_explicit_deny():
    """How SCPs work (SCP): a Deny in an SCP overrides any Allow in the account."""
    scp = pol("scp", allow("*"), deny(Sid="NoS3Delete", action="s3:Delete*"))
    decision = evaluate(req("s3:DeleteObject"), identity=[pol("id", allow("*"))], scps=[scp])
    assert decision.decision == "explicit_deny" and decision.statement.sid == "NoS3Delete"


def test_permissions_boundary_must_allow():
    """Permissions boundaries for IAM entities (BOUNDARY): "the entity can perform only the actions
    that are allowed by both its identity-based policies and its permissions boundaries"."""
    decision = evaluate(
        req("s3:PutObject"), identity=[pol("id", allow("s3:*"))], boundary=pol("pb.json", allow())
    )
    assert decision.decision == "implicit_deny"
    assert decision.reason == (
        f"denied by the permissions boundary 'pb.json': no statement in it allows s3:PutObject on {OBJECT}."
    )
    assert decision.allowed_by_boundary is False
    assert evaluate(req(), identity=[pol("id", allow("s3:*"))], boundary=pol("pb.json", allow())).allowed


def test_permissions_boundary_grants_nothing_by_itself():
    """Permissions boundaries for IAM entities (BOUNDARY): a boundary "limits the user's permissions
    but does not provide permissions on its own"."""
    decision = evaluate(req(), identity=[], boundary=pol("pb", allow("*")))
    assert decision.decision == "implicit_deny" and decision.allowed_by_boundary is True


def test_session_policy_limits_role_session():
    """Policy evaluation logic (EVAL), Session policies: "If a session policy is present and does not
    allow the requested action, then the request is implicitly denied"."""
    decision = evaluate(
        req(principal=SESSION), identity=[pol("id", allow("s3:*"))], session=pol("sp.json", allow("s3:List*"))
    )
    assert decision.decision == "implicit_deny"
    assert decision.reason.startswith("denied by the session policy 'sp.json'")
    assert evaluate(
        req(principal=SESSION), identity=[pol("id", allow("s3:*"))], session=pol("sp", allow())
    ).allowed


def test_federated_user_session_needs_session_policy():
    """Policy evaluation logic (EVAL), Session policies: with no session policy, a session principal
    that is not a role session is implicitly denied."""
    federated = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    assert evaluate(req(principal=federated), identity=[pol("id", allow())]).decision == "implicit_deny"
    assert evaluate(
        req(principal=federated), identity=[pol("id", allow())], session=pol("s", allow())
    ).allowed


# --- resource-based policies in the same account ------------------------------------------


def bucket_policy(principal, action="s3:GetObject", **extra) -> Policy:
    return pol(
        "bucket.json",
        {"Sid": "Grant", "Effect": "Allow", "Principal": principal, "Action": action,
         "Resource": "arn:aws:s3:::models/*", **extra},
    )  # fmt: skip


def test_same_account_resource_policy_naming_user_is_enough():
    """Policy evaluation logic (EVAL), Resource-based policies: "For most resources, you only need an
    explicit allow for the principal in either an identity-based policy or a resource-based policy";
    a grant to an IAM user ARN is not limited by an implicit deny in identity policies or a boundary."""
    decision = evaluate(
        req(principal=USER), resource=[bucket_policy({"AWS": USER})], boundary=pol("pb", allow("ec2:*"))
    )
    assert decision.allowed
    assert (decision.statement.policy, decision.statement.sid) == ("bucket.json", "Grant")


def test_resource_policy_naming_role_session_is_not_limited_by_boundary():
    """Policy evaluation logic (EVAL), IAM role session: permissions granted directly to a role
    session ARN "are not limited by an implicit deny in an identity-based policy, a permissions
    boundary, or session policy"."""
    decision = evaluate(
        req(principal=SESSION), resource=[bucket_policy({"AWS": SESSION})],
        boundary=pol("pb", allow("ec2:*")), session=pol("sp", allow("ec2:*")),
    )  # fmt: skip
    assert decision.allowed and decision.statement.policy == "bucket.json"


def test_resource_policy_naming_role_arn_is_limited_by_boundary():
    """Policy evaluation logic (EVAL), IAM role: "Resource-based policies that grant permissions to an
    IAM role ARN are limited by an implicit deny in a permissions boundary or session policy"."""
    decision = evaluate(
        req(principal=SESSION),
        resource=[bucket_policy({"AWS": ROLE})],
        boundary=pol("pb.json", allow("ec2:*")),
    )
    assert decision.decision == "implicit_deny"
    assert decision.reason.startswith("denied by the permissions boundary 'pb.json'")
    assert "names the role ARN" in decision.reason


def test_resource_policy_naming_role_arn_needs_no_identity_allow():
    """Policy evaluation logic (EVAL): within the same account an Allow in the resource-based policy
    for the role is enough without an identity-based Allow (only boundary/session limit it)."""
    decision = evaluate(req(principal=SESSION), resource=[bucket_policy({"AWS": ROLE})])
    assert decision.allowed and decision.statement.policy == "bucket.json"
    with_boundary = evaluate(
        req(principal=SESSION), resource=[bucket_policy({"AWS": ROLE})], boundary=pol("pb", allow())
    )
    assert with_boundary.allowed


def test_account_principal_delegates_to_identity_policies():
    """AWS JSON policy elements: Principal (PRINCIPAL), AWS account principals: naming an account
    "delegates authority to the account"; an identity-based policy must still grant access."""
    for principal in ({"AWS": ACCOUNT}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}):
        decision = evaluate(req(), resource=[bucket_policy(principal)])
        assert decision.decision == "implicit_deny"
        assert f"only names account {ACCOUNT}" in decision.reason
        assert evaluate(req(), identity=[pol("id", allow())], resource=[bucket_policy(principal)]).allowed


def test_wildcard_principal_grants_directly():
    """AWS JSON policy elements: Principal (PRINCIPAL), All principals: "*" (or {"AWS": "*"}) grants to
    everyone; boundaries and session policies "do not limit permissions granted using ... a wildcard
    (*) in the Principal element"."""
    for principal in ("*", {"AWS": "*"}):
        decision = evaluate(
            req(principal=SESSION), resource=[bucket_policy(principal)], boundary=pol("pb", allow("ec2:*"))
        )
        assert decision.allowed


def test_service_principal():
    """AWS JSON policy elements: Principal (PRINCIPAL), AWS service principals: {"Service":
    "sagemaker.amazonaws.com"} matches only that service; a service has no identity policies."""
    policy = bucket_policy({"Service": "sagemaker.amazonaws.com"})
    assert evaluate(req(principal="sagemaker.amazonaws.com"), resource=[policy]).allowed
    other = evaluate(req(principal="lambda.amazonaws.com"), resource=[policy])
    assert other.decision == "implicit_deny" and "only a resource-based policy can grant it" in other.reason
    assert evaluate(req(principal=ROLE), resource=[policy]).decision == "implicit_deny"


def test_not_principal_deny_spares_only_listed_chain():
    """AWS JSON policy elements: NotPrincipal (NOTPRINCIPAL): a Deny with NotPrincipal denies everyone
    except the listed principals; list the account ARN too, or the account (and so the user) is denied."""
    spared = {"AWS": [USER, f"arn:aws:iam::{ACCOUNT}:root"]}
    bucket = pol(
        "bucket", {"Effect": "Deny", "NotPrincipal": spared, "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
    )  # fmt: skip
    assert evaluate(req(principal=USER), resource=[bucket]).allowed
    assert (
        evaluate(req(principal=f"arn:aws:iam::{ACCOUNT}:user/bob"), resource=[bucket]).decision
        == "explicit_deny"
    )
    only_user = pol(
        "b2", {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}
    )
    assert evaluate(req(principal=USER), resource=[only_user]).decision == "explicit_deny"


def test_not_principal_deny_always_denies_principal_with_boundary():
    """Permissions boundaries for IAM entities (BOUNDARY): "The NotPrincipal element with a Deny effect
    will always deny any IAM principal that has a permissions boundary policy attached"."""
    spared = {"AWS": [SESSION, ROLE, f"arn:aws:iam::{ACCOUNT}:root"]}
    bucket = pol("bucket", {"Effect": "Deny", "NotPrincipal": spared, "Action": "s3:*", "Resource": "*"})
    identity = [pol("id", allow())]
    assert evaluate(req(principal=SESSION), identity=identity, resource=[bucket]).allowed
    decision = evaluate(
        req(principal=SESSION), identity=identity, resource=[bucket], boundary=pol("pb", allow())
    )
    assert decision.decision == "explicit_deny"


# --- KMS key policies, trust policies, cross-account --------------------------------------


KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def key_policy(principal) -> Policy:
    return pol(
        "key-policy", {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:*", "Resource": "*"}
    )


def test_kms_key_policy_must_allow():
    """Key policies in AWS KMS (KMS): "Unless the key policy explicitly allows it, you cannot use IAM
    policies to allow access to a KMS key"; Policy evaluation logic (EVAL) lists KMS key policies as
    an exception to the either-policy-is-enough rule."""
    identity = [pol("id", allow("kms:Decrypt"))]
    other_role = f"arn:aws:iam::{ACCOUNT}:role/admin"
    decision = evaluate(
        req("kms:Decrypt", resource=KEY), identity=identity, resource=[key_policy(other_role)]
    )
    assert decision.decision == "implicit_deny" and "KMS key policy" in decision.reason
    # The default key policy statement (account root) enables IAM policies.
    enabled = evaluate(
        req("kms:Decrypt", resource=KEY),
        identity=identity,
        resource=[key_policy(f"arn:aws:iam::{ACCOUNT}:root")],
    )
    assert enabled.allowed and enabled.statement.policy == "id"
    # Naming the role in the key policy is enough without an IAM policy.
    assert evaluate(req("kms:Decrypt", resource=KEY), resource=[key_policy(ROLE)]).allowed


def test_role_trust_policy_must_allow():
    """Policy evaluation logic (EVAL): IAM role trust policies are an exception: they must
    explicitly allow the principal; an identity-based Allow for sts:AssumeRole is not enough."""
    target = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    trust = pol(
        "trust",
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"},
    )
    identity = [pol("id", allow("sts:AssumeRole"))]
    assert evaluate(
        req("sts:AssumeRole", resource=target, principal=USER), identity=identity, resource=[trust]
    ).decision == ("implicit_deny")
    trusting = pol("trust", {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    assert evaluate(
        req("sts:AssumeRole", resource=target, principal=USER), identity=identity, resource=[trusting]
    ).allowed


QUEUE = f"arn:aws:sqs:us-east-1:{OTHER}:jobs"


def queue_policy(principal) -> Policy:
    return pol(
        "queue.json",
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sqs:SendMessage", "Resource": QUEUE},
    )


def test_cross_account_needs_both_sides():
    """Cross-account policy evaluation logic (CROSS): the identity-based policy in the requesting
    account and the resource-based policy in the trusting account must both allow."""
    identity = [pol("id", allow("sqs:SendMessage"))]
    request = req("sqs:SendMessage", resource=QUEUE)
    no_resource_policy = evaluate(request, identity=identity)
    assert no_resource_policy.decision == "implicit_deny" and no_resource_policy.cross_account
    assert f"account {OTHER}" in no_resource_policy.reason
    assert evaluate(request, identity=identity, resource=[queue_policy(ACCOUNT)]).allowed
    only_resource = evaluate(request, resource=[queue_policy(ROLE)])
    assert (
        only_resource.decision == "implicit_deny" and "needs an Allow on both sides" in only_resource.reason
    )


def test_cross_account_resource_account_from_context():
    """Cross-account policy evaluation logic (CROSS) with S3 (no account in the ARN): the resource
    owner is given as aws:ResourceAccount, and the bucket policy must then allow."""
    request = ctx_req({"aws:ResourceAccount": OTHER})
    assert evaluate(request, identity=[pol("id", allow())]).decision == "implicit_deny"
    assert evaluate(
        request, identity=[pol("id", allow())], resource=[bucket_policy({"AWS": ACCOUNT})]
    ).allowed


def test_root_user_has_full_access_unless_denied():
    """Policy evaluation logic (EVAL): "all requests are implicitly denied with the exception of the
    AWS account root user, which has full access"; an explicit deny still applies."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    assert evaluate(req(principal=root)).allowed
    bucket = pol("b", {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})
    assert evaluate(req(principal=root), resource=[bucket]).decision == "explicit_deny"


# --- condition operators ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("StringEquals", "ml-team", "ml-team", "allowed"),
        ("StringEquals", "ml-team", "ML-team", "implicit_deny"),  # values are case-sensitive
        ("StringNotEquals", "ml-team", "data-team", "allowed"),
        ("StringEqualsIgnoreCase", "ml-team", "ML-Team", "allowed"),
        ("StringNotEqualsIgnoreCase", "ml-team", "ML-TEAM", "implicit_deny"),
        ("StringLike", "ml-*", "ml-platform", "allowed"),
        ("StringLike", "ml-?", "ml-ab", "implicit_deny"),
        ("StringNotLike", "ml-*", "data", "allowed"),
    ],
)
def test_string_operators(operator, policy_value, request_value, expected):
    """IAM JSON policy elements: Condition operators (CONDOPS), String condition operators: exact
    case-sensitive matching, IgnoreCase variants, StringLike with * and ? wildcards, negations."""
    condition = {operator: {"aws:PrincipalTag/team": policy_value}}
    assert with_condition(condition, {"aws:PrincipalTag/team": request_value}) == expected


@pytest.mark.parametrize(
    ("operator", "request_value", "expected"),
    [
        ("NumericEquals", "10", "allowed"), ("NumericNotEquals", "10", "implicit_deny"),
        ("NumericLessThan", "9.5", "allowed"), ("NumericLessThan", "10", "implicit_deny"),
        ("NumericLessThanEquals", "10", "allowed"), ("NumericGreaterThan", "11", "allowed"),
        ("NumericGreaterThanEquals", "10", "allowed"), ("NumericGreaterThanEquals", "9", "implicit_deny"),
        ("NumericEquals", "ten", "implicit_deny"),
    ],
)  # fmt: skip
def test_numeric_operators(operator, request_value, expected):
    """IAM JSON policy elements: Condition operators (CONDOPS), Numeric condition operators compare a
    key to an integer or decimal value (the doc's s3:max-keys example)."""
    assert with_condition({operator: {"s3:max-keys": "10"}}, {"s3:max-keys": request_value}) == expected


@pytest.mark.parametrize(
    ("operator", "request_value", "expected"),
    [
        ("DateLessThan", "2029-12-31T23:59:59Z", "allowed"),
        ("DateLessThan", "1893456000", "implicit_deny"),  # epoch of 2030-01-01T00:00:00Z
        ("DateLessThanEquals", "1893456000", "allowed"),
        ("DateEquals", "2030-01-01T01:00:00+01:00", "allowed"),
        ("DateNotEquals", "2030-01-01", "implicit_deny"),
        ("DateGreaterThan", "2030-01-02", "allowed"),
        ("DateGreaterThanEquals", "2029-06-01T00:00:00Z", "implicit_deny"),
    ],
)
def test_date_operators_accept_iso8601_and_epoch(operator, request_value, expected):
    """IAM JSON policy elements: Condition operators (CONDOPS), Date condition operators: values use
    the W3C ISO 8601 date formats or epoch (UNIX) time."""
    condition = {operator: {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}
    assert with_condition(condition, {"aws:CurrentTime": request_value}) == expected


def test_bool_operator_secure_transport_deny():
    """IAM JSON policy elements: Condition operators (CONDOPS), Boolean: the doc's example denies S3
    when aws:SecureTransport is "false"."""
    policy = pol(
        "p", allow("s3:*"), deny("s3:*", Sid="TLS", Condition={"Bool": {"aws:SecureTransport": "false"}})
    )
    assert evaluate(ctx_req({"aws:SecureTransport": "false"}), identity=[policy]).decision == "explicit_deny"
    assert evaluate(ctx_req({"aws:SecureTransport": "true"}), identity=[policy]).allowed
    assert evaluate(ctx_req({"aws:SecureTransport": True}), identity=[policy]).allowed


@pytest.mark.parametrize(
    ("operator", "source_ip", "expected"),
    [
        ("IpAddress", "203.0.113.7", "allowed"),
        ("IpAddress", "198.51.100.7", "implicit_deny"),
        ("IpAddress", "2001:db8:1234:5678::1", "allowed"),
        ("NotIpAddress", "198.51.100.7", "allowed"),
        ("NotIpAddress", "203.0.113.200", "implicit_deny"),
    ],
)
def test_ip_address_operators(operator, source_ip, expected):
    """IAM JSON policy elements: Condition operators (CONDOPS), IP address condition operators: CIDR
    ranges, IPv4 and IPv6 mixed in one condition; NotIpAddress matches everything else."""
    condition = {operator: {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}
    assert with_condition(condition, {"aws:SourceIp": source_ip}) == expected


def test_arn_like_matches_components_separately():
    """IAM JSON policy elements: Condition operators (CONDOPS), ARN operators: "Each of the six
    colon-delimited components of the ARN is checked separately"; the doc's example matches with
    StringLike but not with ArnLike."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert with_condition({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value}) == "allowed"
    assert (
        with_condition({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value}) == "implicit_deny"
    )
    good = "arn:aws:someservice:us-east-2:111122223333:finance/a:b.txt"
    assert with_condition({"ArnEquals": {"aws:SourceArn": pattern}}, {"aws:SourceArn": good}) == "allowed"
    assert (
        with_condition({"ArnNotLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": good}) == "implicit_deny"
    )


def test_binary_equals():
    """IAM JSON policy elements: Condition operators (CONDOPS), BinaryEquals compares byte for byte
    against a base-64 encoded value."""
    condition = {"BinaryEquals": {"custom:blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}
    assert with_condition(condition, {"custom:blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}) == "allowed"
    assert with_condition(condition, {"custom:blob": "b3RoZXI="}) == "implicit_deny"


def test_missing_key_positive_operator_is_false():
    """IAM JSON policy elements: Condition operators (CONDOPS): "If the key that you specify in a
    policy condition is not present in the request context, the values do not match and the
    condition is false"; the evaluator lists the key as missing."""
    decision = evaluate(
        ctx_req({}), identity=[pol("p", allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "ml"}}))]
    )
    assert decision.decision == "implicit_deny"
    assert decision.missing_context_keys == ["aws:PrincipalTag/team"]
    assert "the request context has no aws:PrincipalTag/team" in decision.reason


@pytest.mark.parametrize(
    "operator", ["StringNotEquals", "StringNotLike", "ArnNotLike", "NotIpAddress", "NumericNotEquals"]
)
def test_missing_key_negated_operator_is_true(operator):
    """IAM JSON policy elements: Condition operators (CONDOPS): "If the policy condition requires that
    the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present,
    the condition is true"."""
    value = {"NotIpAddress": "10.0.0.0/8", "NumericNotEquals": "1", "ArnNotLike": "arn:aws:s3:::x"}.get(
        operator, "x"
    )
    assert with_condition({operator: {"custom:key": value}}, {}) == "allowed"


def test_if_exists_on_missing_key_is_true():
    """IAM JSON policy elements: Condition operators (CONDOPS), ...IfExists: "If the key is not
    present, evaluate the condition element as true"; if present, it is checked as usual."""
    condition = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}
    assert with_condition(condition, {}) == "allowed"
    assert with_condition(condition, {"ec2:InstanceType": "t2.micro"}) == "allowed"
    assert with_condition(condition, {"ec2:InstanceType": "p4d.24xlarge"}) == "implicit_deny"


def test_null_operator():
    """IAM JSON policy elements: Condition operators (CONDOPS), Null: "true" (the key doesn't exist)
    or "false" (the key exists and its value is not null)."""
    assert with_condition({"Null": {"aws:TokenIssueTime": "true"}}, {}) == "allowed"
    assert (
        with_condition({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2030-01-01"})
        == "implicit_deny"
    )
    assert (
        with_condition({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2030-01-01"})
        == "allowed"
    )


def test_for_all_values():
    """Creating a condition with multiple keys or values (MULTI): ForAllValues is true when every
    request value matches a policy value, and also when the request has no values for the key."""
    condition = {
        "ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}
    }
    assert (
        with_condition(condition, {"dynamodb:requestedAttributes": ["PostDateTime", "Message"]}) == "allowed"
    )
    assert (
        with_condition(condition, {"dynamodb:requestedAttributes": ["PostDateTime", "UserName"]})
        == "implicit_deny"
    )
    assert with_condition(condition, {}) == "allowed"
    assert with_condition(condition, {"dynamodb:requestedAttributes": [""]}) == "allowed"


def test_for_any_value():
    """Creating a condition with multiple keys or values (MULTI): ForAnyValue is true when any request
    value matches any policy value and false when the key is absent (the doc's PutItem Deny)."""
    policy = pol(
        "p", allow("dynamodb:PutItem"),
        deny("dynamodb:PutItem",
             Condition={"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}),
    )  # fmt: skip
    put = "dynamodb:PutItem"
    attributes = {"dynamodb:requestedAttributes": ["UserName", "Message", "PostDateTime"]}
    assert evaluate(ctx_req(attributes, action=put), identity=[policy]).decision == "explicit_deny"
    assert evaluate(
        ctx_req({"dynamodb:requestedAttributes": ["UserName"]}, action=put), identity=[policy]
    ).allowed
    assert evaluate(ctx_req({}, action=put), identity=[policy]).allowed


def test_negated_set_operators():
    """Creating a condition with multiple keys or values (MULTI): with a set qualifier the negated
    operator is applied to each request value (ForAnyValue:StringNotEquals: some value is not listed)."""
    condition = {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team", "project"]}}
    assert with_condition(condition, {"aws:TagKeys": ["team", "cost-center"]}) == "allowed"
    assert with_condition(condition, {"aws:TagKeys": ["team"]}) == "implicit_deny"


def test_condition_and_or_logic():
    """IAM JSON policy elements: Condition (CONDITION): several operators are ANDed, several keys in
    one operator are ANDed, and several values for one key are ORed."""
    condition = {
        "StringEquals": {"aws:PrincipalTag/team": ["ml", "data"], "aws:RequestedRegion": "us-east-1"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    good = {
        "aws:PrincipalTag/team": "data",
        "aws:RequestedRegion": "us-east-1",
        "aws:SecureTransport": "true",
    }
    assert with_condition(condition, good) == "allowed"
    assert with_condition(condition, {**good, "aws:RequestedRegion": "eu-west-1"}) == "implicit_deny"
    assert with_condition(condition, {**good, "aws:SecureTransport": "false"}) == "implicit_deny"


def test_condition_key_names_are_case_insensitive():
    """IAM policy elements: Variables and tags (VARS): "Key names are case-insensitive. For example,
    aws:CurrentTime is equivalent to AWS:currenttime" - values stay case-sensitive."""
    assert (
        with_condition({"IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}, {"aws:sourceip": "10.1.2.3"})
        == "allowed"
    )


# --- policy variables ---------------------------------------------------------------------


def test_username_variable_in_resource():
    """IAM policy elements: Variables and tags (VARS): ${aws:username} is replaced with the friendly
    name of the current user; for a role it is not present, so the statement does not apply."""
    policy = pol("p", allow("s3:*", resource="arn:aws:s3:::home/${aws:username}/*"))
    assert evaluate(
        req(resource="arn:aws:s3:::home/alice/notes.txt", principal=USER), identity=[policy]
    ).allowed
    assert evaluate(
        req(resource="arn:aws:s3:::home/bob/notes.txt", principal=USER), identity=[policy]
    ).decision == ("implicit_deny")
    as_role = evaluate(req(resource="arn:aws:s3:::home/alice/notes.txt", principal=ROLE), identity=[policy])
    assert as_role.decision == "implicit_deny" and as_role.missing_context_keys == ["aws:username"]


def test_principal_tag_variable_in_condition():
    """IAM policy elements: Variables and tags (VARS): a tag such as ${aws:PrincipalTag/department}
    can be used as a variable in string conditions."""
    condition = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    context = {"aws:PrincipalTag/team": "ml", "aws:ResourceTag/team": "ml"}
    assert with_condition(condition, context) == "allowed"
    assert with_condition(condition, {**context, "aws:ResourceTag/team": "data"}) == "implicit_deny"


def test_special_character_variables_are_literal():
    """IAM policy elements: Variables and tags (VARS), Special characters: ${*}, ${?} and ${$} stand
    for a literal *, ? and $ instead of wildcards."""
    policy = pol("p", allow(resource="arn:aws:s3:::models/${*}"))
    assert evaluate(req(resource="arn:aws:s3:::models/*"), identity=[policy]).allowed
    assert evaluate(req(resource="arn:aws:s3:::models/x"), identity=[policy]).decision == "implicit_deny"
    dollar = pol("p", allow(resource="arn:aws:s3:::models/${$}cost${?}"))
    assert evaluate(req(resource="arn:aws:s3:::models/$cost?"), identity=[dollar]).allowed


def test_variable_default_value():
    """IAM policy elements: Variables and tags (VARS), Specifying default values: ${aws:userid,
    'anonymous'} uses 'anonymous' when the key is not in the request."""
    policy = pol("p", allow(resource="arn:aws:s3:::home/${aws:username, 'shared'}/*"))
    assert evaluate(req(resource="arn:aws:s3:::home/shared/f", principal=ROLE), identity=[policy]).allowed


def test_variables_need_version_2012_10_17():
    """IAM JSON policy elements: Version (VERSION) and Variables (VARS): without Version 2012-10-17,
    "variables like ${aws:username} are treated as literal strings"."""
    old = pol("p", allow(resource="arn:aws:s3:::home/${aws:username}/*"), version=None)
    assert (
        evaluate(req(resource="arn:aws:s3:::home/alice/f", principal=USER), identity=[old]).decision
        == "implicit_deny"
    )
    assert evaluate(
        req(resource="arn:aws:s3:::home/${aws:username}/f", principal=USER), identity=[old]
    ).allowed


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"Version": "2012-10-17",\n "Statement": [\n  {"Effect": "Allow" "Action": "s3:*"}]}',
         "policy 'p.json' is not valid JSON: Expecting ',' delimiter at line 3, column 22"),
        ({"Version": "2012-10-17"}, "policy 'p.json': has no Statement element"),
        ({"Version": "2012-10-18", "Statement": []},
         "policy 'p.json': Version must be \"2012-10-17\" (or the legacy \"2008-10-17\"), got '2012-10-18'"),
        ({"Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]},
         "policy 'p.json', Statement[0]: Effect must be \"Allow\" or \"Deny\", got 'allow'"),
        ({"Statement": [{"Sid": "X", "Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*",
                         "Resource": "*"}]},
         "policy 'p.json', Statement[0] (Sid 'X'): has both Action and NotAction; use one of them"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*"}]},
         "policy 'p.json', Statement[0]: has neither Resource nor NotResource "
         "(identity-based policies must name resources)"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                         "Condition": {"StringEqual": {"aws:SourceIp": "x"}}}]},
         "policy 'p.json', Statement[0]: unknown condition operator 'StringEqual'"),
        ({"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]},
         "policy 'p.json', Statement[0]: Action 'GetObject' has no service prefix "
         "(expected e.g. \"s3:GetObject\")"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resources": "*"}]},
         "policy 'p.json', Statement[0]: unknown element 'Resources' (allowed: Sid, Effect, Principal, "
         "NotPrincipal, Action, NotAction, Resource, NotResource, Condition)"),
    ],
)  # fmt: skip
def test_parse_errors_name_policy_and_problem(document, message):
    """IAM JSON policy grammar (GRAMMAR): a policy needs a Statement; Effect is Allow or Deny; a
    statement has Action or NotAction (not both); identity policies need Resource or NotResource;
    condition operators come from the documented list; Version is 2012-10-17 or 2008-10-17."""
    with pytest.raises(PolicyError) as error:
        parse_policy("p.json", document if isinstance(document, str) else json.dumps(document))
    assert str(error.value) == message


def test_principal_rejected_in_identity_policy():
    """AWS JSON policy elements: Principal (PRINCIPAL): "You cannot use the Principal element in an
    identity-based policy"."""
    document = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
    with pytest.raises(PolicyError) as error:
        parse_policy("id.json", document, kind="identity")
    assert str(error.value) == (
        "policy 'id.json', Statement[0]: Principal is not allowed in an identity-based policy "
        "(only resource-based policies name principals)"
    )


def test_statement_positions_are_reported():
    """IAM API Reference, Statement (SimulateCustomPolicy results): StartPosition/EndPosition give the
    line and column of the beginning and end of the matched statement."""
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n'
        '    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}\n  ]\n}'
    )
    decision = evaluate(req(), identity=[parse_policy("p", text)])
    assert (decision.statement.start, decision.statement.end) == ((4, 5), (4, 58))


# --- breadth findings (least privilege) ---------------------------------------------------

BEST = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"
CHECKS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"


def codes(policy: Policy) -> list[tuple[str, int]]:
    return [(f.code, f.statement_index) for f in breadth_findings(policy)]


def test_findings_action_and_service_wildcards():
    """Security best practices in IAM (BEST), "Apply least-privilege permissions": grant only the
    actions required; "*" and "service:*" grant every action."""
    policy = pol(
        "admin.json",
        allow("*", Sid="Admin"),
        allow(["s3:*", "sagemaker:InvokeEndpoint"], resource="arn:aws:s3:::b/*"),
    )
    findings = breadth_findings(policy)
    assert [(f.code, f.statement_index, f.sid) for f in findings] == [
        ("ACTION_STAR", 0, "Admin"),
        ("RESOURCE_STAR_NO_CONDITION", 0, "Admin"),
        ("PASSROLE_STAR", 0, "Admin"),
        ("SERVICE_STAR", 1, None),
    ]
    assert findings[0].message.startswith("Statement[0] (Sid 'Admin') of 'admin.json' allows every action")
    assert "s3:*" in findings[3].message


def test_findings_resource_star_exempts_star_only_actions_and_conditions():
    """Security best practices in IAM (BEST): name resources; actions that support no resource-level
    permissions (cloudwatch:PutMetricData, ecr:GetAuthorizationToken...) can only use "*", and a
    Condition can narrow a "*" resource."""
    assert codes(pol("p", allow("s3:GetObject"))) == [("RESOURCE_STAR_NO_CONDITION", 0)]
    assert codes(pol("p", allow(["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]))) == []
    assert codes(pol("p", allow(["cloudwatch:PutMetricData", "s3:GetObject"]))) == [
        ("RESOURCE_STAR_NO_CONDITION", 0)
    ]
    scoped = allow("s3:GetObject", Condition={"StringEquals": {"aws:ResourceTag/team": "ml"}})
    assert codes(pol("p", scoped)) == []
    assert codes(pol("p", deny("*"))) == []  # broad Deny statements narrow access


def test_findings_notaction_notresource_and_passrole():
    """IAM Access Analyzer policy check reference (CHECKS): "Allow with NotAction"/"NotResource" and
    "Pass role with star in resource" are flagged because they grant more than intended."""
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"}
    not_resource = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}
    passrole = allow("iam:PassRole", Sid="Pass")
    scoped_passrole = allow("iam:PassRole", resource="arn:aws:iam::123456789012:role/sagemaker-exec")
    assert codes(pol("p", not_action, not_resource, passrole, scoped_passrole)) == [
        ("NOTACTION_ALLOW", 0),
        ("NOTRESOURCE_ALLOW", 1),
        ("RESOURCE_STAR_NO_CONDITION", 2),
        ("PASSROLE_STAR", 2),
    ]
    message = breadth_findings(pol("roles.json", passrole))[-1].message
    assert message.startswith("Statement[0] (Sid 'Pass') of 'roles.json' allows iam:PassRole on every role")
