"""Lab 02 grader: a SageMaker execution role, graded by evaluating a matrix of requests with the
IAM policy evaluator (AWS's evaluation logic), by everything the role's policies grant (each action
expanded with the IAM action catalogue and compared with what the job needs), plus breadth findings.

The matrix rows teach what the job needs and the classic mistakes; breadth is judged on the full
grants, so an over-grant no row asks about (s3:GetObjectAcl, kms:CreateGrant, logs:GetLogEvents...)
fails the check of its area."""

import uuid
from dataclasses import dataclass

import pytest

from checks import fail, iam, require
from checks.iam import Expect, OverGrant
from fixtures import scenarios
from mlalab.engines.iam import match_resource
from mlalab.engines.iam.grants import Need


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

    def needs(self) -> list[Need]:
        """Everything the training job needs (README, task 2-5): any other grant is an over-grant."""
        return [
            Need(("s3:GetObject",), (self.s3(self.training_bucket, f"{self.training_prefix}*"),)),
            Need(("s3:ListBucket",), (self.s3(self.training_bucket),)),  # narrowed by s3:prefix (list-prefix)
            Need(("s3:PutObject",), (self.s3(self.artifact_bucket, f"{self.artifact_prefix}*"),)),
            Need(("kms:Decrypt", "kms:GenerateDataKey"), (self.kms_key_arn,)),
            Need(("logs:CreateLogStream", "logs:PutLogEvents"), (self.logs(self.log_group, "*"),)),
            # Optional custom metrics (README, hints): PutMetricData supports only "Resource": "*".
            Need(("cloudwatch:PutMetricData",), ("*",)),
        ]

    def check_of(self, over: OverGrant) -> str:
        """The check an over-grant belongs to: S3 reads and writes to the training data ->
        training-data-scoped, other S3 object writes -> write-artifacts, KMS -> kms-key, logs ->
        training-logs, anything else (bucket management, other services) -> no-other-services."""
        grant = over.grant
        if grant.service == "s3":
            if grant.access_level in ("Read", "List") or match_resource(self.s3(self.training_bucket, "*"),
                                                                        over.resource):
                return "training-data-scoped"
            if {"object", "accesspointobject"} & set(grant.resource_types):
                return "write-artifacts"
            return "no-other-services"
        return {"kms": "kms-key", "logs": "training-logs"}.get(grant.service, "no-other-services")


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
    """The role's policies as IAM holds them, with the lab key's key policy (None if the learner's
    code did not create the role)."""
    try:
        return iam.role_policies(aws, scenario.role_name, kms_keys=[scenario.kms_key_arn])
    except iam.PolicyError as exc:
        return exc


@pytest.fixture(scope="module")
def over_grants(role, scenario) -> list[OverGrant]:
    """Every grant of the role beyond what the job needs, computed once for all checks."""
    if not isinstance(role, iam.RolePolicies):
        return []
    return iam.over_grants(role, scenario.needs(), region=scenario.region)


def no_over_grants(role, scenario, over_grants, check_id: str, advice: str):
    return iam.no_over_grants(role, over_grants, lambda o: scenario.check_of(o) == check_id, advice)


def existing(role, scenario) -> iam.RolePolicies:
    if isinstance(role, iam.PolicyError):
        require(fail(f"role {scenario.role_name}: IAM would reject one of its policies ({role}), so this role "
                     "could not exist in AWS; fix the policy document"))
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
def test_training_data_scoped(role, scenario, over_grants):
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
    require(no_over_grants(role, s, over_grants, "training-data-scoped",
                           f"In S3 the job needs s3:GetObject on {s.s3(s.training_bucket, s.training_prefix)}* "
                           f"and s3:ListBucket on {s.s3(s.training_bucket)}, nothing more: every other read "
                           "(object ACLs, tags, versions, other prefixes) or write to the training data is access "
                           "the job never uses. Least privilege: grant exactly the actions and resources the "
                           "workload calls."))


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
        Expect("s3:ListBucket", s.s3(s.training_bucket), False,
               f"a sibling prefix is not the training prefix: a condition value without its delimiter "
               f"({s.training_prefix.rstrip('/')}*) also matches {s.training_prefix.rstrip('/')}0/; end it with "
               f"'/' ({s.training_prefix}*)", {"s3:prefix": s.training_prefix.rstrip("/") + "0/"}),
    ], region=s.region))


@pytest.mark.check("write-artifacts")
def test_write_artifacts(role, scenario, over_grants):
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
    require(no_over_grants(role, s, over_grants, "write-artifacts",
                           f"The job needs only s3:PutObject on {s.s3(s.artifact_bucket, s.artifact_prefix)}*: "
                           "ACL changes (Permissions management: they can make a model public), tags, retention "
                           "and deletes are not the job's to make."))


@pytest.mark.check("kms-key")
def test_kms_key(role, scenario, over_grants):
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
    require(no_over_grants(role, s, over_grants, "kms-key",
                           f"The job needs only kms:Decrypt and kms:GenerateDataKey on {s.kms_key_arn}: "
                           "Permissions management actions (kms:CreateGrant, kms:PutKeyPolicy) let the role hand "
                           "the key to others or take it over, and key management (disable, schedule deletion) "
                           "can make every encrypted object unreadable."))


@pytest.mark.check("training-logs")
def test_training_logs(role, scenario, over_grants):
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
    require(no_over_grants(role, s, over_grants, "training-logs",
                           f"The job needs only logs:CreateLogStream and logs:PutLogEvents on the log streams of "
                           f"{s.log_group} ({s.logs(s.log_group, '*')}): reading logs (they can hold data), "
                           "changing retention or subscriptions, or deleting them is not the job's to do."))


@pytest.mark.check("no-broad-statements")
def test_no_broad_statements(role, scenario):
    require(iam.no_broad_statements(existing(role, scenario)))


@pytest.mark.check("no-other-services")
def test_no_other_services(role, scenario, over_grants):
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
    require(no_over_grants(role, s, over_grants, "no-other-services",
                           "This training job needs S3 object access, its KMS key and its log streams, nothing "
                           "else (cloudwatch:PutMetricData is accepted for custom metrics): every other action "
                           "is access whoever steals the job's credentials gets."))
