"""Breadth findings added for lab 2's review (partial action wildcards, Resource "*" under a request
condition), the trust-policy check, the request context of the lab's matrix, and the evaluator's
reason for a service principal (which belongs to no account)."""

import pytest

from checks.iam import Expect, RolePolicies, request_context, trusts_only_service
from mlalab.engines.iam import PolicyError, Request, evaluate, parse_policy
from mlalab.engines.iam.findings import FINDING_CODES, breadth_findings

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-training"
SAGEMAKER = "sagemaker.amazonaws.com"
JOB_CONTEXT = {"aws:SourceAccount": ACCOUNT,
               "aws:SourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/churn-1"}


def policy(*statements: dict, name: str = "p"):
    return parse_policy(name, {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="arn:aws:s3:::b/*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def codes(*statements: dict) -> list[str]:
    return [f.code for f in breadth_findings(policy(*statements))]


def test_existing_codes_are_kept_and_new_ones_added():
    for code in ("ACTION_STAR", "SERVICE_STAR", "RESOURCE_STAR_NO_CONDITION", "NOTACTION_ALLOW",
                 "NOTRESOURCE_ALLOW", "PASSROLE_STAR", "ACTION_WILDCARD", "RESOURCE_STAR"):
        assert code in FINDING_CODES


@pytest.mark.parametrize("action", ["s3:Get*", "s3:PutObject*", "logs:*Log*", "s3:GetObjec?", "S3:get*"])
def test_partial_action_wildcards_are_flagged(action):
    assert codes(allow(action)) == ["ACTION_WILDCARD"]


def test_full_wildcards_keep_their_own_codes():
    assert codes(allow("s3:*")) == ["SERVICE_STAR"]
    assert codes(allow("*")) == ["ACTION_STAR"]
    assert codes(allow(["s3:GetObject", "s3:PutObject"])) == []
    assert codes({"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}) == []  # a Deny narrows


def test_action_wildcard_message_names_the_action_and_what_it_also_grants():
    message = breadth_findings(policy(allow("s3:Get*", Sid="Read"), name="access.json"))[0].message
    assert message.startswith("Statement[0] (Sid 'Read') of 'access.json' allows actions by wildcard (s3:Get*)")
    assert "s3:GetBucketPolicy" in message and "s3:GetObjectAcl" in message
    assert "any AWS adds later" in message
    assert "s3:PutObjectAcl" in breadth_findings(policy(allow("s3:PutObject*")))[0].message


@pytest.mark.parametrize("condition", [
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    {"StringNotEquals": {"aws:ResourceTag/team": "finance"}},  # a negated tag test keeps almost everything
])
def test_resource_star_under_a_request_condition_is_flagged(condition):
    statement = allow(["s3:GetObject", "cloudwatch:PutMetricData"], "*", Condition=condition)
    findings = breadth_findings(policy(statement))
    assert [f.code for f in findings] == ["RESOURCE_STAR"]
    assert "allows s3:GetObject on every resource" in findings[0].message  # not the star-only action
    assert "a condition on the request does not choose which resources" in findings[0].message
    assert f"under a Condition on {next(iter(next(iter(condition.values()))))}:" in findings[0].message


def test_resource_star_exemptions():
    # Actions that support no resource type can only be granted on "*".
    metrics = allow("cloudwatch:PutMetricData", "*",
                    Condition={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}})
    assert codes(metrics) == []
    assert codes(allow("cloudwatch:PutMetricData", "*")) == []
    # A positive test on a resource tag chooses resources by their own property (ABAC).
    assert codes(allow("sagemaker:StopTrainingJob", "*",
                       Condition={"StringEquals": {"aws:ResourceTag/team": "ml"}})) == []
    # Without a Condition the old code (and only it) applies.
    assert codes(allow("s3:GetObject", "*")) == ["RESOURCE_STAR_NO_CONDITION"]


# --- the trust-policy check -------------------------------------------------------------------

SERVICE_ONLY = {"Effect": "Allow", "Principal": {"Service": SAGEMAKER}, "Action": "sts:AssumeRole"}
CONFUSED_DEPUTY = {**SERVICE_ONLY, "Condition": {
    "StringEquals": {"aws:SourceAccount": ACCOUNT},
    "ArnLike": {"aws:SourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:*"}}}


def trust(*statements: dict) -> RolePolicies:
    return RolePolicies("sagemaker-training", ROLE, policy(*statements, name="trust policy"))


@pytest.mark.parametrize("statements", [
    [SERVICE_ONLY],
    [CONFUSED_DEPUTY],
    [{**SERVICE_ONLY, "Principal": {"Service": [SAGEMAKER]},
      "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]}],
    [SERVICE_ONLY, {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                    "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}}],
], ids=["service-only", "confused-deputy", "list-and-session-actions", "with-a-deny"])
def test_trust_policies_that_trust_only_sagemaker_pass(statements):
    verdict = trusts_only_service(trust(*statements), SAGEMAKER, context=JOB_CONTEXT)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize(("extra", "words"), [
    ({"Principal": {"AWS": "arn:aws:iam::999999999999:root"}}, "also trusts AWS 'arn:aws:iam::999999999999:root'"),
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, f"also trusts AWS 'arn:aws:iam::{ACCOUNT}:root'"),
    ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}}, f"also trusts AWS 'arn:aws:iam::{ACCOUNT}:role/ci'"),
    ({"Principal": {"Service": [SAGEMAKER, "lambda.amazonaws.com"]}}, "also trusts Service 'lambda.amazonaws.com'"),
    ({"Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/idp"}, "Action": "sts:AssumeRoleWithSAML"},
     f"also trusts Federated 'arn:aws:iam::{ACCOUNT}:saml-provider/idp'"),
    ({"Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
     "every AWS principal); its Condition on aws:PrincipalOrgID"),
    ({"Principal": "*"}, 'trusts every principal ("Principal": "*")'),
    ({"Principal": {"Service": SAGEMAKER}, "Action": "sts:*"}, "allows sts:*"),
], ids=["other-account", "own-account", "role", "lambda", "saml", "org-star", "star", "sts-star"])
def test_trust_policies_that_trust_more_fail_naming_the_statement(extra, words):
    verdict = trusts_only_service(trust(SERVICE_ONLY, {**SERVICE_ONLY, **extra}), SAGEMAKER, context=JOB_CONTEXT)
    assert not verdict.passed
    assert "Statement[1] of its trust policy" in verdict.message and words in verdict.message, verdict.message
    assert "anyone who can assume an execution role gets all of its data access" in verdict.message


def test_not_principal_in_an_allow_is_an_invalid_trust_policy():
    """AWS JSON policy elements: NotPrincipal: "NotPrincipal must be used with "Effect":"Deny". Using it
    with "Effect":"Allow" is not supported", and it cannot appear in a role trust policy: IAM refuses
    the document, so the lab reports the policy as unreadable instead of grading it."""
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::999999999999:root"},
                 "Action": "sts:AssumeRole"}
    with pytest.raises(PolicyError, match='Statement\\[1\\]: uses NotPrincipal with "Effect": "Allow"'):
        trust(SERVICE_ONLY, statement)


def test_confused_deputy_condition_needs_the_job_context():
    """SageMaker sends aws:SourceAccount/aws:SourceArn; with an empty context the recommended policy
    would wrongly fail, and the reason must not leak Python's None as an account."""
    assert trusts_only_service(trust(CONFUSED_DEPUTY), SAGEMAKER, context=JOB_CONTEXT).passed
    verdict = trusts_only_service(trust(CONFUSED_DEPUTY), SAGEMAKER)
    assert not verdict.passed
    assert "None" not in verdict.message
    assert "the request context has no aws:SourceAccount, aws:SourceArn" in verdict.message


def test_service_principal_denial_reason_names_no_account():
    decision = evaluate(Request("sts:AssumeRole", ROLE, principal="ec2.amazonaws.com"),
                        resource=[policy(SERVICE_ONLY, name="trust policy")])
    assert not decision.allowed
    assert "None" not in decision.reason
    assert "no Allow statement names it with a Condition that holds" in decision.reason
    assert "the service principal ec2.amazonaws.com has no identity-based policies" in decision.reason


# --- the request context of the lab's matrix ---------------------------------------------------

def test_request_context_is_a_training_jobs():
    role = trust(SERVICE_ONLY)
    s3 = request_context(role, Expect("s3:ListBucket", "arn:aws:s3:::b", True, "", {"s3:prefix": "d/"}), "us-east-1")
    assert s3 == {"aws:SecureTransport": "true", "aws:RequestedRegion": "us-east-1", "aws:PrincipalAccount": ACCOUNT,
                  "aws:ResourceAccount": ACCOUNT, "s3:prefix": "d/"}
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"
    kms = request_context(role, Expect("kms:Decrypt", key, True, ""), "us-east-1")
    assert kms["kms:ViaService"] == "s3.us-east-1.amazonaws.com" and kms["kms:CallerAccount"] == ACCOUNT
    assert "kms:ViaService" not in request_context(role, Expect("kms:Decrypt", key, True, "",
                                                                {"kms:ViaService": None}), "us-east-1")


def test_resource_tag_conditions_that_also_hold_without_the_tag_do_not_choose_resources():
    """"Set operators for multivalued context keys": ForAllValues holds for a missing key, and
    ...IfExists too, so such a test on aws:ResourceTag also lets in every untagged resource."""
    for operator in ("ForAllValues:StringEquals", "StringEqualsIfExists", "Null"):
        value = "true" if operator == "Null" else "ml"  # Null "true": only resources WITHOUT the tag
        statement = allow("sagemaker:StopTrainingJob", "*", Condition={operator: {"aws:ResourceTag/team": value}})
        assert codes(statement) == ["RESOURCE_STAR"], operator
    tagged = allow("sagemaker:StopTrainingJob", "*",
                   Condition={"ForAnyValue:StringLike": {"aws:ResourceTag/team": "ml*"}})
    assert codes(tagged) == []


def test_passrole_finding_uses_the_evaluators_action_matching():
    """NotAction (reference_policies_elements_notaction.html): an Allow with NotAction on "*" grants
    iam:PassRole unless iam:PassRole (in any case, or by wildcard) is excluded."""
    open_ended = {"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}
    assert "PASSROLE_STAR" in codes(open_ended)
    for excluded in ("IAM:passrole", "iam:Pass*", "iam:*"):
        assert "PASSROLE_STAR" not in codes({**open_ended, "NotAction": ["s3:*", excluded]}), excluded
    assert "PASSROLE_STAR" in codes(allow("iam:Pass?ole", "*"))
    assert "PASSROLE_STAR" not in codes(allow("iam:PassRole", "arn:aws:iam::123456789012:role/sagemaker-*"))
