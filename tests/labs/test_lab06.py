"""Lab 06: grading behaviour specific to this lab (its wrong solutions, one per check, are in the lab's
own folder: ``mutations.py``). The variants below are graded in one session and each test reads the
report a learner would see."""

from __future__ import annotations

from decimal import Decimal

import pytest

from checks import tagging
from mlalab.catalog import find_lab
from tests.conftest import apply, failing, grade_sources

LAB = find_lab(6)
REFERENCE = LAB.solution_path.read_text()

VARIANTS = {
    # Every SageMaker action denied without the tag: too broad for a guard-rail.
    "scp-all-sagemaker": [('"Action": ["sagemaker:CreateEndpoint", "sagemaker:CreateTrainingJob"]',
                           '"Action": "sagemaker:*"')],
    # Equivalent: deny unless CostCenter is among the request's tag keys.
    "scp-tag-keys": [('"Condition": {"Null": {"aws:RequestTag/CostCenter": "true"}}',
                      '"Condition": {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["CostCenter"]}}')],
    # The lower-case CUR column counted as CostCenter: the untagged total is wrong.
    "chargeback-lowercase-column": [('center = row["resourceTags/user:CostCenter"] or "untagged"',
                                     'center = (row["resourceTags/user:CostCenter"] '
                                     'or row["resourceTags/user:costcenter"] or "untagged")')],
    # The rule without scope: buckets and log groups are evaluated too.
    "config-unscoped": [('        "Scope": {"ComplianceResourceTypes": ["AWS::SageMaker::Model", '
                         '"AWS::SageMaker::NotebookInstance",\n'
                         '                                              "AWS::SageMaker::Endpoint"]},\n', "")],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sources = [apply(REFERENCE, edits) for edits in VARIANTS.values()]
    results = grade_sources(tmp_path_factory.mktemp("lab06"), LAB, sources, seed=606)
    return dict(zip(VARIANTS, results, strict=True))


def message(result, check_id: str) -> str:
    return next(c.message for c in result.checks if c.id == check_id)


def test_scp_denying_every_sagemaker_action_is_too_broad(graded):
    result = graded["scp-all-sagemaker"]
    assert failing(result) == {"scp-requires-cost-center"}
    assert "denies sagemaker:" in message(result, "scp-requires-cost-center")


def test_scp_on_tag_keys_is_equivalent(graded):
    """ForAllValues:StringNotEquals on aws:TagKeys is true when the request has no tags at all (a
    missing multivalued key: "Multivalued context keys", reference_policies_condition-single-vs-multi-valued-
    context-keys) and when no key is CostCenter: the Deny applies exactly like the Null form."""
    result = graded["scp-tag-keys"]
    assert failing(result) == set() and result.score == result.max_score


def test_lowercase_cur_column_is_another_tag(graded):
    result = graded["chargeback-lowercase-column"]
    assert failing(result) == {"chargeback-totals"}
    assert "untagged" in message(result, "chargeback-totals") or "keys" in message(result, "chargeback-totals")


def test_unscoped_rule_evaluates_buckets(graded):
    result = graded["config-unscoped"]
    assert failing(result) == {"config-rule-evaluates"}
    assert "AWS::S3::Bucket" in message(result, "config-rule-evaluates")


def test_cur_totals_sum_every_line_item():
    text = ("lineItem/LineItemType,lineItem/UnblendedCost,resourceTags/user:CostCenter\n"
            "Usage,1.005,CC-1\nUsage,2.0049,CC-1\nTax,0.5,\nCredit,-1,\n")
    assert tagging.cur_totals(text) == {"CC-1": Decimal("3.0099"), "untagged": Decimal("-0.5")}


def test_expected_tags_rule():
    defaults = {"Project": "d", "Environment": "dev", "Owner": "o", "CostCenter": "CC-0"}
    assert tagging.expected_tags({"project": "churn", "CreatedBy": "tf", "Owner": "ana"}, defaults) == {
        "Project": "churn", "Environment": "dev", "Owner": "ana", "CostCenter": "CC-0", "CreatedBy": "tf"}
    # The schema key wins over its wrong-case twin.
    assert tagging.expected_tags({"Project": "a", "PROJECT": "b"}, defaults)["Project"] == "a"
