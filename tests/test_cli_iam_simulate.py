"""``mlalab iam-simulate`` through argparse: exit codes, human and --json output, input errors."""

from __future__ import annotations

import argparse
import json

import pytest

from mlalab import iam_simulate

ROLE = "arn:aws:iam::123456789012:role/trainer"
OBJECT = "arn:aws:s3:::models/prod/model.tar.gz"

READ_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadModels",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::models/*",
        },
        {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ],
}


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mlalab iam-simulate")
    iam_simulate.add_arguments(parser)
    return iam_simulate.run(parser.parse_args(list(argv)))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run in tmp_path so policy files are named by short relative paths in messages."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "read.json").write_text(json.dumps(READ_POLICY, indent=2))
    return tmp_path


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow_all(action: str) -> dict:
    return policy({"Effect": "Allow", "Action": action, "Resource": "*"})


def write(path, document) -> str:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path.name


def test_allowed_exits_0_and_shows_the_deciding_statement(workdir, capsys):
    code = run("--policy", "read.json", "--principal", ROLE, "--action", "s3:GetObject", "--resource", OBJECT)
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "decision: allowed"
    assert (
        lines[1]
        == "reason: allowed by Statement[0] (Sid 'ReadModels') in the identity-based policy 'read.json'."
    )
    assert lines[2] == "deciding statement: policy 'read.json', index 0, Sid 'ReadModels' (Allow)"
    assert json.loads("\n".join(lines[3:])) == READ_POLICY["Statement"][0]


def test_explicit_deny_exits_1(workdir, capsys):
    code = run("--policy", "read.json", "--action", "s3:DeleteObject", "--resource", OBJECT)
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[0] == "decision: explicit_deny"
    assert "deciding statement: policy 'read.json', index 1, Sid 'NoDelete' (Deny)" in out


def test_implicit_deny_exits_1_without_statement(workdir, capsys):
    code = run("--policy", "read.json", "--action", "s3:PutObject", "--resource", OBJECT)
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        "decision: implicit_deny",
        f"reason: implicitly denied: no identity-based policy allows s3:PutObject on {OBJECT}.",
        "deciding statement: none",
    ]


def test_json_output_shape(workdir, capsys):
    assert run("--policy", "read.json", "--action", "s3:GetObject", "--resource", OBJECT, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "decision": "allowed",
        "statement": {
            "policy": "read.json",
            "index": 0,
            "sid": "ReadModels",
            "effect": "Allow",
            "statement": READ_POLICY["Statement"][0],
        },
        "reason": "allowed by Statement[0] (Sid 'ReadModels') in the identity-based policy 'read.json'.",
    }
    assert run("--policy", "read.json", "--action", "s3:PutObject", "--resource", OBJECT, "--json") == 1
    denied = json.loads(capsys.readouterr().out)
    assert denied["decision"] == "implicit_deny" and denied["statement"] is None


def test_bad_json_file_exits_2_with_line_and_column(workdir, capsys):
    write(
        workdir / "bad.json",
        '{"Version": "2012-10-17",\n "Statement": [\n  {"Effect": "Allow" "Action": "s3:*"}]}',
    )
    assert run("--policy", "bad.json", "--action", "s3:GetObject") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "mlalab iam-simulate: policy 'bad.json' is not valid JSON: "
        "Expecting ',' delimiter at line 3, column 22\n"
    )


def test_invalid_policy_exits_2_naming_the_problem(workdir, capsys):
    write(workdir / "lower.json", {"Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]})
    assert run("--policy", "lower.json", "--action", "s3:GetObject") == 2
    assert capsys.readouterr().err == (
        "mlalab iam-simulate: policy 'lower.json', Statement[0]: "
        'Effect must be "Allow" or "Deny", got \'allow\'\n'
    )


def test_missing_file_exits_2(workdir, capsys):
    assert run("--policy", "nope.json", "--action", "s3:GetObject") == 2
    assert capsys.readouterr().err == (
        "mlalab iam-simulate: cannot read policy file nope.json: No such file or directory\n"
    )


def test_bad_context_exits_2(workdir, capsys):
    assert run("--policy", "read.json", "--action", "s3:GetObject", "--context", "aws:SourceIp") == 2
    assert capsys.readouterr().err == (
        "mlalab iam-simulate: bad --context 'aws:SourceIp': "
        "expected KEY=VALUE, e.g. aws:SourceIp=203.0.113.7\n"
    )


def test_no_policy_at_all_exits_2(workdir, capsys):
    assert run("--action", "s3:GetObject") == 2
    assert capsys.readouterr().err == (
        "mlalab iam-simulate: nothing to evaluate: give at least one --policy, --resource-policy or --key-policy FILE\n"
    )


def test_bad_principal_and_wildcard_action_exit_2(workdir, capsys):
    assert run("--policy", "read.json", "--action", "s3:GetObject", "--principal", "alice") == 2
    assert capsys.readouterr().err.startswith(
        "mlalab iam-simulate: principal 'alice' is not an IAM user, role"
    )
    assert run("--policy", "read.json", "--action", "s3:*") == 2
    assert capsys.readouterr().err == (
        "mlalab iam-simulate: action 's3:*' must name one action as service:Action, e.g. s3:GetObject "
        "(no wildcards)\n"
    )


def test_repeated_context_key_is_multivalued(workdir, capsys):
    write(
        workdir / "tags.json",
        policy({"Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "project"]}}}),
    )  # fmt: skip
    base = ("--policy", "tags.json", "--action", "sagemaker:AddTags")
    assert run(*base, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=project") == 0
    assert run(*base, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=owner") == 1
    assert iam_simulate.parse_context(["aws:TagKeys=a", "AWS:tagkeys=b", "aws:SourceIp=1.2.3.4"]) == {
        "aws:TagKeys": ["a", "b"],
        "aws:SourceIp": "1.2.3.4",
    }


def test_missing_context_key_is_reported(workdir, capsys):
    write(
        workdir / "ip.json",
        policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
    )  # fmt: skip
    assert run("--policy", "ip.json", "--action", "s3:GetObject") == 1
    out = capsys.readouterr().out
    assert "the request context has no aws:SourceIp" in out
    assert out.splitlines()[-1] == "context keys the policies use but the request lacks: aws:SourceIp"
    assert run("--policy", "ip.json", "--action", "s3:GetObject", "--context", "aws:SourceIp=10.9.9.9") == 0


def test_boundary_scp_resource_and_session_policies(workdir, capsys):
    write(workdir / "all-s3.json", allow_all("s3:*"))
    write(workdir / "pb.json", allow_all("s3:Get*"))
    write(workdir / "scp.json", allow_all("ec2:*"))
    write(workdir / "session.json", allow_all("s3:List*"))
    write(
        workdir / "bucket.json",
        policy({"Sid": "Trainer", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::models/*"}),
    )  # fmt: skip
    base = ("--policy", "all-s3.json", "--principal", ROLE, "--resource", OBJECT, "--json")

    assert run(*base, "--action", "s3:PutObject", "--boundary", "pb.json") == 1
    assert json.loads(capsys.readouterr().out)["reason"].startswith(
        "denied by the permissions boundary 'pb.json'"
    )
    assert run(*base, "--action", "s3:GetObject", "--scp", "scp.json") == 1
    assert json.loads(capsys.readouterr().out)["reason"].startswith(
        "denied by the service control policy 'scp.json'"
    )
    assert run(*base, "--action", "s3:GetObject", "--session-policy", "session.json") == 1
    assert json.loads(capsys.readouterr().out)["reason"].startswith(
        "denied by the session policy 'session.json'"
    )
    # A bucket policy naming the role is enough on its own in the same account.
    assert run("--resource-policy", "bucket.json", "--principal", ROLE, "--action", "s3:PutObject",
               "--resource", OBJECT, "--json") == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["statement"]["policy"] == "bucket.json"


def test_resource_policy_without_principal_is_rejected(workdir, capsys):
    write(workdir / "nobody.json", {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    assert run("--resource-policy", "nobody.json", "--action", "s3:GetObject") == 2
    assert capsys.readouterr().err == (
        "mlalab iam-simulate: policy 'nobody.json', Statement[0]: a resource-based policy statement needs "
        "a Principal or NotPrincipal\n"
    )


def test_action_is_required():
    parser = argparse.ArgumentParser(prog="mlalab iam-simulate")
    iam_simulate.add_arguments(parser)
    with pytest.raises(SystemExit) as error:
        parser.parse_args(["--policy", "read.json"])
    assert error.value.code == 2


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_kms_key_without_key_policy_assumes_the_default_and_says_so(workdir, capsys):
    """AWS KMS "Default key policy": a key always has a key policy; without --key-policy the default
    one (account root allowed kms:*, so IAM policies decide) is assumed, and the output says so."""
    write(workdir / "use-key.json", allow_all("kms:Decrypt"))
    assert run("--policy", "use-key.json", "--principal", ROLE, "--action", "kms:Decrypt", "--resource", KEY) == 0
    out = capsys.readouterr().out
    assert "key policy: no key policy was given for this KMS key (--key-policy FILE), so AWS's default key " \
           "policy was assumed" in out
    assert '"Sid": "Enable IAM User Permissions"' in out and '"AWS": "arn:aws:iam::123456789012:root"' in out
    assert run("--policy", "use-key.json", "--action", "kms:Decrypt", "--resource", KEY, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["assumed_key_policy"]["policy"]["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:root"}
    assert "AWS's default key policy was assumed" in document["assumed_key_policy"]["note"]
    # Not a key (an account-level action): nothing is assumed.
    assert run("--policy", "use-key.json", "--action", "kms:Decrypt", "--json") == 0
    assert "assumed_key_policy" not in json.loads(capsys.readouterr().out)


def test_key_policy_option(workdir, capsys):
    """AWS KMS "Key policies in AWS KMS": IAM policies count only where the key policy lets them."""
    write(workdir / "use-key.json", allow_all("kms:Decrypt"))
    write(workdir / "admins.json", policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                           "Principal": {"AWS": "arn:aws:iam::123456789012:role/KeyAdmin"}}))
    base = ("--policy", "use-key.json", "--principal", ROLE, "--action", "kms:Decrypt", "--resource", KEY)
    assert run(*base, "--key-policy", "admins.json", "--json") == 1
    document = json.loads(capsys.readouterr().out)
    assert "the KMS key policy 'admins.json' does not allow kms:Decrypt" in document["reason"]
    assert "assumed_key_policy" not in document
    assert run("--key-policy", "admins.json", "--principal", "arn:aws:iam::123456789012:role/KeyAdmin",
               "--action", "kms:ScheduleKeyDeletion", "--resource", KEY) == 0  # fmt: skip
    assert "key policy:" not in capsys.readouterr().out


def test_key_policy_option_misuse_exits_2(workdir, capsys):
    write(workdir / "key.json", policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                        "Principal": {"AWS": "123456789012"}}))
    assert run("--policy", "read.json", "--key-policy", "key.json", "--action", "s3:GetObject") == 2
    assert capsys.readouterr().err == (
        "mlalab iam-simulate: --key-policy applies to kms:* actions on a KMS key, not to s3:GetObject\n"
    )
    assert run("--key-policy", "key.json", "--resource-policy", "key.json", "--action", "kms:Decrypt") == 2
    assert "a KMS key has one key policy" in capsys.readouterr().err


def test_get_caller_identity_is_always_allowed(workdir, capsys):
    """AWS STS API Reference, GetCallerIdentity: no permission needed, even under an explicit deny."""
    write(workdir / "deny-all.json", policy({"Effect": "Deny", "Action": "*", "Resource": "*"}))
    assert run("--policy", "deny-all.json", "--action", "sts:GetCallerIdentity") == 0
    assert "sts:GetCallerIdentity needs no permission" in capsys.readouterr().out
