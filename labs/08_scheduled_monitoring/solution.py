"""Lab 08: scheduled monitoring that acts.

Write the four functions below with boto3. The grader deploys the churn endpoint with data capture, puts
the baseline (statistics.json and constraints.json) in S3, creates the retraining pipeline and the roles,
then calls create_monitoring_schedule, create_drift_alarm and route_alarm_to_retraining, in this order,
with the names of this run (they change every run), and save_drifted_features (given). Then it plays
monitored hours on a simulated clock and reads what happened. See README.md.
"""

import json
import re

import boto3

HOURLY = "cron(0 * ? * * *)"
METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


def create_monitoring_schedule(schedule_name, endpoint_name, statistics_uri, constraints_uri, output_uri, role_arn,
                               analyzer_image):
    """An hourly data-quality monitoring schedule of the endpoint's captured data against the baseline,
    writing its reports under output_uri and publishing its CloudWatch metrics."""
    # BEGIN SOLUTION
    boto3.client("sagemaker").create_monitoring_schedule(
        MonitoringScheduleName=schedule_name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": HOURLY},
            "MonitoringType": "DataQuality",
            "MonitoringJobDefinition": {
                "BaselineConfig": {"StatisticsResource": {"S3Uri": statistics_uri},
                                   "ConstraintsResource": {"S3Uri": constraints_uri}},
                "MonitoringInputs": [{"EndpointInput": {"EndpointName": endpoint_name,
                                                        "LocalPath": "/opt/ml/processing/input/endpoint"}}],
                "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
                    "S3Uri": output_uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
                "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                          "VolumeSizeInGB": 20}},
                "MonitoringAppSpecification": {"ImageUri": analyzer_image},
                "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
                "Environment": {"publish_cloudwatch_metrics": "Enabled"},
                "RoleArn": role_arn,
            },
        },
    )
    # END SOLUTION


def create_drift_alarm(alarm_name, endpoint_name, schedule_name, feature, constraints_uri):
    """An alarm on the schedule's baseline drift distance of one feature, above the baseline's comparison
    threshold (read from constraints.json)."""
    # BEGIN SOLUTION
    bucket, key = constraints_uri.removeprefix("s3://").split("/", 1)
    constraints = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    threshold = constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"]
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm_name,
        AlarmDescription=f"{feature} drifted from the baseline on {endpoint_name}: retrain",
        Namespace=METRICS_NAMESPACE,
        MetricName=f"feature_baseline_drift_{feature}",
        Dimensions=[{"Name": "Endpoint", "Value": endpoint_name},
                    {"Name": "MonitoringSchedule", "Value": schedule_name}],
        Statistic="Maximum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=float(threshold),
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    # END SOLUTION


def route_alarm_to_retraining(rule_name, alarm_name, pipeline_name, role_arn):
    """An EventBridge rule that starts the retraining pipeline when the alarm enters ALARM."""
    # BEGIN SOLUTION
    region = boto3.session.Session().region_name
    account = boto3.client("sts").get_caller_identity()["Account"]
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
               "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}"],
               "detail": {"state": {"value": ["ALARM"]}}}
    events = boto3.client("events")
    events.put_rule(Name=rule_name, EventPattern=json.dumps(pattern), State="ENABLED",
                    Description=f"Retrain when {alarm_name} fires")
    pipeline_arn = boto3.client("sagemaker").describe_pipeline(PipelineName=pipeline_name)["PipelineArn"]
    events.put_targets(Rule=rule_name, Targets=[{"Id": "retrain", "Arn": pipeline_arn, "RoleArn": role_arn}])
    # END SOLUTION


def drifted_features(report_uri):
    """{feature: drift distance} of the baseline_drift_check violations in the report folder's
    constraint_violations.json ({} when nothing drifted)."""
    # BEGIN SOLUTION
    bucket, key = report_uri.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=f"{key.rstrip('/')}/constraint_violations.json")["Body"]
    drifted = {}
    for violation in json.loads(body.read()).get("violations", []):
        if violation.get("constraint_check_type") != "baseline_drift_check":
            continue
        distance = re.search(r"distance: (\S+) exceeds threshold", violation.get("description", ""))
        if distance:
            drifted[violation["feature_name"]] = float(distance.group(1))
    return drifted
    # END SOLUTION


def save_drifted_features(incident_report_uri, quiet_report_uri, answer_uri):
    """Given: runs drifted_features on two reports and writes the answers where the grader reads them."""
    answers = {"incident": drifted_features(incident_report_uri), "quiet": drifted_features(quiet_report_uri)}
    bucket, key = answer_uri.removeprefix("s3://").split("/", 1)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(answers).encode())
