"""Lab 07: capture and baseline.

Write the four functions with boto3 (or the SageMaker SDK for the baseline). The grader creates the
model, a KMS key, the training set and a file of customers (names change every run), calls your
functions, then reads the endpoint config, the capture files in S3, the baseline job and its outputs,
and your report. See README.md.
"""

import json

import boto3


def deploy_with_capture(model_name, config_name, endpoint_name, capture_uri, kms_key_arn):
    """Create an endpoint config capturing 100 % of input and output (CSV) to capture_uri, encrypted with
    kms_key_arn, and the endpoint."""
    # BEGIN SOLUTION
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model_name,
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": capture_uri,
            "KmsKeyId": kms_key_arn,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        },
    )
    sagemaker.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)
    # END SOLUTION


def send_traffic(endpoint_name, bucket, key):
    """Send every customer of s3://bucket/key (a CSV with a header) as one text/csv request; return the count."""
    # BEGIN SOLUTION
    text = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    runtime = boto3.client("sagemaker-runtime")
    sent = 0
    for line in text.splitlines()[1:]:
        if line.strip():
            runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType="text/csv", Body=line)
            sent += 1
    return sent
    # END SOLUTION


def suggest_baseline(job_name, role_arn, training_uri, output_uri, analyzer_image):
    """Run the Model Monitor analyzer on the training set (a CSV with a header) and wait for it."""
    # BEGIN SOLUTION
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_processing_job(
        ProcessingJobName=job_name,
        RoleArn=role_arn,
        AppSpecification={"ImageUri": analyzer_image},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 20}},
        ProcessingInputs=[{"InputName": "baseline_dataset_input", "S3Input": {
            "S3Uri": training_uri, "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": output_uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        Environment={
            "dataset_format": json.dumps({"csv": {"header": True}}),
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output",
            "publish_cloudwatch_metrics": "Disabled",
        },
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    sagemaker.get_waiter("processing_job_completed_or_stopped").wait(ProcessingJobName=job_name)
    # END SOLUTION


def constraints_to_tighten(constraints_uri, report_bucket, report_key):
    """Read constraints.json and write to S3 (JSON) the incomplete features, the non-negative ones, the plan
    domain and the drift threshold (README)."""
    # BEGIN SOLUTION
    bucket, key = constraints_uri.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    constraints = json.loads(body)
    report = {"incomplete": {}, "non_negative": [], "plan_domain": [], "drift_threshold": None}
    for feature in constraints["features"]:
        if feature.get("completeness", 1.0) < 1.0:
            report["incomplete"][feature["name"]] = feature["completeness"]
        if feature.get("num_constraints", {}).get("is_non_negative"):
            report["non_negative"].append(feature["name"])
        if feature["name"] == "plan":
            report["plan_domain"] = sorted(feature.get("string_constraints", {}).get("domains", []))
    report["non_negative"].sort()
    distribution = constraints["monitoring_config"]["distribution_constraints"]
    report["drift_threshold"] = distribution["comparison_threshold"]
    boto3.client("s3").put_object(Bucket=report_bucket, Key=report_key, Body=json.dumps(report).encode())
    # END SOLUTION
