"""Lab 08's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. Not shipped in the learner edition: the edits
quote the reference."""

MUTATIONS = {
    # Daily at midnight: the graded hours get no execution (the grader stands in for its metrics).
    "schedule": [('HOURLY = "cron(0 * ? * * *)"', 'HOURLY = "cron(0 0 ? * * *)"')],
    # The reports are written, but no metric reaches CloudWatch.
    "metrics-published": [('{"publish_cloudwatch_metrics": "Enabled"}', '{"publish_cloudwatch_metrics": "Disabled"}')],
    # The endpoint's dimension alone: a metric Model Monitor never publishes, so the alarm never fires.
    "alarm-fires": [('''        Dimensions=[{"Name": "Endpoint", "Value": endpoint_name},
                    {"Name": "MonitoringSchedule", "Value": schedule_name}],''',
                     '''        Dimensions=[{"Name": "Endpoint", "Value": endpoint_name}],''')],
    # AWS's default threshold instead of the baseline's: it still fires on this drift, at the wrong level.
    "alarm-threshold": [("        Threshold=float(threshold),\n", "        Threshold=0.1,\n")],
    # Two targets on the same pipeline: two retrainings for one drift.
    "retrains": [('Targets=[{"Id": "retrain", "Arn": pipeline_arn, "RoleArn": role_arn}]',
                  'Targets=[{"Id": "retrain", "Arn": pipeline_arn, "RoleArn": role_arn},\n'
                  '                                                 {"Id": "retrain-again", "Arn": pipeline_arn, '
                  '"RoleArn": role_arn}]')],
    # Every state change of the alarm starts a retraining (INSUFFICIENT_DATA -> OK too).
    "no-false-retraining": [(''',
               "detail": {"state": {"value": ["ALARM"]}}}''', "}")],
    # The threshold read instead of the distance.
    "drifted-features": [('re.search(r"distance: (\\S+) exceeds threshold", ', 're.search(r"threshold: (\\S+)", ')],
}
