"""Lab 03: grading behaviour specific to this lab (its wrong solutions, one per check, are in the lab's
own folder: ``mutations.py``; generated rewrites in ``rewrites.py``). The variants below are graded in
one session and each test reads the report a learner would see."""

from __future__ import annotations

import pytest

from mlalab.catalog import find_lab, lab_module
from tests.conftest import apply, failing, grade_sources

LAB = find_lab(3)
MUTATIONS = lab_module(LAB.path, "mutations").MUTATIONS
REFERENCE = LAB.solution_path.read_text()
TRAIL_CHECKS = {"multi-region", "log-file-validation", "kms-encryption", "log-bucket-policy", "management-events",
                "data-events", "destructive-alerts"}

VARIANTS = {
    # The key policy left as created: CreateTrail refuses the key (AWS's InsufficientEncryptionPolicyException).
    "no-key-policy": [('    kms.put_key_policy(KeyId=kms_key_arn, PolicyName="default", '
                       'Policy=json.dumps(key_policy))\n', "")],
    # No bucket policy: CreateTrail refuses the bucket.
    "no-bucket-policy": [('    boto3.client("s3").put_bucket_policy(Bucket=log_bucket, '
                          'Policy=json.dumps(bucket_policy))\n', "")],
    # The topic keeps its default policy: EventBridge matches the calls and cannot publish.
    "no-topic-policy": [('    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", '
                         'AttributeValue=json.dumps(policy))\n', "")],
    # The key named by an alias the learner creates, the report's time in Python's isoformat: both fine.
    "alias-and-isoformat": [
        ("KmsKeyId=kms_key_arn)", "KmsKeyId=alias)"),
        ('    cloudtrail = boto3.client("cloudtrail")\n',
         '    alias = "alias/audit-" + trail_name\n    kms.create_alias(AliasName=alias, TargetKeyId=kms_key_arn)\n'
         '    cloudtrail = boto3.client("cloudtrail")\n'),
        ('"deleted_at": record["eventTime"]', '"deleted_at": event["EventTime"].isoformat()'),
    ],
    "answer-failed-attempt": MUTATIONS["incident-report"],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sources = [apply(REFERENCE, edits) for edits in VARIANTS.values()]
    results = grade_sources(tmp_path_factory.mktemp("lab03"), LAB, sources, seed=4242)
    return dict(zip(VARIANTS, results, strict=True))


def message(result, check_id: str) -> str:
    return next(c.message for c in result.checks if c.id == check_id)


def test_key_policy_without_cloudtrail_is_refused_by_create_trail(graded):
    result = graded["no-key-policy"]
    assert TRAIL_CHECKS <= failing(result)
    assert any("InsufficientEncryptionPolicyException" in p and "create_audit_trail" in p for p in result.problems)
    assert "Insufficient permissions to access S3 bucket ml-audit-logs-" in " ".join(result.problems)


def test_missing_bucket_policy_is_refused_by_create_trail(graded):
    result = graded["no-bucket-policy"]
    assert TRAIL_CHECKS <= failing(result)
    assert any("InsufficientS3BucketPolicyException" in p for p in result.problems)
    assert "trail ml-audit-" in message(result, "multi-region") and "does not exist" in message(result, "multi-region")


def test_target_without_policy_explains_the_failed_delivery(graded):
    result = graded["no-topic-policy"]
    assert failing(result) == {"destructive-alerts", "target-policies-scoped"}
    text = message(result, "destructive-alerts")
    assert "0 message(s) arrived" in text and "missing: DeleteEndpoint of upsell-xgb-" in text
    assert "does not allow events.amazonaws.com to sns:Publish" in text
    assert "events.amazonaws.com cannot sns:Publish" in message(result, "target-policies-scoped")


def test_key_alias_and_isoformat_times_earn_full_marks(graded):
    result = graded["alias-and-isoformat"]
    assert failing(result) == set(), [(c.id, c.message) for c in result.checks if c.status != "pass"]


def test_wrong_answer_names_what_was_expected(graded):
    text = message(graded["answer-failed-attempt"], "incident-report")
    assert "deleted_by is 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_MLEngineer_" in text
    assert "expected the caller's ARN (userIdentity.arn)" in text and "errorCode" in text
    assert "source_ip is '198.51.100." in text and "expected '203.0.113." in text
