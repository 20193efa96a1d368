"""boto3 -> moto wire tests for SimulateCustomPolicy and SimulatePrincipalPolicy after install()."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from fixtures.moto_ext import iam as iam_ext

ACCOUNT = "123456789012"
OBJECT = "arn:aws:s3:::models/prod/model.tar.gz"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


READ_DENY_DELETE = doc(
    {"Sid": "ReadModels", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::models/*"},
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
)


@pytest.fixture
def iam():
    iam_ext.install()
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def by_action(response: dict) -> dict[str, dict]:
    return {r["EvalActionName"]: r for r in response["EvaluationResults"]}


def test_install_is_idempotent_and_registers_both_actions():
    from moto.iam.responses import IamResponse

    iam_ext.install()
    iam_ext.install()
    assert callable(IamResponse.simulate_custom_policy)
    assert callable(IamResponse.simulate_principal_policy)


def test_custom_policy_allowed_explicit_and_implicit_deny(iam):
    response = iam.simulate_custom_policy(
        PolicyInputList=[READ_DENY_DELETE],
        ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
        ResourceArns=[OBJECT],
    )
    results = by_action(response)
    assert [r["EvalDecision"] for r in response["EvaluationResults"]] == [
        "allowed",
        "explicitDeny",
        "implicitDeny",
    ]
    assert results["s3:GetObject"]["EvalResourceName"] == OBJECT
    assert results["s3:GetObject"]["MatchedStatements"] == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "none",
            "StartPosition": {"Line": 4, "Column": 5},
            "EndPosition": {"Line": 9, "Column": 5},
        }
    ]
    assert results["s3:DeleteObject"]["MatchedStatements"][0]["StartPosition"] == {"Line": 10, "Column": 5}
    assert results["s3:PutObject"]["MatchedStatements"] == []
    assert results["s3:GetObject"]["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"
    assert response["IsTruncated"] is False


def test_context_entries_and_missing_context_values(iam):
    policy = doc(
        {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "project"]}}}
    )  # fmt: skip
    kwargs = {"PolicyInputList": [policy], "ActionNames": ["sagemaker:InvokeEndpoint"]}
    inside = iam.simulate_custom_policy(
        ContextEntries=[
            {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"], "ContextKeyType": "ip"},
            {"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["team"], "ContextKeyType": "stringList"},
        ],
        **kwargs,
    )
    assert inside["EvaluationResults"][0]["EvalDecision"] == "allowed"
    extra_tag = iam.simulate_custom_policy(
        ContextEntries=[
            {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"], "ContextKeyType": "ip"},
            {
                "ContextKeyName": "aws:TagKeys",
                "ContextKeyValues": ["team", "owner"],
                "ContextKeyType": "stringList",
            },
        ],
        **kwargs,
    )
    assert extra_tag["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    missing = iam.simulate_custom_policy(**kwargs)["EvaluationResults"][0]
    assert missing["EvalDecision"] == "implicitDeny"
    assert missing["MissingContextValues"] == ["aws:SourceIp", "aws:TagKeys"]


def test_context_entry_with_too_many_values_for_scalar_type(iam):
    with pytest.raises(ClientError) as error:
        iam.simulate_custom_policy(
            PolicyInputList=[READ_DENY_DELETE], ActionNames=["s3:GetObject"],
            ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["1.1.1.1", "2.2.2.2"],
                             "ContextKeyType": "ip"}],
        )  # fmt: skip
    assert error.value.response["Error"]["Code"] == "InvalidInput"
    assert "use ipList" in error.value.response["Error"]["Message"]


def test_resource_policy_naming_the_caller_is_enough_in_the_same_account(iam):
    caller = f"arn:aws:iam::{ACCOUNT}:user/alice"
    bucket = doc(
        {"Sid": "AliceReads", "Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::models/*"}
    )  # fmt: skip
    unrelated = doc({"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"})
    response = iam.simulate_custom_policy(
        PolicyInputList=[unrelated], ResourcePolicy=bucket, CallerArn=caller,
        ActionNames=["s3:GetObject", "s3:PutObject"], ResourceArns=[OBJECT],
    )  # fmt: skip
    results = by_action(response)
    assert results["s3:GetObject"]["EvalDecision"] == "allowed"
    assert results["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyId"] == "ResourcePolicy"
    assert results["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyType"] == "resource"
    assert results["s3:PutObject"]["EvalDecision"] == "implicitDeny"


def test_resource_policy_requires_caller_arn(iam):
    bucket = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})
    with pytest.raises(ClientError) as error:
        iam.simulate_custom_policy(
            PolicyInputList=[READ_DENY_DELETE], ResourcePolicy=bucket, ActionNames=["s3:GetObject"]
        )
    assert error.value.response["Error"]["Code"] == "InvalidInput"
    assert error.value.response["Error"]["Message"] == "CallerArn is required if you include a ResourcePolicy"


def test_cross_account_resource_owner_needs_resource_policy(iam):
    caller = f"arn:aws:iam::{ACCOUNT}:user/alice"
    kwargs = {
        "PolicyInputList": [READ_DENY_DELETE], "CallerArn": caller, "ActionNames": ["s3:GetObject"],
        "ResourceArns": [OBJECT], "ResourceOwner": "arn:aws:iam::999999999999:root",
    }  # fmt: skip
    bucket = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"})
    denied = iam.simulate_custom_policy(ResourcePolicy=bucket, **kwargs)["EvaluationResults"][0]
    assert denied["EvalDecision"] == "implicitDeny"
    assert denied["EvalDecisionDetails"] == {"IAM Policy": "allowed", "Resource Policy": "implicitDeny"}
    granting = doc(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:GetObject", "Resource": "*"}
    )
    allowed = iam.simulate_custom_policy(ResourcePolicy=granting, **kwargs)["EvaluationResults"][0]
    assert allowed["EvalDecision"] == "allowed"
    assert allowed["EvalDecisionDetails"] == {"IAM Policy": "allowed", "Resource Policy": "allowed"}


def test_permissions_boundary_input(iam):
    everything = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    boundary = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    response = iam.simulate_custom_policy(
        PolicyInputList=[everything], PermissionsBoundaryPolicyInputList=[boundary],
        ActionNames=["s3:GetObject", "s3:PutObject"],
    )  # fmt: skip
    results = by_action(response)
    assert results["s3:GetObject"]["EvalDecision"] == "allowed"
    assert results["s3:GetObject"]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": True
    }
    assert results["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    assert results["s3:PutObject"]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False
    }


def test_organization_policies_are_scp_levels(iam):
    everything = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    levels = [
        {"ServiceControlPolicyInputList": [everything]},  # organization root
        {"ServiceControlPolicyInputList": [doc({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}),
                                           doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"})]},
    ]  # fmt: skip
    response = iam.simulate_custom_policy(
        PolicyInputList=[everything], OrderedOrganizationPolicyInputList=levels,
        ActionNames=["sagemaker:CreateModel", "logs:GetLogEvents", "s3:GetObject"],
    )  # fmt: skip
    results = by_action(response)
    assert results["sagemaker:CreateModel"]["EvalDecision"] == "allowed"
    assert results["logs:GetLogEvents"]["EvalDecision"] == "allowed"
    assert results["logs:GetLogEvents"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert results["s3:GetObject"]["EvalDecision"] == "implicitDeny"
    assert results["s3:GetObject"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}


def test_malformed_policy_is_invalid_input(iam):
    with pytest.raises(ClientError) as error:
        iam.simulate_custom_policy(
            PolicyInputList=['{"Statement": [{"Effect": "Allow"}]}'], ActionNames=["s3:GetObject"]
        )
    assert error.value.response["Error"]["Code"] == "InvalidInput"
    assert error.value.response["Error"]["Message"] == (
        "policy 'PolicyInputList.1', Statement[0]: has neither Action nor NotAction"
    )


def test_max_items_paginates(iam):
    first = iam.simulate_custom_policy(
        PolicyInputList=[READ_DENY_DELETE],
        ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
        MaxItems=2,
    )
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    rest = iam.simulate_custom_policy(
        PolicyInputList=[READ_DENY_DELETE], ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
        MaxItems=2, Marker=first["Marker"],
    )  # fmt: skip
    assert [r["EvalActionName"] for r in rest["EvaluationResults"]] == ["s3:PutObject"]


def test_principal_policy_for_user_includes_inline_managed_and_group_policies(iam):
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="inline-read", PolicyDocument=READ_DENY_DELETE)
    managed = iam.create_policy(
        PolicyName="endpoint-invoke",
        PolicyDocument=doc({"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="alice", PolicyArn=managed)
    iam.create_group(GroupName="ml")
    iam.add_user_to_group(GroupName="ml", UserName="alice")
    iam.put_group_policy(
        GroupName="ml", PolicyName="group-logs",
        PolicyDocument=doc({"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}),
    )  # fmt: skip
    response = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        ActionNames=[
            "s3:GetObject",
            "sagemaker:InvokeEndpoint",
            "logs:GetLogEvents",
            "s3:DeleteObject",
            "iam:CreateUser",
        ],
        ResourceArns=[OBJECT],
    )
    results = by_action(response)
    source = {
        a: [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["MatchedStatements"]]
        for a, r in results.items()
    }
    assert source["s3:GetObject"] == [("inline-read", "user")]
    assert source["sagemaker:InvokeEndpoint"] == [("endpoint-invoke", "user-managed")]
    assert source["logs:GetLogEvents"] == [("group-logs", "group")]
    assert results["s3:DeleteObject"]["EvalDecision"] == "explicitDeny"
    assert results["iam:CreateUser"]["EvalDecision"] == "implicitDeny"


def test_principal_policy_for_role_applies_its_permissions_boundary_and_tags(iam):
    trust = doc(
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    boundary = iam.create_policy(
        PolicyName="ml-boundary",
        PolicyDocument=doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
    )["Policy"]["Arn"]
    role = iam.create_role(
        RoleName="trainer", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary,
        Tags=[{"Key": "team", "Value": "models"}],
    )["Role"]["Arn"]  # fmt: skip
    iam.put_role_policy(
        RoleName="trainer", PolicyName="team-bucket",
        PolicyDocument=doc(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:PrincipalTag/team}/*"}
        ),
    )  # fmt: skip
    response = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["s3:GetObject", "s3:PutObject"], ResourceArns=[OBJECT]
    )
    results = by_action(response)
    assert results["s3:GetObject"]["EvalDecision"] == "allowed"
    assert results["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyId"] == "team-bucket"
    assert results["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyType"] == "role"
    assert results["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    assert results["s3:PutObject"]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False
    }
    other = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::data/x"]
    )
    assert other["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"


def test_principal_policy_boundary_input_and_unknown_principal(iam):
    iam.create_user(UserName="bob")
    iam.put_user_policy(
        UserName="bob",
        PolicyName="all-s3",
        PolicyDocument=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    )
    response = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/bob", ActionNames=["s3:PutObject"],
        PermissionsBoundaryPolicyInputList=[doc({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})],
    )  # fmt: skip
    assert response["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    with pytest.raises(ClientError) as error:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody", ActionNames=["s3:GetObject"]
        )
    assert error.value.response["Error"]["Code"] == "NoSuchEntity"


def test_kms_key_without_resource_policy_lists_only_the_input_policies(iam):
    """IAM API Reference, SimulateCustomPolicy: MatchedStatements come from the policies in the
    request; the engine's assumed default key policy (KMS "Default key policy") is never listed."""
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    policy = doc({"Sid": "UseKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    response = iam.simulate_custom_policy(
        PolicyInputList=[policy], CallerArn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        ActionNames=["kms:Decrypt", "kms:ScheduleKeyDeletion"], ResourceArns=[key],
    )  # fmt: skip
    results = by_action(response)
    assert results["kms:Decrypt"]["EvalDecision"] == "allowed"
    assert [s["SourcePolicyId"] for s in results["kms:Decrypt"]["MatchedStatements"]] == ["PolicyInputList.1"]
    assert results["kms:ScheduleKeyDeletion"]["EvalDecision"] == "implicitDeny"
    assert results["kms:ScheduleKeyDeletion"]["MatchedStatements"] == []
