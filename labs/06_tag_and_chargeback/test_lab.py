"""Lab 06 grader: tag everything, find what isn't, charge it back.

The scenario is a messy ML account (endpoints, training jobs, models, notebook instances, buckets,
log groups, and one processing job the instructions never mention), an organization, AWS Config
recording, and a Cost and Usage Report extract in S3 (``cur_extract.py``, the CUR's own column
layout, with this run's cost center codes). After the learner's code ran, the grader reads every
resource's tags through the Resource Groups Tagging API, creates resources of its own (as another
team would) and reads the Config rule's evaluations, decides requests with the learner's SCP in the
IAM evaluator, and reads the cost allocation tags and the charge-back report."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from checks import require, tagging
from fixtures import scenarios
from fixtures.moto_ext import ce as ce_ext
from mlalab.catalog import lab_module

CUR_EXTRACT = lab_module(__file__, "cur_extract").CSV
CUR_CENTERS = ("CC-1001", "CC-2002", "CC-3003")  # the extract's codes, replaced by this run's


@dataclass(frozen=True)
class Scenario:
    account: str
    region: str
    defaults: dict[str, str]
    resources: list[scenarios.TaggedResource]
    rule_name: str
    policy_name: str
    cur_bucket: str
    cur_key: str
    report_bucket: str
    report_key: str
    totals: dict[str, Decimal]


def _cur_text(rng) -> str:
    """The lab's CUR extract with this run's cost center codes."""
    text = CUR_EXTRACT
    for code in CUR_CENTERS:
        text = text.replace(code, f"CC-{rng.randrange(1000, 10000)}{scenarios.suffix(rng, 2).upper()}")
    return text


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    teams = [{"Project": project, "Environment": env, "Owner": owner, "CostCenter": f"CC-{rng.randrange(1000, 10000)}"}
             for project, env, owner in (("churn", "prod", "ana.s"), ("fraud", "prod", "tom.b"),
                                         ("research", "dev", "priya.k"))]
    defaults = {"Project": "ml-platform", "Environment": "dev", "Owner": "ml-platform-team",
                "CostCenter": f"CC-{rng.randrange(1000, 10000)}"}
    aws.client("organizations").create_organization(FeatureSet="ALL")
    scenarios.config_recorder(aws, rng)
    cur_text = _cur_text(rng)
    cur_bucket = scenarios.bucket(aws, rng, "cost-and-usage-reports")
    cur_key = f"cur/ml-account/20261101-20261201/ml-account-{scenarios.suffix(rng, 8)}.csv"
    aws.client("s3").put_object(Bucket=cur_bucket, Key=cur_key, Body=cur_text.encode())
    ce_ext.register_tag_keys(aws.account, ["Project", "Environment", "Owner", "CostCenter", "costcenter"])
    resources = scenarios.messy_ml_account(aws, rng, teams)
    s = Scenario(account=aws.account, region=aws.region, defaults=defaults, resources=resources,
                 rule_name=scenarios.name(rng, "ml-required-tags"), policy_name=scenarios.name(rng, "ml-costcenter"),
                 cur_bucket=cur_bucket, cur_key=cur_key, report_bucket=scenarios.bucket(aws, rng, "finops-reports"),
                 report_key=f"chargeback/{scenarios.suffix(rng, 6)}/2026-11.json", totals=tagging.cur_totals(cur_text))
    learner({
        "tag_ml_resources": dict(defaults=dict(defaults)),
        "require_tags_rule": dict(rule_name=s.rule_name),
        "deny_untagged_ml_spend": dict(policy_name=s.policy_name),
        "activate_cost_allocation_tags": dict(tag_keys=list(tagging.SCHEMA)),
        "charge_back": dict(cur_bucket=s.cur_bucket, cur_key=s.cur_key, report_bucket=s.report_bucket,
                            report_key=s.report_key),
    })
    return s


@pytest.fixture(scope="module")
def tags_now(aws, scenario) -> dict[str, dict[str, str]]:
    return tagging.current_tags(aws)


def _label(r: scenarios.TaggedResource) -> str:
    return f"{r.kind} {r.name}"


@pytest.mark.check("every-resource-tagged")
def test_every_resource_tagged(scenario, tags_now):
    expected = [(r.arn, _label(r), tagging.expected_tags(r.tags, scenario.defaults)) for r in scenario.resources]
    require(tagging.schema_applied(expected, tags_now))


@pytest.mark.check("case-variants-merged")
def test_case_variants_merged(scenario, tags_now):
    require(tagging.case_variants_gone([(r.arn, _label(r)) for r in scenario.resources], tags_now))


@dataclass(frozen=True)
class Probes:
    expected: dict[tuple[str, str], str]
    out_of_scope: list[tuple[str, str]]


@pytest.fixture(scope="module")
def probes(aws, rng, scenario, tags_now) -> Probes:
    """Another team's resources, created after the rule: one compliant notebook, one notebook with a
    lower-case costcenter, a model with Project only, and a bucket and log group without the schema."""
    sm = aws.client("sagemaker")
    role = scenarios.execution_role(aws, rng, "probe-exec")
    full = {"Project": "forecast", "Environment": "prod", "Owner": "lee.m", "CostCenter": "CC-7777"}
    lower = {"Project": "forecast", "Environment": "prod", "Owner": "lee.m", "costcenter": "CC-7777"}
    good_nb, lower_nb = scenarios.name(rng, "forecast-nb"), scenarios.name(rng, "forecast-nb")
    model = scenarios.name(rng, "forecast-model")
    for notebook, tags in ((good_nb, full), (lower_nb, lower)):
        sm.create_notebook_instance(NotebookInstanceName=notebook, InstanceType="ml.t3.medium", RoleArn=role,
                                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    sm.create_model(ModelName=model, ExecutionRoleArn=role, Tags=[{"Key": "Project", "Value": "forecast"}],
                    PrimaryContainer={"Image": f"{aws.account}.dkr.ecr.{aws.region}.amazonaws.com/xgboost:1.7-1"})
    bucket = scenarios.bucket(aws, rng, "forecast-scratch")
    types = {"model": "AWS::SageMaker::Model", "endpoint": "AWS::SageMaker::Endpoint",
             "notebook-instance": "AWS::SageMaker::NotebookInstance"}
    expected = {(types[r.kind], r.name): "COMPLIANT" for r in scenario.resources if r.kind in types}
    expected |= {("AWS::SageMaker::NotebookInstance", good_nb): "COMPLIANT",
                 ("AWS::SageMaker::NotebookInstance", lower_nb): "NON_COMPLIANT",
                 ("AWS::SageMaker::Model", model): "NON_COMPLIANT"}
    out = [("AWS::S3::Bucket", bucket)] + [("AWS::Logs::LogGroup", r.name) for r in scenario.resources
                                           if r.kind == "log-group"][:3]
    return Probes(expected, out)


@pytest.mark.check("config-rule-evaluates")
def test_config_rule_evaluates(aws, scenario, probes):
    # The learner's own resources count only when they were tagged right (graded by the tagging checks).
    expected = {k: v for k, v in probes.expected.items()}
    require(tagging.config_results(aws, scenario.rule_name, expected, probes.out_of_scope))


@pytest.mark.check("scp-requires-cost-center")
def test_scp_requires_cost_center(aws, scenario):
    content = tagging.find_scp(aws, scenario.policy_name)
    require(tagging.scp_requires_tag(content, scenario.policy_name, scenario.account, scenario.region))


@pytest.mark.check("cost-allocation-tags-active")
def test_cost_allocation_tags_active(scenario):
    require(tagging.cost_allocation_active(ce_ext.tag_statuses(scenario.account), tagging.SCHEMA))


@pytest.mark.check("chargeback-totals")
def test_chargeback_totals(aws, scenario):
    require(tagging.chargeback_report(aws, scenario.report_bucket, scenario.report_key, scenario.totals))
