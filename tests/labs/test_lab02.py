"""Lab 02 is graded correctly: full marks for the reference, none for the starter, and each check
caught by a wrong solution that fails that check and no other."""

import pytest

from tests.conftest import apply, failing, grade_source

EXTRA_STATEMENT = '''            {"Sid": "UseDataKey",'''

MUTATIONS = {
    "trust-policy": [('"Principal": {"Service": "sagemaker.amazonaws.com"},',
                      '"Principal": {"Service": "sagemaker.amazonaws.com", '
                      '"AWS": "arn:aws:iam::999999999999:root"},')],
    # The classic mistake: s3:ListBucket granted on the objects instead of the bucket.
    "read-training-data": [('"Resource": f"arn:aws:s3:::{training_bucket}",',
                            '"Resource": f"arn:aws:s3:::{training_bucket}/*",')],
    "training-data-scoped": [('"Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix}*"},',
                              '"Resource": f"arn:aws:s3:::{training_bucket}/*"},')],
    "list-prefix": [(',\n             "Condition": {"StringLike": {"s3:prefix": [f"{training_prefix}*"]}}}', "}")],
    "write-artifacts": [('f"arn:aws:s3:::{artifact_bucket}/{artifact_prefix}*"',
                         'f"arn:aws:s3:::{artifact_bucket}/*"')],
    "kms-key": [('             "Resource": kms_key_arn},', '             "Resource": "arn:aws:kms:*:*:key/*"},')],
    "training-logs": [('f"arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:*"',
                       'f"arn:aws:logs:{region}:{account}:log-group:*"')],
    "no-broad-statements": [(EXTRA_STATEMENT, '            {"Effect": "Allow", "Action": "cloudwatch:*", '
                             '"Resource": "*"},\n' + EXTRA_STATEMENT)],
    "no-other-services": [(EXTRA_STATEMENT, '            {"Effect": "Allow", "Action": "iam:PassRole", '
                           '"Resource": f"arn:aws:iam::{account}:role/admin"},\n' + EXTRA_STATEMENT)],
}


def test_reference_earns_full_marks(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, lab02.solution_path.read_text())
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]
    assert result.score == result.max_score == 16


def test_untouched_starter_earns_nothing(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, lab02.starter_text())
    assert result.score == 0
    assert failing(result) == {c.id for c in lab02.checks}
    assert result.problems == ["create_training_role is not written yet (it raises NotImplementedError)"]


def test_every_check_has_a_mutation(lab02):
    assert set(MUTATIONS) == {c.id for c in lab02.checks}


@pytest.mark.parametrize("check_id", sorted(MUTATIONS))
def test_wrong_solution_fails_exactly_its_check(tmp_path, lab02, check_id):
    result = grade_source(tmp_path, lab02, apply(lab02.solution_path.read_text(), MUTATIONS[check_id]))
    assert failing(result) == {check_id}


def test_messages_name_the_deciding_statement(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, apply(lab02.solution_path.read_text(), MUTATIONS["training-logs"]))
    message = next(c.message for c in result.checks if c.id == "training-logs")
    assert "can logs:PutLogEvents on arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/payments-api" in message
    assert "allowed by Statement[4] (Sid 'WriteTrainingLogs')" in message
    assert "It must not: other applications' logs are not the job's to write (log injection)" in message


def test_hard_coded_names_fail(tmp_path, lab02):
    source = apply(lab02.solution_path.read_text(), [
        ("    iam = boto3.client(\"iam\")\n",
         "    iam = boto3.client(\"iam\")\n    training_bucket = 'ml-training-data-abc123'\n"),
    ])
    result = grade_source(tmp_path, lab02, source, seed=99)
    assert {"read-training-data"} <= failing(result)
    message = next(c.message for c in result.checks if c.id == "read-training-data")
    assert "cannot s3:GetObject on arn:aws:s3:::ml-training-data-" in message
