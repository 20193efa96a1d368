"""Lab 08's generated solutions (``tests/property``): rewrites of the reference that AWS treats the
same, each with the documentation that says so, which must earn full marks; and mutations that change
behaviour, which must fail the checks they name. A mutation is applied first, then rewrites: each
rewrite finds its anchor in a mutated solution too, or leaves the source alone."""

from __future__ import annotations

import re

from tests.property.edits import Rewrite, append, chain, in_function, sub

SCHEDULE, ALARM, ROUTE, FEATURES = ("create_monitoring_schedule", "create_drift_alarm", "route_alarm_to_retraining",
                                    "drifted_features")

CREATE_SCHEDULE = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateMonitoringSchedule.html"
DQ_JOB_DEFINITION = ("https://docs.aws.amazon.com/sagemaker/latest/APIReference/"
                     "API_CreateDataQualityJobDefinition.html")
SCHEDULE_EXPRESSIONS = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html"
PUT_METRIC_ALARM = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
MISSING_DATA = ("https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
                "AlarmThatSendsEmail.html#alarms-and-missing-data")
ALARM_EVENTS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"
PUT_RULE = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html"
RESULTS = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-interpreting-results.html"

JOB_DEFINITION_HELPER = '''
def _create_with_job_definition(MonitoringScheduleName, MonitoringScheduleConfig):
    """The same job as a data-quality job definition, which the schedule names."""
    sagemaker = boto3.client("sagemaker")
    inline = MonitoringScheduleConfig.pop("MonitoringJobDefinition")
    app = dict(inline["MonitoringAppSpecification"])
    if inline.get("Environment"):
        app["Environment"] = inline["Environment"]
    name = f"{MonitoringScheduleName}-job"
    sagemaker.create_data_quality_job_definition(
        JobDefinitionName=name,
        DataQualityBaselineConfig=inline["BaselineConfig"],
        DataQualityAppSpecification=app,
        DataQualityJobInput={"EndpointInput": inline["MonitoringInputs"][0]["EndpointInput"]},
        DataQualityJobOutputConfig=inline["MonitoringOutputConfig"],
        JobResources=inline["MonitoringResources"],
        StoppingCondition=inline["StoppingCondition"],
        RoleArn=inline["RoleArn"],
    )
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=MonitoringScheduleName,
        MonitoringScheduleConfig={**MonitoringScheduleConfig, "MonitoringJobDefinitionName": name},
    )
'''

SINGLE_METRIC = (r'Namespace=METRICS_NAMESPACE,\n +MetricName=(f?"[^"]*"),\n +Dimensions=(\[.*?\]),\n'
                 r' +Statistic="(\w+)",\n +Period=(\d+),\n')
METRICS_FORM = (r'Metrics=[{"Id": "drift", "ReturnData": True, "MetricStat": {'
                r'"Metric": {"Namespace": METRICS_NAMESPACE, "MetricName": \1, "Dimensions": \2}, '
                r'"Period": \4, "Stat": "\3"}}],\n')

REWRITES = [
    Rewrite("schedule-job-definition",
            chain(in_function(SCHEDULE, sub(r'boto3\.client\("sagemaker"\)\.create_monitoring_schedule\(',
                                            "_create_with_job_definition(")),
                  append(JOB_DEFINITION_HELPER, "def _create_with_job_definition(")),
            f"MonitoringJobDefinitionName names a data-quality job definition holding the same job ({CREATE_SCHEDULE}; "
            f"{DQ_JOB_DEFINITION})"),
    Rewrite("schedule-every-1-hour", sub(r'^HOURLY = "cron\(0 \* \? \* \* \*\)"', 'HOURLY = "cron(0 0/1 ? * * *)"'),
            f"every 1 hour starting at 00:00 is every hour: cron(0 [00-23]/[01-24] ? * * *) ({SCHEDULE_EXPRESSIONS})"),
    Rewrite("schedule-type-implicit", in_function(SCHEDULE, sub(r'^ +"MonitoringType": "DataQuality",\n', "")),
            f"an inline MonitoringJobDefinition is a data-quality job ({CREATE_SCHEDULE})"),
    Rewrite("alarm-average", in_function(ALARM, sub(r'Statistic="Maximum"', 'Statistic="Average"')),
            "one datapoint per execution: its Average is its Maximum"),
    Rewrite("alarm-metrics-form", in_function(ALARM, sub(SINGLE_METRIC, METRICS_FORM, flags=re.S | re.M)),
            f"a Metrics alarm with one MetricStat query is the same alarm on the same metric ({PUT_METRIC_ALARM})"),
    Rewrite("alarm-greater-or-equal",
            in_function(ALARM, sub(r'"GreaterThanThreshold"', '"GreaterThanOrEqualToThreshold"')),
            "the graded distances are far from the threshold (0 when quiet, over 0.4 when drifted)"),
    Rewrite("alarm-missing-data-default", in_function(ALARM, sub(r'^ +TreatMissingData=.*\n', "")),
            f"with 'missing', the hours before the first execution are INSUFFICIENT_DATA: state changes the rule "
            f"ignores ({MISSING_DATA})"),
    Rewrite("alarm-five-minute-period", in_function(ALARM, sub(r'Period=3600', "Period=300")),
            "the hourly datapoint is judged in its five-minute period: the alarm fires (and recovers) sooner"),
    Rewrite("alarm-no-description", in_function(ALARM, sub(r'^ +AlarmDescription=.*\n', "")),
            f"AlarmDescription is optional: {PUT_METRIC_ALARM}"),
    Rewrite("rule-matches-alarm-name",
            in_function(ROUTE, sub(r'"resources": \[f"arn:aws:cloudwatch:[^"]*:alarm:\{alarm_name\}"\],\n *'
                                   r'"detail": \{', '"detail": {"alarmName": [alarm_name], ')),
            f"the event's detail.alarmName names the alarm as its resources list does: {ALARM_EVENTS}"),
    Rewrite("rule-on-default-bus-explicit",
            in_function(ROUTE, sub(r'State="ENABLED",', 'State="ENABLED", EventBusName="default",'),
                        sub(r'events\.put_targets\(Rule=rule_name,', 'events.put_targets(Rule=rule_name, '
                                                                      'EventBusName="default",')),
            f"EventBusName defaults to the default bus, where CloudWatch puts alarm events: {PUT_RULE}"),
    Rewrite("rule-pipeline-arn-built",
            in_function(ROUTE, sub(r'boto3\.client\("sagemaker"\)\.describe_pipeline\(PipelineName=pipeline_name\)'
                                   r'\["PipelineArn"\]', 'f"arn:aws:sagemaker:{region}:{account}:pipeline/'
                                                         '{pipeline_name}"')),
            "a pipeline's ARN is arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME"),
    Rewrite("features-split-description",
            in_function(FEATURES, sub(r'distance = re\.search\(r"distance: \(\\S\+\) exceeds threshold", '
                                      r'violation\.get\("description", ""\)\)\n( +)if distance:\n +drifted\['
                                      r'violation\["feature_name"\]\] = float\(distance\.group\(1\)\)',
                                      r'text = violation.get("description", "")\n\1if "distance: " in text:\n\1    '
                                      r'drifted[violation["feature_name"]] = float(text.split("distance: ")[1]'
                                      r'.split()[0])')),
            f"the description reads 'Baseline drift distance: <d> exceeds threshold: <t>' ({RESULTS})"),
]

MUTATIONS = [
    Rewrite("schedule-daily", sub(r'^HOURLY = "[^"]*"', 'HOURLY = "cron(0 0 ? * * *)"'),
            "the schedule runs once a day, at midnight: none of the graded hours is analysed", frozenset({"schedule"})),
    Rewrite("schedule-no-baseline-statistics",
            in_function(SCHEDULE, sub(r'"BaselineConfig": \{"StatisticsResource": \{"S3Uri": statistics_uri\},\n +',
                                      '"BaselineConfig": {')),
            "constraints without statistics: no drift can be measured", frozenset({"schedule"})),
    Rewrite("metrics-disabled", in_function(SCHEDULE, sub(r'"publish_cloudwatch_metrics": "Enabled"',
                                                          '"publish_cloudwatch_metrics": "Disabled"')),
            "the executions publish no metrics", frozenset({"metrics-published"})),
    Rewrite("alarm-endpoint-dimension-only",
            in_function(ALARM, sub(r',\n +\{"Name": "MonitoringSchedule", "Value": schedule_name\}\]', "]")),
            "a dimension set Model Monitor never publishes: no data", frozenset({"alarm-fires"})),
    Rewrite("alarm-on-ignored-feature",
            in_function(ALARM, sub(r'f"feature_baseline_drift_\{feature\}"',
                                   '"feature_baseline_drift_evening_minutes"')),
            "the alarm watches a feature the model ignores", frozenset({"alarm-fires"})),
    Rewrite("alarm-default-threshold", in_function(ALARM, sub(r'Threshold=float\(threshold\)', "Threshold=0.1")),
            "AWS's default threshold, not the baseline's", frozenset({"alarm-threshold"})),
    Rewrite("alarm-less-than", in_function(ALARM, sub(r'"GreaterThan(OrEqualTo)?Threshold"', '"LessThanThreshold"')),
            "in ALARM while nothing drifts", frozenset({"alarm-fires", "alarm-threshold"})),
    Rewrite("rule-any-state", in_function(ROUTE, sub(r'"state": \{"value": \["ALARM"\]\}', '"state": {}')),
            "every state change of the alarm starts a retraining", frozenset({"no-false-retraining"})),
    Rewrite("rule-any-alarm",
            in_function(ROUTE, sub(r'"resources": \[f"arn:aws:cloudwatch:[^"]*:alarm:\{alarm_name\}"\],\n *', ""),
                        sub(r'"alarmName": \[alarm_name\], ', "")),
            "any alarm entering ALARM (the data team's too) starts a retraining", frozenset({"no-false-retraining"})),
    Rewrite("target-without-role", in_function(ROUTE, sub(r', "RoleArn": role_arn\}', "}")),
            "EventBridge has no role to start the pipeline with", frozenset({"retrains", "no-false-retraining"})),
    Rewrite("two-targets",
            in_function(ROUTE, sub(r'Targets=\[\{"Id": "retrain", (.*)\}\]', r'Targets=[{"Id": "retrain", \1}, '
                                                                             r'{"Id": "retrain-2", \1}]')),
            "two targets: two retrainings for one drift", frozenset({"retrains"})),
    Rewrite("features-threshold-not-distance",
            in_function(FEATURES, sub(r'r"distance: \(\\S\+\) exceeds threshold"', r'r"threshold: (\\S+)"'),
                        sub(r'text\.split\("distance: "\)\[1\]', 'text.split("threshold: ")[1]')),
            "the threshold instead of the distance", frozenset({"drifted-features"})),
    Rewrite("features-every-violation",
            in_function(FEATURES, sub(r'\n +if violation\.get\("constraint_check_type"\) != "baseline_drift_check":'
                                      r'\n +continue', ""),
                        sub(r'( +)if distance:\n( +)drifted\[violation\["feature_name"\]\] = (.*)\n',
                            r'\1drifted[violation["feature_name"]] = \3 if distance else 1.0\n'),
                        sub(r'( +)if "distance: " in text:\n( +)drifted\[violation\["feature_name"\]\] = (.*)\n',
                            r'\1drifted[violation["feature_name"]] = \3 if "distance: " in text else 1.0\n')),
            "every violation counts as drift (the incomplete feature too)", frozenset({"drifted-features"})),
]
