"""``mlalab reachability``: answers, paths, the blocking rule, exit codes and input errors, from a
snapshot file and from EC2 (moto) through boto3."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from mlalab.cli import main
from tests.engines.test_network_reach import RUNTIME, base, with_interface_endpoint, with_s3_gateway


@pytest.fixture
def snapshot_file(tmp_path):
    path = tmp_path / "vpc.json"
    path.write_text(json.dumps(with_s3_gateway(with_interface_endpoint(base()), {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::models/*"}]})))
    return str(path)


def test_reachable_prints_the_path_and_exits_0(snapshot_file, capsys):
    code = main(["reachability", "--snapshot", snapshot_file, "--source", "subnet-app:sg-app",
                 "--destination", RUNTIME, "--port", "443"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("reachable:") and "sg-ep ingress rule tcp port 443 from sg-app" in out


def test_blocked_names_the_rule_and_exits_1(snapshot_file, capsys):
    code = main(["reachability", "--snapshot", snapshot_file, "--source", "subnet-app:sg-batch",
                 "--destination", RUNTIME, "--port", "443"])
    out = capsys.readouterr().out
    assert code == 1
    assert "not reachable" in out and "blocked by: security groups sg-ep ingress" in out


def test_json_output(snapshot_file, capsys):
    code = main(["reachability", "--snapshot", snapshot_file, "--source", "subnet-priv:sg-app",
                 "--destination", "s3://partner/data.csv", "--port", "443", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["reachable"] is False and doc["blocked_by"] == "endpoint policy of vpce-s3"
    assert set(doc) == {"reachable", "path", "blocked_by", "reason"}


@pytest.mark.parametrize("argv, message", [
    (["--source", "subnet-zzz", "--destination", "internet"], "subnet subnet-zzz is not in the snapshot"),
    (["--source", RUNTIME, "--destination", "internet"], "is a service"),
    (["--source", "internet", "--destination", "bogus"], "is not a source or destination"),
])
def test_bad_names_exit_2(snapshot_file, capsys, argv, message):
    code = main(["reachability", "--snapshot", snapshot_file, "--port", "443", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("mlalab reachability: ") and message in err


def test_bad_snapshot_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["reachability", "--snapshot", str(bad), "--source", "internet", "--destination", "1.2.3.4",
                 "--port", "1"]) == 2
    assert "is not JSON" in capsys.readouterr().err
    assert main(["reachability", "--snapshot", str(tmp_path / "missing.json"), "--source", "internet",
                 "--destination", "1.2.3.4", "--port", "1"]) == 2
    assert "cannot read snapshot file" in capsys.readouterr().err


def test_bad_port_exits_2(snapshot_file, capsys):
    assert main(["reachability", "--snapshot", snapshot_file, "--source", "internet", "--destination",
                 "subnet-pub:sg-web", "--port", "70000"]) == 2
    assert "is not a port" in capsys.readouterr().err


def test_reads_ec2_through_boto3_and_saves_the_snapshot(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
        saved = tmp_path / "state.json"
        code = main(["reachability", "--source", f"{subnet}:{group}", "--destination", "8.8.8.8", "--port", "443",
                     "--save-snapshot", str(saved)])
    out = capsys.readouterr().out
    assert code == 1 and "no route" in out
    assert any(v["VpcId"] == vpc for v in json.loads(saved.read_text())["Vpcs"])
