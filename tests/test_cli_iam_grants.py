"""``mlalab iam-grants``: what policies grant, by service, access level and resource; exit codes and
input errors."""

from __future__ import annotations

import argparse
import json

import pytest

from mlalab import iam_grants
from mlalab.cli import main

PREFIX = "arn:aws:s3:::training/datasets/churn/v3/*"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mlalab iam-grants")
    iam_grants.add_arguments(parser)
    return iam_grants.run(parser.parse_args(list(argv)))


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path, document) -> str:
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path.name


def test_text_groups_by_service_access_level_and_resource(workdir, capsys):
    name = write(workdir / "role.json", policy(
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject*", "Resource": PREFIX},
        {"Sid": "Write", "Effect": "Allow", "Action": "s3:PutObject*", "Resource": PREFIX},
    ))
    assert run("--policy", name) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("s3  (")
    # The most sensitive level first: Permissions management (PutObjectAcl) before Read.
    levels = [line.strip() for line in out if line.startswith("  ") and not line.startswith("    ")]
    assert levels == ["Permissions management", "Tagging", "Write", "Read"]
    text = "\n".join(out)
    assert f"on {PREFIX}: PutObjectAcl, PutObjectVersionAcl" in text
    assert "by Statement[0] (Sid 'Read') of 'role.json'" in text


def test_json_lists_every_grant_with_its_statement(workdir, capsys):
    name = write(workdir / "p.json", policy(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::training",
         "Condition": {"StringLike": {"s3:prefix": ["datasets/churn/v3/*"]}}},
    ))
    assert run("--policy", name, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["grants"] == [{
        "action": "s3:ListBucket", "service": "s3", "access_level": "List", "resource": "arn:aws:s3:::training",
        "not_resource": [], "resource_types": ["bucket"], "policy": "p.json", "statement": 0, "sid": None,
        "conditions": ["s3:prefix"]}]
    assert document["unknown_actions"] == []


def test_several_policies_and_a_misspelt_action(workdir, capsys):
    a = write(workdir / "a.json", policy({"Effect": "Allow", "Action": "kms:Decryptt", "Resource": "*"}))
    b = write(workdir / "b.json", policy({"Effect": "Allow", "Action": "logs:PutLogEvents",
                                          "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}))
    assert run("--policy", a, "--policy", b) == 0
    out = capsys.readouterr().out
    assert "logs  (1 actions)" in out and "by Statement[0] of 'b.json'" in out
    assert "note: 'a.json' Statement[0] names kms:Decryptt, which is not in the IAM action catalogue" in out


def test_a_policy_that_grants_nothing_says_so(workdir, capsys):
    # ListBucket on object ARNs: the resource type does not match, so nothing is granted.
    name = write(workdir / "p.json", policy({"Effect": "Allow", "Action": "s3:ListBucket",
                                             "Resource": "arn:aws:s3:::training/*"}))
    assert run("--policy", name) == 0
    assert capsys.readouterr().out.startswith("grants nothing")


@pytest.mark.parametrize("content, words", [
    (None, "cannot read policy file 'missing.json'"),
    ('{"Version": ', "is not valid JSON: Expecting value at line 1, column 13"),
    (policy({"Effect": "Allow", "Action": "s3:GetObject"}), "Statement[0]: has neither Resource nor NotResource"),
    (policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}), "Principal"),
])
def test_bad_input_exits_2_with_a_clear_message(workdir, capsys, content, words):
    name = "missing.json" if content is None else write(workdir / "p.json", content)
    assert run("--policy", name) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("mlalab iam-grants: ") and words in err, err
    assert "Traceback" not in err


def test_registered_in_the_mlalab_command(workdir, capsys):
    name = write(workdir / "p.json", policy({"Effect": "Allow", "Action": "kms:Decrypt",
                                             "Resource": "arn:aws:kms:us-east-1:123456789012:key/k1"}))
    assert main(["iam-grants", "--policy", name]) == 0
    assert "kms  (1 actions)" in capsys.readouterr().out
