"""Checks for tagging, AWS Config's REQUIRED_TAGS rule, tag-enforcing SCPs, cost allocation tags and
charge-back from a Cost and Usage Report (lab 06).

Tag keys and values are case-sensitive ("Tag naming limits and requirements",
https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html): ``project`` is another key than
``Project``, and Cost Explorer, the CUR and Config treat it as one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal

from botocore.exceptions import ClientError

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.iam import PolicyError, Request, evaluate, parse_policy
from mlalab.engines.iam.grants import expand_actions

SCHEMA = ("Project", "Environment", "Owner", "CostCenter")
UNTAGGED = "untagged"
CUR_COST, CUR_COST_CENTER = "lineItem/UnblendedCost", "resourceTags/user:CostCenter"
FULL_AWS_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TAGGING_CONCEPT = ("Find resources with the Resource Groups Tagging API (GetResources pages: follow PaginationToken "
                   "until it is empty) and fix them with TagResources/UntagResources; keys are case-sensitive.")


def expected_tags(initial: Mapping[str, str], defaults: Mapping[str, str]) -> dict[str, str]:
    """The lab's schema rule: a wrong-case key becomes the schema key (its value kept, unless the right
    key is already there); missing schema keys take the defaults; other tags stay."""
    tags = {k: v for k, v in initial.items() if k in SCHEMA or k.lower() not in {s.lower() for s in SCHEMA}}
    for key in SCHEMA:
        variant = next((v for k, v in initial.items() if k != key and k.lower() == key.lower()), None)
        tags.setdefault(key, variant if variant is not None else defaults[key])
    return tags


def current_tags(aws) -> dict[str, dict[str, str]]:
    """ARN -> tags of every resource GetResources lists in the Region (all pages)."""
    found: dict[str, dict[str, str]] = {}
    for page in aws.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate():
        for item in page["ResourceTagMappingList"]:
            found[item["ResourceARN"]] = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
    return found


def _show(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "no tags"


def schema_applied(resources: Iterable[tuple[str, str, Mapping[str, str]]], tags: Mapping[str, Mapping[str, str]],
                   ) -> Verdict:
    """Each (arn, label, expected) resource carries the four schema keys with the expected values."""
    for arn, label, expected in resources:
        found = tags.get(arn, {})
        wrong = [k for k in SCHEMA if found.get(k) != expected[k]]
        if wrong:
            return fail(f"{label} has {_show(found)}; expected "
                        f"{', '.join(f'{k}={expected[k]}' for k in SCHEMA)} (wrong or missing: {', '.join(wrong)}). "
                        "Keep the values a resource already has (a wrong-case key's value too) and give the "
                        f"defaults only for missing keys. {TAGGING_CONCEPT}")
    return ok()


def case_variants_gone(resources: Iterable[tuple[str, str]], tags: Mapping[str, Mapping[str, str]]) -> Verdict:
    """No resource keeps a wrong-case twin of a schema key (``project`` next to ``Project``)."""
    lowered = {k.lower(): k for k in SCHEMA}
    for arn, label in resources:
        twins = [k for k in tags.get(arn, {}) if k.lower() in lowered and k != lowered[k.lower()]]
        if twins:
            return fail(f"{label} still has {', '.join(sorted(twins))} next to the schema keys ({_show(tags[arn])}). "
                        "Tag keys are case-sensitive: Cost Explorer and the CUR show 'costcenter' as a separate "
                        "cost allocation tag, splitting the bill. Remove the wrong-case key (UntagResources) once "
                        "its value is on the schema key.")
    return ok()


def config_results(aws, rule_name: str, expected: Mapping[tuple[str, str], str],
                   out_of_scope: Iterable[tuple[str, str]]) -> Verdict:
    """The rule is REQUIRED_TAGS and its results (GetComplianceDetailsByConfigRule) hold the expected
    compliance for each (type, id) and no result for the out-of-scope resources."""
    config = aws.client("config")
    try:
        rules = config.describe_config_rules(ConfigRuleNames=[rule_name])["ConfigRules"]
    except ClientError:  # NoSuchConfigRuleException
        rules = []
    rule = rules[0] if rules else None
    if rule is None:
        return fail(f"there is no Config rule {rule_name}; expected the AWS managed rule REQUIRED_TAGS "
                    "(put_config_rule with Source Owner=AWS, SourceIdentifier=REQUIRED_TAGS).")
    source = rule.get("Source", {})
    if (source.get("Owner"), source.get("SourceIdentifier")) != ("AWS", "REQUIRED_TAGS"):
        return fail(f"Config rule {rule_name} has Source {source}; expected the AWS managed rule REQUIRED_TAGS.")
    found: dict[tuple[str, str], str] = {}
    kwargs = {"ConfigRuleName": rule_name, "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"],
              "Limit": 100}
    while True:
        page = config.get_compliance_details_by_config_rule(**kwargs)
        for result in page["EvaluationResults"]:
            q = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            found[(q["ResourceType"], q["ResourceId"])] = result["ComplianceType"]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    params = rule.get("InputParameters", "{}")
    for (kind, rid), compliance in expected.items():
        if found.get((kind, rid)) != compliance:
            return fail(f"Config rule {rule_name} (InputParameters {params}, Scope {rule.get('Scope', {})}) "
                        f"reports {found.get((kind, rid), 'no result')} for {kind} {rid}; expected {compliance}. "
                        "REQUIRED_TAGS checks tag1Key..tag6Key exactly (case-sensitive); scope it with "
                        "ComplianceResourceTypes to the SageMaker types Config records (AWS::SageMaker::Model, "
                        "AWS::SageMaker::NotebookInstance, AWS::SageMaker::Endpoint).")
    for kind, rid in out_of_scope:
        if (kind, rid) in found:
            return fail(f"Config rule {rule_name} evaluates {kind} {rid} ({found[(kind, rid)]}); expected the rule "
                        "scoped to SageMaker resources only (Scope.ComplianceResourceTypes): an unscoped rule "
                        "reports every bucket and log group of the account.")
    return ok()


def find_scp(aws, policy_name: str) -> str | None:
    """The content of the organization's SCP named policy_name, or None."""
    org = aws.client("organizations")
    for page in org.get_paginator("list_policies").paginate(Filter="SERVICE_CONTROL_POLICY"):
        for summary in page["Policies"]:
            if summary["Name"] == policy_name:
                return org.describe_policy(PolicyId=summary["Id"])["Policy"]["Content"]
    return None


def scp_requires_tag(content: str | None, policy_name: str, account: str, region: str, tag_key: str = "CostCenter",
                     guarded: Mapping[str, str] | None = None) -> Verdict:
    """With FullAWSAccess and this SCP attached, creating the guarded resources without the request tag is
    denied, with it allowed, and every other SageMaker action is unaffected (the exhaustive sweep over
    the Service Authorization Reference's SageMaker actions)."""
    guarded = guarded or {"sagemaker:CreateEndpoint": f"arn:aws:sagemaker:{region}:{account}:endpoint/probe",
                          "sagemaker:CreateTrainingJob": f"arn:aws:sagemaker:{region}:{account}:training-job/probe"}
    if content is None:
        return fail(f"there is no service control policy named {policy_name} in the organization; expected one "
                    "created with organizations.create_policy(Type='SERVICE_CONTROL_POLICY').")
    try:
        scp = parse_policy(policy_name, content)
        full = parse_policy("FullAWSAccess", FULL_AWS_ACCESS)
    except PolicyError as exc:
        return fail(f"SCP {policy_name} is not a valid policy: {exc}")
    principal = f"arn:aws:iam::{account}:role/ml-engineer"
    allow_all = parse_policy("AdministratorAccess", FULL_AWS_ACCESS, kind="identity")

    def decide(action: str, resource: str, tags: Mapping[str, str]) -> bool:
        context = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
        if tags:
            context["aws:TagKeys"] = list(tags)
        request = Request(action=action, resource=resource, principal=principal, context=context)
        return evaluate(request, [allow_all], scps=[[full, scp]]).allowed

    concept = (f"Deny {', '.join(guarded)} when the request carries no {tag_key} tag: a Deny statement with "
               f'Condition {{"Null": {{"aws:RequestTag/{tag_key}": "true"}}}} (SCPs never grant; FullAWSAccess '
               "still allows everything else).")
    for action, resource in guarded.items():
        if decide(action, resource, {}) or decide(action, resource, {"Project": "probe"}):
            return fail(f"SCP {policy_name} allows {action} on {resource} without a {tag_key} request tag. {concept}")
        if not decide(action, resource, {tag_key: "CC-0000", "Project": "probe"}):
            return fail(f"SCP {policy_name} denies {action} on {resource} even with {tag_key}=CC-0000 in the "
                        f"request tags. {concept}")
    probe = next(iter(guarded.values()))
    for service, details in expand_actions({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}):
        action = f"{service}:{details['name']}"
        if action in guarded:
            continue
        if not decide(action, probe, {}):
            return fail(f"SCP {policy_name} denies {action} (untagged) too; expected it to deny only "
                        f"{', '.join(guarded)} without a {tag_key} tag. An SCP is a guard-rail for the whole "
                        "account: keep it narrow.")
    return ok()


def cost_allocation_active(statuses: Mapping[str, str], keys: Iterable[str]) -> Verdict:
    inactive = [k for k in keys if statuses.get(k) != "Active"]
    if inactive:
        found = ", ".join(f"{k} {statuses.get(k, 'not listed')}" for k in inactive)
        return fail(f"cost allocation tags: {found}; "
                    "expected Active. A user-defined tag appears in Cost Explorer and the CUR only after it is "
                    "activated (ce.update_cost_allocation_tags_status, in the payer account), and only from then on.")
    return ok()


def cur_totals(text: str) -> dict[str, Decimal]:
    """Unblended cost by resourceTags/user:CostCenter over every line item of a CUR extract; rows
    without the tag (taxes, credits, untagged resources) go to "untagged"."""
    totals: dict[str, Decimal] = {}
    for row in csv.DictReader(io.StringIO(text)):
        center = (row.get(CUR_COST_CENTER) or "").strip() or UNTAGGED
        totals[center] = totals.get(center, Decimal(0)) + Decimal(row[CUR_COST] or "0")
    return totals


def chargeback_report(aws, bucket: str, key: str, expected: Mapping[str, Decimal]) -> Verdict:
    """The report in S3 is a JSON object {cost center: total USD, ..., "untagged": total} within a cent."""
    where = f"s3://{bucket}/{key}"
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return fail(f"there is no charge-back report at {where}; expected a JSON object of totals by CostCenter.")
    try:
        report = json.loads(body)
        found = {str(k): Decimal(str(v)) for k, v in report.items()}
    except (ValueError, AttributeError, ArithmeticError):
        return fail(f"{where} is not a JSON object of numbers: {body[:200]!r}")
    wanted = {k: v.quantize(Decimal("0.01")) for k, v in expected.items()}
    if set(found) != set(wanted):
        return fail(f"{where} has the keys {sorted(found)}; expected {sorted(wanted)} (one per "
                    f"resourceTags/user:CostCenter value, and '{UNTAGGED}' for line items without it).")
    for center, total in wanted.items():
        if abs(found[center] - total) > Decimal("0.01"):
            return fail(f"{where} says {center} costs {found[center]}; expected {total} (the sum of "
                        "lineItem/UnblendedCost over every line item with that tag: usage, and also taxes, "
                        "credits and refunds when they carry it).")
    return ok()
