"""Lab 10: model quality with ground truth.

Write the functions with boto3. The grader deploys the churn endpoint with data capture, calls your
functions, then plays six hours of traffic on a simulated clock (each request with an InferenceId),
runs your monitoring schedule at the top of every hour and evaluates your alarm. Names change every
run. See README.md.
"""

import json
from collections import defaultdict
from datetime import datetime

import boto3


def upload_ground_truth(bucket, prefix, labels):
    """Upload the labels (a list of {"inference_id", "churned", "collected_at"}) as Model Monitor's
    ground-truth records, under prefix/yyyy/mm/dd/hh/ of the hour each label was collected."""
    # BEGIN SOLUTION
    by_hour = defaultdict(list)
    for label in labels:
        collected = datetime.fromisoformat(label["collected_at"].replace("Z", "+00:00"))
        by_hour[collected.strftime("%Y/%m/%d/%H")].append(json.dumps({
            "groundTruthData": {"data": str(label["churned"]), "encoding": "CSV"},
            "eventMetadata": {"eventId": label["inference_id"]},
            "eventVersion": "0",
        }))
    s3 = boto3.client("s3")
    for hour, lines in by_hour.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{hour}/labels.jsonl", Body="\n".join(lines) + "\n")
    # END SOLUTION


def create_model_quality_monitor(job_definition_name, schedule_name, endpoint_name, role_arn, image_uri,
                                 ground_truth_uri, constraints_uri, output_uri):
    """Create the model-quality job definition (binary classification: the endpoint's column 0 is the churn
    probability, churn at 0.3 and above) and an hourly schedule running it."""
    # BEGIN SOLUTION
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model_quality_job_definition(
        JobDefinitionName=job_definition_name,
        ModelQualityAppSpecification={"ImageUri": image_uri, "ProblemType": "BinaryClassification"},
        ModelQualityJobInput={
            "EndpointInput": {
                "EndpointName": endpoint_name,
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "ProbabilityAttribute": "0",
                "ProbabilityThresholdAttribute": 0.3,
            },
            "GroundTruthS3Input": {"S3Uri": ground_truth_uri},
        },
        ModelQualityBaselineConfig={"ConstraintsResource": {"S3Uri": constraints_uri}},
        ModelQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {
            "S3Uri": output_uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        StoppingCondition={"MaxRuntimeInSeconds": 1800},
        RoleArn=role_arn,
    )
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=schedule_name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": job_definition_name,
            "MonitoringType": "ModelQuality",
        },
    )
    # END SOLUTION


def create_f1_alarm(alarm_name, endpoint_name, schedule_name, constraints_uri):
    """Alarm when the f1 score Model Monitor publishes for this endpoint and schedule falls below the f1
    threshold of the team's constraints."""
    # BEGIN SOLUTION
    bucket, key = constraints_uri.removeprefix("s3://").split("/", 1)
    constraints = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    threshold = constraints["binary_classification_constraints"]["f1"]["threshold"]
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm_name,
        AlarmDescription=f"f1 of {endpoint_name} fell below the team's constraint ({threshold})",
        Namespace="aws/sagemaker/Endpoints/model-metrics",
        MetricName="f1",
        Dimensions=[{"Name": "Endpoint", "Value": endpoint_name},
                    {"Name": "MonitoringSchedule", "Value": schedule_name}],
        Statistic="Average",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="missing",
    )
    # END SOLUTION


def explain_violation(report_uri, constraints_uri):
    """Read the violations report at report_uri (a folder) and return {metric: value - threshold} for every
    metric it flags: the value from the report's statistics.json, the threshold from the team's constraints
    (negative: the metric fell below its threshold; positive: it rose above)."""
    # BEGIN SOLUTION
    s3 = boto3.client("s3")

    def read(uri):
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    folder = report_uri.rstrip("/")
    violations = read(f"{folder}/constraint_violations.json")["violations"]
    metrics = read(f"{folder}/statistics.json")["binary_classification_metrics"]
    thresholds = read(constraints_uri)["binary_classification_constraints"]
    explanation = {}
    for violation in violations:
        name = violation["metric_name"]
        explanation[name] = round(metrics[name]["value"] - thresholds[name]["threshold"], 4)
    return explanation
    # END SOLUTION


def record_explanation(report_uri, constraints_uri, answer_bucket, answer_key):
    """Given: run explain_violation and write what it returned (or raised) to s3://answer_bucket/answer_key."""
    try:
        answer = {"returned": explain_violation(report_uri, constraints_uri)}
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported to you through the check's message
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        body = json.dumps(answer, default=str)
    except (TypeError, ValueError) as exc:
        body = json.dumps({"error": f"explain_violation returned something that is not JSON: {exc}"})
    boto3.client("s3").put_object(Bucket=answer_bucket, Key=answer_key, Body=body.encode("utf-8"))
