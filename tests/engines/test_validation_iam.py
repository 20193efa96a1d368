"""Conformance of the request validation engine for IAM and STS: policy grammar
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html), size quotas
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html) and model constraints."""

from __future__ import annotations

import json

import pytest

from mlalab.engines.validation import validate
from mlalab.engines.validation.iam import policy_size

GRAMMAR = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"
QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
IDENTITY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/*"}]}


def _statement(policy: dict, **changes) -> str:
    statement = {**policy["Statement"][0], **changes}
    return json.dumps({**policy, "Statement": [{k: v for k, v in statement.items() if v is not None}]})


def _code(operation: str, **params):
    rejection = validate("iam", operation, params)
    return (rejection.code, rejection.message, rejection.status) if rejection else None


def test_lab_02_documents_are_accepted():
    assert _code("CreateRole", RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST)) is None
    assert _code("PutRolePolicy", RoleName="r", PolicyName="p", PolicyDocument=json.dumps(IDENTITY)) is None
    assert _code("CreatePolicy", PolicyName="p", PolicyDocument=json.dumps(IDENTITY)) is None


@pytest.mark.parametrize("document, message", [
    pytest.param("{not json", "Syntax errors in policy.", id=f"json {GRAMMAR}"),
    pytest.param(json.dumps({**IDENTITY, "Extra": 1}), "Syntax errors in policy.", id=f"unknown-top {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Actions="s3:*"), "Syntax errors in policy.", id=f"unknown-element {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Effect="Permit"), "Syntax errors in policy.", id=f"effect {GRAMMAR}"),
    pytest.param(json.dumps({**IDENTITY, "Version": "2024-01-01"}), "The policy failed legacy parsing",
                 id=f"version {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Principal="*"), "Policy document should not specify a principal.",
                 id=f"principal-in-identity {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Action=None), "Policy statement must contain actions.",
                 id=f"no-action {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Resource=None), "Policy statement must contain resources.",
                 id=f"no-resource {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Action="GetObject"),
                 "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", id=f"vendor {GRAMMAR}"),
    pytest.param(json.dumps({**IDENTITY, "Statement": IDENTITY["Statement"] * 2}),
                 "Statement IDs (SID) in a single policy must be unique.", id=f"sid {GRAMMAR}"),
])
def test_identity_policy_grammar(document, message):
    for operation, extra in (("PutRolePolicy", {"RoleName": "r", "PolicyName": "p"}),
                             ("CreatePolicy", {"PolicyName": "p"})):
        assert _code(operation, PolicyDocument=document, **extra) == ("MalformedPolicyDocument", message, 400)


@pytest.mark.parametrize("document, message", [
    pytest.param(_statement(TRUST, Principal=None), "Missing required field Principal", id=f"no-principal {GRAMMAR}"),
    pytest.param(_statement(TRUST, Resource="*"), "Has prohibited field Resource.", id=f"resource {GRAMMAR}"),
])
def test_trust_policy_grammar(document, message):
    assert _code("CreateRole", RoleName="r", AssumeRolePolicyDocument=document) == \
        ("MalformedPolicyDocument", message, 400)
    assert _code("UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=document) == \
        ("MalformedPolicyDocument", message, 400)


def _padded(policy: dict, size: int) -> str:
    """A valid policy of exactly ``size`` non-white-space characters (a long Sid), pretty-printed."""
    document = _statement(policy, Sid="")
    pad = size - policy_size(document)
    return json.dumps(json.loads(_statement(policy, Sid="S" * pad)), indent=4)


def test_white_space_does_not_count():
    """IAM does not count white space in a policy's size (IAM quotas page)."""
    assert policy_size('{ "a" :\n  "b c" }') == len('{"a":"bc"}')


@pytest.mark.parametrize("limit, operation, params, message", [
    pytest.param(2048, "CreateRole", lambda d: {"RoleName": "r", "AssumeRolePolicyDocument": d},
                 "Cannot exceed quota for ACLSizePerRole: 2048", id=f"trust-2048 {QUOTAS}"),
    pytest.param(6144, "CreatePolicy", lambda d: {"PolicyName": "p", "PolicyDocument": d},
                 "Cannot exceed quota for PolicySize: 6144", id=f"managed-6144 {QUOTAS}"),
    pytest.param(10240, "PutRolePolicy", lambda d: {"RoleName": "r", "PolicyName": "p", "PolicyDocument": d},
                 "Maximum policy size of 10240 bytes exceeded for role r", id=f"inline-10240 {QUOTAS}"),
    pytest.param(2048, "PutUserPolicy", lambda d: {"UserName": "u", "PolicyName": "p", "PolicyDocument": d},
                 "Maximum policy size of 2048 bytes exceeded for user u", id=f"user-inline-2048 {QUOTAS}"),
    pytest.param(5120, "PutGroupPolicy", lambda d: {"GroupName": "g", "PolicyName": "p", "PolicyDocument": d},
                 "Maximum policy size of 5120 bytes exceeded for group g", id=f"group-inline-5120 {QUOTAS}"),
])
def test_size_quotas_at_the_boundary(limit, operation, params, message):
    policy = TRUST if operation == "CreateRole" else IDENTITY
    assert _code(operation, **params(_padded(policy, limit))) is None
    assert _code(operation, **params(_padded(policy, limit + 1))) == ("LimitExceeded", message, 409)


def test_role_inline_policies_count_together():
    """The 10,240 characters are the aggregate of all inline policies of the role; replacing a policy
    of the same name does not count it twice (IAM quotas page)."""
    existing = {"a": _padded(IDENTITY, 6000)}
    lookup = lambda kind, **keys: existing if keys == {"entity": "role", "name": "r"} else None  # noqa: E731
    new = _padded(IDENTITY, 5000)
    over = validate("iam", "PutRolePolicy", {"RoleName": "r", "PolicyName": "b", "PolicyDocument": new}, lookup)
    assert over is not None and over.code == "LimitExceeded"
    assert validate("iam", "PutRolePolicy", {"RoleName": "r", "PolicyName": "a", "PolicyDocument": new}, lookup) is None


@pytest.mark.parametrize("operation, params, path", [
    ("CreateRole", {"RoleName": "bad name", "AssumeRolePolicyDocument": json.dumps(TRUST)}, "roleName"),
    ("CreateRole", {"RoleName": "r" * 65, "AssumeRolePolicyDocument": json.dumps(TRUST)}, "roleName"),
    ("CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": json.dumps(TRUST), "MaxSessionDuration": 60},
     "maxSessionDuration"),
    ("AttachRolePolicy", {"RoleName": "r", "PolicyArn": "arn"}, "policyArn"),
    ("PutRolePermissionsBoundary", {"RoleName": "r", "PermissionsBoundary": "short"}, "permissionsBoundary"),
    ("TagRole", {"RoleName": "r", "Tags": [{"Key": "k", "Value": "v"}] * 51}, "tags"),
    ("GetRole", {"RoleName": ""}, "roleName"),
])
def test_iam_model_constraints(operation, params, path):
    """RoleName 1-64 characters of [\\w+=,.@-], MaxSessionDuration 3600-43200, ARNs at least 20 characters,
    at most 50 tags (IAM API reference pages of CreateRole, AttachRolePolicy, PutRolePermissionsBoundary,
    TagRole, GetRole)."""
    rejection = validate("iam", operation, params)
    assert rejection is not None and rejection.code == "ValidationError", rejection
    assert f"at '{path}' failed to satisfy constraint" in rejection.message


STS = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"


@pytest.mark.parametrize("params, expected", [
    pytest.param({"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s"}, "roleSessionName",
                 id=f"session-name-min {STS}"),
    pytest.param({"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "my session"}, "roleSessionName",
                 id=f"session-name-pattern {STS}"),
    pytest.param({"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "ok", "DurationSeconds": 600},
                 "durationSeconds", id=f"duration-min {STS}"),
])
def test_assume_role_model(params, expected):
    rejection = validate("sts", "AssumeRole", params)
    assert rejection is not None and rejection.code == "ValidationError"
    assert f"at '{expected}'" in rejection.message


def test_assume_role_duration_within_the_role_maximum():
    """DurationSeconds up to the role's MaxSessionDuration (AssumeRole, DurationSeconds)."""
    params = {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "ok", "DurationSeconds": 7200}
    rejection = validate("sts", "AssumeRole", params, lambda kind, **keys: 3600)
    assert rejection.message == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    assert validate("sts", "AssumeRole", params, lambda kind, **keys: 7200) is None
    assert validate("sts", "GetCallerIdentity", {}) is None


@pytest.mark.parametrize("document, message", [
    pytest.param(json.dumps({**IDENTITY, "Statement": []}), "Syntax errors in policy.", id=f"no-statement {GRAMMAR}"),
    pytest.param(json.dumps({**IDENTITY, "Statement": ["s3:GetObject"]}), "Syntax errors in policy.",
                 id=f"statement-not-object {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, NotAction="s3:PutObject"), "Syntax errors in policy.",
                 id=f"action-and-notaction {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, NotResource="*"), "Syntax errors in policy.",
                 id=f"resource-and-notresource {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Action=5), "Syntax errors in policy.", id=f"action-not-string {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Action=["s3:GetObject", ["s3:PutObject"]]), "Syntax errors in policy.",
                 id=f"action-list-not-strings {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, Action=":GetObject"),
                 "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                 id=f"empty-vendor {GRAMMAR}"),
    pytest.param(_statement(IDENTITY, NotPrincipal={"AWS": "arn:aws:iam::123456789012:root"}),
                 "Policy document should not specify a principal.", id=f"notprincipal-in-identity {GRAMMAR}"),
])
def test_more_identity_policy_grammar(document, message):
    """Statement is one statement object or a non-empty list of them; Action/NotAction, Resource/NotResource
    and Principal/NotPrincipal exclude each other; an action is a string "vendor:Name" (policy grammar)."""
    assert _code("CreatePolicy", PolicyName="p", PolicyDocument=document) == ("MalformedPolicyDocument", message, 400)


@pytest.mark.parametrize("changes", [
    pytest.param(dict(Action=None, NotAction="iam:*"), id=f"notaction {GRAMMAR}"),
    pytest.param(dict(Resource=None, NotResource="arn:aws:s3:::secret/*"), id=f"notresource {GRAMMAR}"),
    pytest.param(dict(Action=["s3:GetObject", "s3:ListBucket"]), id=f"action-list {GRAMMAR}"),
])
def test_not_elements_stand_for_their_element(changes):
    """NotAction and NotResource take the place of Action and Resource (policy grammar)."""
    assert _code("CreatePolicy", PolicyName="p", PolicyDocument=_statement(IDENTITY, **changes)) is None
    assert _code("CreatePolicy", PolicyName="p",
                 PolicyDocument=json.dumps({**IDENTITY, "Statement": IDENTITY["Statement"][0]})) is None


@pytest.mark.parametrize("operation, params, member", [
    ("CreateRole", {"RoleName": "r"}, "assumeRolePolicyDocument"),
    ("UpdateAssumeRolePolicy", {"RoleName": "r"}, "policyDocument"),
    ("CreatePolicy", {"PolicyName": "p"}, "policyDocument"),
    ("PutRolePolicy", {"RoleName": "r", "PolicyName": "p"}, "policyDocument"),
])
def test_a_missing_document_is_the_models_to_report(operation, params, member):
    """The document is required (API reference of each operation): the model answers "must not be null",
    and the grammar rules, which have nothing to read, add nothing."""
    rejection = validate("iam", operation, params)
    assert rejection.message == (f"1 validation error detected: Value null at '{member}' failed to satisfy "
                                 "constraint: Member must not be null")
    assert validate("iam", operation, params, model=False) is None


def test_assume_role_without_duration_or_role_state():
    """Without DurationSeconds the role's maximum does not matter; without the role's state (no lookup)
    the rule is skipped, never guessed (AssumeRole, DurationSeconds)."""
    params = {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "ok"}
    assert validate("sts", "AssumeRole", params, lambda kind, **keys: 3600) is None
    assert validate("sts", "AssumeRole", {**params, "DurationSeconds": 7200}) is None
