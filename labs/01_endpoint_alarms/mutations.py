"""Lab 01's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. ``tests/labs/test_every_lab.py`` (and ``mlalab dev
check``) require one per check. Not shipped in the learner edition: the edits quote the reference."""

# One wrong solution per check: the edits to the reference, and the only check that must fail.
MUTATIONS = {
    "latency-metric": [('ExtendedStatistic="p99"', 'ExtendedStatistic="p90"')],
    "latency-thresholds": [("(warning_alarm_name, 300)", "(warning_alarm_name, 350)")],
    "latency-window": [("EvaluationPeriods=3,\n            DatapointsToAlarm=2,\n            Threshold=threshold_ms",
                        "EvaluationPeriods=5,\n            DatapointsToAlarm=2,\n            Threshold=threshold_ms")],
    "missing-data": [('        Threshold=5,\n        ComparisonOperator="GreaterThanThreshold",\n'
                      '        TreatMissingData="notBreaching",',
                      '        Threshold=5,\n        ComparisonOperator="GreaterThanThreshold",\n'
                      '        TreatMissingData="breaching",')],
    "alarm-actions": [("            AlarmActions=[warning_topic_arn],\n        )",
                       "            AlarmActions=[warning_topic_arn, 'arn:aws:sns:us-east-1:123456789012:x'],\n"
                       "        )")],
    "error-rate-math": [('"Period": 60, "Stat": "Sum"}}', '"Period": 60, "Stat": "Average"}}')],
    "pager-composite": [("AlarmActions=[pager_topic_arn],",
                         "AlarmActions=[pager_topic_arn, pager_topic_arn + '-old'],")],
    # Behaviour-only mistakes: the configuration checks cannot see them, the replays can.
    "error-rate-threshold": [("        Threshold=5,\n", "        Threshold=10,\n")],
    "quiet-day": [('            ComparisonOperator="GreaterThanThreshold",\n            TreatMissingData',
                   '            ComparisonOperator="LessThanThreshold" if threshold_ms == 300 else '
                   '"GreaterThanThreshold",\n            TreatMissingData')],
    # An extra child alarm of the learner's own (Maximum over one minute) that the rule ORs in.
    "spike-no-page": [
        ("            AlarmActions=[warning_topic_arn],\n        )\n",
         "            AlarmActions=[warning_topic_arn],\n        )\n"
         "    cloudwatch.put_metric_alarm(\n"
         "        AlarmName=critical_alarm_name + '-max', Namespace=NAMESPACE, MetricName='ModelLatency',\n"
         "        Dimensions=[{'Name': 'EndpointName', 'Value': endpoint_name},\n"
         "                    {'Name': 'VariantName', 'Value': variant_name}],\n"
         "        Statistic='Maximum', Period=60, EvaluationPeriods=1, Threshold=2_000_000,\n"
         "        ComparisonOperator='GreaterThanThreshold', TreatMissingData='notBreaching')\n"),
        ('AlarmRule=f\'ALARM("{critical_alarm_name}") AND ALARM("{error_rate_alarm_name}")\'',
         'AlarmRule=f\'(ALARM("{critical_alarm_name}") AND ALARM("{error_rate_alarm_name}")) OR '
         'ALARM("{critical_alarm_name}-max")\''),
    ],
    "slow-only-no-page": [(") AND ALARM(", ") OR ALARM(")],
    # A rule that also demands the warning alarm be OK: it can never page in a real incident.
    "incident-pages": [('AND ALARM("{error_rate_alarm_name}")\'',
                        'AND ALARM("{error_rate_alarm_name}") AND OK("{critical_alarm_name}")\'')],
}
