"""The Config and Cost Explorer extensions on the wire: REQUIRED_TAGS evaluated through
StartConfigRulesEvaluation, GetComplianceDetailsByConfigRule (API_GetComplianceDetailsByConfigRule)
and DescribeComplianceByConfigRule (API_DescribeComplianceByConfigRule); cost allocation tags
through ListCostAllocationTags and UpdateCostAllocationTagsStatus."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from fixtures import moto_ext

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/x"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"


@pytest.fixture
def clients():
    moto_ext.install()
    with mock_aws():
        moto_ext.reset()
        config = boto3.client("config", region_name=REGION)
        config.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": ROLE})
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "b"})
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        yield config, boto3.client("sagemaker", region_name=REGION), boto3.client("ce", region_name=REGION)
    moto_ext.reset()


def _model(sm, name, **tags):
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE},
                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def _rule(config, params, types=("AWS::SageMaker::Model",)):
    config.put_config_rule(ConfigRule={"ConfigRuleName": "r", "Source": {"Owner": "AWS",
                                                                         "SourceIdentifier": "REQUIRED_TAGS"},
                                       "InputParameters": json.dumps(params),
                                       "Scope": {"ComplianceResourceTypes": list(types)}})


def _results(config, **kwargs):
    page = config.get_compliance_details_by_config_rule(ConfigRuleName="r", **kwargs)
    return {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r["ComplianceType"]
            for r in page["EvaluationResults"]}


def test_required_tags_evaluated_and_answered_in_aws_shape(clients):
    config, sm, _ = clients
    _model(sm, "good", Project="p")
    _model(sm, "bad", project="p")
    _rule(config, {"tag1Key": "Project"})
    page = config.get_compliance_details_by_config_rule(ConfigRuleName="r")
    [first, second] = page["EvaluationResults"]
    qualifier = first["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
    assert qualifier == {"ConfigRuleName": "r", "ResourceType": "AWS::SageMaker::Model", "ResourceId": "bad",
                         "EvaluationMode": "DETECTIVE"}
    assert (first["ComplianceType"], second["ComplianceType"]) == ("NON_COMPLIANT", "COMPLIANT")
    [summary] = config.describe_compliance_by_config_rule(ConfigRuleNames=["r"])["ComplianceByConfigRules"]
    assert summary["Compliance"] == {"ComplianceType": "NON_COMPLIANT",
                                     "ComplianceContributorCount": {"CappedCount": 1, "CapExceeded": False}}


def test_tag_changes_and_deletions_are_reflected(clients):
    config, sm, _ = clients
    _model(sm, "m")
    _rule(config, {"tag1Key": "Owner"})
    assert _results(config) == {"m": "NON_COMPLIANT"}
    sm.add_tags(ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:model/m", Tags=[{"Key": "Owner", "Value": "o"}])
    config.start_config_rules_evaluation(ConfigRuleNames=["r"])
    assert _results(config) == {"m": "COMPLIANT"}
    sm.delete_model(ModelName="m")
    assert _results(config) == {}  # NOT_APPLICABLE is not returned by default
    assert _results(config, ComplianceTypes=["NOT_APPLICABLE"]) == {"m": "NOT_APPLICABLE"}


def test_paging_with_limit(clients):
    config, sm, _ = clients
    for i in range(3):
        _model(sm, f"m{i}")
    _rule(config, {"tag1Key": "Owner"})
    first = config.get_compliance_details_by_config_rule(ConfigRuleName="r", Limit=2)
    assert len(first["EvaluationResults"]) == 2 and first["NextToken"]
    second = config.get_compliance_details_by_config_rule(ConfigRuleName="r", Limit=2, NextToken=first["NextToken"])
    assert len(second["EvaluationResults"]) == 1 and "NextToken" not in second


def test_without_a_running_recorder_nothing_is_evaluated(clients):
    config, sm, _ = clients
    config.stop_configuration_recorder(ConfigurationRecorderName="default")
    _model(sm, "m")
    _rule(config, {"tag1Key": "Owner"})
    assert _results(config) == {}
    [summary] = config.describe_compliance_by_config_rule(ConfigRuleNames=["r"])["ComplianceByConfigRules"]
    assert summary["Compliance"]["ComplianceType"] == "INSUFFICIENT_DATA"


def test_bad_parameters_and_unknown_rules_are_refused(clients):
    config, _, _ = clients
    with pytest.raises(ClientError) as err:
        _rule(config, {"tag2Key": "Owner"})
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as err:
        config.get_compliance_details_by_config_rule(ConfigRuleName="nope")
    assert err.value.response["Error"]["Code"] == "NoSuchConfigRuleException"


def test_cost_allocation_tags(clients):
    _, sm, ce = clients
    _model(sm, "m", CostCenter="c", team="t")
    listed = {t["TagKey"]: t["Status"] for t in ce.list_cost_allocation_tags()["CostAllocationTags"]}
    assert listed == {"CostCenter": "Inactive", "team": "Inactive"}
    answer = ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=[
        {"TagKey": "CostCenter", "Status": "Active"}, {"TagKey": "costcenter", "Status": "Active"}])
    assert [e["TagKey"] for e in answer["Errors"]] == ["costcenter"]  # keys are case-sensitive
    active = ce.list_cost_allocation_tags(Status="Active")["CostAllocationTags"]
    assert [t["TagKey"] for t in active] == ["CostCenter"]
