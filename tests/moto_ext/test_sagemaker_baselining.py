"""Wire tests for baselining: a processing job whose image is the Model Monitor analyzer runs when created
and writes ``statistics.json``/``constraints.json`` to its output, through boto3 and through the SageMaker
Python SDK (``sagemaker-core``), in-process and in the learner's real sandbox.

AWS: "Create a Baseline" https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-create-baseline.html;
the analyzer image per Region (repository ``sagemaker-model-monitor-analyzer``)
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-built-container.html; DescribeProcessingJob
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeProcessingJob.html.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
from collections.abc import Iterator

import boto3
import pytest

from fixtures.moto_ext.sagemaker import baselining
from fixtures.moto_ext.sagemaker.baselining import ALGORITHM_ERROR, report_json
from mlalab.server import LabServer
from tests.reference import REFERENCE as REFERENCE_ROOT

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
BUCKET = "baseline-data"
CSV = "age,income,city\n30,1.5,Paris\n40,2.5,Lyon\n50,,Paris\n"
REFERENCE = REFERENCE_ROOT / "model-monitor"
SDK = importlib.util.find_spec("sagemaker") is not None and importlib.util.find_spec("sagemaker.core") is not None
needs_sdk = pytest.mark.skipif(not SDK, reason="sagemaker-core (the `sdk` extra) is not installed: "
                                               ".venv/bin/pip install -e '.[sdk]'")


@pytest.fixture(scope="module")
def clients(server: LabServer) -> Iterator[tuple]:
    def client(service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=server.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    yield client("sagemaker"), client("s3"), client("logs")


@pytest.fixture
def aws(server: LabServer, clients) -> tuple:
    server.reset()
    sm, s3, logs = clients
    s3.create_bucket(Bucket=BUCKET)
    return sm, s3, logs


def environment(fmt: dict, **more: str) -> dict[str, str]:
    """What ``DefaultModelMonitor.suggest_baseline`` sets (sagemaker-core 2.27 ``_generate_env_map``)."""
    return {"dataset_format": json.dumps(fmt), "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output", "publish_cloudwatch_metrics": "Disabled", **more}


def create(sm, name: str, env: dict[str, str] | None, *, image: str = ANALYZER, source: str = f"s3://{BUCKET}/train",
           output: str = f"s3://{BUCKET}/baseline", data_type: str = "S3Prefix") -> dict:
    request = {
        "ProcessingJobName": name, "RoleArn": ROLE, "AppSpecification": {"ImageUri": image},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 20}},
        "ProcessingInputs": [{"InputName": "baseline_dataset_input", "S3Input": {
            "S3Uri": source, "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
            "S3DataType": data_type, "S3InputMode": "File"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": output, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
    }
    if env is not None:
        request["Environment"] = env
    sm.create_processing_job(**request)
    return sm.describe_processing_job(ProcessingJobName=name)


def read(s3, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def keys(s3, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


# --- the image ------------------------------------------------------------------------------------


# --- the report files' layout ---------------------------------------------------------------------


def test_report_json_is_laid_out_as_the_analyzer_writes_it():
    document = {"version": 0.0, "dataset": {"item_count": 3}, "features": [
        {"name": "a", "data": [[1.0, 2.5]], "empty": [], "nothing": {}}, {"name": "b", "ok": True}]}
    assert report_json(document) == textwrap.dedent("""\
        {
          "version" : 0.0,
          "dataset" : {
            "item_count" : 3
          },
          "features" : [ {
            "name" : "a",
            "data" : [ [ 1.0, 2.5 ] ],
            "empty" : [ ],
            "nothing" : { }
          }, {
            "name" : "b",
            "ok" : true
          } ]
        }""")


def test_report_json_writes_doubles_as_java_does():
    assert [report_json(v) for v in (231.0, 0.8330066026148891, 5e-4, 1.5e-05, 1e7, -2.5e8, 0.0, 7)] == \
        ["231.0", "0.8330066026148891", "5.0E-4", "1.5E-5", "1.0E7", "-2.5E8", "0.0", "7"]


@pytest.mark.parametrize("name", ["data-quality/statistics.json", "data-quality/constraints.json",
                                  "model-quality-regression/statistics.json",
                                  "model-quality-regression/constraints.json"])
def test_the_real_reports_keep_their_exact_text_through_report_json(name):
    reference = REFERENCE / name
    if not reference.is_file():
        pytest.skip("the shared reference files are not on this machine")
    text = reference.read_text()
    assert report_json(json.loads(text)) == text.rstrip("\n")


# --- boto3: CreateProcessingJob with the analyzer image ------------------------------------------


def test_a_csv_baseline_completes_and_writes_both_reports(aws):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/part-1.csv", Body=CSV.encode())
    described = create(sm, "baseline-csv", environment({"csv": {"header": True, "output_columns_position": "START"}}))
    assert described["ProcessingJobStatus"] == "Completed" and "FailureReason" not in described
    assert described["Environment"]["dataset_format"] == '{"csv": {"header": true, "output_columns_position": "START"}}'
    assert described["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert sorted(keys(s3, "baseline/")) == ["baseline/constraints.json", "baseline/statistics.json"]
    statistics = read(s3, "baseline/statistics.json")
    assert statistics["dataset"] == {"item_count": 3}
    by_name = {f["name"]: f for f in statistics["features"]}
    assert list(by_name) == ["age", "income", "city"]
    assert [by_name[n]["inferred_type"] for n in by_name] == ["Integral", "Fractional", "String"]
    age = by_name["age"]["numerical_statistics"]
    assert (age["common"], age["mean"], age["sum"], age["min"], age["max"]) == \
        ({"num_present": 3, "num_missing": 0}, 40.0, 120.0, 30.0, 50.0)
    assert by_name["income"]["numerical_statistics"]["common"] == {"num_present": 2, "num_missing": 1}
    constraints = read(s3, "baseline/constraints.json")
    completeness = {f["name"]: f["completeness"] for f in constraints["features"]}
    assert completeness == {"age": 1.0, "income": 2 / 3, "city": 1.0}
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1
    raw = s3.get_object(Bucket=BUCKET, Key="baseline/statistics.json")["Body"].read().decode()
    assert raw.startswith('{\n  "version" : 0.0,\n')  # the analyzer's own layout


def test_every_object_under_the_prefix_is_read_and_a_headerless_csv_gets_positional_names(aws):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/a.csv", Body=b"1,x\n2,y\n")
    s3.put_object(Bucket=BUCKET, Key="train/b.csv", Body=b"3,x\n")
    s3.put_object(Bucket=BUCKET, Key="other/c.csv", Body=b"100,z\n")  # outside the prefix
    described = create(sm, "baseline-headerless", environment({"csv": {"header": False}}))
    assert described["ProcessingJobStatus"] == "Completed"
    statistics = read(s3, "baseline/statistics.json")
    assert statistics["dataset"]["item_count"] == 3
    assert [f["name"] for f in statistics["features"]] == ["_c0", "_c1"]
    assert statistics["features"][0]["numerical_statistics"]["sum"] == 6.0


def test_a_json_lines_baseline_completes(aws):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/data.jsonl",
                  Body=b'{"age": 30, "city": "Paris"}\n{"age": 40, "city": "Lyon"}\n')
    described = create(sm, "baseline-json", environment({"json": {"lines": True}}))
    assert described["ProcessingJobStatus"] == "Completed"
    statistics = read(s3, "baseline/statistics.json")
    assert statistics["dataset"]["item_count"] == 2
    assert {f["name"]: f["inferred_type"] for f in statistics["features"]} == {"age": "Integral", "city": "String"}


def test_the_categorical_drift_method_overrides_the_suggested_monitoring_config(aws):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/part-1.csv", Body=CSV.encode())
    create(sm, "baseline-chi", environment({"csv": {"header": True}}, categorical_drift_method="ChiSquared"))
    config = read(s3, "baseline/constraints.json")["monitoring_config"]["distribution_constraints"]
    assert config["categorical_drift_method"] == "ChiSquared"


def test_a_missing_dataset_fails_with_sagemakers_reason_and_writes_nothing(aws):
    sm, s3, _ = aws
    described = create(sm, "baseline-missing", environment({"csv": {"header": True}}), source=f"s3://{BUCKET}/nothing")
    assert described["ProcessingJobStatus"] == "Failed"
    assert described["FailureReason"] == (
        f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/nothing" given in input data source. Please '
        f"ensure that the bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, "
        f'and that the role "{ROLE}" has "s3:ListBucket" permissions on bucket "{BUCKET}".')
    assert keys(s3, "baseline/") == []


def test_unreadable_data_fails_with_the_analyzers_reason_and_the_detail_in_the_jobs_log(aws):
    sm, s3, logs = aws
    s3.put_object(Bucket=BUCKET, Key="train/data.parquet", Body=b"PAR1\x00\x01")
    described = create(sm, "baseline-parquet", environment({"parquet": {}}))
    assert described["ProcessingJobStatus"] == "Failed" and described["FailureReason"] == ALGORITHM_ERROR
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs")["logStreams"]
    assert [s["logStreamName"].split("/")[0] for s in streams] == ["baseline-parquet"]
    events = logs.get_log_events(logGroupName="/aws/sagemaker/ProcessingJobs",
                                 logStreamName=streams[0]["logStreamName"])["events"]
    assert "'parquet' is not supported offline" in events[0]["message"]
    assert keys(s3, "baseline/") == []


def test_a_job_without_dataset_format_fails(aws):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/part-1.csv", Body=CSV.encode())
    described = create(sm, "baseline-no-format", {"output_path": "/opt/ml/processing/output"})
    assert (described["ProcessingJobStatus"], described["FailureReason"]) == ("Failed", ALGORITHM_ERROR)


def test_another_image_is_left_to_moto_but_keeps_its_environment(aws):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/part-1.csv", Body=CSV.encode())
    described = create(sm, "plain-processing", {"MODE": "fast"},
                       image="123456789012.dkr.ecr.us-east-1.amazonaws.com/my-processing:1")
    assert described["ProcessingJobStatus"] == "Completed" and described["Environment"] == {"MODE": "fast"}
    assert keys(s3, "baseline/") == []


def test_a_model_quality_baseline_writes_the_problem_types_metrics_and_constraints(aws):
    sm, s3, _ = aws
    # label, prediction, probability: TP, FP, TN, FN -> precision 0.5, recall 0.5, accuracy 0.5
    s3.put_object(Bucket=BUCKET, Key="train/validation.csv",
                  Body=b"label,prediction,probability\n1,1,0.9\n0,1,0.8\n0,0,0.2\n1,0,0.3\n")
    env = environment({"csv": {"header": True}}, analysis_type="MODEL_QUALITY", problem_type="BinaryClassification",
                      inference_attribute="prediction", probability_attribute="probability",
                      probability_threshold_attribute="0.5", ground_truth_attribute="label")
    described = create(sm, "baseline-model-quality", env)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    statistics = read(s3, "baseline/statistics.json")
    metrics = statistics["binary_classification_metrics"]
    assert statistics["dataset"]["item_count"] == 4
    assert (metrics["precision"]["value"], metrics["recall"]["value"], metrics["accuracy"]["value"]) == (0.5, 0.5, 0.5)
    constraints = read(s3, "baseline/constraints.json")["binary_classification_constraints"]
    assert constraints["recall"] == {"threshold": 0.5, "comparison_operator": "LessThanThreshold"}


def test_a_model_quality_baseline_without_its_label_column_fails(aws):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/validation.csv", Body=b"prediction\n1\n0\n")
    env = environment({"csv": {"header": True}}, analysis_type="MODEL_QUALITY", problem_type="BinaryClassification",
                      inference_attribute="prediction", ground_truth_attribute="label")
    described = create(sm, "baseline-model-quality-bad", env)
    assert (described["ProcessingJobStatus"], described["FailureReason"]) == ("Failed", ALGORITHM_ERROR)


# --- the SageMaker Python SDK --------------------------------------------------------------------


@needs_sdk
def test_the_sdks_suggest_baseline_reads_back_its_statistics_and_constraints(aws, server, monkeypatch):
    """The learner's view: Session() finds the lab's endpoint from the environment alone."""
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/part-1.csv", Body=CSV.encode())
    for name, value in {"AWS_ENDPOINT_URL": server.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        monkeypatch.setenv(name, value)
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.model_monitor import DefaultModelMonitor
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat

    monitor = DefaultModelMonitor(role=ROLE, instance_count=1, instance_type="ml.m5.xlarge",
                                  sagemaker_session=Session())
    monitor.suggest_baseline(baseline_dataset=f"s3://{BUCKET}/train", dataset_format=DatasetFormat.csv(header=True),
                             output_s3_uri=f"s3://{BUCKET}/baseline", wait=False, logs=False)
    described = sm.describe_processing_job(ProcessingJobName=monitor.latest_baselining_job_name)
    assert described["AppSpecification"]["ImageUri"] == ANALYZER and described["ProcessingJobStatus"] == "Completed"
    assert monitor.baseline_statistics().body_dict["dataset"] == {"item_count": 3}
    assert [f["name"] for f in monitor.suggested_constraints().body_dict["features"]] == ["age", "income", "city"]


@needs_sdk
def test_the_sdks_model_quality_baseline_reads_back(aws, server, monkeypatch):
    sm, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/validation.csv",
                  Body=b"label,prediction,probability\n1,1,0.9\n0,1,0.8\n0,0,0.2\n1,0,0.3\n")
    for name, value in {"AWS_ENDPOINT_URL": server.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        monkeypatch.setenv(name, value)
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.model_monitor import ModelQualityMonitor
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat

    monitor = ModelQualityMonitor(role=ROLE, instance_count=1, instance_type="ml.m5.xlarge",
                                  sagemaker_session=Session())
    monitor.suggest_baseline(baseline_dataset=f"s3://{BUCKET}/train", dataset_format=DatasetFormat.csv(header=True),
                             problem_type="BinaryClassification", inference_attribute="prediction",
                             # a float threshold fails botocore's validation (Environment values are strings)
                             probability_attribute="probability", probability_threshold_attribute="0.5",
                             ground_truth_attribute="label", output_s3_uri=f"s3://{BUCKET}/baseline")
    described = sm.describe_processing_job(ProcessingJobName=monitor.latest_baselining_job_name)
    assert described["Environment"]["analysis_type"] == "MODEL_QUALITY"
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    metrics = monitor.latest_baselining_job.baseline_statistics().body_dict["binary_classification_metrics"]
    assert metrics["f1"]["value"] == 0.5
    constraints = monitor.latest_baselining_job.suggested_constraints().body_dict
    assert constraints["binary_classification_constraints"]["f1"]["comparison_operator"] == "LessThanThreshold"


LEARNER = '''
from sagemaker.core.helper.session_helper import Session
from sagemaker.core.model_monitor import DefaultModelMonitor
from sagemaker.core.model_monitor.dataset_format import DatasetFormat


def suggest(bucket, role):
    monitor = DefaultModelMonitor(role=role, instance_count=1, instance_type="ml.m5.xlarge",
                                  sagemaker_session=Session())
    monitor.suggest_baseline(baseline_dataset=f"s3://{bucket}/train", dataset_format=DatasetFormat.csv(header=True),
                             output_s3_uri=f"s3://{bucket}/baseline", wait=False, logs=False)
    return [f["name"] for f in monitor.suggested_constraints().body_dict["features"]]
'''


@needs_sdk
def test_the_sdk_in_the_learners_sandbox_reaches_the_lab_server(aws, server, tmp_path):
    """No code beyond the lab's: the sandbox's environment (AWS_ENDPOINT_URL, fake keys, region) is enough.
    The SDK imports pandas and scipy, which import ctypes, which learner code may not import: the sandbox
    must import the SDK before its audit hook, for a learner file that imports it (child.preload_sdk)."""
    from mlalab.sandbox import Call, run_learner

    _, s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="train/part-1.csv", Body=CSV.encode())
    learner = tmp_path / "lab07.py"
    learner.write_text(LEARNER)
    run = run_learner(learner, "lab07", [Call("suggest", {"bucket": BUCKET, "role": ROLE})], server.port, timeout=60)
    imported = run.import_event() or {}
    assert imported.get("status") == "ok", imported
    call = run.call_event("suggest")
    assert call is not None and call["status"] == "ok", call
    assert call["returned"] == "['age', 'income', 'city']"


def test_the_wire_is_installed_on_the_lab_server(server):
    from moto.sagemaker.responses import SageMakerResponse

    assert baselining.PATCH.installed
    assert SageMakerResponse.create_processing_job is baselining.create_processing_job
