"""Lab 07's generated solutions: rewrites of the reference (``solution.py``) that SageMaker treats exactly
like it (each must earn full marks, alone or composed in any order), and single mutations that change the
capture, the traffic, the baseline or the report (each must lose the points of the checks in ``fails``,
also after any rewrites). ``tests/property`` draws them with Hypothesis. Not for the learner edition: the
edits quote the reference. Mutations are applied to the reference first, then rewrites."""

from __future__ import annotations

from tests.property.edits import Rewrite, chain, in_function, sub

CAPTURE = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html"
CAPTURE_OPTION = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureOption.html"
BASELINE = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-create-baseline.html"
KMS = "https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id"

# The SageMaker SDK's way: DefaultModelMonitor.suggest_baseline finds the analyzer image itself and
# creates the same processing job (wait=False: the job is already complete when it returns here).
SDK_BASELINE = '''    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.model_monitor import DefaultModelMonitor
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat

    monitor = DefaultModelMonitor(role=role_arn, instance_count=1, instance_type="ml.m5.xlarge",
                                  sagemaker_session=Session())
    monitor.suggest_baseline(baseline_dataset=training_uri, dataset_format=DatasetFormat.csv(header=HEADER),
                             output_s3_uri=output_uri, job_name=job_name, wait=False, logs=False)
'''


def _sdk_baseline(source: str) -> str:
    """Replace the boto3 processing job by the SDK call (keeping a mutated header flag)."""
    header = "False" if '{"csv": {"header": False}}' in source else "True"
    start = source.index("    sagemaker = boto3.client(\"sagemaker\")\n    sagemaker.create_processing_job(")
    end = source.index("    # END SOLUTION", start)
    return source[:start] + SDK_BASELINE.replace("HEADER", header) + source[end:]


def sdk_baseline(source: str) -> str:
    try:
        return in_function("suggest_baseline", _sdk_baseline)(source)
    except ValueError:  # the anchor is gone (another rewrite or mutation changed it)
        return source


REWRITES = [
    Rewrite("input-and-output", sub(r'"CaptureOptions": \[\{"CaptureMode": "Input"\}, \{"CaptureMode": "Output"\}\]',
                                    '"CaptureOptions": [{"CaptureMode": "InputAndOutput"}]'),
            f"InputAndOutput is one option for both: {CAPTURE_OPTION}"),
    Rewrite("capture-uri-slash", sub(r'"DestinationS3Uri": capture_uri,', '"DestinationS3Uri": capture_uri + "/",'),
            f"a trailing slash names the same prefix: {CAPTURE}"),
    Rewrite("kms-key-id", chain(
        sub(r'    sagemaker\.create_endpoint_config\(\n',
            '    key_id = boto3.client("kms").describe_key(KeyId=kms_key_arn)["KeyMetadata"]["KeyId"]\n'
            '    sagemaker.create_endpoint_config(\n'),
        sub(r'"KmsKeyId": kms_key_arn,', '"KmsKeyId": key_id,')),
            f"a key id names the same key as its ARN: {KMS}"),
    Rewrite("sampling-float", sub(r'"InitialSamplingPercentage": 100,', '"InitialSamplingPercentage": int(100.0),'),
            "the same percentage computed"),
    Rewrite("sdk-baseline", sdk_baseline, f"the SDK's suggest_baseline creates the same analyzer job: {BASELINE}"),
    Rewrite("read-lines-loop", sub(r"    for line in text\.splitlines\(\)\[1:\]:\n",
                                   "    lines = text.splitlines()\n    for line in lines[1:]:\n"),
            "the same lines, named first"),
]

MUTATIONS = [
    Rewrite("no-content-type", sub(r' +"CaptureContentTypeHeader": \{"CsvContentTypes": \["text/csv"\]\},\n', ""),
            "CSV captured base64-encoded", frozenset({"capture-config"})),
    Rewrite("no-kms", sub(r' +"KmsKeyId": kms_key_arn,\n', ""), "captures not under the team's key",
            frozenset({"capture-encrypted"})),
    Rewrite("skip-first-customer", sub(r"text\.splitlines\(\)\[1:\]", "text.splitlines()[2:]"),
            "the first customer is never sent", frozenset({"traffic-captured"})),
    Rewrite("no-header", sub(r'json\.dumps\(\{"csv": \{"header": True\}\}\)', 'json.dumps({"csv": {"header": False}})'),
            "the header read as a data row", frozenset({"baseline-header"})),
    Rewrite("wrong-threshold", sub(r'distribution\["comparison_threshold"\]',
                                   'distribution["categorical_comparison_threshold"] / 2'),
            "the report's drift threshold is another one", frozenset({"report"})),
]
