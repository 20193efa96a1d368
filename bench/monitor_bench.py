"""One monitored hour (issue 10's speed target: under 1 s): ``python -m bench.monitor_bench``.

On the lab server in this process: the churn endpoint capturing everything, a baseline of 2,000
training rows, an hourly data-quality schedule; then, timed, 1,000 invocations on the simulated clock
(each captured to S3) and the execution that analyses them (reading the capture, statistics, drift
against the baseline, the reports written, the metrics published). Prints and returns the medians.
"""

from __future__ import annotations

import json
import random
import statistics as stats
import sys
import time
from datetime import UTC, datetime, timedelta

RECORDS = 1000
IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def _hour(server, aws, seed: int) -> tuple[float, float]:
    from fixtures import churn, scenarios
    from fixtures.moto_ext import sagemakerruntime
    from fixtures.moto_ext.sagemaker import clock, monitoring
    from mlalab.engines.modelmonitor import constraints, datasets, statistics

    server.reset()
    rng = random.Random(seed)
    start = datetime(2026, 5, 6, 12, tzinfo=UTC)
    clock.set_now(start)
    bucket = scenarios.bucket(aws, rng, "bench")
    endpoint = scenarios.capturing_endpoint(aws, rng, bucket)
    baseline = statistics.compute(datasets.read_csv(churn.to_csv(churn.rows(rng, 2000)), header=True))
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key="baseline/statistics.json", Body=json.dumps(baseline).encode())
    s3.put_object(Bucket=bucket, Key="baseline/constraints.json",
                  Body=json.dumps(constraints.suggest(baseline)).encode())
    aws.client("sagemaker").create_monitoring_schedule(MonitoringScheduleName="bench", MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinition": {
            "BaselineConfig": {"ConstraintsResource": {"S3Uri": f"s3://{bucket}/baseline/constraints.json"},
                               "StatisticsResource": {"S3Uri": f"s3://{bucket}/baseline/statistics.json"}},
            "MonitoringInputs": [{"EndpointInput": {"EndpointName": endpoint,
                                                    "LocalPath": "/opt/ml/processing/input"}}],
            "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
                "S3Uri": f"s3://{bucket}/reports", "LocalPath": "/opt/ml/processing/output"}}]},
            "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                      "VolumeSizeInGB": 20}},
            "MonitoringAppSpecification": {"ImageUri": IMAGE},
            "RoleArn": scenarios.execution_role(aws, rng)}})
    drifted = churn.rows(rng, RECORDS, {"day_minutes": 1})
    bodies = [churn.to_csv([row], header=False).strip().encode() for row in drifted]
    began = time.perf_counter()
    for i, body in enumerate(bodies):
        clock.set_now(start + timedelta(seconds=3 * i + 1))
        sagemakerruntime.invoke(endpoint, body, "text/csv", inference_id=str(i))
    captured = time.perf_counter()
    ran = monitoring.advance(start + timedelta(hours=1))
    analysed = time.perf_counter()
    if [r["MonitoringExecutionStatus"] for r in ran] != ["CompletedWithViolations"]:
        raise SystemExit(f"the monitored hour did not run as expected: {ran}")
    return captured - began, analysed - captured


def measure(repeat: int = 5) -> dict:
    from mlalab.plugin import Aws
    from mlalab.server import LabServer

    with LabServer() as server:
        aws = Aws(server.endpoint_url)
        _hour(server, aws, 0)  # untimed: loads the services' backends and models once
        runs = [_hour(server, aws, seed) for seed in range(1, repeat + 1)]
    capture = stats.median(r[0] for r in runs)
    analysis = stats.median(r[1] for r in runs)
    return {"records": RECORDS, "capture_s": round(capture, 3), "analysis_s": round(analysis, 3),
            "hour_s": round(stats.median(r[0] + r[1] for r in runs), 3)}


def main(argv: list[str]) -> int:
    figures = measure(int(argv[0]) if argv else 5)
    print(f"one monitored hour of {figures['records']} records: {figures['hour_s']:.3f} s (capture "
          f"{figures['capture_s']:.3f} s, analysis {figures['analysis_s']:.3f} s); target under 1 s: "
          f"{'PASS' if figures['hour_s'] < 1 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
