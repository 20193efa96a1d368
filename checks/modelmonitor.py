"""Checks of SageMaker Model Monitor set-ups: data capture on an endpoint config, the capture files an
endpoint wrote, a baselining job and its outputs, and reports derived from them.

The documents themselves are read with the Model Monitor engine (``mlalab.engines.modelmonitor``),
which accepts AWS's real files unchanged; what is graded is what they say.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.modelmonitor import capture
from mlalab.engines.modelmonitor.documents import ANALYZER_REPOSITORY, is_analyzer_image

from .s3 import read_json, split_uri

CAPTURE_FILE = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$")
CONFIG_IS_THE_PLACE = ("Data capture is a property of the endpoint config (DataCaptureConfig), so the endpoint "
                       "must be created (or updated) with that config.")


def _endpoint_config(aws, config_name: str) -> dict | None:
    try:
        return aws.client("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)
    except ClientError:
        return None


def capture_config(aws, config_name: str, endpoint_name: str, capture_uri: str) -> Verdict:
    """The endpoint config captures 100 % of requests, input and output, to ``capture_uri``, and the endpoint
    uses it."""
    config = _endpoint_config(aws, config_name)
    if config is None:
        return fail(f"there is no endpoint config {config_name}.")
    dcc = config.get("DataCaptureConfig")
    if not dcc:
        return fail(f"endpoint config {config_name} has no DataCaptureConfig: nothing the endpoint sees is kept, "
                    "so Model Monitor has nothing to analyse.")
    settings = capture.settings(dcc)
    if settings is None:
        return fail(f"endpoint config {config_name} has DataCaptureConfig with EnableCapture false.")
    if float(dcc.get("InitialSamplingPercentage", 0)) != 100:
        return fail(f"endpoint config {config_name} captures {dcc.get('InitialSamplingPercentage')} % of requests; "
                    "expected 100 (InitialSamplingPercentage). A baseline comparison on a sample is possible, "
                    "but this team wants every request for the audit trail.")
    modes = {str(o.get("CaptureMode")) for o in dcc.get("CaptureOptions", [])}
    if not {"Input", "Output"} <= modes and "InputAndOutput" not in modes:
        return fail(f"endpoint config {config_name} captures {sorted(modes)}; expected both Input and Output "
                    "(CaptureOptions): data quality needs the inputs, model quality the model's answers.")
    csv_types = [t.split(";")[0].strip().lower()
                 for t in (dcc.get("CaptureContentTypeHeader") or {}).get("CsvContentTypes", [])]
    if "text/csv" not in csv_types:
        return fail(f"endpoint config {config_name} does not list text/csv in CaptureContentTypeHeader."
                    "CsvContentTypes (found {csv_types}): without it SageMaker captures the CSV requests "
                    "base64-encoded, and a data-quality monitoring job cannot parse them as CSV.")
    if dcc.get("DestinationS3Uri", "").rstrip("/") != capture_uri.rstrip("/"):
        return fail(f"endpoint config {config_name} captures to {dcc.get('DestinationS3Uri')}; expected "
                    f"{capture_uri} (DestinationS3Uri).")
    try:
        endpoint = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint_name)
    except ClientError:
        return fail(f"there is no endpoint {endpoint_name}. {CONFIG_IS_THE_PLACE}")
    if endpoint.get("EndpointConfigName") != config_name:
        return fail(f"endpoint {endpoint_name} uses endpoint config {endpoint.get('EndpointConfigName')}; expected "
                    f"{config_name}. {CONFIG_IS_THE_PLACE}")
    return ok()


def capture_encrypted(aws, config_name: str, kms_key_arn: str) -> Verdict:
    """Captured data is encrypted with the given KMS key (by ARN, key id or an alias of it)."""
    config = _endpoint_config(aws, config_name)
    dcc = (config or {}).get("DataCaptureConfig") or {}
    given = dcc.get("KmsKeyId")
    if not given:
        return fail(f"endpoint config {config_name} has no DataCaptureConfig.KmsKeyId: captured requests are "
                    "customer data, and without a customer managed key you cannot control or audit who "
                    "decrypts them.")
    try:
        found = aws.client("kms").describe_key(KeyId=given)["KeyMetadata"]["Arn"]
    except ClientError:
        return fail(f"endpoint config {config_name} encrypts captures with {given}, which is not a KMS key of "
                    "this account.")
    if found != kms_key_arn:
        return fail(f"endpoint config {config_name} encrypts captures with {found}; expected {kms_key_arn}.")
    return ok()


def captured_records(aws, capture_uri: str, endpoint: str, variant: str) -> tuple[list[capture.CaptureRecord],
                                                                                    list[str]]:
    """Every capture record under ``{capture_uri}/{endpoint}/{variant}/``, and keys not at AWS's layout."""
    bucket, key = split_uri(capture_uri.rstrip("/") + f"/{endpoint}/{variant}/")
    s3 = aws.client("s3")
    records: list[capture.CaptureRecord] = []
    misplaced: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for item in page.get("Contents", []):
            if not CAPTURE_FILE.match(item["Key"][len(key):]):
                misplaced.append(item["Key"])
                continue
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode("utf-8")
            records += capture.parse_lines(body)
    return records, misplaced


def traffic_captured(aws, capture_uri: str, endpoint: str, variant: str, sent: Sequence[str],
                     answers: Mapping[str, str]) -> Verdict:
    """Each line of ``sent`` was captured once as a request (input), with the model's answer (output)."""
    records, misplaced = captured_records(aws, capture_uri, endpoint, variant)
    where = f"{capture_uri.rstrip('/')}/{endpoint}/{variant}/"
    if misplaced:
        return fail(f"{misplaced[0]} is not where data capture writes: AWS writes "
                    "{DestinationS3Uri}/{endpoint}/{variant}/yyyy/mm/dd/hh/mm-ss-mmm-{uuid}.jsonl.")
    if not records:
        return fail(f"nothing was captured under {where}: either the endpoint was not invoked, or its config "
                    "does not capture (DataCaptureConfig).")
    inputs = [_text(r.input).strip() for r in records if r.input is not None]
    wanted = sorted(line.strip() for line in sent)
    if sorted(inputs) != wanted:
        missing = len(set(wanted) - set(inputs))
        extra = len(inputs) - len(wanted)
        return fail(f"{where} holds {len(inputs)} captured requests; expected exactly the {len(wanted)} customers "
                    f"of the file, one request each ({missing} missing, {max(extra, 0)} extra). Send every line "
                    "after the header, as text/csv, one per invoke_endpoint call.")
    for record in records:
        if record.output is None or record.input is None:
            return fail(f"a captured record under {where} has no {'output' if record.output is None else 'input'}; "
                        "expected both (CaptureOptions Input and Output).")
        expected = answers.get(_text(record.input).strip())
        if expected is not None and _text(record.output).strip() != expected:
            return fail(f"a captured answer is {_text(record.output)!r}; the model answered {expected!r}.")
    return ok()


def _text(payload: capture.Payload) -> str:
    """A captured payload's text, whatever its encoding (the encoding is the endpoint config's business)."""
    if payload.encoding == "BASE64":
        return base64.b64decode(payload.data).decode("utf-8", "replace")
    return payload.data


def analyzer_jobs(aws) -> list[dict]:
    """Every processing job that ran the Model Monitor analyzer image, newest first."""
    sagemaker = aws.client("sagemaker")
    jobs = []
    for page in sagemaker.get_paginator("list_processing_jobs").paginate(SortBy="CreationTime",
                                                                          SortOrder="Descending"):
        for summary in page["ProcessingJobSummaries"]:
            job = sagemaker.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
            if is_analyzer_image(job.get("AppSpecification", {}).get("ImageUri")):
                jobs.append(job)
    return jobs


def job_output(job: Mapping[str, Any]) -> str:
    outputs = job.get("ProcessingOutputConfig", {}).get("Outputs", [])
    return outputs[0].get("S3Output", {}).get("S3Uri", "").rstrip("/") if outputs else ""


def baselining_job(aws, training_uri: str) -> tuple[dict | None, Verdict]:
    """The completed processing job that ran the Model Monitor analyzer on ``training_uri``."""
    jobs = analyzer_jobs(aws)
    for job in jobs:
        inputs = [i.get("S3Input", {}).get("S3Uri", "").rstrip("/") for i in job.get("ProcessingInputs", [])]
        if training_uri.rstrip("/") in inputs:
            if job.get("ProcessingJobStatus") != "Completed":
                return job, fail(f"baselining job {job['ProcessingJobName']} is {job.get('ProcessingJobStatus')}: "
                                 f"{job.get('FailureReason', '')}")
            return job, ok()
    if jobs:
        return None, fail(f"the analyzer ran ({', '.join(j['ProcessingJobName'] for j in jobs)}) but not on "
                          f"{training_uri}: the baseline must come from the training set (ProcessingInputs).")
    return None, fail("no processing job ran the Model Monitor analyzer image "
                      f"(.../{ANALYZER_REPOSITORY}): a baseline is a processing job of that container.")


def baseline_where_expected(job: Mapping[str, Any], output_uri: str) -> Verdict:
    """The job wrote its baseline to ``output_uri``, where the monitoring schedule will be told to look."""
    found = job_output(job)
    if found != output_uri.rstrip("/"):
        return fail(f"baselining job {job.get('ProcessingJobName')} wrote to {found or 'nowhere'}; expected "
                    f"{output_uri} (ProcessingOutputConfig): the monitoring schedule's BaselineConfig points there.")
    return ok()


def baseline_outputs(aws, output_uri: str) -> tuple[dict | None, dict | None, Verdict]:
    """statistics.json and constraints.json at ``output_uri``."""
    statistics, verdict = read_json(aws, f"{output_uri.rstrip('/')}/statistics.json", "statistics.json")
    if not verdict.passed:
        return None, None, verdict
    constraints, verdict = read_json(aws, f"{output_uri.rstrip('/')}/constraints.json", "constraints.json")
    return statistics, constraints, verdict


def baseline_read_header(statistics: Mapping[str, Any], names: Sequence[str], rows: int) -> Verdict:
    """The baseline's features are the header's names and it counted every row, and only rows."""
    found = [f.get("name") for f in statistics.get("features", [])]
    count = statistics.get("dataset", {}).get("item_count")
    if found != list(names):
        return fail(f"the baseline's features are {found[:6]}; expected the header's names {list(names)}. Names "
                    "like _c0, _c1 mean the analyzer was not told the CSV has a header: "
                    "dataset_format {\"csv\": {\"header\": true}}.")
    if count != rows:
        return fail(f"the baseline counted {count} rows; the training set has {rows} (a header read as data adds "
                    "one row and turns every feature into a String).")
    return ok()


def constraints_report(report: Any, constraints: Mapping[str, Any], where: str) -> Verdict:
    """The learner's report says what the suggested constraints say (README's shape)."""
    if not isinstance(report, Mapping):
        return fail(f"{where} is not a JSON object; expected {{'incomplete', 'non_negative', 'plan_domain', "
                    "'drift_threshold'}.")
    features = constraints.get("features", [])
    expected = {
        "incomplete": {f["name"]: f["completeness"] for f in features if f.get("completeness", 1.0) < 1.0},
        "non_negative": sorted(f["name"] for f in features if f.get("num_constraints", {}).get("is_non_negative")),
        "plan_domain": sorted(next((f.get("string_constraints", {}).get("domains", []) for f in features
                                    if f["name"] == "plan"), [])),
        "drift_threshold": constraints.get("monitoring_config", {}).get("distribution_constraints", {})
        .get("comparison_threshold"),
    }
    why = {
        "incomplete": "features whose suggested completeness is below 1.0: the baseline learned to accept gaps",
        "non_negative": "features with num_constraints.is_non_negative true",
        "plan_domain": "string_constraints.domains of plan, sorted",
        "drift_threshold": "monitoring_config.distribution_constraints.comparison_threshold",
    }
    for key, value in expected.items():
        if key not in report:
            return fail(f"{where} has no '{key}'; expected {value!r} ({why[key]}).")
        found = report[key]
        if key == "incomplete":
            same = isinstance(found, Mapping) and set(found) == set(value) and all(
                isinstance(found[k], int | float) and abs(found[k] - value[k]) < 1e-9 for k in value)
        elif key == "drift_threshold":
            same = isinstance(found, int | float) and value is not None and abs(found - value) < 1e-9
        else:
            same = isinstance(found, list) and sorted(map(str, found)) == value
        if not same:
            return fail(f"{where} says {key} = {found!r}; constraints.json says {value!r} ({why[key]}).")
    return ok()
