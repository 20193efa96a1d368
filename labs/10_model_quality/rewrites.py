"""Lab 10's generated solutions (``tests/property``): rewrites of the reference that AWS treats the same,
each with the documentation that says so, which must earn full marks; and mutations that change behaviour,
which must fail the checks they name. A mutation is applied first, then rewrites: each rewrite finds its
anchor in a mutated solution too, or leaves the source alone."""

from __future__ import annotations

from tests.property.edits import Rewrite, in_function, sub

UPLOAD, MONITOR, ALARM, EXPLAIN = ("upload_ground_truth", "create_model_quality_monitor", "create_f1_alarm",
                                   "explain_violation")

MERGE = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html"
SCHEDULE = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html"
ENDPOINT_INPUT = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_EndpointInput.html"
CREATE_DEFINITION = ("https://docs.aws.amazon.com/sagemaker/latest/APIReference/"
                     "API_CreateModelQualityJobDefinition.html")
PUT_METRIC_ALARM = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
METRIC_MATH_ALARM = ("https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
                     "Create-alarm-on-metric-math-expression.html")
MISSING_DATA = ("https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
                "AlarmThatSendsEmail.html#alarms-and-missing-data")
MODEL_METRICS = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-cw.html"

METRIC_MATH = '''Metrics=[{"Id": "f1", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "aws/sagemaker/Endpoints/model-metrics", "MetricName": "f1",
                       "Dimensions": [{"Name": "Endpoint", "Value": endpoint_name},
                                     {"Name": "MonitoringSchedule", "Value": schedule_name}]},
            "Period": 3600, "Stat": "Average"}}],'''

REWRITES = [
    Rewrite("ground-truth-compact-json",
            in_function(UPLOAD, sub(r'"eventVersion": "0",\n(\s*)\}\)\)', r'"eventVersion": "0",\n\1}, '
                                    r'separators=(",", ":")))')),
            f"JSON Lines records are JSON objects; whitespace between tokens is not data: {MERGE}"),
    Rewrite("ground-truth-file-named-by-hour",
            in_function(UPLOAD, sub(r'Key=f"\{prefix\}/\{hour\}/labels\.jsonl"',
                                    'Key=f"{prefix}/{hour}/labels-{hour.replace(\'/\', \'\')}.json"')),
            f"any object name inside the yyyy/mm/dd/hh folder is read: {MERGE}"),
    Rewrite("ground-truth-no-trailing-newline",
            in_function(UPLOAD, sub(r'Body="\\n"\.join\(lines\) \+ "\\n"', lambda m: 'Body="\\n".join(lines)')),
            "the last line of a JSON Lines file needs no newline"),
    Rewrite("schedule-every-1-hour-from-0",
            in_function(MONITOR, sub(r'"cron\(0 \* \? \* \* \*\)"', '"cron(0 0/1 ? * * *)"')),
            f"cron(0 [00-23]/[01-24] ? * * *) with 00/01 runs every hour: {SCHEDULE}"),
    Rewrite("explicit-previous-hour-offsets",
            in_function(MONITOR, sub(r'"ProbabilityThresholdAttribute": 0\.3,\n',
                                     '"ProbabilityThresholdAttribute": 0.3,\n'
                                     '                "StartTimeOffset": "-PT1H",\n'
                                     '                "EndTimeOffset": "-PT0H",\n')),
            f"-PT1H to -PT0H is the hour before the run, what an hourly schedule analyses anyway: {ENDPOINT_INPUT}"),
    Rewrite("definition-without-stopping-condition",
            in_function(MONITOR, sub(r'^ +StoppingCondition=.*\n', "")),
            f"StoppingCondition is optional: {CREATE_DEFINITION}"),
    Rewrite("threshold-as-float-literal",
            in_function(MONITOR, sub(r'"ProbabilityThresholdAttribute": 0\.3,', '"ProbabilityThresholdAttribute": '
                                     'float("0.30"),')),
            "the same double"),
    Rewrite("alarm-statistic-minimum", in_function(ALARM, sub(r'Statistic="Average"', 'Statistic="Minimum"')),
            f"one f1 datapoint an hour: its minimum is its average ({MODEL_METRICS})"),
    Rewrite("alarm-less-or-equal",
            in_function(ALARM, sub(r'"LessThanThreshold"', '"LessThanOrEqualToThreshold"')),
            "the graded hours' f1 are well away from the threshold"),
    Rewrite("alarm-metric-math",
            in_function(ALARM, sub(r'Namespace="aws/sagemaker/Endpoints/model-metrics",\n(?:.*\n){4} +Period=3600,\n',
                                   lambda m: "        " + METRIC_MATH + "\n")),
            f"a metric-math alarm whose one query returns f1 alarms on f1: {METRIC_MATH_ALARM}"),
    Rewrite("alarm-missing-data-default", in_function(ALARM, sub(r'^ +TreatMissingData=.*\n', "")),
            f"TreatMissingData defaults to 'missing': {MISSING_DATA}"),
    Rewrite("alarm-not-breaching",
            in_function(ALARM, sub(r'TreatMissingData="missing"', 'TreatMissingData="notBreaching"')),
            f"every graded evaluation after the first run has an f1 datapoint: {MISSING_DATA}"),
    Rewrite("alarm-no-description", in_function(ALARM, sub(r'^ +AlarmDescription=.*\n', "")),
            f"AlarmDescription is optional: {PUT_METRIC_ALARM}"),
    Rewrite("explain-unrounded",
            in_function(EXPLAIN, sub(r'round\((metrics\[name\]\["value"\] - thresholds\[name\]\["threshold"\]), 4\)',
                                     r"\1")),
            "the exact difference is within the grader's tolerance of the rounded one"),
]

MUTATIONS = [
    Rewrite("labels-keyed-by-inference-id",
            in_function(UPLOAD, sub(r'"eventMetadata": \{"eventId":', '"eventMetadata": {"inferenceId":')),
            "Model Monitor reads eventMetadata.eventId: no label is merged, every run fails",
            frozenset({"ground-truth", "confirmed-hours", "drift-caught", "alarm-behaviour"})),
    Rewrite("labels-by-wall-clock-hour",
            in_function(UPLOAD, sub(r'by_hour\[collected\.strftime\("%Y/%m/%d/%H"\)\]',
                                    'by_hour[datetime.now().strftime("%Y/%m/%d/%H")]')),
            "the labels land in today's folder, after every simulated run: no run finds them",
            frozenset({"ground-truth", "confirmed-hours", "drift-caught", "alarm-behaviour"})),
    Rewrite("inference-attribute-instead-of-probability",
            in_function(MONITOR, sub(r'"ProbabilityAttribute": "0",\n\s*"ProbabilityThresholdAttribute": [^,]+,',
                                     '"InferenceAttribute": "0",')),
            "the probability read as a predicted label: the job cannot read 0.23 as a class",
            frozenset({"monitor-config", "confirmed-hours", "drift-caught", "alarm-behaviour"})),
    Rewrite("threshold-0-9",
            in_function(MONITOR, sub(r'"ProbabilityThresholdAttribute": [^,]+,',
                                     '"ProbabilityThresholdAttribute": 0.9,')),
            "almost nobody is predicted to churn: f1 collapses in every hour",
            frozenset({"monitor-config", "confirmed-hours"})),
    Rewrite("daily-schedule",
            in_function(MONITOR, sub(r'"cron\([^"]*\)"', '"cron(0 0 ? * * *)"')),
            "one run a day: the six hours are not monitored",
            frozenset({"monitor-config", "confirmed-hours"})),
    Rewrite("no-baseline",
            in_function(MONITOR, sub(r'^ +ModelQualityBaselineConfig=.*\n', "")),
            "nothing to compare with: no violation ever", frozenset({"drift-caught"})),
    Rewrite("alarm-greater-than",
            in_function(ALARM, sub(r'"LessThan(OrEqualTo)?Threshold"', '"GreaterThanThreshold"')),
            "alarms while the model is good, quiet when it is wrong",
            frozenset({"alarm-metric", "alarm-behaviour"})),
    Rewrite("alarm-without-schedule-dimension",
            in_function(ALARM, sub(r',\n\s*\{"Name": "MonitoringSchedule", "Value": schedule_name\}\]', "]")),
            "a metric Model Monitor never publishes: the alarm never sees data",
            frozenset({"alarm-metric", "alarm-behaviour"})),
    Rewrite("alarm-period-5-minutes", in_function(ALARM, sub(r"Period=3600,", "Period=300,"),
                                                  sub(r'"Period": 3600,', '"Period": 300,')),
            "one datapoint an hour in five-minute periods: mostly INSUFFICIENT_DATA", frozenset({"alarm-behaviour"})),
    Rewrite("explain-run-thresholds",
            in_function(EXPLAIN, sub(r'read\(constraints_uri\)\["binary_classification_constraints"\]',
                                     'read(f"{folder}/constraints.json")["binary_classification_constraints"]')),
            "the run's own suggested constraints: every difference is 0", frozenset({"explain"})),
    Rewrite("explain-only-f1",
            in_function(EXPLAIN, sub(r'for violation in violations:', 'for violation in [v for v in violations if '
                                     'v["metric_name"] == "f1"]:')),
            "one metric of several the report flags", frozenset({"explain"})),
]
