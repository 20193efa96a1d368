"""IAM rules pinned because mutation testing (``make mutate``) showed no other test held them.

Each test states the documented AWS behaviour it pins and names its page (constants below); the
mutants they kill are listed in MUTATION_SURVIVORS_iam.md only when no test can kill them.
"""

from __future__ import annotations

import re

import pytest

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
from mlalab.engines.iam.conditions import conditions_hold
from mlalab.engines.iam.grants import (
    Need,
    action_access_level,
    example_arn,
    excess,
    expand_actions,
    policy_grants,
    resource_overlaps,
    resource_within,
    unknown_actions,
)
from mlalab.engines.iam.matching import match_resource
from mlalab.engines.iam.request import Context, parse_caller

ACCOUNT = "123456789012"
OTHER = "999999999999"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ml-role"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ml-role/alice"
OBJECT = "arn:aws:s3:::models/prod/model.tar.gz"
S3_OBJECT_FORMAT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
S3_BUCKET_FORMAT = "arn:${Partition}:s3:::${BucketName}"

DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
EVAL = DOC + "reference_policies_evaluation-logic.html"
CROSS = DOC + "reference_policies_evaluation-logic-cross-account.html"
CONDOPS = DOC + "reference_policies_elements_condition_operators.html"
VARS = DOC + "reference_policies_variables.html"
RESOURCE = DOC + "reference_policies_elements_resource.html"
PRINCIPAL = DOC + "reference_policies_elements_principal.html"
NOTPRINCIPAL = DOC + "reference_policies_elements_notprincipal.html"
NOTRESOURCE = DOC + "reference_policies_elements_notresource.html"
ACTION = DOC + "reference_policies_elements_action.html"
GRAMMAR = DOC + "reference_policies_grammar.html"
GLOBAL_KEYS = DOC + "reference_policies_condition-keys.html"
ARNS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"
SCP = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"
SIMULATE = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_Statement.html"


def pol(name: str, *statements: dict) -> Policy:
    return parse_policy(name, {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action="s3:GetObject", resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def decide_condition(condition: dict, context: dict) -> str:
    """The decision of one identity-based Allow guarded by ``condition``."""
    request = Request("s3:GetObject", OBJECT, ROLE, context=context)
    return evaluate(request, identity=[pol("id.json", allow(Condition=condition))]).decision


# --- condition operators (CONDOPS) ---------------------------------------------------------------


@pytest.mark.parametrize("operator, policy_value, now, expected", [
    # YYYY-MM is the first instant of that month: 2024-03-15 is before June 2024.
    ("DateLessThan", "2024-06", "2024-03-15T12:00:00Z", "allowed"),
    ("DateLessThan", "2024-06", "2024-06-02T00:00:00Z", "implicit_deny"),
    # YYYY-MM-DD: month and day are read in that order (2024-06-10 is 10 June, not 10 October).
    ("DateGreaterThan", "2024-06-10", "2024-07-01T00:00:00Z", "allowed"),
    ("DateGreaterThan", "2024-06-10", "2024-06-09T00:00:00Z", "implicit_deny"),
])
def test_date_operators_accept_the_w3c_date_profiles(operator, policy_value, now, expected):
    """CONDOPS, Date condition operators: values use "one of the W3C implementations of the ISO 8601
    date formats" (YYYY, YYYY-MM, YYYY-MM-DD, date-time); a shorter profile is the start of its period."""
    assert decide_condition({operator: {"aws:CurrentTime": policy_value}}, {"aws:CurrentTime": now}) == expected


def test_ip_address_accepts_a_cidr_whose_host_bits_are_set():
    """CONDOPS, IP address condition operators: values are CIDR blocks (RFC 4632); a block written
    with host bits set (203.0.113.77/24) is saved and stands for its network, 203.0.113.0/24."""
    condition = {"IpAddress": {"aws:SourceIp": "203.0.113.77/24"}}
    assert decide_condition(condition, {"aws:SourceIp": "203.0.113.5"}) == "allowed"
    assert decide_condition(condition, {"aws:SourceIp": "203.0.114.5"}) == "implicit_deny"


@pytest.mark.parametrize("condition, value", [
    ({"NumericLessThan": {"s3:max-keys": "10"}}, "many"),
    ({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, ""),
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, "yesterday"),
    ({"DateLessThanEquals": {"aws:CurrentTime": "2030-01-01"}}, "not-a-date"),
])
def test_ordering_operator_on_a_request_value_of_the_wrong_type_does_not_match(condition, value):
    """CONDOPS, Numeric and Date condition operators compare numbers and dates: a request value that
    is not one cannot be less or greater than the policy value, so the condition does not match and
    the Allow does not apply (an implicit deny, not an error)."""
    key = next(iter(next(iter(condition.values()))))
    assert decide_condition(condition, {key: value}) == "implicit_deny"


def test_arn_like_star_matches_every_arn():
    """CONDOPS, ARN condition operators: "*" is a wildcard for the whole value, so ArnLike "*" matches
    any ARN, colons included (only a wildcard inside one of the six parts stops at ':')."""
    source = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/churn-v3"
    assert decide_condition({"ArnLike": {"aws:SourceArn": "*"}}, {"aws:SourceArn": source}) == "allowed"
    assert decide_condition({"ArnNotLike": {"aws:SourceArn": "*"}}, {"aws:SourceArn": source}) == "implicit_deny"


def test_text_that_is_not_a_variable_stays_literal():
    """VARS, "Using variables in policies": a variable is "${" followed by a key name and "}". Braces
    with no key name ("${}") name no variable: the characters stay as written and match themselves."""
    policy = pol("id.json", allow(resource="arn:aws:s3:::models/${}/*"))
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::models/${}/m.tar.gz", ROLE), identity=[policy]).allowed
    assert not evaluate(Request("s3:GetObject", "arn:aws:s3:::models/x/m.tar.gz", ROLE), identity=[policy]).allowed


def test_a_fresh_request_context_resolves_policy_variables():
    """VARS: policy variables are resolved in Version 2012-10-17, the current policy language, which is
    what a condition evaluated outside any document is written in."""
    user = f"arn:aws:iam::{ACCOUNT}:user/alice"
    ctx = Context(Request("s3:GetObject", OBJECT, user), parse_caller(user))
    assert conditions_hold({"StringEquals": {"aws:username": "${aws:username}"}}, ctx)
    assert conditions_hold({"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
                           Context(Request("s3:ListBucket", "arn:aws:s3:::b", user, {"s3:prefix": "home/alice/x"}),
                                   parse_caller(user)))


# --- principals and the evaluation order (EVAL, PRINCIPAL, CROSS) ---------------------------------


def bucket_policy(principals: list[str]) -> Policy:
    statement = {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "s3:GetObject", "Resource": "*"}
    return parse_policy("bucket.json", {"Version": "2012-10-17", "Statement": [statement]}, kind="resource")


def test_role_arn_in_a_principal_list_counts_even_after_the_account():
    """EVAL (same account): a bucket policy that names the role ARN grants the role's sessions access
    without an identity-based Allow; naming the account only delegates to IAM policies. When one
    Principal lists both, the role ARN still grants (the strongest entry counts, whatever the order)."""
    for principals in ([ACCOUNT, ROLE], [ROLE, ACCOUNT]):
        assert evaluate(Request("s3:GetObject", OBJECT, SESSION), resource=[bucket_policy(principals)]).allowed


def test_session_arn_in_a_principal_list_counts_even_after_the_role_arn():
    """EVAL and "Permissions boundaries for IAM entities": a resource-based policy that names the role
    session ARN is not limited by the permissions boundary; one that names only the role ARN is. A
    Principal listing both names the session directly, so the boundary does not limit it."""
    boundary = pol("pb.json", allow("sqs:*"))
    request = Request("s3:GetObject", OBJECT, SESSION)
    for principals in ([ROLE, SESSION], [SESSION, ROLE]):
        assert evaluate(request, resource=[bucket_policy(principals)], boundary=boundary).allowed
    assert not evaluate(request, resource=[bucket_policy([ROLE])], boundary=boundary).allowed


def test_cross_account_allow_names_both_sides():
    """CROSS: a cross-account request is allowed only when the identity-based policy in the caller's
    account and the resource-based policy in the resource's account both allow; the decision names
    both statements, the caller's own first."""
    queue = f"arn:aws:sqs:us-east-1:{OTHER}:jobs"
    queue_policy = parse_policy("queue.json", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:SendMessage", "Resource": queue}]},
        kind="resource")
    decision = evaluate(Request("sqs:SendMessage", queue, ROLE), identity=[pol("id.json", allow("sqs:*"))],
                        resource=[queue_policy])
    assert decision.allowed and decision.cross_account
    assert decision.statement.policy == "id.json" and decision.statement.kind == "identity"
    assert "'id.json'" in decision.reason and "'queue.json'" in decision.reason


def test_cross_account_root_needs_only_the_resource_policy():
    """CROSS and EVAL: the account root user has full access in its own account (no identity-based
    policy needed), so across accounts only the resource-based policy naming its account must allow."""
    queue = f"arn:aws:sqs:us-east-1:{OTHER}:jobs"
    queue_policy = parse_policy("queue.json", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:SendMessage", "Resource": queue}]},
        kind="resource")
    decision = evaluate(Request("sqs:SendMessage", queue, ACCOUNT), resource=[queue_policy])
    assert decision.allowed and decision.cross_account
    assert decision.statement.policy == "queue.json"


def test_resource_account_is_read_from_an_arn_whose_resource_part_has_colons():
    """GLOBAL_KEYS, aws:ResourceAccount, and ARNS: the account is the ARN's fifth part; the resource
    part may hold ':' (log-group:NAME:*), which does not move the account. Such a log group in another
    account makes the request cross-account, so an identity-based Allow alone is not enough (CROSS)."""
    log_group = f"arn:aws:logs:us-east-1:{OTHER}:log-group:/aws/sagemaker/Endpoints/churn:*"
    decision = evaluate(Request("logs:PutRetentionPolicy", log_group, ROLE), identity=[pol("id.json", allow("logs:*"))])
    assert decision.cross_account and decision.decision == "implicit_deny"


# --- documents (GRAMMAR, SIMULATE) ------------------------------------------------------------------


def test_a_policy_without_statements_grants_nothing():
    """EVAL: without an applicable Allow the request is implicitly denied. A Policy object built by hand
    (not through parse_policy) with no Statement element has no statements and allows nothing."""
    empty = Policy(name="empty.json", document={"Version": "2012-10-17"})
    assert iter_statements(empty) == []
    assert evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[empty]).decision == "implicit_deny"


def test_single_object_statement_reports_where_it_ends():
    """SIMULATE (Statement: StartPosition and EndPosition) and GRAMMAR ("statement" may be one object):
    the end position of a statement given as a single object is its closing brace."""
    text = '{"Version": "2012-10-17",\n "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}'
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[parse_policy("p", text)])
    closing = text.rindex("}", 0, len(text) - 1)  # the statement's brace, before the document's
    assert decision.statement.start == (2, 15)
    assert decision.statement.end == (2, closing - text.index("\n"))


# --- breadth findings on a hand-built document --------------------------------------------------------


def test_findings_treat_a_malformed_condition_as_not_choosing_resources():
    """RESOURCE ("Resource": "*" reaches every resource): a Condition only narrows which resources a
    statement reaches when it tests the resource itself. A hand-built document whose Condition is not
    an object (parse_policy would refuse it) narrows nothing, so the statement is reported as reaching
    every resource under its Condition."""
    document = {"Version": "2012-10-17", "Statement": [allow(Condition="aws:SecureTransport")]}
    findings = breadth_findings(Policy(name="id.json", document=document))
    assert [f.code for f in findings] == ["RESOURCE_STAR"]
    assert "under a Condition on its Condition" in findings[0].message
    # An operator AWS does not know (CONDOPS) tests nothing, so it does not choose resources either.
    unknown = {"StringEqualz": {"aws:ResourceTag/team": "ml"}}
    document = {"Version": "2012-10-17", "Statement": [allow(Condition=unknown)]}
    assert [f.code for f in breadth_findings(Policy(name="id.json", document=document))] == ["RESOURCE_STAR"]


# --- grants (Service Authorization Reference, SAR) -----------------------------------------------------


def test_actions_of_an_unknown_service_grant_nothing_and_are_flagged():
    """SAR lists every service prefix: an action whose service prefix is misspelt ("sagemakr:") is
    accepted on save but matches no real action, so it grants nothing and has no access level."""
    policy = pol("id.json", allow(["sagemakr:CreateEndpoint", "s3:GetObject"], OBJECT))
    assert unknown_actions(policy) == [(0, "sagemakr:CreateEndpoint")]
    assert action_access_level("sagemakr:CreateEndpoint") is None
    assert {g.action for g in policy_grants(policy)} == {"s3:GetObject"}


def test_a_statement_with_neither_action_nor_notaction_grants_no_action():
    """GRAMMAR: a statement needs Action or NotAction; a hand-built one with neither covers no action."""
    assert expand_actions({"Effect": "Allow", "Resource": "*"}) == []


@pytest.mark.parametrize("pattern, action", [
    ("arn:aws:s3:::${aws:username}", "s3:ListBucket"),
    ("arn:aws:s3:::home/${aws:username}*", "s3:GetObject"),
    ("arn:aws:s3:::home/**", "s3:GetObject"),
])
def test_a_policy_variable_or_wildcard_run_reaches_any_value(pattern, action):
    """VARS and RESOURCE: a variable is replaced by the requester's value, so a pattern with one reaches
    whatever that value may be (a variable alone can name a whole bucket); "*" matches any run of
    characters, so "${aws:username}*" and "**" reach the same ARNs as one "*"."""
    grants = policy_grants(pol("id.json", allow(action, pattern)))
    assert [g.action for g in grants] == [action]
    assert resource_overlaps(pattern, S3_BUCKET_FORMAT if action == "s3:ListBucket" else S3_OBJECT_FORMAT)


def test_a_run_of_wildcards_also_matches_nothing():
    """RESOURCE: "*" stands for any run of characters, none included, and so does a run of several '*'
    or a variable followed by '*' (VARS: the variable may resolve to any value). "arn:aws:s3:::logs**"
    therefore also reaches the bucket "logs" itself, which "arn:aws:s3:::logs?*" (one character or
    more after "logs") does not cover."""
    for pattern in ("arn:aws:s3:::logs**", "arn:aws:s3:::logs${aws:username}*"):
        assert resource_within(pattern, ["arn:aws:s3:::logs?*"], [S3_BUCKET_FORMAT]) == "arn:aws:s3:::logs"


def test_example_arn_is_a_well_formed_arn_the_grant_reaches():
    """ARNS: an ARN is arn:partition:service:region:account-id:resource, the account a 12-digit id; SAR
    gives each resource type's ARN format. The example shown for a grant is such an ARN (it is used as
    the resource of a simulated request) that the grant's own Resource pattern matches, with no wildcard."""
    policy = pol("id.json", allow(["kms:Decrypt", "s3:GetObject"], "*"),
                 allow("s3:GetObject", "arn:aws:s3:::training/datasets/churn/*"))
    by_resource = {(g.action, g.resource): g for g in policy_grants(policy)}
    key_example = example_arn(by_resource[("kms:Decrypt", "*")])
    assert re.fullmatch(r"arn:aws:kms:[a-z]{2}-[a-z]+-\d:\d{12}:key/[^*?]+", key_example)
    prefix_grant = by_resource[("s3:GetObject", "arn:aws:s3:::training/datasets/churn/*")]
    example = example_arn(prefix_grant)
    assert match_resource(prefix_grant.resource, example) and "*" not in example


def test_a_wider_grant_of_a_needed_action_shows_an_arn_beyond_the_need():
    """SAR (s3:GetObject acts on objects) and RESOURCE ('*' spans '/'): a grant on a wider prefix than
    the task needs is reported with an example object ARN it reaches outside the needed prefix."""
    grants = policy_grants(pol("id.json", allow("s3:GetObject", "arn:aws:s3:::training/datasets/*")))
    found = excess(grants, [Need(("s3:GetObject",), ("arn:aws:s3:::training/datasets/churn/*",))])
    assert len(found) == 1
    assert found[0].message().endswith(f", e.g. {found[0].example}")
    assert match_resource("arn:aws:s3:::training/datasets/*", found[0].example)
    assert not match_resource("arn:aws:s3:::training/datasets/churn/*", found[0].example)


# --- more rules found by a second mutation sample (--seed 7) --------------------------------------------


def test_a_grant_the_task_needs_is_no_excess():
    """SAR: s3:GetObject acts on objects; a grant on exactly the prefix the task needs is not excess,
    while an action the task does not need is, whatever its resource."""
    prefix = "arn:aws:s3:::training/datasets/churn/*"
    grants = policy_grants(pol("id.json", allow(["s3:GetObject", "s3:DeleteObject"], prefix)))
    found = excess(grants, [Need(("s3:GetObject",), (prefix,))])
    assert [e.grant.action for e in found] == ["s3:DeleteObject"]


def test_an_unneeded_grant_on_star_is_shown_on_a_well_formed_arn():
    """ARNS (the account is a 12-digit id) and SAR (kms:Decrypt acts on a key, arn:...:key/KEY_ID): the
    excess example of an unneeded action granted on "*" is a well-formed ARN of its resource type, so
    it can be the resource of a simulated request."""
    grants = policy_grants(pol("id.json", allow(["s3:GetObject", "kms:Decrypt"], "*")))
    found = excess(grants, [Need(("s3:GetObject",), ("*",))])
    assert [e.grant.action for e in found] == ["kms:Decrypt"] and found[0].needed_on == ()
    assert re.fullmatch(r"arn:aws:kms:[a-z]{2}-[a-z]+-\d:\d{12}:key/[^*?]+", found[0].example)


def test_not_resource_allow_grants_actions_without_resource_types_on_star():
    """SAR ("Actions, resources, and condition keys": an action with no resource type is authorized on
    "*") and NOTRESOURCE: NotResource with Allow reaches every resource it does not list, so an action
    such as s3:ListAllMyBuckets (no resource type) is granted on "*", and s3:GetObject on the object
    ARN formats outside the excluded prefix."""
    statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBuckets"],
                 "NotResource": "arn:aws:s3:::secret/*"}
    grants = {g.action: g for g in policy_grants(pol("id.json", statement))}
    assert grants["s3:ListAllMyBuckets"].arn_formats == ("*",)
    assert grants["s3:ListAllMyBuckets"].resource_types == ()
    assert S3_OBJECT_FORMAT in grants["s3:GetObject"].arn_formats
    assert "object" in grants["s3:GetObject"].resource_types


def test_a_wildcard_in_the_service_prefix_reaches_every_matching_service():
    """ACTION: the Action value is matched as a whole, service prefix included, with '*' and '?', so
    "s3*:GetObject" grants GetObject of every service whose prefix starts with s3 (SAR: s3 and
    s3-object-lambda both define GetObject)."""
    granted = {g.action for g in policy_grants(pol("id.json", allow("s3*:GetObject", "*")))}
    assert {"s3:GetObject", "s3-object-lambda:GetObject"} <= granted


def test_text_after_a_policy_variable_stays_literal():
    """VARS: only the variable is replaced; the rest of the Resource is matched as written. So
    ".../${aws:username}/report.csv" reaches no more than ".../*/report.csv"."""
    pattern = "arn:aws:s3:::reports/${aws:username}/report.csv"
    assert resource_within(pattern, ["arn:aws:s3:::reports/*/report.csv"], [S3_OBJECT_FORMAT]) is None
    assert resource_within(pattern, ["arn:aws:s3:::reports/*/summary.csv"], [S3_OBJECT_FORMAT]) is not None


def test_containment_is_judged_on_the_arns_of_the_resource_types():
    """SAR: an S3 object ARN is arn:aws:s3:::BUCKET/KEY with a key of one character or more, so
    "b/*" reaches no object that "b/?*" misses; without a resource type, the bare "b/" is beyond it."""
    assert resource_within("arn:aws:s3:::b/*", ["arn:aws:s3:::b/?*"], [S3_OBJECT_FORMAT]) is None
    assert resource_within("arn:aws:s3:::b/*", ["arn:aws:s3:::b/?*"]) == "arn:aws:s3:::b/"


def test_a_variable_default_value_is_a_value_not_a_pattern():
    """VARS, "Specifying default values": when the key is absent, the default replaces the variable as
    its value would; substituted values match literally, so a default of "*" does not act as a wildcard."""
    policy = pol("id.json", allow(resource="arn:aws:s3:::home/${aws:PrincipalTag/team, '*'}/*"))
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::home/*/x", ROLE), identity=[policy]).allowed
    assert not evaluate(Request("s3:GetObject", "arn:aws:s3:::home/ml/x", ROLE), identity=[policy]).allowed


def test_aws_username_is_the_user_name_without_its_path():
    """GLOBAL_KEYS, aws:username: the user's friendly name. A user ARN may carry a path
    (user/division/alice); the name is the last part."""
    user = f"arn:aws:iam::{ACCOUNT}:user/division/alice"
    policy = pol("id.json", allow(resource="arn:aws:s3:::home/${aws:username}/*"))
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::home/alice/x", user), identity=[policy]).allowed
    assert not evaluate(Request("s3:GetObject", "arn:aws:s3:::home/division/x", user), identity=[policy]).allowed


def test_a_role_arn_needs_a_role_name():
    """ARNS: an IAM role ARN is arn:aws:iam::ACCOUNT:role/NAME; "role/" without a name names no caller."""
    with pytest.raises(RequestError):
        evaluate(Request("s3:GetObject", OBJECT, f"arn:aws:iam::{ACCOUNT}:role/"))


def test_allowed_by_scps_reports_whether_the_organization_allows():
    """Organizations, SCP evaluation, and the simulator's OrganizationsDecisionDetail (AllowedByOrganizations):
    true when every SCP level allows the action and none denies it."""
    request = Request("s3:GetObject", OBJECT, ROLE)
    identity = [pol("id.json", allow())]
    assert evaluate(request, identity=identity, scps=[pol("scp.json", allow("*"))]).allowed_by_scps is True
    assert evaluate(request, identity=identity, scps=[pol("scp.json", allow("ec2:*"))]).allowed_by_scps is False


def test_deny_with_not_principal_star_denies_no_one():
    """NOTPRINCIPAL: a Deny with NotPrincipal denies every principal except the ones listed; listing "*"
    excepts everyone, so the statement denies no one."""
    statement = {"Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}
    bucket = parse_policy("bucket.json", {"Version": "2012-10-17", "Statement": [statement]}, kind="resource")
    decision = evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[pol("id.json", allow())], resource=[bucket])
    assert decision.allowed


@pytest.mark.parametrize("statement_extra, message", [
    ({"Principal": {"AWS": []}}, "Principal.AWS must be a non-empty string or a non-empty list of strings"),
    ({"Principal": {"Service": ""}}, "Principal.Service must be a non-empty string"),
    ({"Principal": "*", "Condition": {"StringEquals": {"": "x"}}}, "has an empty condition key"),
    ({"Principal": "*", "Condition": {7: {"aws:SourceVpc": "vpc-1"}}}, "unknown condition operator 7"),
])
def test_grammar_refuses_empty_principals_and_condition_keys(statement_extra, message):
    """GRAMMAR: principal_id_string and condition_key_string are non-empty strings, and a condition
    operator is one of the documented names (CONDOPS); AWS refuses a policy that breaks this on save."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **statement_extra}
    with pytest.raises(PolicyError, match=re.escape(message)):
        parse_policy("bucket.json", {"Version": "2012-10-17", "Statement": [statement]})


def test_hand_built_policy_with_an_unknown_operator_is_refused_at_evaluation():
    """CONDOPS lists every condition operator; AWS refuses any other on save. A Policy built without
    parse_policy is checked when evaluated, and the error names the policy and the statement."""
    statement = allow(Condition={"StringEqualz": {"aws:SourceVpc": "vpc-1"}})
    hand_built = Policy(name="hand.json", document={"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(PolicyError, match=re.escape("policy 'hand.json', Statement[0]: unknown condition operator")):
        evaluate(Request("s3:GetObject", OBJECT, ROLE), identity=[hand_built])


def test_hand_built_principal_that_is_not_an_object_names_no_one():
    """PRINCIPAL: Principal is "*" or an object such as {"AWS": ...}; a bare ARN string is not valid
    grammar (parse_policy refuses it), so in a hand-built resource policy it names no caller."""
    statement = {"Effect": "Allow", "Principal": ROLE, "Action": "s3:GetObject", "Resource": "*"}
    hand_built = Policy(name="bucket.json", document={"Version": "2012-10-17", "Statement": [statement]})
    assert evaluate(Request("s3:GetObject", OBJECT, ROLE), resource=[hand_built]).decision == "implicit_deny"
