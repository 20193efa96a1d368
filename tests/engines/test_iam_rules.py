"""More documented IAM rules pinned one by one: element matching, every condition-operator family
with present, absent and empty keys, the set operators, the grammar AWS enforces on save, and the
rules outside the normal evaluation order (sts:GetCallerIdentity, KMS key policies).

Every test names the AWS documentation page it pins (constants below).
"""

from __future__ import annotations

import json

import pytest

from mlalab.engines.iam import (
    Policy,
    PolicyError,
    Request,
    RequestError,
    default_key_policy,
    evaluate,
    iter_statements,
    match_action,
    match_resource,
    parse_policy,
)

ACCOUNT = "123456789012"
OTHER = "999999999999"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ml-role"
PATH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/ml-role"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ml-role/alice"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OBJECT = "arn:aws:s3:::models/prod/model.tar.gz"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-east-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
EVAL = DOC + "reference_policies_evaluation-logic.html"
CONDOPS = DOC + "reference_policies_elements_condition_operators.html"
MULTI = DOC + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
NOTACTION = DOC + "reference_policies_elements_notaction.html"
ACTION = DOC + "reference_policies_elements_action.html"
RESOURCE = DOC + "reference_policies_elements_resource.html"
PRINCIPAL = DOC + "reference_policies_elements_principal.html"
NOTPRINCIPAL = DOC + "reference_policies_elements_notprincipal.html"
STATEMENT = DOC + "reference_policies_elements_statement.html"
GRAMMAR = DOC + "reference_policies_grammar.html"
VARS = DOC + "reference_policies_variables.html"
KEYPOL = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"
KEYDEFAULT = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"
CALLERID = "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"


def pol(*statements: dict, name: str = "p", version: str | None = "2012-10-17") -> Policy:
    document: dict = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return parse_policy(name, document)


def allow(action="s3:GetObject", resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(action="s3:GetObject", arn=OBJECT, principal=ROLE, context=None, **policies) -> str:
    request = Request(action=action, resource=arn, principal=principal, context=context or {})
    return evaluate(request, **policies).decision


def rejected(document: dict, kind: str | None = None) -> str:
    with pytest.raises(PolicyError) as error:
        parse_policy("p.json", document, kind=kind)
    return str(error.value)


# --- Action / NotAction / Resource -------------------------------------------------------------


def test_notaction_with_several_entries_excludes_each_of_them():
    """NotAction (NOTACTION): an Allow with NotAction allows every action except all those listed;
    each entry may be a wildcard and action names are case-insensitive (ACTION)."""
    policy = pol({"Effect": "Allow", "NotAction": ["iam:*", "s3:DeleteObject", "kms:Sched*"], "Resource": "*"})
    assert decide("s3:GetObject", identity=[policy]) == "allowed"
    for action in ("iam:PassRole", "IAM:passrole", "s3:DeleteObject", "S3:deleteobject", "kms:ScheduleKeyDeletion"):
        assert decide(action, identity=[policy]) == "implicit_deny", action
    assert decide("kms:Decrypt", arn=OBJECT, identity=[policy]) == "allowed"


def test_notaction_deny_with_several_entries_spares_each_of_them():
    """NotAction (NOTACTION): a Deny with NotAction denies every action except those listed."""
    policy = pol(allow("*"), {"Effect": "Deny", "NotAction": ["s3:GetObject", "s3:List*"], "Resource": "*"})
    assert decide("s3:GetObject", identity=[policy]) == "allowed"
    assert decide("s3:ListBucket", identity=[policy]) == "allowed"
    assert decide("s3:PutObject", identity=[policy]) == "explicit_deny"


@pytest.mark.parametrize(
    ("pattern", "value", "action_match", "resource_match"),
    [
        ("s3:GetObject", "S3:GETOBJECT", True, False),
        ("arn:aws:s3:::Models/*", "arn:aws:s3:::models/x", True, False),
        ("arn:aws:s3:::models/*", "arn:aws:s3:::models/x", True, True),
        ("arn:aws:s3:::models/?", "arn:aws:s3:::models/xy", False, False),
        ("arn:aws:s3:::models/??", "arn:aws:s3:::models/xy", True, True),
        ("arn:aws:s3:::models", "arn:aws:s3:::models/x", False, False),  # no implicit prefix match
        ("arn:aws:s3:::a.c", "arn:aws:s3:::abc", False, False),  # '.' is literal, not a regex
    ],
)
def test_action_globs_ignore_case_resource_globs_do_not(pattern, value, action_match, resource_match):
    """Action (ACTION): "action names are case-insensitive"; Resource (RESOURCE): ARNs are
    case-sensitive; both take '*' (any run) and '?' (one character) and match the whole value."""
    assert match_action(pattern, value) is action_match
    assert match_resource(pattern, value) is resource_match


def test_resource_arn_case_decides_the_request():
    """Resource (RESOURCE): resource ARNs are case-sensitive, so a policy on "Models/*" does not
    reach "models/..." while the action may be written in any case."""
    assert decide("S3:GETOBJECT", identity=[pol(allow(resource="arn:aws:s3:::models/*"))]) == "allowed"
    assert decide(identity=[pol(allow(resource="arn:aws:s3:::Models/*"))]) == "implicit_deny"


# --- Principal ---------------------------------------------------------------------------------


def resource_policy(principal) -> Policy:
    return pol({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}, name="bucket")


@pytest.mark.parametrize(
    ("principal", "caller", "expected"),
    [
        (PATH_ROLE, PATH_ROLE, "allowed"),
        (PATH_ROLE, SESSION, "allowed"),  # a session ARN has no path: the role name and account decide
        (f"arn:aws:iam::{ACCOUNT}:role/service-role/other", SESSION, "implicit_deny"),
        (f"arn:aws:iam::{OTHER}:role/service-role/ml-role", SESSION, "implicit_deny"),
        (PATH_ROLE, USER, "implicit_deny"),
        (USER, USER, "allowed"),
        (f"arn:aws:iam::{ACCOUNT}:user/bob", USER, "implicit_deny"),
        (SESSION, SESSION, "allowed"),
    ],
)
def test_principal_roles_with_paths(principal, caller, expected):
    """Principal (PRINCIPAL), IAM role principals: a role is named by its full ARN, path included;
    a role session is covered by the role's ARN ("Role session principals")."""
    assert decide(principal=caller, resource=[resource_policy({"AWS": principal})]) == expected


def test_principal_account_id_and_root_arn_both_delegate():
    """Principal (PRINCIPAL), AWS account principals: "123456789012" and its root ARN are the same
    principal and delegate to the account's IAM policies (no access by themselves)."""
    for principal in (ACCOUNT, ROOT):
        bucket = resource_policy({"AWS": principal})
        assert decide(principal=USER, resource=[bucket]) == "implicit_deny"
        assert decide(principal=USER, resource=[bucket], identity=[pol(allow())]) == "allowed"
        assert decide(principal=ROOT, resource=[bucket]) == "allowed"


def test_service_principal_only_matches_that_service():
    """Principal (PRINCIPAL), AWS service principals: a Service entry covers that service only."""
    bucket = resource_policy({"Service": "sagemaker.amazonaws.com"})
    assert decide(principal="sagemaker.amazonaws.com", resource=[bucket]) == "allowed"
    assert decide(principal="lambda.amazonaws.com", resource=[bucket]) == "implicit_deny"
    assert decide(principal=ROLE, resource=[bucket]) == "implicit_deny"


@pytest.mark.parametrize(
    ("listed", "caller", "denied"),
    [
        ([SESSION, ROLE, ACCOUNT], SESSION, False),  # the session's chain: account, role, session
        ([ROLE, ACCOUNT], SESSION, True),  # the session itself is not listed
        ([SESSION, ROLE], SESSION, True),  # the account is not listed
        ([SESSION, ACCOUNT], SESSION, True),  # the role is not listed
        ([PATH_ROLE, ACCOUNT], PATH_ROLE, False),
        ([PATH_ROLE], PATH_ROLE, True),
        ([USER, ACCOUNT], USER, False),
        ([USER], USER, True),
        ([ACCOUNT], ROOT, False),
        ([ROOT], ROOT, False),
        ([f"arn:aws:iam::{OTHER}:root"], ROOT, True),
    ],
)
def test_not_principal_deny_chain(listed, caller, denied):
    """NotPrincipal (NOTPRINCIPAL): "When you use NotPrincipal, you must also specify the account ARN
    of the not-denied principal"; for a role session AWS checks the account, then the role, then the
    session, so each must be listed to be spared."""
    bucket = pol({"Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "s3:*", "Resource": "*"}, name="b")
    expected = "explicit_deny" if denied else "allowed"
    assert decide(principal=caller, resource=[bucket], identity=[pol(allow())]) == expected


def test_not_principal_allow_is_rejected_and_grants_nothing():
    """NotPrincipal (NOTPRINCIPAL): "NotPrincipal must be used with "Effect":"Deny". Using it with
    "Effect":"Allow" is not supported." The document is refused when parsed; one built by hand
    grants nothing (it never reads as granting the principal it excludes)."""
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": USER}, "Action": "s3:GetObject", "Resource": "*"}
    for kind in (None, "resource"):
        assert 'uses NotPrincipal with "Effect": "Allow", which AWS does not support' in rejected(
            {"Statement": [statement]}, kind
        )
    by_hand = Policy(name="bucket", document={"Version": "2012-10-17", "Statement": [statement]})
    for caller in (USER, ROLE, f"arn:aws:iam::{OTHER}:user/eve"):
        decision = evaluate(Request("s3:GetObject", OBJECT, caller), resource=[by_hand])
        assert decision.decision == "implicit_deny" and decision.resource_decision == "implicit_deny"


# --- grammar (what AWS refuses when the policy is saved) ----------------------------------------


def test_single_object_statement_is_accepted():
    """Statement (STATEMENT) and the grammar (GRAMMAR): "statement = <statement_block> | [
    <statement_block>, ... ]": a single statement object without a list is valid."""
    policy = parse_policy("p", {"Version": "2012-10-17", "Statement": allow(Sid="One")})
    assert iter_statements(policy) == [allow(Sid="One")]
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[policy])
    assert decision.allowed and decision.statement.sid == "One" and decision.statement.index == 0
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}}'
    denied = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[parse_policy("t", text)])
    assert denied.decision == "explicit_deny" and denied.statement.start == (1, 40)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "Deny", "Principal": "*", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"},
         "has both Principal and NotPrincipal; use one of them"),
        (allow(Condition={"Bool": {"aws:SecureTransport": "yes"}}),
         "Condition 'Bool' key 'aws:SecureTransport': 'yes' must be \"true\" or \"false\""),
        (allow(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": ["true", "1"]}}),
         "'1' must be \"true\" or \"false\""),
        (allow(Condition={"Null": {"aws:TokenIssueTime": "no"}}), "'no' must be \"true\" or \"false\""),
        (allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}),
         "Condition 'IpAddress' key 'aws:SourceIp': '10.0.0.0/33' is not an IP address or CIDR block"),
        (allow(Condition={"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "300.1.2.3"]}}),
         "'300.1.2.3' is not an IP address or CIDR block"),
        (allow(Condition={"IpAddress": {"aws:SourceIp": "2001:db8::/129"}}), "is not an IP address or CIDR block"),
        (allow(Condition={"NumericLessThan": {"s3:max-keys": "ten"}}), "'ten' is not a number"),
        (allow(Condition={"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}),
         "'yesterday' is not an ISO 8601 date/time or epoch seconds"),
        (allow(Condition={"BinaryEquals": {"k": "not base64!"}}), "'not base64!' is not base64"),
        (allow(Condition={"NullIfExists": {"k": "true"}}), "Null takes no IfExists or set qualifier"),
        (allow(Condition={"ForAnyValue:Null": {"k": "true"}}), "Null takes no IfExists or set qualifier"),
        (allow(Condition={"ForSomeValues:StringEquals": {"k": "v"}}),
         "the only qualifiers are ForAllValues: and ForAnyValue:"),
        (allow(Condition={"StringEquals": {"k": []}}), "key 'k' has no values"),
        (allow(Condition={"StringEquals": {"k": {"nested": "v"}}}), "values must be strings, numbers or booleans"),
        (allow(Condition={"StringEquals": {}}), "must map condition keys to values"),
        (allow(Condition=["StringEquals"]), "Condition must be an object"),
        (allow(Sid=7), "Sid must be a string"),
        ({"Action": "s3:*", "Resource": "*"}, "has no Effect"),
        ({"Effect": "Allow", "Resource": "*"}, "has neither Action nor NotAction"),
        (allow(NotResource="*"), "has both Resource and NotResource"),
        (allow(action=[]), "Action must be a non-empty string or a non-empty list of strings"),
        (allow(resource=["arn:aws:s3:::b", ""]), "Resource must be a non-empty string"),
        ({"Effect": "Allow", "Principal": {"IAM": ROLE}, "Action": "s3:*"}, "Principal type 'IAM' is not one of"),
        ({"Effect": "Allow", "Principal": ROLE, "Action": "s3:*"}, 'Principal must be "*" or an object'),
        ({"Effect": "Allow", "Principal": {}, "Action": "s3:*"}, 'Principal must be "*" or an object'),
    ],
)  # fmt: skip
def test_invalid_statements_are_refused(statement, message):
    """The grammar (GRAMMAR) and the Condition operators page (CONDOPS): Principal and NotPrincipal
    exclude each other; Bool and Null take "true"/"false"; IpAddress/NotIpAddress take IPv4/IPv6
    addresses or CIDR blocks; numeric, date and binary operators take numbers, dates and base64;
    Null takes no ...IfExists or set qualifier. AWS refuses such a document when it is saved."""
    assert message in rejected({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[]", "the document must be a JSON object, not a list"),
        ('"x"', "the document must be a JSON object, not a string"),
        ({"Statement": []}, "Statement is an empty list"),
        ({"Statement": "Allow"}, "Statement must be an object or a list of objects, not a string"),
        ({"Statement": [7]}, "a statement must be a JSON object, not a number"),
        ({"Statement": [None]}, "a statement must be a JSON object, not null"),
        ({"Statemnt": []}, "unknown top-level element 'Statemnt'"),
    ],
)
def test_invalid_documents_are_refused(document, message):
    """The grammar (GRAMMAR): a policy is an object with Version, Id and Statement; Statement is one
    statement object or a non-empty list of them."""
    assert message in rejected(document)


def test_kind_specific_rules():
    """Principal (PRINCIPAL): identity-based policies, boundaries, session policies and SCPs name no
    principal; a resource-based policy statement must name one; identity policies need Resource."""
    with_principal = {"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*",
                                     "Resource": "*"}]}
    for kind, label in (("boundary", "a permissions boundary"), ("scp", "a service control policy"),
                        ("session", "a session policy")):
        assert f"NotPrincipal is not allowed in {label}" in rejected(with_principal, kind)
    assert "needs a Principal or NotPrincipal" in rejected({"Statement": [allow()]}, "resource")
    no_resource = {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    assert "has neither Resource nor NotResource" in rejected(no_resource, "session")
    assert parse_policy("scp", no_resource, kind="scp").name == "scp"  # SCPs may omit Resource
    with pytest.raises(ValueError, match="unknown policy kind"):
        parse_policy("p", {"Statement": [allow()]}, kind="bucket")


def test_text_input_errors():
    """The grammar (GRAMMAR): a policy is JSON text (UTF-8); errors name the policy."""
    with pytest.raises(PolicyError, match="'p' is empty"):
        parse_policy("p", "  \n")
    with pytest.raises(PolicyError, match="'p' is not UTF-8 text"):
        parse_policy("p", b"\xff\xfe{")
    with pytest.raises(PolicyError, match="must be JSON text or a dict, not int"):
        parse_policy("p", 7)  # type: ignore[arg-type]
    bom = '\ufeff{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}'
    assert parse_policy("p", bom.encode("utf-8")).version == "2012-10-17"


# --- condition operators: every family with a present, an absent and an IfExists key ----------

FAMILIES = [
    # (operator, a value that holds for the policy value, one that does not, the policy value)
    ("StringEquals", "ml", "ML", "ml"),
    ("StringNotEquals", "data", "ml", "ml"),
    ("StringEqualsIgnoreCase", "ML", "data", "ml"),
    ("StringNotEqualsIgnoreCase", "data", "ML", "ml"),
    ("StringLike", "ml-team", "data-ml", "ml-*"),
    ("StringNotLike", "data-ml", "ml-team", "ml-*"),
    ("NumericEquals", "10.0", "11", "10"),
    ("NumericNotEquals", "11", "10", "10"),
    ("NumericLessThan", "9", "10", "10"),
    ("NumericLessThanEquals", "10", "11", "10"),
    ("NumericGreaterThan", "11", "10", "10"),
    ("NumericGreaterThanEquals", "10", "9", "10"),
    ("DateEquals", "2024-01-01T00:00:00Z", "2024-01-02", "2024-01-01"),
    ("DateNotEquals", "2024-01-02", "2024-01-01T00:00:00Z", "2024-01-01"),
    ("DateLessThan", "2023-12-31T23:59:59Z", "2024-01-01", "2024-01-01"),
    ("DateLessThanEquals", "2024-01-01", "2024-01-01T00:00:01Z", "2024-01-01"),
    ("DateGreaterThan", "2024-01-01T00:00:01Z", "2024-01-01", "2024-01-01"),
    ("DateGreaterThanEquals", "2024-01-01", "2023-12-31", "2024-01-01"),
    ("Bool", "TRUE", "false", "true"),
    ("BinaryEquals", "QmluYXJ5", "T3RoZXI=", "QmluYXJ5"),
    ("IpAddress", "203.0.113.7", "198.51.100.1", "203.0.113.0/24"),
    ("NotIpAddress", "198.51.100.1", "203.0.113.7", "203.0.113.0/24"),
    ("ArnEquals", ROLE, PATH_ROLE, ROLE),
    ("ArnLike", ROLE, f"arn:aws:iam::{OTHER}:role/ml-role", f"arn:aws:iam::{ACCOUNT}:role/*"),
    ("ArnNotEquals", PATH_ROLE, ROLE, ROLE),
    ("ArnNotLike", f"arn:aws:iam::{OTHER}:role/x", ROLE, f"arn:aws:iam::{ACCOUNT}:role/*"),
]
NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals", "DateNotEquals",
           "NotIpAddress", "ArnNotEquals", "ArnNotLike"}


def holds(operator: str, context: dict, policy_value: str = "v", key: str = "k") -> bool:
    """Does an Allow guarded by ``{operator: {key: policy_value}}`` allow under ``context``?"""
    policy = pol(allow(Condition={operator: {key: policy_value}}))
    return decide(identity=[policy], context=context) == "allowed"


@pytest.mark.parametrize(("operator", "good", "bad", "value"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_every_operator_on_a_present_key(operator, good, bad, value):
    """Condition operators (CONDOPS): each operator's comparison, including the boundary value of
    the ordered ones (LessThan excludes it, LessThanEquals includes it)."""
    assert holds(operator, {"k": good}, value)
    assert not holds(operator, {"k": bad}, value)
    # ...IfExists on a present key is the operator itself ("...IfExists", CONDOPS).
    assert holds(operator + "IfExists", {"k": good}, value)
    assert not holds(operator + "IfExists", {"k": bad}, value)


@pytest.mark.parametrize(("operator", "good", "bad", "value"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_every_operator_on_a_missing_key(operator, good, bad, value):
    """Condition operators (CONDOPS) and MULTI: "If the key that you specify in a policy condition
    is not present in the request context, the values do not match" - a positive operator is false,
    a negated one (StringNotEquals, NotIpAddress, ArnNotEquals...) true; "...IfExists: if the key is
    not present, evaluate the condition element as true". The key is reported as missing."""
    assert holds(operator, {}, value) is (operator in NEGATED)
    assert holds(operator + "IfExists", {}, value)
    policy = pol(allow(Condition={operator: {"K": value}}))
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[policy])
    assert decision.missing_context_keys == ["K"]


@pytest.mark.parametrize(("operator", "good", "bad", "value"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_every_operator_with_several_policy_values_ors_them(operator, good, bad, value):
    """Condition (CONDOPS, "Creating a condition with multiple keys or values"): several values of one
    key are ORed for a positive operator; a negated operator holds only if none matches."""
    other = "zzz" if operator.startswith("String") else good
    assert holds(operator, {"k": good}, [value, other]) or operator in NEGATED


def test_arn_not_equals_on_principal_arn():
    """Condition operators (CONDOPS), ARN operators, and NotPrincipal (NOTPRINCIPAL), which recommends
    "ArnNotEquals with aws:PrincipalArn" instead of NotPrincipal: the Deny spares only that role."""
    bucket = pol({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                  "Condition": {"ArnNotEquals": {"aws:PrincipalArn": PATH_ROLE}}}, name="bucket")
    identity = [pol(allow())]
    assert decide(principal=PATH_ROLE, identity=identity, resource=[bucket]) == "allowed"
    assert decide(principal=ROLE, identity=identity, resource=[bucket]) == "explicit_deny"
    assert decide(principal=USER, identity=identity, resource=[bucket]) == "explicit_deny"
    # aws:PrincipalArn of a session is its role's ARN ("AWS global condition context keys").
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/ml-role/s"
    spare_role = pol({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                      "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}}, name="bucket")
    assert decide(principal=session, identity=identity, resource=[spare_role]) == "allowed"


def test_arn_wildcards_do_not_cross_colons_before_the_resource_part():
    """Condition operators (CONDOPS), ARN operators: "Each of the six colon-delimited components of
    the ARN is checked separately"; the resource part may itself contain ':'."""
    assert holds("ArnLike", {"k": "arn:aws:logs:us-east-1:123456789012:log-group:/a:*"},
                 "arn:aws:logs:*:*:log-group:*")
    assert not holds("ArnLike", {"k": "arn:aws:iam::123456789012:role/r"}, "arn:aws:*:role/r")
    assert holds("ArnLike", {"k": "arn:aws:iam::123456789012:role/r"}, "arn:aws:iam::*:role/?")
    assert holds("ArnLike", {"k": "anything"}, "*")
    assert not holds("ArnLike", {"k": "arn:aws:iam::123456789012:role/r"}, "arn:aws:iam::?:role/r")


def test_ip_address_families_and_hosts():
    """Condition operators (CONDOPS), IP address operators: IPv4 and IPv6 addresses and CIDR ranges;
    an address without a prefix is a single host; an IPv4 address never matches an IPv6 range."""
    assert holds("IpAddress", {"k": "2001:db8::1"}, "2001:db8::/32")
    assert not holds("IpAddress", {"k": "203.0.113.7"}, "::/0")
    assert holds("IpAddress", {"k": "203.0.113.7"}, "203.0.113.7")
    assert not holds("IpAddress", {"k": "203.0.113.8"}, "203.0.113.7")
    assert not holds("IpAddress", {"k": "not-an-ip"}, "0.0.0.0/0")


def test_date_operators_take_epoch_seconds_and_reject_garbage():
    """Condition operators (CONDOPS), Date operators: ISO 8601 dates or epoch (UNIX) seconds; a
    request value that is not a date matches nothing."""
    assert holds("DateEquals", {"k": "1704067200"}, "2024-01-01T00:00:00Z")
    assert holds("DateLessThan", {"k": "2023-06"}, "2024")
    assert not holds("DateEquals", {"k": "soon"}, "2024-01-01")
    assert not holds("DateEquals", {"k": "2024-02-30"}, "2024-01-01")
    assert not holds("NumericEquals", {"k": "NaN"}, "1")
    assert not holds("NumericEquals", {"k": "Infinity"}, "1")


def test_bool_values_from_json_booleans():
    """Condition operators (CONDOPS), Boolean: a JSON true in the policy equals "true" in the
    request; context values given as Python booleans are their JSON text."""
    assert holds("Bool", {"k": True}, True)  # type: ignore[arg-type]
    assert not holds("Bool", {"k": False}, True)  # type: ignore[arg-type]
    assert holds("NumericEquals", {"k": 3}, 3)  # type: ignore[arg-type]


def test_null_operator_with_both_values():
    """Condition operators (CONDOPS), Null: "true" holds when the key is absent (or null), "false"
    when present; several values OR together."""
    assert holds("Null", {}, "true") and not holds("Null", {"k": "x"}, "true")
    assert holds("Null", {"k": "x"}, "false") and not holds("Null", {}, "false")
    assert holds("Null", {}, ["true", "false"]) and holds("Null", {"k": "x"}, ["true", "false"])
    assert holds("Null", {"k": None}, "true")  # a None value is an absent key


# --- multivalued keys: ForAllValues / ForAnyValue -------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "context", "expected"),
    [
        ("ForAllValues:StringEquals", {}, True),  # missing key: an empty set
        ("ForAllValues:StringEquals", {"k": []}, True),
        ("ForAllValues:StringEquals", {"k": [""]}, True),
        ("ForAllValues:StringEquals", {"k": ["a", "b"]}, True),
        ("ForAllValues:StringEquals", {"k": ["a", "c"]}, False),
        ("ForAnyValue:StringEquals", {}, False),
        ("ForAnyValue:StringEquals", {"k": []}, False),
        ("ForAnyValue:StringEquals", {"k": [""]}, False),
        ("ForAnyValue:StringEquals", {"k": ["c", "b"]}, True),
        ("ForAnyValue:StringEquals", {"k": ["c", "d"]}, False),
        ("ForAnyValue:StringEqualsIfExists", {}, True),
        ("ForAllValues:StringEqualsIfExists", {}, True),
        ("ForAnyValue:StringEqualsIfExists", {"k": ["c"]}, False),
        ("ForAllValues:StringNotEquals", {"k": ["c", "d"]}, True),
        ("ForAllValues:StringNotEquals", {"k": ["a", "d"]}, False),
        ("ForAnyValue:StringNotEquals", {"k": ["a", "d"]}, True),
        ("ForAnyValue:StringNotEquals", {"k": ["a", "b"]}, False),
        ("ForAnyValue:StringNotEquals", {}, False),
        ("ForAllValues:StringLike", {"k": ["a", "b"]}, True),
        ("forallvalues:stringequals", {"k": ["a"]}, True),  # operator names are case-insensitive
    ],
)
def test_set_operators(operator, context, expected):
    """Set operators for multivalued context keys (MULTI): ForAllValues holds when every request
    value matches some policy value, ForAnyValue when at least one does; "If the key values in the
    request resolve to an empty data set (for example, an empty string), ForAllValues returns true,
    and ForAnyValue returns false" - unless ...IfExists, which is true for a missing key."""
    assert holds(operator, context, ["a", "b"]) is expected


def test_conditions_and_across_operators_and_keys():
    """Condition (CONDOPS, "Creating a condition with multiple keys or values"): all operators and
    all keys must hold (AND); every referenced missing key is reported, not just the first."""
    condition = {"StringEquals": {"a": "1", "b": "2"}, "Bool": {"c": "true"}}
    policy = pol(allow(Condition=condition))
    assert decide(identity=[policy], context={"a": "1", "b": "2", "c": "true"}) == "allowed"
    assert decide(identity=[policy], context={"a": "1", "b": "3", "c": "true"}) == "implicit_deny"
    assert decide(identity=[policy], context={"a": "1", "b": "2", "c": "false"}) == "implicit_deny"
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE, {"b": "2"}), identity=[policy])
    assert decision.missing_context_keys == ["a", "c"]


# --- policy variables --------------------------------------------------------------------------------


def test_variables_in_conditions_and_resources():
    """Variables (VARS): ${key} is replaced by the request's value in Resource and in string/ARN
    condition values; a substituted value is literal (its '*' is no wildcard); a missing key without
    a default voids the statement; a multivalued key cannot be a variable."""
    per_user = pol(allow(resource="arn:aws:s3:::home/${aws:username}/*"))
    assert decide(arn="arn:aws:s3:::home/alice/f", principal=USER, identity=[per_user]) == "allowed"
    assert decide(arn="arn:aws:s3:::home/bob/f", principal=USER, identity=[per_user]) == "implicit_deny"
    tagged = pol(allow(Condition={"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team}/"}}))
    assert decide(identity=[tagged], context={"aws:PrincipalTag/team": "ml", "s3:prefix": "ml/"}) == "allowed"
    assert decide(identity=[tagged], context={"aws:PrincipalTag/team": "*", "s3:prefix": "ml/"}) == "implicit_deny"
    assert decide(identity=[tagged], context={"s3:prefix": "ml/"}) == "implicit_deny"
    assert decide(identity=[tagged], context={"s3:prefix": "/"}) == "implicit_deny"  # void, not ""
    assert decide(arn="arn:aws:s3:::home//f", principal=ROLE, identity=[per_user]) == "implicit_deny"
    assert decide(identity=[tagged], context={"aws:PrincipalTag/team": ["ml", "x"], "s3:prefix": "ml/"}) == (
        "implicit_deny"
    )
    like = pol(allow(Condition={"StringLike": {"s3:prefix": "${aws:PrincipalTag/team}/*"}}))
    assert decide(identity=[like], context={"aws:PrincipalTag/team": "ml", "s3:prefix": "ml/a/b"}) == "allowed"
    assert decide(identity=[like], context={"aws:PrincipalTag/team": "m?", "s3:prefix": "ml/a"}) == "implicit_deny"
    arn = pol(allow(Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sagemaker:*:${aws:PrincipalAccount}:*"}}))
    source = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/j"
    assert decide(identity=[arn], context={"aws:SourceArn": source}) == "allowed"
    assert decide(identity=[arn], context={"aws:SourceArn": source.replace(ACCOUNT, OTHER)}) == "implicit_deny"


def test_variable_with_default_and_whitespace():
    """Variables (VARS), "Specifying default values": ${key, 'default'} uses the default when the key
    is absent; spaces around the key and the comma are allowed."""
    policy = pol(allow(resource="arn:aws:s3:::home/${ aws:PrincipalTag/team , 'shared' }/*"))
    assert decide(arn="arn:aws:s3:::home/shared/f", identity=[policy]) == "allowed"
    assert decide(arn="arn:aws:s3:::home/ml/f", identity=[policy], context={"aws:PrincipalTag/team": "ml"}) == (
        "allowed"
    )
    assert decide(arn="arn:aws:s3:::home/shared/f", identity=[policy],
                  context={"aws:PrincipalTag/team": "ml"}) == "implicit_deny"


def test_derived_principal_keys():
    """AWS global condition context keys: aws:PrincipalType, aws:PrincipalAccount, aws:username and
    aws:PrincipalArn come from the caller; a value the request gives wins."""
    def allowed(condition: dict, principal: str, context: dict | None = None) -> bool:
        return decide(principal=principal, identity=[pol(allow(Condition=condition))], context=context) == "allowed"

    assert allowed({"StringEquals": {"aws:PrincipalType": "User", "aws:username": "alice"}}, USER)
    assert allowed({"StringEquals": {"aws:PrincipalType": "AssumedRole", "aws:PrincipalArn": ROLE}}, SESSION)
    assert allowed({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, ROLE)
    assert not allowed({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, ROLE, {"aws:PrincipalAccount": OTHER})
    assert allowed({"Null": {"aws:username": "true"}}, ROLE)
    assert allowed({"StringEquals": {"aws:PrincipalType": "Account", "aws:userid": ACCOUNT}}, ACCOUNT)


def test_bad_requests():
    """The simulator evaluates one concrete action (no wildcard) by a recognisable principal."""
    for action in ("s3:Get*", "GetObject", "", "s3:Get Object"):
        with pytest.raises(RequestError, match="must name one action"):
            evaluate(Request(action, OBJECT, ROLE))
    with pytest.raises(RequestError, match='resource must be an ARN or "\\*"'):
        evaluate(Request("s3:GetObject", "", ROLE))
    for principal in ("alice", "arn:aws:iam::123456789012:group/g", "arn:aws:iam::123:user/x",
                      "arn:aws:iam::123456789012:user/", "arn:aws:sts::123456789012:federated-user/"):
        with pytest.raises(RequestError, match="is not an IAM user, role"):
            evaluate(Request("s3:GetObject", OBJECT, principal))


# --- sts:GetCallerIdentity ----------------------------------------------------------------------


def test_get_caller_identity_needs_no_permission():
    """AWS STS API Reference, GetCallerIdentity (CALLERID): "No permissions are required to perform
    this operation. If an administrator attaches a policy to your identity that explicitly denies
    access to the sts:GetCallerIdentity action, you can still perform this operation." """
    everything_denied = pol(deny("*"))
    request = Request("sts:GetCallerIdentity", "*", SESSION)
    for policies in ({}, {"identity": [everything_denied]}, {"scps": [everything_denied]},
                     {"boundary": everything_denied, "session": everything_denied}):
        decision = evaluate(request, **policies)
        assert decision.allowed and decision.statement is None, policies
        assert "sts:GetCallerIdentity needs no permission" in decision.reason
        assert "even when a policy explicitly denies it" in decision.reason
    assert evaluate(Request("STS:getcalleridentity", "*", USER)).allowed
    anonymous = evaluate(request.__class__("sts:GetCallerIdentity", "*", "*"))
    assert anonymous.decision == "implicit_deny" and "anonymous caller" in anonymous.reason
    # Every other STS action is authorized as usual.
    assert evaluate(Request("sts:GetSessionToken", "*", USER)).decision == "implicit_deny"


# --- KMS key policies ------------------------------------------------------------------------------


def key_policy(*statements: dict) -> Policy:
    return pol(*statements, name="key policy")


def test_default_key_policy_document():
    """Default key policy (KEYDEFAULT): one statement, "Enable IAM User Permissions", allowing kms:*
    to the key's account root; it is a resource-based policy (it names a principal)."""
    policy = default_key_policy(KEY)
    assert policy.document["Statement"] == [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": ROOT},
        "Action": "kms:*", "Resource": "*"}]
    assert parse_policy("k", policy.document, kind="resource").document == policy.document
    cn = default_key_policy(f"arn:aws-cn:kms:cn-north-1:{OTHER}:key/k")
    assert cn.document["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{OTHER}:root"}
    for not_a_key in ("*", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/ml", OBJECT):
        assert default_key_policy(not_a_key) is None


def test_kms_key_without_a_given_key_policy_assumes_the_default():
    """Key policies in AWS KMS (KEYPOL): "Every KMS key must have exactly one key policy" and IAM
    policies count only if the key policy lets them; a key created without one gets the default key
    policy (KEYDEFAULT), which delegates to the account: same-account IAM policies then decide."""
    identity = [pol(allow("kms:Decrypt"))]
    decision = evaluate(Request("kms:Decrypt", KEY, ROLE), identity=identity)
    assert decision.allowed and decision.assumed_key_policy is not None
    assert decision.statement.policy == "p" and decision.statement.kind == "identity"
    assert "delegates access to account 123456789012, so IAM policies apply" in decision.reason
    assert [m.kind for m in decision.matched] == ["identity", "resource"]
    assert decide("kms:Decrypt", KEY, ROLE) == "implicit_deny"
    assert decide("kms:Encrypt", KEY, ROLE, identity=identity) == "implicit_deny"
    assert decide("kms:Decrypt", KEY, ROOT) == "allowed"  # the root user needs no IAM policy
    # A service principal has no IAM policies: the default key policy does not name it.
    assert decide("kms:Decrypt", KEY, "s3.amazonaws.com") == "implicit_deny"
    # Another account's key: its default key policy delegates only to its own account.
    cross = evaluate(Request("kms:Decrypt", OTHER_KEY, ROLE), identity=identity)
    assert cross.decision == "implicit_deny" and cross.cross_account and cross.assumed_key_policy is not None
    # Account-level actions have no key and so no key policy.
    listing = evaluate(Request("kms:ListKeys", "*", ROLE), identity=[pol(allow("kms:ListKeys"))])
    assert listing.allowed and listing.assumed_key_policy is None


def test_given_key_policy_replaces_the_default():
    """Key policies in AWS KMS (KEYPOL): with a key policy that does not delegate to the account,
    IAM policies have no effect; one that names the caller allows it without any IAM policy."""
    identity = [pol(allow("kms:*"))]
    admins_only = key_policy({"Sid": "Admins", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                              "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmin"}})
    decision = evaluate(Request("kms:Decrypt", KEY, ROLE), identity=identity, resource=[admins_only])
    assert decision.decision == "implicit_deny" and decision.assumed_key_policy is None
    assert "the KMS key policy 'key policy' does not allow kms:Decrypt" in decision.reason
    assert "without that, IAM policies have no effect" in decision.reason
    names_role = key_policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Principal": {"AWS": ROLE}})
    assert decide("kms:Decrypt", KEY, ROLE, resource=[names_role]) == "allowed"
    assert decide("kms:Decrypt", KEY, SESSION, resource=[names_role]) == "allowed"
    by_account_id = key_policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": {"AWS": ACCOUNT}})
    assert decide("kms:Decrypt", KEY, ROLE, identity=identity, resource=[by_account_id]) == "allowed"
    assert decide("kms:Decrypt", KEY, ROLE, resource=[by_account_id]) == "implicit_deny"
    # A Deny in the key policy wins over every Allow.
    no_decrypt = key_policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": {"AWS": ROOT}},
                            {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*", "Principal": "*"})
    assert decide("kms:Decrypt", KEY, ROLE, identity=identity, resource=[no_decrypt]) == "explicit_deny"
    # The root user is limited by a key policy that does not name the account.
    assert decide("kms:Decrypt", KEY, ROOT, resource=[admins_only]) == "implicit_deny"


def test_key_policy_naming_the_role_is_limited_by_the_boundary():
    """Policy evaluation logic (EVAL): a resource-based policy that names the role ARN is limited by
    the permissions boundary; one that delegates to the account needs the boundary to allow too."""
    names_role = key_policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": {"AWS": ROLE}})
    boundary = pol(allow("s3:*"), name="boundary")
    decision = evaluate(Request("kms:Decrypt", KEY, SESSION), resource=[names_role], boundary=boundary)
    assert decision.decision == "implicit_deny" and "names the role ARN" in decision.reason
    assert decide("kms:Decrypt", KEY, SESSION, resource=[names_role], boundary=pol(allow("kms:*"))) == "allowed"
    assert decide("kms:Decrypt", KEY, ROLE, identity=[pol(allow("kms:*"))], boundary=boundary) == "implicit_deny"


# --- what a decision reports ---------------------------------------------------------------------


def test_decision_details_per_policy_type():
    """IAM API Reference, EvaluationResult: OrganizationsDecisionDetail and
    PermissionsBoundaryDecisionDetail appear only when SCPs / a boundary were given; EvalDecisionDetails
    gives the identity side and the resource policy separately. SCPs do not restrict service
    principals ("Service control policies", SCP effects on permissions)."""
    request = Request("s3:GetObject", OBJECT, ROLE)
    plain = evaluate(request, identity=[pol(allow())])
    assert plain.allowed_by_scps is None and plain.allowed_by_boundary is None and plain.resource_decision is None
    assert plain.identity_decision == "allowed"
    scp_deny = pol(deny("s3:*"), name="scp")
    assert evaluate(request, identity=[pol(allow())], scps=[scp_deny]).allowed_by_scps is False
    bucket_for_service = pol({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                              "Action": "s3:GetObject", "Resource": "*"}, name="bucket")
    service = evaluate(Request("s3:GetObject", OBJECT, "sagemaker.amazonaws.com"), resource=[bucket_for_service],
                       scps=[scp_deny])
    assert service.allowed and service.allowed_by_scps is None
    resource_side = {
        "allowed": pol({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}),
        "explicit_deny": pol({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
        "implicit_deny": pol({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}),
    }
    for expected, bucket in resource_side.items():
        assert evaluate(request, resource=[bucket]).resource_decision == expected


def test_explicit_resource_policy_type():
    """Policy evaluation logic (EVAL): the KMS and role-trust rules apply to key and trust policies;
    a caller may say which rule a resource-based policy follows."""
    names_account = pol({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "*", "Resource": "*"})
    request = Request("kms:Decrypt", KEY, ROOT)
    assert evaluate(request, resource=[names_account], resource_policy_type="default").allowed
    other = pol({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "*", "Resource": "*"})
    assert evaluate(request, resource=[other], resource_policy_type="default").allowed  # root: full access
    assert not evaluate(request, resource=[other]).allowed  # the key policy must name the account
    assert not evaluate(Request("s3:GetObject", OBJECT, ROOT), resource=[other], resource_policy_type="kms").allowed
    with pytest.raises(ValueError, match="resource_policy_type must be kms, trust or default"):
        evaluate(request, resource_policy_type="bucket")


def test_reasons_name_the_limiting_session_policy():
    """Policy evaluation logic (EVAL), session policies: a role session's permissions are the
    intersection of its identity policies and the session policy; a resource-based policy that names
    the role ARN is limited by the session policy too."""
    identity = [pol(allow("s3:*"))]
    session = pol(allow("s3:Get*"), name="session.json")
    allowed = evaluate(Request("s3:GetObject", OBJECT, SESSION), identity=identity, session=session)
    assert allowed.reason == (
        "allowed by Statement[0] in the identity-based policy 'p', within the session policy 'session.json'."
    )
    names_role = pol({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}, name="b")
    denied = evaluate(Request("s3:PutObject", OBJECT, SESSION), resource=[names_role], session=session)
    assert denied.reason.startswith(
        f"denied by the session policy 'session.json': no statement in it allows s3:PutObject on {OBJECT}"
    )


def test_statement_positions():
    """IAM API Reference, Statement: StartPosition/EndPosition (line, column) of the matched statement,
    whatever the layout of the JSON text."""
    compact = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[parse_policy("c", compact)])
    assert (decision.statement.start, decision.statement.end) == ((1, 38), (1, 86))
    leading = '\n{"Statement": [\n {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[parse_policy("l", leading)])
    assert (decision.statement.start, decision.statement.end) == ((3, 2), (3, 55))
    # Positions are bookkeeping: the same document parsed from text or a dict is the same policy.
    assert parse_policy("c", compact) == parse_policy("c", json.loads(compact))


def test_more_reported_details():
    """Policy evaluation logic (EVAL) and IAM API Reference, EvaluationResult (EvalDecisionDetails):
    the identity side is an explicit deny when the identity policies, the boundary or the session
    policy deny; reasons say what else was looked at."""
    request = Request("s3:GetObject", OBJECT, SESSION)
    assert evaluate(request, identity=[pol(deny())]).identity_decision == "explicit_deny"
    assert evaluate(request, identity=[pol(allow())], boundary=pol(deny())).identity_decision == "explicit_deny"
    assert evaluate(request, identity=[pol(allow())], session=pol(deny())).identity_decision == "explicit_deny"
    assert evaluate(request, identity=[pol(allow())], session=pol(allow())).identity_decision == "allowed"
    other = pol({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}, name="b")
    assert evaluate(request, resource=[other]).reason == (
        f"implicitly denied: no identity-based policy allows s3:GetObject on {OBJECT}, and no resource-based "
        f"policy grants it to {SESSION}."
    )


def test_edge_inputs():
    """Principal (PRINCIPAL) and the grammar (GRAMMAR): one-character user names are names; a context
    value given as a boolean is its JSON text; a hand-built statement without Action matches nothing;
    positions are reported for every statement of a list."""
    assert decide(principal=f"arn:aws:iam::{ACCOUNT}:user/x", identity=[pol(allow())]) == "allowed"
    assert holds("StringEquals", {"k": True}, "true")  # type: ignore[arg-type]
    by_hand = Policy("h", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]})
    assert decide(identity=[by_hand]) == "implicit_deny"
    text = ('{"Statement": [{"Effect": "Deny", "Action": "s3:Put*", "Resource": "*"} ,\n'
            '  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[parse_policy("t", text)])
    assert (decision.statement.index, decision.statement.start, decision.statement.end) == (1, (2, 3), (2, 56))


def test_action_names_with_hyphens_are_concrete_actions():
    """Service Authorization Reference, Amazon VPC Lattice: AssociateViaAWSService-EventsAndStates is one
    action; a request for it is evaluated like any other (only wildcards are refused)."""
    policy = parse_policy("p", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "vpc-lattice:AssociateViaAWSService-*", "Resource": "*"}]})
    decision = evaluate(Request(action="vpc-lattice:AssociateViaAWSService-EventsAndStates", resource="*"),
                        identity=[policy])
    assert decision.allowed
