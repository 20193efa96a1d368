"""Wire tests of request validation: boto3 -> the lab's moto server -> the learner's code sees AWS's
error code, message and HTTP status through botocore's ClientError, in each protocol (CloudWatch's
JSON with query-compatible codes, IAM/STS Query XML, KMS/Logs JSON, S3 REST-XML). And the proof on a
graded lab: a lab-01 solution passing both Statistic and ExtendedStatistic fails with
InvalidParameterCombination, as it would on AWS (PutMetricAlarm API reference)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from fixtures.moto_ext import validation
from mlalab.catalog import find_lab
from tests.conftest import apply, grade_source

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def client(unvalidated_client):
    return unvalidated_client


def refused(call, *args, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


ALARM = dict(AlarmName="latency", MetricName="ModelLatency", Namespace="AWS/SageMaker", Period=60, EvaluationPeriods=3,
             Threshold=300000, ComparisonOperator="GreaterThanThreshold")


def test_cloudwatch_refusals_over_the_wire(client):
    cw = client("cloudwatch")
    assert refused(cw.put_metric_alarm, **ALARM, Statistic="Average", ExtendedStatistic="p99") == (
        "InvalidParameterCombination", "Exactly one of Statistic or ExtendedStatistic must be specified.", 400)
    code, message, status = refused(cw.put_metric_alarm, **ALARM, Statistic="p99")
    assert (code, status) == ("ValidationError", 400)
    assert message.startswith("1 validation error detected: Value 'p99' at 'statistic'")
    assert refused(cw.put_metric_alarm, **{k: v for k, v in ALARM.items() if k != "MetricName"},
                   Metrics=[{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"},
                                                        "Period": 60, "Stat": "Sum"}}]) == (
        "ValidationError", "Namespace should not be set if list of Metrics is set.", 400)
    # Nothing was stored by the refused calls; a valid alarm still goes through.
    cw.put_metric_alarm(**ALARM, ExtendedStatistic="p99")
    assert [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]] == ["latency"]


def test_iam_and_sts_refusals_over_the_wire(client):
    iam = client("iam")
    no_principal = json.dumps({"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})
    assert refused(iam.create_role, RoleName="r", AssumeRolePolicyDocument=no_principal) == (
        "MalformedPolicyDocument", "Missing required field Principal", 400)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    with_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]})
    assert refused(iam.put_role_policy, RoleName="r", PolicyName="p", PolicyDocument=with_principal) == (
        "MalformedPolicyDocument", "Policy document should not specify a principal.", 400)
    big = {"Version": "2012-10-17", "Statement": [
        {"Sid": "S" * 6000, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    iam.put_role_policy(RoleName="r", PolicyName="first", PolicyDocument=json.dumps(big))
    big["Statement"][0]["Sid"] = "T" * 5000
    assert refused(iam.put_role_policy, RoleName="r", PolicyName="second", PolicyDocument=json.dumps(big)) == (
        "LimitExceeded", "Maximum policy size of 10240 bytes exceeded for role r", 409)
    assert refused(iam.create_role, RoleName="bad name", AssumeRolePolicyDocument=json.dumps(TRUST))[0] == \
        "ValidationError"
    sts = client("sts")
    code, message, _ = refused(sts.assume_role, RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="x")
    assert code == "ValidationError" and "at 'roleSessionName'" in message
    assert refused(sts.assume_role, RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="ok",
                   DurationSeconds=7200)[1] == \
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_json_and_rest_xml_refusals_over_the_wire(client):
    logs = client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    code, message, status = refused(logs.put_retention_policy, logGroupName="/aws/sagemaker/TrainingJobs",
                                    retentionInDays=45)
    assert (code, status) == ("InvalidParameterException", 400) and "at 'retentionInDays'" in message
    logs.put_retention_policy(logGroupName="/aws/sagemaker/TrainingJobs", retentionInDays=30)
    kms = client("kms")
    assert refused(kms.create_key, KeyUsage="GENERATE_VERIFY_MAC")[0] == "ValidationException"
    s3 = client("s3")
    assert refused(s3.create_bucket, Bucket="Training_Data") == (
        "InvalidBucketName", "The specified bucket is not valid.", 400)
    s3.create_bucket(Bucket="training-data")
    s3.put_object(Bucket="training-data", Key="datasets/a.csv", Body=b"x")
    assert refused(s3.put_bucket_policy, Bucket="training-data", Policy="allow all")[0] == "MalformedPolicy"


def test_validation_costs_little(client):
    """Validation adds well under a few milliseconds a request (measured in-process on a PutMetricAlarm
    with a metric-math list, the largest lab request)."""
    from mlalab.engines.validation import validate

    params = dict(AlarmName="e", EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=5.0,
                  ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", Metrics=[
                      {"Id": q, "ReturnData": False, "MetricStat": {"Metric": {
                          "Namespace": "AWS/SageMaker", "MetricName": q,
                          "Dimensions": [{"Name": "EndpointName", "Value": "e"}]}, "Period": 60, "Stat": "Sum"}}
                      for q in ("errors", "invocations")] + [
                      {"Id": "rate", "Expression": "100 * errors / invocations", "ReturnData": True}])
    validate("cloudwatch", "PutMetricAlarm", params)  # load the model once
    start = time.perf_counter()
    for _ in range(200):
        assert validate("cloudwatch", "PutMetricAlarm", params) is None
    per_call_ms = (time.perf_counter() - start) / 200 * 1000
    assert per_call_ms < 2, per_call_ms


def test_install_is_idempotent_and_uninstall_restores_moto():
    from moto.core.responses import BaseResponse

    validation.install()
    wrapped = BaseResponse.call_action
    validation.install()
    assert BaseResponse.call_action is wrapped
    validation.uninstall()
    assert BaseResponse.call_action is not wrapped
    validation.install()


def test_a_learner_passing_statistic_and_extended_statistic_sees_aws_error(tmp_path):
    lab = find_lab(1)
    source = apply(lab.solution_path.read_text(), [('ExtendedStatistic="p99",',
                                                    'Statistic="Average",\n            ExtendedStatistic="p99",')])
    result = grade_source(tmp_path, lab, source)
    problems = "\n".join(result.problems)
    assert "InvalidParameterCombination" in problems, problems
    assert "Exactly one of Statistic or ExtendedStatistic must be specified." in problems
    assert result.score < result.max_score
