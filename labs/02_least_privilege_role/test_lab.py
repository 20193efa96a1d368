"""Lab 02 grader: a SageMaker execution role, graded by evaluating a matrix of requests with the
IAM policy evaluator (AWS's evaluation logic) plus breadth findings on the policies."""

import uuid
from dataclasses import dataclass

import pytest

from checks import iam, require
from checks.iam import Expect
from fixtures import scenarios


@dataclass(frozen=True)
class Scenario:
    account: str
    region: str
    role_name: str
    training_bucket: str
    training_prefix: str
    artifact_bucket: str
    artifact_prefix: str
    other_bucket: str
    kms_key_arn: str
    log_group: str

    def s3(self, bucket: str, key: str = "") -> str:
        return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "")

    def logs(self, group: str, stream: str | None = None) -> str:
        arn = f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}"
        return arn + (f":log-stream:{stream}" if stream else "")


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    s = Scenario(
        account=aws.account,
        region=aws.region,
        role_name=scenarios.name(rng, "sagemaker-training"),
        training_bucket=scenarios.bucket(aws, rng, "ml-training-data"),
        training_prefix=f"datasets/churn/v{rng.randint(2, 9)}/",  # never v1: v1 is "another version"
        artifact_bucket=scenarios.bucket(aws, rng, "ml-model-artifacts"),
        artifact_prefix=f"churn/{scenarios.suffix(rng, 4)}/",
        other_bucket=scenarios.bucket(aws, rng, "finance-exports"),
        kms_key_arn=scenarios.kms_key(aws, "ML data key for the churn project"),
        log_group="/aws/sagemaker/TrainingJobs",
    )
    aws.client("logs").create_log_group(logGroupName=s.log_group)
    learner({"create_training_role": dict(
        role_name=s.role_name, training_bucket=s.training_bucket, training_prefix=s.training_prefix,
        artifact_bucket=s.artifact_bucket, artifact_prefix=s.artifact_prefix, kms_key_arn=s.kms_key_arn,
        log_group=s.log_group)})
    return s


@pytest.fixture(scope="module")
def role(aws, scenario):
    """The role's policies as IAM holds them (None if the learner's code did not create it)."""
    try:
        return iam.role_policies(aws, scenario.role_name)
    except iam.PolicyError as exc:
        return exc


def existing(role, scenario) -> iam.RolePolicies:
    if isinstance(role, iam.PolicyError):
        pytest.fail(f"role {scenario.role_name} has a policy the evaluator cannot read: {role}", pytrace=False)
    require(iam.role_exists(role, scenario.role_name))
    return role


@pytest.mark.check("trust-policy")
def test_trust_policy(role, scenario):
    s = scenario
    # What SageMaker sends when a training job assumes the role: the confused-deputy keys that the
    # AWS-recommended trust policy conditions on.
    job = f"arn:aws:sagemaker:{s.region}:{s.account}:training-job/churn-training-1234"
    require(iam.trusts_only_service(existing(role, s), "sagemaker.amazonaws.com",
                                    context={"aws:SourceAccount": s.account, "aws:SourceArn": job}))


@pytest.mark.check("read-training-data")
def test_read_training_data(role, scenario):
    s = scenario
    require(iam.decisions(existing(role, s), [
        Expect("s3:GetObject", s.s3(s.training_bucket, f"{s.training_prefix}part-00001.csv"), True,
               "training jobs download their input channel"),
        Expect("s3:GetObject", s.s3(s.training_bucket, f"{s.training_prefix}validation/part-00000.csv"), True,
               "the validation channel lives under the same prefix"),
        Expect("s3:ListBucket", s.s3(s.training_bucket), True, "SageMaker lists the prefix to find the files "
               "(ListBucket is granted on the bucket ARN, not on objects)", {"s3:prefix": s.training_prefix}),
    ], region=s.region))


@pytest.mark.check("training-data-scoped")
def test_training_data_scoped(role, scenario):
    s = scenario
    require(iam.decisions(existing(role, s), [
        Expect("s3:GetObject", s.s3(s.training_bucket, "datasets/fraud/part-00001.csv"), False,
               "another team's data set in the same bucket"),
        Expect("s3:GetObject", s.s3(s.training_bucket, "datasets/churn/v1/part-00001.csv"), False,
               f"another version of the data set: the job trains on {s.training_prefix} only "
               "(older versions may hold data that was since removed)"),
        Expect("s3:GetObject", s.s3(s.other_bucket, "exports/2026/ledger.csv"), False,
               "a bucket the job has no business reading"),
        Expect("s3:PutObject", s.s3(s.training_bucket, f"{s.training_prefix}poisoned.csv"), False,
               "training data is read-only for the job (writing it would allow data poisoning)"),
        Expect("s3:DeleteObject", s.s3(s.training_bucket, f"{s.training_prefix}part-00001.csv"), False,
               "training data is read-only for the job"),
    ], region=s.region))


@pytest.mark.check("list-prefix")
def test_list_prefix(role, scenario):
    s = scenario
    require(iam.decisions(existing(role, s), [
        Expect("s3:ListBucket", s.s3(s.training_bucket), False,
               "listing another prefix reveals other teams' object names; narrow s3:ListBucket with a "
               "Condition on s3:prefix", {"s3:prefix": "datasets/fraud/"}),
        Expect("s3:ListBucket", s.s3(s.training_bucket), False,
               "listing the whole bucket (no prefix) reveals every object name; narrow s3:ListBucket with a "
               "Condition on s3:prefix"),
    ], region=s.region))


@pytest.mark.check("write-artifacts")
def test_write_artifacts(role, scenario):
    s = scenario
    model = f"{s.artifact_prefix}job-1234/output/model.tar.gz"
    require(iam.decisions(existing(role, s), [
        Expect("s3:PutObject", s.s3(s.artifact_bucket, model), True, "the job uploads model.tar.gz here"),
        Expect("s3:PutObject", s.s3(s.artifact_bucket, "released/prod/model.tar.gz"), False,
               "only the job's output prefix is writable, not released models"),
        Expect("s3:PutObject", s.s3(s.other_bucket, "model.tar.gz"), False, "no other bucket is writable"),
        Expect("s3:PutObjectAcl", s.s3(s.artifact_bucket, model), False,
               "changing an object's ACL can make a model public; 's3:PutObject*' grants it too"),
        Expect("s3:DeleteObject", s.s3(s.artifact_bucket, model), False,
               "the job writes artifacts, it does not delete them (write, not delete)"),
    ], region=s.region))


@pytest.mark.check("kms-key")
def test_kms_key(role, scenario):
    s = scenario
    other_key = f"arn:aws:kms:{s.region}:{s.account}:key/{uuid.UUID(int=0x5EED)}"
    require(iam.decisions(existing(role, s), [
        Expect("kms:Decrypt", s.kms_key_arn, True, "reading SSE-KMS encrypted training data needs kms:Decrypt"),
        Expect("kms:GenerateDataKey", s.kms_key_arn, True,
               "writing encrypted model artifacts needs a data key (kms:GenerateDataKey)"),
        Expect("kms:Decrypt", other_key, False, "only the lab's key: another key protects someone else's data"),
        Expect("kms:ScheduleKeyDeletion", s.kms_key_arn, False, "a training job must never manage the key"),
        Expect("kms:PutKeyPolicy", s.kms_key_arn, False, "a training job must never manage the key"),
    ], region=s.region))


@pytest.mark.check("training-logs")
def test_training_logs(role, scenario):
    s = scenario
    stream = "job-1234/algo-1-1767225600"
    require(iam.decisions(existing(role, s), [
        Expect("logs:CreateLogStream", s.logs(s.log_group, stream), True, "each training instance creates its "
               "log stream"),
        Expect("logs:PutLogEvents", s.logs(s.log_group, stream), True, "the job writes its logs"),
        Expect("logs:PutLogEvents", s.logs("/aws/lambda/payments-api", "2026/01/01/x"), False,
               "other applications' logs are not the job's to write (log injection)"),
        Expect("logs:PutLogEvents", s.logs("/aws/sagemaker/Endpoints/churn-prod", "AllTraffic/i-1"), False,
               "endpoint logs belong to the endpoint, not to training"),
        Expect("logs:DeleteLogGroup", s.logs(s.log_group), False, "deleting logs destroys the audit trail"),
    ], region=s.region))


@pytest.mark.check("no-broad-statements")
def test_no_broad_statements(role, scenario):
    require(iam.no_broad_statements(existing(role, scenario)))


@pytest.mark.check("no-other-services")
def test_no_other_services(role, scenario):
    s = scenario
    require(iam.decisions(existing(role, s), [
        Expect("iam:PassRole", f"arn:aws:iam::{s.account}:role/admin", False,
               "passing roles is how an attacker escalates privileges"),
        Expect("sagemaker:CreateEndpoint", f"arn:aws:sagemaker:{s.region}:{s.account}:endpoint/churn-prod", False,
               "a training role does not deploy models"),
        Expect("s3:PutBucketPolicy", s.s3(s.training_bucket), False, "bucket policies are not the job's to change"),
        Expect("s3:DeleteBucket", s.s3(s.artifact_bucket), False, "the job must not delete buckets"),
        Expect("s3:PutBucketAcl", s.s3(s.artifact_bucket), False,
               "a bucket ACL can grant other accounts or everyone access to every model"),
        Expect("s3:PutBucketPublicAccessBlock", s.s3(s.training_bucket), False,
               "turning off Block Public Access is the first step to a public bucket"),
        Expect("s3:PutBucketVersioning", s.s3(s.artifact_bucket), False,
               "suspending versioning loses the history that lets you restore an overwritten model"),
        Expect("ec2:RunInstances", f"arn:aws:ec2:{s.region}:{s.account}:instance/*", False,
               "SageMaker runs the instances; the role needs no EC2 access"),
    ], region=s.region))
