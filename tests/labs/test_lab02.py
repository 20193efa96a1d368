"""Lab 02: grading behaviour specific to this lab (its wrong solutions, one per check, are in the lab's
own folder: ``mutations.py``)."""

import pytest

from mlalab.catalog import find_lab, lab_module
from tests.conftest import apply, failing, grade_source

_mutations = lab_module(find_lab(2).path, "mutations")
EXTRA_STATEMENT, MUTATIONS = _mutations.EXTRA_STATEMENT, _mutations.MUTATIONS



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


# --- reviewer variants: each wrong policy fails the right check, with words that teach -------------

TRUST_END = '''                       "Action": "sts:AssumeRole"}],'''
PRINCIPAL = '"Principal": {"Service": "sagemaker.amazonaws.com"},'
ACCOUNT = "123456789012"


def trust_statement(statement: str) -> list[tuple[str, str]]:
    """Add a second Allow statement to the reference trust policy."""
    return [(TRUST_END, '                       "Action": "sts:AssumeRole"},\n                      '
             + statement + "],")]


def permission_statement(statement: str) -> list[tuple[str, str]]:
    """Add an Allow statement to the reference permissions policy (before UseDataKey)."""
    return [(EXTRA_STATEMENT, "            " + statement + ",\n" + EXTRA_STATEMENT)]


# (check that must fail alone, edits, words its message must contain)
SINGLE_CHECK_VARIANTS = {
    "trust-other-account-root": ("trust-policy", MUTATIONS["trust-policy"],
                                 ["Statement[0] of its trust policy also trusts AWS "
                                  "'arn:aws:iam::999999999999:root'", "gets all of its data access"]),
    "trust-role-arn": ("trust-policy", trust_statement(
        '{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:role/ci-deployer"}, '
        '"Action": "sts:AssumeRole"}'),
        [f"Statement[1] of its trust policy also trusts AWS 'arn:aws:iam::{ACCOUNT}:role/ci-deployer'"]),
    "trust-own-account-root": ("trust-policy", trust_statement(
        '{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}'),
        [f"also trusts AWS 'arn:aws:iam::{ACCOUNT}:root'", "anyone who can assume an execution role"]),
    "trust-lambda": ("trust-policy", [(PRINCIPAL, '"Principal": {"Service": ["sagemaker.amazonaws.com", '
                                                  '"lambda.amazonaws.com"]},')],
                     ["also trusts Service 'lambda.amazonaws.com'"]),
    "trust-saml": ("trust-policy", trust_statement(
        '{"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{account}:saml-provider/corp-idp"}, '
        '"Action": "sts:AssumeRoleWithSAML", '
        '"Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}'),
        [f"also trusts Federated 'arn:aws:iam::{ACCOUNT}:saml-provider/corp-idp'"]),
    "trust-org-star": ("trust-policy", trust_statement(
        '{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", '
        '"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}'),
        ["also trusts AWS '*' (every AWS principal)", "Condition on aws:PrincipalOrgID still lets every principal"]),
    "trust-star": ("trust-policy", trust_statement(
        '{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", '
        '"Condition": {"Bool": {"aws:SecureTransport": "true"}}}'),
        ['trusts every principal ("Principal": "*")']),
    "trust-not-principal": ("trust-policy", trust_statement(
        '{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}'),
        ['uses NotPrincipal with "Effect": "Allow", which AWS does not support', "IAM would reject its trust policy",
         "could not be created in AWS"]),
    "trust-sts-star": ("trust-policy", [(TRUST_END, '                       "Action": "sts:*"}],')],
                       ["allows sts:*", "needs only sts:AssumeRole"]),
    # New matrix rows.
    "other-data-set-version": ("training-data-scoped", [(
        '"Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix}*"},',
        '"Resource": f"arn:aws:s3:::{training_bucket}/datasets/churn/*"},')],
        ["can s3:GetObject on arn:aws:s3:::ml-training-data-", "/datasets/churn/v1/part-00001.csv",
         "allowed by Statement[0] (Sid 'ReadTrainingData')", "another version of the data set"]),
    "delete-artifacts": ("write-artifacts", [('"Action": "s3:PutObject",',
                                              '"Action": ["s3:PutObject", "s3:DeleteObject"],')],
                         ["can s3:DeleteObject on arn:aws:s3:::ml-model-artifacts-", "write, not delete"]),
    "put-bucket-acl": ("no-other-services", permission_statement(
        '{"Effect": "Allow", "Action": "s3:PutBucketAcl", "Resource": f"arn:aws:s3:::{artifact_bucket}"}'),
        ["can s3:PutBucketAcl on arn:aws:s3:::ml-model-artifacts-", "everyone access"]),
    "put-public-access-block": ("no-other-services", permission_statement(
        '{"Effect": "Allow", "Action": "s3:PutBucketPublicAccessBlock", '
        '"Resource": f"arn:aws:s3:::{training_bucket}"}'),
        ["can s3:PutBucketPublicAccessBlock on arn:aws:s3:::ml-training-data-", "Block Public Access"]),
    "put-bucket-versioning": ("no-other-services", permission_statement(
        '{"Effect": "Allow", "Action": "s3:PutBucketVersioning", "Resource": f"arn:aws:s3:::{artifact_bucket}"}'),
        ["can s3:PutBucketVersioning on arn:aws:s3:::ml-model-artifacts-", "suspending versioning"]),
}


@pytest.mark.parametrize("variant", sorted(SINGLE_CHECK_VARIANTS))
def test_variant_fails_exactly_its_check_with_teaching_words(tmp_path, lab02, variant):
    check_id, edits, words = SINGLE_CHECK_VARIANTS[variant]
    result = grade_source(tmp_path, lab02, apply(lab02.solution_path.read_text(), edits))
    assert failing(result) == {check_id}, [c.message for c in result.checks if c.status != "pass"]
    message = next(c.message for c in result.checks if c.id == check_id)
    for word in words:
        assert word in message, message


# Wrong policies that are wrong in two ways: both checks fail, each with its own explanation.
MULTI_CHECK_VARIANTS = {
    # A condition the grader's requests used to lack made the extra Allow invisible to every deny row.
    "s3-star-secure-transport": (permission_statement(
        '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", '
        '"Condition": {"Bool": {"aws:SecureTransport": "true"}}}'), {
        "training-data-scoped": ["can s3:GetObject on arn:aws:s3:::ml-training-data-", "/datasets/fraud/",
                                 "allowed by Statement[3]", '"aws:SecureTransport": "true"'],
        "no-broad-statements": ["a condition on the request does not choose which resources"]}),
    "s3-star-requested-region": (permission_statement(
        '{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*", '
        '"Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}'), {
        "training-data-scoped": ["can s3:PutObject on arn:aws:s3:::ml-training-data-", "poisoned.csv",
                                 "allowed by Statement[3]", "aws:RequestedRegion"],
        "write-artifacts": ["can s3:PutObject on arn:aws:s3:::ml-model-artifacts-", "released/prod/model.tar.gz"],
        "no-broad-statements": ["Condition on aws:RequestedRegion"]}),
    "kms-star-via-service": ([('             "Resource": kms_key_arn},',
                               '             "Resource": "*", "Condition": {"StringEquals": '
                               '{"kms:ViaService": f"s3.{region}.amazonaws.com"}}},')], {
        "kms-key": [f"can kms:Decrypt on arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000005eed",
                    "allowed by Statement[3] (Sid 'UseDataKey')", "kms:ViaService",
                    "another key protects someone else's data"],
        "no-broad-statements": ["Statement[3] (Sid 'UseDataKey')", "Condition on kms:ViaService"]}),
    "put-object-star": ([('"Action": "s3:PutObject",', '"Action": "s3:PutObject*",')], {
        "write-artifacts": ["can s3:PutObjectAcl on arn:aws:s3:::ml-model-artifacts-"],
        "no-broad-statements": ["allows actions by wildcard (s3:PutObject*)", "s3:PutObjectAcl"]}),
    # Partial action wildcards: a breadth finding, and what they grant beyond the task is an over-grant.
    "action-get-star": ([('"Action": "s3:GetObject",', '"Action": "s3:Get*",')], {
        "no-broad-statements": ["Statement[0] (Sid 'ReadTrainingData')", "allows actions by wildcard (s3:Get*)",
                                "s3:GetBucketPolicy", "any AWS adds later"],
        "training-data-scoped": ["also grants s3:GetObjectAcl (Read)", "Statement[0] (Sid 'ReadTrainingData')"]}),
    "action-logs-wildcard": ([('"Action": ["logs:CreateLogStream", "logs:PutLogEvents"],',
                               '"Action": "logs:*Log*",')], {
        "no-broad-statements": ["allows actions by wildcard (logs:*Log*)", "logs:DeleteLogGroup"],
        "training-logs": ["also grants logs:DeleteLogStream (Write)"]}),
    # Resource "*" under a request condition, for an action of another service.
    "resource-star-secure-transport": (permission_statement(
        '{"Sid": "Describe", "Effect": "Allow", "Action": "sagemaker:DescribeTrainingJob", "Resource": "*", '
        '"Condition": {"Bool": {"aws:SecureTransport": "true"}}}'), {
        "no-broad-statements": ["Statement[3] (Sid 'Describe')",
                                'allows sagemaker:DescribeTrainingJob on every resource ("Resource": "*")',
                                "Condition on aws:SecureTransport",
                                "a condition on the request does not choose which resources"],
        "no-other-services": ["also grants sagemaker:DescribeTrainingJob (Read) on *",
                              "under a Condition on aws:SecureTransport"]}),
}


@pytest.mark.parametrize("variant", sorted(MULTI_CHECK_VARIANTS))
def test_variant_fails_each_wrong_check_with_teaching_words(tmp_path, lab02, variant):
    edits, expected = MULTI_CHECK_VARIANTS[variant]
    result = grade_source(tmp_path, lab02, apply(lab02.solution_path.read_text(), edits))
    assert failing(result) == set(expected), [c.message for c in result.checks if c.status != "pass"]
    for check_id, words in expected.items():
        message = next(c.message for c in result.checks if c.id == check_id)
        assert "request context has no" not in message, message
        for word in words:
            assert word in message, message


# Right policies written differently from the reference: still full marks.
CONFUSED_DEPUTY = ('"Action": "sts:AssumeRole",\n                       "Condition": {'
                   '"StringEquals": {"aws:SourceAccount": account}, '
                   '"ArnLike": {"aws:SourceArn": f"arn:aws:sagemaker:{region}:{account}:*"}}}],')
CORRECT_VARIANTS = {
    # AWS's recommended execution-role trust policy against the confused deputy problem.
    "confused-deputy-trust": [(TRUST_END, "                       " + CONFUSED_DEPUTY)],
    "trust-source-identity-and-tags": [(TRUST_END, '                       "Action": ["sts:AssumeRole", '
                                        '"sts:SetSourceIdentity", "sts:TagSession"]}],')],
    # Optional custom metrics: PutMetricData supports only "*", narrowed by namespace.
    "put-metric-data-by-namespace": permission_statement(
        '{"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*", '
        '"Condition": {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}}}'),
    # Requirements on the request (TLS, region, via S3) are fine as long as resources are named.
    "conditions-on-named-resources": [
        ('"Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix}*"},',
         '"Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix}*", '
         '"Condition": {"Bool": {"aws:SecureTransport": "true"}}},'),
        ('             "Resource": kms_key_arn},',
         '             "Resource": kms_key_arn, "Condition": {"StringEquals": '
         '{"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": account}}},')],
}


@pytest.mark.parametrize("variant", sorted(CORRECT_VARIANTS))
def test_correct_variant_earns_full_marks(tmp_path, lab02, variant):
    result = grade_source(tmp_path, lab02, apply(lab02.solution_path.read_text(), CORRECT_VARIANTS[variant]))
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]
    assert result.score == 16


def test_trust_condition_for_another_account_fails_without_leaking_none(tmp_path, lab02):
    wrong = CONFUSED_DEPUTY.replace('{"aws:SourceAccount": account}', '{"aws:SourceAccount": "999999999999"}')
    result = grade_source(tmp_path, lab02, apply(lab02.solution_path.read_text(),
                                                 [(TRUST_END, "                       " + wrong)]))
    assert failing(result) == {"trust-policy"}
    message = next(c.message for c in result.checks if c.id == "trust-policy")
    assert "does not let sagemaker.amazonaws.com call sts:AssumeRole with {'aws:SourceAccount': " in message
    assert "training-job/" in message and "None" not in message
    assert "no Allow statement names it with a Condition that holds" in message


# --- over-grants the old request matrix missed (issue 7 §2): judged on everything the policy grants ---------

READ = '"Action": "s3:GetObject",'
WRITE = '"Action": "s3:PutObject",'
LOGS = '"Action": ["logs:CreateLogStream", "logs:PutLogEvents"],'
KMS = '"Action": ["kms:Decrypt", "kms:GenerateDataKey"],'
TRAINING_OBJECTS = '"Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix}*"},'

RETURN = '    return role["Role"]["Arn"]'
KEY_POLICY_GRANT = """    kms = boto3.client("kms")
    key_policy = json.loads(kms.get_key_policy(KeyId=kms_key_arn, PolicyName="default")["Policy"])
    key_policy["Statement"].append({"Effect": "Allow", "Principal": {"AWS": role["Role"]["Arn"]},
                                    "Action": ["kms:Decrypt", "kms:CreateGrant"], "Resource": "*"})
    kms.put_key_policy(KeyId=kms_key_arn, PolicyName="default", Policy=json.dumps(key_policy))
"""

# (edits, {check that must fail: words its message must contain})
OVER_GRANTS = {
    # s3:GetObject* also grants GetObjectAcl, GetObjectTagging, GetObjectAttributes...
    "get-object-star": ([(READ, '"Action": "s3:GetObject*",')], {
        "training-data-scoped": ["s3:GetObjectAcl", "Read"],
        "no-broad-statements": ["allows actions by wildcard (s3:GetObject*)"]}),
    # Listed explicitly (no wildcard): only the grants analysis sees them.
    "get-object-acl-listed": ([(READ, '"Action": ["s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectTagging"],')], {
        "training-data-scoped": ["also grants s3:GetObjectAcl", "s3:GetObjectTagging",
                                 "Statement[0] (Sid 'ReadTrainingData')"]}),
    # s3:* on the artifact prefix also makes the artifacts readable (GetObject is a read the job never makes).
    "s3-star-on-artifacts": ([(WRITE, '"Action": "s3:*",')], {
        "training-data-scoped": ["also grants s3:", "(Read) on arn:aws:s3:::ml-model-artifacts-"],
        "write-artifacts": ["can s3:PutObjectAcl on arn:aws:s3:::ml-model-artifacts-"],
        "no-broad-statements": ["allows every action of a service (s3:*)"]}),
    "put-object-tagging-listed": ([(WRITE, '"Action": ["s3:PutObject", "s3:PutObjectTagging"],')], {
        "write-artifacts": ["also grants s3:PutObjectTagging (Tagging)"]}),
    "logs-star-on-group": ([(LOGS, '"Action": "logs:*",')], {
        "training-logs": ["logs:", "Statement[4] (Sid 'WriteTrainingLogs')"],
        "no-broad-statements": ["allows every action of a service (logs:*)"]}),
    "logs-get-events-listed": ([(LOGS, '"Action": ["logs:CreateLogStream", "logs:PutLogEvents", '
                                       '"logs:GetLogEvents"],')], {
        "training-logs": ["also grants logs:GetLogEvents (Read)"]}),
    "kms-star-on-key": ([(KMS, '"Action": "kms:*",')], {
        "kms-key": ["can kms:ScheduleKeyDeletion", "never manage the key"],
        "no-broad-statements": ["allows every action of a service (kms:*)"]}),
    "kms-create-grant-listed": ([(KMS, '"Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"],')], {
        "kms-key": ["also grants kms:CreateGrant (Permissions management)"]}),
    # A prefix without its delimiter reaches sibling prefixes: datasets/churn/v3 also matches v30/ and v3-old/.
    "prefix-without-delimiter": ([(TRAINING_OBJECTS,
                                   '"Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix[:-1]}*"},')], {
        "training-data-scoped": ["0/part-00001.csv", "sibling prefix", "end the prefix with '/'"]}),
    "list-condition-without-delimiter": ([('[f"{training_prefix}*"]', '[f"{training_prefix[:-1]}*"]')], {
        "list-prefix": ["can s3:ListBucket on arn:aws:s3:::ml-training-data-", "0/'}", "sibling prefix"]}),
    "artifact-prefix-without-delimiter": ([('/{artifact_prefix}*"', '/{artifact_prefix[:-1]}*"')], {
        "write-artifacts": ["sibling prefix", "end the prefix with '/'"]}),
    "other-service-listed": (permission_statement(
        '{"Effect": "Allow", "Action": "sagemaker:DescribeTrainingJob", '
        '"Resource": f"arn:aws:sagemaker:{region}:{account}:training-job/*"}'), {
        "no-other-services": ["also grants sagemaker:DescribeTrainingJob (Read) on arn:aws:sagemaker:us-east-1:"]}),
    # Granted to the role by the key policy rather than by IAM: still the role's access.
    "key-policy-grant": ([(RETURN, KEY_POLICY_GRANT + RETURN)], {
        "kms-key": ["also grants kms:CreateGrant (Permissions management) on arn:aws:kms:", "key policy of"]}),
}


@pytest.mark.parametrize("variant", sorted(OVER_GRANTS))
def test_over_grant_fails_its_checks(tmp_path, lab02, variant):
    edits, expected = OVER_GRANTS[variant]
    result = grade_source(tmp_path, lab02, apply(lab02.solution_path.read_text(), edits))
    assert failing(result) == set(expected), [c.message for c in result.checks if c.status != "pass"]
    for check_id, words in expected.items():
        message = next(c.message for c in result.checks if c.id == check_id)
        for word in words:
            assert word in message, message
