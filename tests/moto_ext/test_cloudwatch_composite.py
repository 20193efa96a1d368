"""Wire tests for the CloudWatch composite-alarm extension: boto3 against moto, in decorator mode
and against a ThreadedMotoServer (including a raw AWS Query request, to see the XML)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from fixtures.moto_ext.cloudwatch import evaluate_alarms, install

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"


@pytest.fixture(autouse=True, scope="module")
def _installed() -> None:
    install()


@pytest.fixture
def cw() -> Iterator:
    with moto.mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def put_metric_alarm(client, name: str, metric: str = "CPUUtilization", **extra) -> None:
    client.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/EC2",
        MetricName=metric,
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80.0,
        ComparisonOperator="GreaterThanThreshold",
        **extra,
    )


def composites(client, **kwargs) -> list[dict]:
    return client.describe_alarms(AlarmTypes=["CompositeAlarm"], **kwargs)["CompositeAlarms"]


def composite(client, name: str) -> dict:
    (alarm,) = composites(client, AlarmNames=[name])
    return alarm


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_put_and_describe_composite_alarm(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    put_metric_alarm(cw, "disk-high", metric="DiskReadOps")
    cw.put_composite_alarm(
        AlarmName="service-unhealthy",
        AlarmRule='ALARM("cpu-high") AND ALARM(disk-high)',
        AlarmDescription="both resources saturated",
        ActionsEnabled=False,
        AlarmActions=["arn:aws:sns:us-east-1:123456789012:oncall"],
        OKActions=["arn:aws:sns:us-east-1:123456789012:ok"],
        InsufficientDataActions=["arn:aws:sns:us-east-1:123456789012:insufficient"],
        ActionsSuppressor="disk-high",
        ActionsSuppressorWaitPeriod=60,
        ActionsSuppressorExtensionPeriod=120,
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    alarm = composite(cw, "service-unhealthy")
    assert alarm["AlarmArn"] == f"{ARN}service-unhealthy"
    assert alarm["AlarmRule"] == 'ALARM("cpu-high") AND ALARM(disk-high)'
    assert alarm["AlarmDescription"] == "both resources saturated"
    assert alarm["ActionsEnabled"] is False
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:oncall"]
    assert alarm["OKActions"] == ["arn:aws:sns:us-east-1:123456789012:ok"]
    assert alarm["InsufficientDataActions"] == ["arn:aws:sns:us-east-1:123456789012:insufficient"]
    assert (alarm["ActionsSuppressor"], alarm["ActionsSuppressorWaitPeriod"]) == ("disk-high", 60)
    assert alarm["ActionsSuppressorExtensionPeriod"] == 120
    # The children are new (INSUFFICIENT_DATA), so the rule is FALSE once evaluated; the reason is the
    # documented one ("Alarm events and EventBridge", composite example's previousState.reason).
    assert alarm["StateValue"] == "OK"
    assert alarm["StateReason"] == f"{ARN}service-unhealthy was created and its alarm rule evaluates to OK"
    for stamp in (
        "StateUpdatedTimestamp",
        "StateTransitionedTimestamp",
        "AlarmConfigurationUpdatedTimestamp",
    ):
        assert isinstance(alarm[stamp], datetime)
    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]


def test_describe_alarms_alarm_types(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    cw.put_composite_alarm(AlarmName="comp", AlarmRule="ALARM(cpu-high)")
    default = cw.describe_alarms()
    assert [a["AlarmName"] for a in default["MetricAlarms"]] == ["cpu-high"]
    assert default["CompositeAlarms"] == []  # "If you omit this parameter, only metric alarms are returned"
    only_composite = cw.describe_alarms(AlarmTypes=["CompositeAlarm"])
    assert (only_composite["MetricAlarms"], [a["AlarmName"] for a in only_composite["CompositeAlarms"]]) == (
        [],
        ["comp"],
    )
    both = cw.describe_alarms(AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    assert [a["AlarmName"] for a in both["MetricAlarms"]] == ["cpu-high"]
    assert [a["AlarmName"] for a in both["CompositeAlarms"]] == ["comp"]


def test_describe_filters_apply_to_composites(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    cw.put_composite_alarm(AlarmName="team-a-cpu", AlarmRule="ALARM(cpu-high)")
    cw.put_composite_alarm(
        AlarmName="team-b-cpu", AlarmRule="OK(cpu-high)", AlarmActions=["arn:aws:sns:x:1:b"]
    )
    cw.set_alarm_state(AlarmName="cpu-high", StateValue="OK", StateReason="new alarms start in INSUFFICIENT_DATA")
    both = ["CompositeAlarm", "MetricAlarm"]
    assert [a["AlarmName"] for a in composites(cw, AlarmNames=["team-b-cpu"])] == ["team-b-cpu"]
    assert [a["AlarmName"] for a in composites(cw, AlarmNamePrefix="team-")] == ["team-a-cpu", "team-b-cpu"]
    assert [a["AlarmName"] for a in composites(cw, StateValue="ALARM")] == ["team-b-cpu"]
    assert [a["AlarmName"] for a in composites(cw, StateValue="OK")] == ["team-a-cpu"]
    assert [a["AlarmName"] for a in composites(cw, ActionPrefix="arn:aws:sns:x")] == ["team-b-cpu"]
    named = cw.describe_alarms(AlarmTypes=both, AlarmNamePrefix="cpu")
    assert ([a["AlarmName"] for a in named["MetricAlarms"]], named["CompositeAlarms"]) == (["cpu-high"], [])


def test_state_follows_children_after_set_alarm_state(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    put_metric_alarm(cw, "disk-high", metric="DiskReadOps")
    cw.put_composite_alarm(AlarmName="both", AlarmRule="ALARM(cpu-high) AND ALARM(disk-high)")
    cw.put_composite_alarm(AlarmName="either", AlarmRule=f'ALARM({ARN}cpu-high) OR ALARM("{ARN}disk-high")')
    assert composite(cw, "both")["StateValue"] == "OK"

    cw.set_alarm_state(AlarmName="cpu-high", StateValue="ALARM", StateReason="test")
    assert composite(cw, "either")["StateValue"] == "ALARM"
    assert composite(cw, "both")["StateValue"] == "OK"

    cw.set_alarm_state(AlarmName="disk-high", StateValue="ALARM", StateReason="test")
    both = composite(cw, "both")
    assert both["StateValue"] == "ALARM"
    assert both["StateReason"].startswith(f"{ARN}disk-high transitioned to ALARM at ")
    assert f'"arn":"{ARN}disk-high"' in both["StateReasonData"]

    cw.set_alarm_state(AlarmName="cpu-high", StateValue="OK", StateReason="test")
    assert composite(cw, "both")["StateValue"] == "OK"
    assert composite(cw, "either")["StateValue"] == "ALARM"


def test_composite_of_composites(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    cw.put_composite_alarm(AlarmName="level-1", AlarmRule="ALARM(cpu-high)")
    cw.put_composite_alarm(AlarmName="level-2", AlarmRule="NOT OK(level-1)")
    assert composite(cw, "level-2")["StateValue"] == "OK"
    cw.set_alarm_state(AlarmName="cpu-high", StateValue="ALARM", StateReason="test")
    assert [a["StateValue"] for a in composites(cw)] == ["ALARM", "ALARM"]
    children = cw.describe_alarms(ChildrenOfAlarmName="level-2")
    assert [a["AlarmName"] for a in children["CompositeAlarms"]] == ["level-1"]
    parents = cw.describe_alarms(ParentsOfAlarmName="cpu-high")
    assert [a["AlarmName"] for a in parents["CompositeAlarms"]] == ["level-1"]


def test_set_alarm_state_on_composite_sticks_until_a_child_changes(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    cw.put_composite_alarm(AlarmName="comp", AlarmRule="ALARM(cpu-high)")
    assert composite(cw, "comp")["StateValue"] == "OK"
    cw.set_alarm_state(
        AlarmName="comp", StateValue="ALARM", StateReason="drill", StateReasonData='{"drill":1}'
    )
    alarm = composite(cw, "comp")
    assert (alarm["StateValue"], alarm["StateReason"], alarm["StateReasonData"]) == (
        "ALARM",
        "drill",
        '{"drill":1}',
    )
    cw.set_alarm_state(AlarmName="cpu-high", StateValue="OK", StateReason="child moved")
    assert composite(cw, "comp")["StateValue"] == "OK"
    with pytest.raises(ClientError) as excinfo:
        cw.set_alarm_state(AlarmName="comp", StateValue="ALARM", StateReason="x", StateReasonData="{not json")
    assert error_of(excinfo)[0] == "InvalidFormat"


def test_update_overwrites_configuration_and_reevaluates(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    put_metric_alarm(cw, "disk-high", metric="DiskReadOps")
    cw.put_composite_alarm(
        AlarmName="comp",
        AlarmRule="ALARM(cpu-high)",
        AlarmActions=["arn:aws:sns:x:1:a"],
        Tags=[{"Key": "v", "Value": "1"}],
    )
    cw.set_alarm_state(AlarmName="cpu-high", StateValue="ALARM", StateReason="test")
    first = composite(cw, "comp")
    assert first["StateValue"] == "ALARM"

    cw.put_composite_alarm(AlarmName="comp", AlarmRule="ALARM(disk-high)", Tags=[{"Key": "v", "Value": "2"}])
    updated = composite(cw, "comp")
    assert updated["AlarmRule"] == "ALARM(disk-high)"
    assert updated["AlarmActions"] == []  # the update overwrites the whole configuration
    assert updated["AlarmConfigurationUpdatedTimestamp"] >= first["AlarmConfigurationUpdatedTimestamp"]
    assert updated["StateValue"] == "OK"  # re-evaluated with the new rule: disk-high is OK
    assert len(composites(cw)) == 1
    # "If you are using this operation to update an existing alarm, any tags you specify are ignored."
    assert cw.list_tags_for_resource(ResourceARN=f"{ARN}comp")["Tags"] == [{"Key": "v", "Value": "1"}]
    cw.tag_resource(ResourceARN=f"{ARN}comp", Tags=[{"Key": "v", "Value": "3"}])
    assert cw.list_tags_for_resource(ResourceARN=f"{ARN}comp")["Tags"] == [{"Key": "v", "Value": "3"}]
    cw.untag_resource(ResourceARN=f"{ARN}comp", TagKeys=["v"])
    assert cw.list_tags_for_resource(ResourceARN=f"{ARN}comp")["Tags"] == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("ALARM(cpu-high) AND", "Error in AlarmRule [Unexpected end of rule at char 19]"),
        ("()", "Error in AlarmRule [Unsupported token ')' at char 1]"),
        ("ALARM(cpu-high) XOR ALARM(cpu-high)", "Error in AlarmRule [Unsupported token 'XOR' at char 16]"),
        (
            "ALARM(cpu-high) OR ALARM(ghost)",
            "Could not save the composite alarm as alarms [ghost] in the alarm rule",
        ),
        (
            f"ALARM({ARN}ghost)",
            f"Could not save the composite alarm as alarms [{ARN}ghost] in the alarm rule",
        ),
        ("OK(" + "x" * 10240 + ")", "Member must have length less than or equal to 10240"),
    ],
)
def test_put_composite_alarm_validation(cw, rule: str, message: str) -> None:
    put_metric_alarm(cw, "cpu-high")
    with pytest.raises(ClientError) as excinfo:
        cw.put_composite_alarm(AlarmName="comp", AlarmRule=rule)
    code, text = error_of(excinfo)
    assert code == "ValidationError"
    assert message in text
    assert composites(cw) == []


def test_actions_suppressor_needs_both_periods(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    with pytest.raises(ClientError) as excinfo:
        cw.put_composite_alarm(AlarmName="comp", AlarmRule="ALARM(cpu-high)", ActionsSuppressor="cpu-high")
    assert error_of(excinfo) == (
        "ValidationError",
        "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when "
        "ActionsSuppressor is specified",
    )


def test_delete_alarms(cw) -> None:
    put_metric_alarm(cw, "cpu-high")
    cw.put_composite_alarm(AlarmName="comp-a", AlarmRule="ALARM(cpu-high)", Tags=[{"Key": "k", "Value": "v"}])
    cw.put_composite_alarm(AlarmName="comp-b", AlarmRule="TRUE")

    with pytest.raises(ClientError) as excinfo:
        cw.delete_alarms(AlarmNames=["cpu-high"])
    assert error_of(excinfo) == (
        "ValidationError",
        "Cannot delete cpu-high as there are composite alarm(s) depending on it.",
    )
    with pytest.raises(ClientError) as excinfo:
        cw.delete_alarms(AlarmNames=["comp-a", "comp-b"])
    assert error_of(excinfo)[0] == "ValidationError"
    assert len(composites(cw)) == 2

    cw.delete_alarms(AlarmNames=["comp-a", "cpu-high", "does-not-exist"])
    remaining = cw.describe_alarms(AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    assert remaining["MetricAlarms"] == []
    assert [a["AlarmName"] for a in remaining["CompositeAlarms"]] == ["comp-b"]
    assert cw.list_tags_for_resource(ResourceARN=f"{ARN}comp-a")["Tags"] == []
    cw.delete_alarms(AlarmNames=["comp-b"])
    assert composites(cw) == []


def test_alarm_actions_toggle_composites(cw) -> None:
    cw.put_composite_alarm(AlarmName="comp", AlarmRule="FALSE")
    cw.disable_alarm_actions(AlarmNames=["comp"])
    assert composite(cw, "comp")["ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=["comp"])
    assert composite(cw, "comp")["ActionsEnabled"] is True


def test_composites_are_per_region_and_reset_with_moto() -> None:
    with moto.mock_aws():
        east = boto3.client("cloudwatch", region_name="us-east-1")
        west = boto3.client("cloudwatch", region_name="us-west-2")
        east.put_composite_alarm(AlarmName="comp", AlarmRule="TRUE")
        assert composite(east, "comp")["StateValue"] == "ALARM"
        assert composites(west) == []
    with moto.mock_aws():
        assert composites(boto3.client("cloudwatch", region_name="us-east-1")) == []


def test_evaluate_alarms_moves_metric_alarms_and_their_composites(cw) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    put_metric_alarm(cw, "cpu-high", Dimensions=[{"Name": "InstanceId", "Value": "i-1"}])
    cw.put_composite_alarm(AlarmName="comp", AlarmRule="ALARM(cpu-high)")
    cw.put_metric_data(
        Namespace="AWS/EC2",
        MetricData=[
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}],
                "Timestamp": now - timedelta(seconds=30),
                "Value": 97.0,
            }
        ],
    )
    assert evaluate_alarms(ACCOUNT, REGION, at=now) == {"cpu-high": "ALARM"}
    (alarm,) = cw.describe_alarms(AlarmNames=["cpu-high"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [97.0 (")
    assert composite(cw, "comp")["StateValue"] == "ALARM"


def test_evaluate_alarms_applies_the_alarm_unit(cw) -> None:
    """PutMetricAlarm, Unit: "If you specify a unit, the alarm only sees datapoints with that unit" —
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html.
    The unit travels from PutMetricData and PutMetricAlarm (and a MetricStat's Unit) into the evaluator."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dims = [{"Name": "InstanceId", "Value": "i-1"}]
    put_metric_alarm(cw, "in-percent", Dimensions=dims, Unit="Percent")
    put_metric_alarm(cw, "in-seconds", Dimensions=dims, Unit="Seconds")
    stat = {"Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": dims},
            "Period": 60, "Stat": "Maximum", "Unit": "Seconds"}
    cw.put_metric_alarm(AlarmName="math-seconds", EvaluationPeriods=1, Threshold=90.0,
                        ComparisonOperator="GreaterThanThreshold",
                        Metrics=[{"Id": "m1", "MetricStat": stat, "ReturnData": False},
                                 {"Id": "e1", "Expression": "FILL(m1, 0)", "ReturnData": True}])
    cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{
        "MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": now - timedelta(seconds=30),
        "Value": 97.0, "Unit": "Percent"}])
    states = evaluate_alarms(ACCOUNT, REGION, at=now)
    assert states == {"in-percent": "ALARM", "in-seconds": "INSUFFICIENT_DATA", "math-seconds": "OK"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        srv.stop()


def query(server: str, **params: str) -> tuple[int, str]:
    """POST an AWS Query request the way the AWS CLI's query protocol does."""
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params}).encode()
    request = urllib.request.Request(
        server + "/",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            # moto routes on the credential scope's service; it does not check the signature.
            "Authorization": "AWS4-HMAC-SHA256 "
            "Credential=testing/20250310/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_server_mode_round_trip(server: str) -> None:
    cw = boto3.client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    put_metric_alarm(cw, "srv-cpu")
    cw.put_composite_alarm(AlarmName="srv-comp", AlarmRule="ALARM(srv-cpu)", AlarmDescription="server mode")
    assert composite(cw, "srv-comp")["StateValue"] == "OK"
    cw.set_alarm_state(AlarmName="srv-cpu", StateValue="ALARM", StateReason="test")
    assert composite(cw, "srv-comp")["StateValue"] == "ALARM"
    with pytest.raises(ClientError) as excinfo:
        cw.put_composite_alarm(AlarmName="srv-bad", AlarmRule="ALARM(nope)")
    assert error_of(excinfo)[0] == "ValidationError"

    # The same calls as AWS Query requests: the answers are Query-protocol XML.
    status, xml = query(server, Action="DescribeAlarms", **{"AlarmTypes.member.1": "CompositeAlarm"})
    assert status == 200
    assert xml.startswith('<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">')
    assert "<CompositeAlarms><member>" in xml and "<AlarmName>srv-comp</AlarmName>" in xml
    assert "<AlarmRule>ALARM(srv-cpu)</AlarmRule><InsufficientDataActions/>" in xml
    assert "<StateValue>ALARM</StateValue>" in xml
    assert "<MetricAlarms/>" in xml
    status, xml = query(server, Action="PutCompositeAlarm", AlarmName="srv-bad", AlarmRule="ALARM(nope)")
    assert status == 400
    assert "<Code>ValidationError</Code>" in xml
    assert (
        "<Message>Could not save the composite alarm as alarms [nope] in the alarm rule do not exist" in xml
    )

    cw.delete_alarms(AlarmNames=["srv-comp"])
    cw.delete_alarms(AlarmNames=["srv-cpu"])
    assert composites(cw) == []
