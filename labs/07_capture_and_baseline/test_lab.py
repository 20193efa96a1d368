"""Lab 07 grader: data capture and a baseline, graded on the files they leave in S3.

The scenario is the churn model (``fixtures.churn``) registered as a SageMaker model and served by
the emulated runtime for the endpoint the learner creates (variant ``AllTraffic``), a customer
managed KMS key, and one bucket with the training set (a CSV with a header; a few values of one
feature missing, so the suggested completeness is below 1) and a file of customers to send. After
the learner's code has run, the grader reads the endpoint config, the capture files (parsed with the
Model Monitor engine, which reads AWS's own files), the baselining processing job with its
``statistics.json`` and ``constraints.json``, and the learner's report.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from checks import modelmonitor as mm
from checks import require, s3
from fixtures import churn, scenarios
from fixtures.moto_ext import sagemakerruntime

VARIANT = "AllTraffic"
ANALYZER_ACCOUNT = "156813124566"  # the analyzer's registry in us-east-1 (what image_uris.retrieve answers)
TRAINING_ROWS = 400
CUSTOMERS = 60
MISSING_EVERY = 25  # one evening_minutes in 25 is missing from the training set: completeness 0.96


@dataclass(frozen=True)
class Scenario:
    model_name: str
    config_name: str
    endpoint_name: str
    bucket: str
    capture_uri: str
    kms_key_arn: str
    customers_key: str
    customers: tuple[str, ...]  # the lines sent (no header)
    training_uri: str
    output_uri: str
    job_name: str
    role_arn: str
    analyzer_image: str
    report_key: str

    @property
    def report_uri(self) -> str:
        return f"s3://{self.bucket}/{self.report_key}"


def _training_csv(rows: list[dict]) -> str:
    """The training set with a header; every MISSING_EVERY-th evening_minutes left empty."""
    lines = [",".join(churn.NAMES)]
    for i, row in enumerate(rows):
        values = [str(row[name]) for name in churn.NAMES]
        if i % MISSING_EVERY == MISSING_EVERY - 1:
            values[churn.NAMES.index("evening_minutes")] = ""
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    role = scenarios.execution_role(aws, rng)
    model = scenarios.name(rng, "churn-xgb", "model")
    sm.create_model(ModelName=model, ExecutionRoleArn=role, PrimaryContainer={
        "Image": f"{aws.account}.dkr.ecr.{aws.region}.amazonaws.com/xgboost:1.7-1",
        "ModelDataUrl": f"s3://{scenarios.name(rng, 'models')}/{model}/model.tar.gz"})
    bucket = scenarios.bucket(aws, rng, "ml-monitoring")
    endpoint = scenarios.name(rng, "churn-xgb")
    sagemakerruntime.register_model(endpoint, VARIANT, churn.model_function)
    customers = churn.to_csv(churn.rows(rng, CUSTOMERS), header=True)
    run = scenarios.suffix(rng, 6)
    s = Scenario(
        model_name=model, config_name=scenarios.name(rng, "churn-xgb", "capture-config"), endpoint_name=endpoint,
        bucket=bucket, capture_uri=f"s3://{bucket}/datacapture", kms_key_arn=scenarios.kms_key(aws, "captured data"),
        customers_key=f"traffic/{run}/customers.csv", customers=tuple(customers.splitlines()[1:]),
        training_uri=f"s3://{bucket}/training/{run}/train.csv", output_uri=f"s3://{bucket}/baselines/{run}",
        job_name=scenarios.name(rng, "churn-baseline"), role_arn=role,
        analyzer_image=f"{ANALYZER_ACCOUNT}.dkr.ecr.{aws.region}.amazonaws.com/sagemaker-model-monitor-analyzer",
        report_key=f"reviews/{run}/constraints-review.json")
    s3.put_object(Bucket=bucket, Key=s.customers_key, Body=customers.encode(), ContentType="text/csv")
    training_key = s.training_uri.removeprefix(f"s3://{bucket}/")
    s3.put_object(Bucket=bucket, Key=training_key, Body=_training_csv(churn.rows(rng, TRAINING_ROWS)).encode(),
                  ContentType="text/csv")
    learner({
        "deploy_with_capture": dict(model_name=model, config_name=s.config_name, endpoint_name=endpoint,
                                    capture_uri=s.capture_uri, kms_key_arn=s.kms_key_arn),
        "send_traffic": dict(endpoint_name=endpoint, bucket=bucket, key=s.customers_key),
        "suggest_baseline": dict(job_name=s.job_name, role_arn=role, training_uri=s.training_uri,
                                 output_uri=s.output_uri, analyzer_image=s.analyzer_image),
        "constraints_to_tighten": dict(constraints_uri=f"{s.output_uri}/constraints.json", report_bucket=bucket,
                                       report_key=s.report_key),
    })
    return s


@pytest.fixture(scope="module")
def baseline(aws, scenario) -> tuple[dict, dict, dict]:
    """The analyzer job run on the training set, with the statistics and constraints it wrote (wherever it
    wrote them: where is the baseline-job check's business)."""
    job, verdict = mm.baselining_job(aws, scenario.training_uri)
    require(verdict)
    statistics, constraints, verdict = mm.baseline_outputs(aws, mm.job_output(job))
    require(verdict)
    return job, statistics, constraints


@pytest.mark.check("capture-config")
def test_capture_config(aws, scenario):
    require(mm.capture_config(aws, scenario.config_name, scenario.endpoint_name, scenario.capture_uri))


@pytest.mark.check("capture-encrypted")
def test_capture_encrypted(aws, scenario):
    require(mm.capture_encrypted(aws, scenario.config_name, scenario.kms_key_arn))


@pytest.mark.check("traffic-captured")
def test_traffic_captured(aws, scenario):
    answers = {line: churn.model_function(line.encode(), "text/csv")[0].decode() for line in scenario.customers}
    require(mm.traffic_captured(aws, scenario.capture_uri, scenario.endpoint_name, VARIANT, scenario.customers,
                                answers))


@pytest.mark.check("baseline-job")
def test_baseline_job(scenario, baseline):
    job, _, _ = baseline
    require(mm.baseline_where_expected(job, scenario.output_uri))


@pytest.mark.check("baseline-header")
def test_baseline_header(baseline):
    _, statistics, _ = baseline
    require(mm.baseline_read_header(statistics, churn.NAMES, TRAINING_ROWS))


@pytest.mark.check("report")
def test_report(aws, scenario, baseline):
    _, _, constraints = baseline
    report, verdict = s3.read_json(aws, scenario.report_uri, "constraints review")
    require(verdict)
    require(mm.constraints_report(report, constraints, scenario.report_uri))
