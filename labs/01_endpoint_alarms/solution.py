"""Lab 01: endpoint alarms that page the right person.

Write the three functions below with boto3. The grader calls them, in this order, with the names
of the resources it created for this run (they change every run). See README.md.
"""

import boto3

NAMESPACE = "AWS/SageMaker"


def create_latency_alarms(endpoint_name, variant_name, warning_alarm_name, critical_alarm_name,
                          warning_topic_arn):
    """Two p99 ModelLatency alarms on the variant: warning at 300 ms, critical at 500 ms."""
    # BEGIN SOLUTION
    cloudwatch = boto3.client("cloudwatch")
    for alarm_name, threshold_ms in ((warning_alarm_name, 300), (critical_alarm_name, 500)):
        cloudwatch.put_metric_alarm(
            AlarmName=alarm_name,
            AlarmDescription=f"p99 model latency above {threshold_ms} ms on {endpoint_name}/{variant_name}",
            Namespace=NAMESPACE,
            MetricName="ModelLatency",
            Dimensions=[{"Name": "EndpointName", "Value": endpoint_name},
                        {"Name": "VariantName", "Value": variant_name}],
            ExtendedStatistic="p99",
            Period=60,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=threshold_ms * 1000,  # ModelLatency is reported in microseconds
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[warning_topic_arn],
        )
    # END SOLUTION


def create_error_rate_alarm(endpoint_name, variant_name, alarm_name, warning_topic_arn):
    """A metric-math alarm on the 5XX error rate (percent of invocations), above 5 %."""
    # BEGIN SOLUTION
    dimensions = [{"Name": "EndpointName", "Value": endpoint_name},
                  {"Name": "VariantName", "Value": variant_name}]

    def count(query_id, metric_name):
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": metric_name, "Dimensions": dimensions},
            "Period": 60, "Stat": "Sum"}}

    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm_name,
        AlarmDescription=f"5XX error rate above 5% on {endpoint_name}/{variant_name}",
        Metrics=[
            count("errors", "Invocation5XXErrors"),
            count("invocations", "Invocations"),
            {"Id": "error_rate", "Expression": "100 * errors / invocations", "Label": "5XX error rate (%)",
             "ReturnData": True},
        ],
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[warning_topic_arn],
    )
    # END SOLUTION


def create_pager_alarm(alarm_name, critical_alarm_name, error_rate_alarm_name, pager_topic_arn):
    """A composite alarm that pages only when critical latency AND the error rate are in ALARM."""
    # BEGIN SOLUTION
    boto3.client("cloudwatch").put_composite_alarm(
        AlarmName=alarm_name,
        AlarmDescription="Page on-call: the endpoint is slow and failing at the same time",
        AlarmRule=f'ALARM("{critical_alarm_name}") AND ALARM("{error_rate_alarm_name}")',
        AlarmActions=[pager_topic_arn],
        ActionsEnabled=True,
    )
    # END SOLUTION
