"""``mlalab serve``, run as a learner runs it (a subprocess, read from its printed lines): boto3 reaches
the printed endpoint (S3, the CloudWatch extension's composite alarms, CloudTrail's event history),
``/moto-api/`` is refused unless ``--allow-reset``, ``--lab`` builds the lab's scenario without
running learner code, SIGINT and SIGTERM stop it with exit 0, and a busy port is one line, exit 2."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from mlalab import cli, serve
from mlalab.catalog import PROJECT_ROOT, find_lab
from mlalab.sandbox.jail_command import child_environment

ENDPOINT = re.compile(r"^  export AWS_ENDPOINT_URL=(http://127\.0\.0\.1:(\d+))$")
READY = "Stop with Ctrl-C."
WAIT = 30  # seconds: a generous bound for one start-up on a loaded 2-core machine


class Served:
    """One ``mlalab serve`` process; its stdout lines are read in a thread so a wait can time out."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "mlalab.cli", "serve", *args], cwd=PROJECT_ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.endpoint_url = ""
        self.port = 0

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, text: str) -> list[str]:
        """Lines up to and including the first that contains ``text``."""
        while True:
            try:
                line = self._queue.get(timeout=WAIT)
            except queue.Empty:
                pytest.fail(f"mlalab serve printed no {text!r} within {WAIT} s: {self.lines}")
            if line is None:
                pytest.fail(f"mlalab serve ended (exit {self.process.wait()}) before {text!r}: {self.lines}\n"
                            f"{self.process.stderr.read()}")
            self.lines.append(line)
            match = ENDPOINT.match(line)
            if match:
                self.endpoint_url, self.port = match[1], int(match[2])
            if text in line:
                return self.lines

    def ready(self) -> Served:
        self.until(READY)
        assert self.endpoint_url, self.lines
        return self

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=WAIT)

    def close(self) -> None:
        """Never leave a server behind, whatever the test did."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()

    def client(self, service: str):
        """A client configured as the printed lines say (as a learner's shell would be)."""
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            aws_session_token="testing", config=Config(retries={"max_attempts": 1}))

    def post(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.endpoint_url + path, data=b"", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, Served]]:
    """Both servers of this module start at once: their start-ups (moto's import, lab 1's scenario)
    overlap instead of adding up."""
    servers = {"plain": Served("--port", "0"), "lab": Served("--port", "0", "--lab", "1", "--seed", "7",
                                                              "--allow-reset")}
    try:
        yield servers
    finally:
        for server in servers.values():
            if server.process.poll() is None:
                server.stop(signal.SIGTERM)
            server.close()


@pytest.fixture(scope="module")
def served(started) -> Served:
    return started["plain"].ready()


def test_prints_what_points_clients_at_it(served):
    url = served.endpoint_url
    expected = {"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
    exports = [line for line in served.lines if line.startswith("  export ")]
    assert exports == [f"  export {name}={value}" for name, value in expected.items()]
    python = next(line for line in served.lines if "os.environ.update(" in line)
    environ: dict[str, str] = {}
    exec(python.strip().replace("import os; os.environ", "environ"), {"environ": environ})  # the one-liner runs
    assert environ == expected
    graded = child_environment(PROJECT_ROOT)  # the same keys and region as the learner's code when graded
    assert {name: graded[name] for name in expected if name != "AWS_ENDPOINT_URL"} == \
        {name: value for name, value in expected.items() if name != "AWS_ENDPOINT_URL"}


def test_s3_round_trip(served):
    s3 = served.client("s3")
    s3.create_bucket(Bucket="playground-data")
    s3.put_object(Bucket="playground-data", Key="train.csv", Body=b"a,b\n1,2\n")
    assert s3.get_object(Bucket="playground-data", Key="train.csv")["Body"].read() == b"a,b\n1,2\n"


def test_composite_alarm_from_the_extension(served):
    """PutCompositeAlarm is the CloudWatch extension's, not moto's: the served app has it installed."""
    cloudwatch = served.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="errors", Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")
    cloudwatch.put_composite_alarm(AlarmName="page", AlarmRule='ALARM("errors")')
    composites = cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert [(a["AlarmName"], a["AlarmRule"]) for a in composites] == [("page", 'ALARM("errors")')]


def test_cloudtrail_event_history_records_the_callers_calls(served):
    served.client("sns").create_topic(Name="playground-topic")
    events = served.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTopic"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    assert [r["requestParameters"] for r in records] == [{"name": "playground-topic"}]
    assert records[0]["userIdentity"]["accessKeyId"] == "testing"


def test_moto_api_refused_by_default(served):
    s3 = served.client("s3")
    s3.create_bucket(Bucket="survives-refused-reset")
    status, body = served.post("/moto-api/reset")
    assert status == 403 and b"moto-api is disabled" in body
    assert "survives-refused-reset" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_lab_scenario_built_without_learner_code_and_reset_allowed(started):
    """``--lab 1`` prints the keyword arguments of lab 1's functions; the resources behind them exist,
    the learner's functions did not run (no alarm exists); ``--allow-reset`` opens /moto-api/reset,
    which forgets moto's state and the extensions' (CloudTrail's history); SIGTERM stops it, exit 0."""
    server = started["lab"]
    lines = server.ready().lines
    text = "\n".join(lines)
    assert "scenario built with seed 7" in text
    names = dict(re.findall(r"^ {6}(\w+)='([^']*)',$", text, re.M))
    for kwarg in ("endpoint_name", "variant_name", "warning_topic_arn", "pager_topic_arn", "alarm_name"):
        assert kwarg in names, text
    sagemaker, sns = server.client("sagemaker"), server.client("sns")
    endpoint = sagemaker.describe_endpoint(EndpointName=names["endpoint_name"])
    assert names["variant_name"] in [v["VariantName"] for v in endpoint["ProductionVariants"]]
    topics = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    assert {names["warning_topic_arn"], names["pager_topic_arn"]} <= topics
    assert server.client("cloudwatch").describe_alarms()["MetricAlarms"] == []  # no learner code ran
    reads = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeAlarms"}])["Events"]
    assert [e["Username"] for e in reads] == ["testing"]  # this test's read only: no check read the alarms
    assert "/moto-api/ is open" in text

    assert server.post("/moto-api/reset")[0] == 200
    assert server.client("sagemaker").list_endpoints()["Endpoints"] == []
    history = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateEndpoint"}])["Events"]
    assert history == []  # the extension's state went with moto's
    assert server.stop(signal.SIGTERM) == 0


def test_sigint_stops_cleanly_and_a_busy_port_is_one_line():
    first = Served("--port", "0")
    try:
        first.ready()
        second = subprocess.run([sys.executable, "-m", "mlalab.cli", "serve", "--port", str(first.port)],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=WAIT)
        assert second.returncode == 2 and second.stdout == ""
        assert second.stderr == (f"mlalab serve: port {first.port} on 127.0.0.1 is already in use (another mlalab "
                                 "serve?); choose another with --port\n")
        assert first.client("s3").list_buckets()["Buckets"] == []  # the first one still answers
        assert first.stop(signal.SIGINT) == 0
        assert first.process.stderr.read() == ""  # no traceback, no KeyboardInterrupt
        assert first.until("stopped")[-1] == "mlalab serve: stopped."
    finally:
        first.close()


def test_a_scenario_that_cannot_be_built_is_reported_as_a_bug(monkeypatch):
    """In-process: the learner fixture is the recording one (a sandbox would fail loudly here), and the
    scenario's own error comes back as a ScenarioError naming it (``mlalab serve`` exits 3 with it)."""
    from fixtures import scenarios
    from mlalab import plugin
    from mlalab.server import LabServer

    def broken(*args, **kwargs):
        raise RuntimeError("no endpoint today")

    def no_sandbox(*args, **kwargs):
        raise AssertionError("serve mode started the learner's sandbox")

    monkeypatch.setattr(scenarios, "endpoint_with_variants", broken)
    monkeypatch.setattr(plugin, "LearnerProcess", no_sandbox)
    with LabServer() as server, pytest.raises(serve.ScenarioError) as error:
        serve.build_scenario(server, find_lab("1"), seed=7)
    assert "lab 01's scenario could not be built" in str(error.value)
    assert "RuntimeError: no endpoint today" in str(error.value)
    assert "serve mode started" not in str(error.value)


def test_unknown_lab_lists_the_catalogue(capsys):
    assert cli.main(["serve", "--lab", "99"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("mlalab serve: ") and "The labs are:" in err and "Endpoint alarms" in err


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_port_out_of_range(capsys, port):
    assert cli.main(["serve", "--port", port]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == f"mlalab serve: --port {port} is not a TCP port (0-65535; 0 picks a free one)\n"


def test_cli_default_port_is_serves():
    assert cli.build_parser().parse_args(["serve"]).port == serve.DEFAULT_PORT
