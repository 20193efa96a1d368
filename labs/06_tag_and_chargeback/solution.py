"""Lab 06: tag everything, find what isn't, charge it back.

Write the five functions with boto3. The grader creates a messy ML account (names change every run),
calls your functions, then reads the tags of every resource, the Config rule's evaluations, your SCP,
the cost allocation tags and your charge-back report. See README.md.
"""

import csv
import io
import json
from decimal import Decimal

import boto3

SCHEMA = ("Project", "Environment", "Owner", "CostCenter")


def tag_ml_resources(defaults):
    """Give every resource of the Region the four schema tags: keep existing values (also those under a
    wrong-case key such as 'project', which is then removed) and use defaults[key] for missing ones."""
    # BEGIN SOLUTION
    tagging = boto3.client("resourcegroupstaggingapi")
    for page in tagging.get_paginator("get_resources").paginate():
        for item in page["ResourceTagMappingList"]:
            arn = item["ResourceARN"]
            tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
            wanted, wrong_case = {}, []
            for key in SCHEMA:
                twins = [k for k in tags if k != key and k.lower() == key.lower()]
                wrong_case += twins
                if key not in tags:
                    wanted[key] = tags[twins[0]] if twins else defaults[key]
            if wanted:
                tagging.tag_resources(ResourceARNList=[arn], Tags=wanted)
            if wrong_case:
                tagging.untag_resources(ResourceARNList=[arn], TagKeys=wrong_case)
    # END SOLUTION


def require_tags_rule(rule_name):
    """Add the AWS Config managed rule REQUIRED_TAGS requiring the four schema keys, scoped to the
    SageMaker resources Config records."""
    # BEGIN SOLUTION
    parameters = {f"tag{i}Key": key for i, key in enumerate(SCHEMA, start=1)}
    boto3.client("config").put_config_rule(ConfigRule={
        "ConfigRuleName": rule_name,
        "Description": "ML resources carry Project, Environment, Owner and CostCenter",
        "Scope": {"ComplianceResourceTypes": ["AWS::SageMaker::Model", "AWS::SageMaker::NotebookInstance",
                                              "AWS::SageMaker::Endpoint"]},
        "Source": {"Owner": "AWS", "SourceIdentifier": "REQUIRED_TAGS"},
        "InputParameters": json.dumps(parameters),
    })
    # END SOLUTION


def deny_untagged_ml_spend(policy_name):
    """Create the service control policy policy_name that denies creating SageMaker endpoints and
    training jobs without a CostCenter tag in the request."""
    # BEGIN SOLUTION
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RequireCostCenterOnSpend",
            "Effect": "Deny",
            "Action": ["sagemaker:CreateEndpoint", "sagemaker:CreateTrainingJob"],
            "Resource": "*",
            "Condition": {"Null": {"aws:RequestTag/CostCenter": "true"}},
        }],
    }
    created = boto3.client("organizations").create_policy(
        Content=json.dumps(policy), Description="No ML spend without a CostCenter", Name=policy_name,
        Type="SERVICE_CONTROL_POLICY")
    return created["Policy"]["PolicySummary"]["Id"]
    # END SOLUTION


def activate_cost_allocation_tags(tag_keys):
    """Activate the user-defined cost allocation tags tag_keys."""
    # BEGIN SOLUTION
    answer = boto3.client("ce").update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[{"TagKey": key, "Status": "Active"} for key in tag_keys])
    if answer.get("Errors"):
        raise RuntimeError(f"not activated: {answer['Errors']}")
    # END SOLUTION


def charge_back(cur_bucket, cur_key, report_bucket, report_key):
    """Sum the CUR extract's unblended cost by CostCenter tag and write {cost center: total, ...,
    "untagged": total} (USD, rounded to cents) as JSON to s3://report_bucket/report_key."""
    # BEGIN SOLUTION
    s3 = boto3.client("s3")
    text = s3.get_object(Bucket=cur_bucket, Key=cur_key)["Body"].read().decode("utf-8")
    totals = {}
    for row in csv.DictReader(io.StringIO(text)):
        center = row["resourceTags/user:CostCenter"] or "untagged"
        totals[center] = totals.get(center, Decimal(0)) + Decimal(row["lineItem/UnblendedCost"])
    report = {center: float(total.quantize(Decimal("0.01"))) for center, total in totals.items()}
    s3.put_object(Bucket=report_bucket, Key=report_key, Body=json.dumps(report, indent=2).encode(),
                  ContentType="application/json")
    # END SOLUTION
