"""A warm grader keeps its server, clients and a learner process started ahead of need between
gradings: nothing of one submission may reach the next. A hostile submission (files, environment,
a background process, AWS resources, monkeypatches) and an honest one are graded in the same warm
grader, in both orders; each gets the grade a fresh grader gives it, and the one after sees none of
what the first left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlalab.grading import grade
from mlalab.warm import WarmGrader
from tests.adversarial import LAB2, marker, solution_source, survivors

HOSTILE = '''
import builtins, json, os, subprocess, sys
import boto3, botocore.client

def create_training_role(role_name, training_bucket, training_prefix, artifact_bucket, artifact_prefix,
                         kms_key_arn, log_group):
    iam = boto3.client("iam")
    # AWS resources the scenario never asked for, named to be found by the next submission
    iam.create_role(RoleName="left-behind-%(tag)s", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "sagemaker.amazonaws.com"}}]}))
    boto3.client("s3").create_bucket(Bucket="left-behind-%(short)s")
    # files, environment, a process outliving the grading, monkeypatches of the library and builtins
    with open("left-behind.txt", "w") as handle:
        handle.write("%(tag)s")
    try:
        open("/tmp/left-behind-%(tag)s", "w").write("x")
    except BaseException:
        pass
    os.environ["LEFT_BEHIND"] = "%(tag)s"
    try:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "%(tag)s"], start_new_session=True)
    except BaseException:
        pass
    botocore.client.BaseClient._make_api_call = lambda self, op, params: {"Role": {"Arn": "forged"}}
    builtins.print = lambda *a, **k: None
    return "arn:aws:iam::123456789012:role/" + role_name
'''

# The honest solution, which also reports what it finds of an earlier submission (through its output).
PROBE = '''

def _look():
    import os, boto3, botocore.client
    roles = [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]]
    buckets = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    print("PROBE " + json.dumps({
        "roles": [r for r in roles if r.startswith("left-behind")],
        "buckets": [b for b in buckets if b.startswith("left-behind")],
        "files": sorted(f for f in os.listdir(".") if f != "__pycache__"), "env": os.environ.get("LEFT_BEHIND"),
        "patched": botocore.client.BaseClient._make_api_call.__module__ != "botocore.client",
        "print": print.__module__}), flush=True)

_real = create_training_role

def create_training_role(*args, **kwargs):
    _look()
    return _real(*args, **kwargs)
'''


def write(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAB2.workspace_file).write_text(source)
    return folder


def probe_of(result) -> dict:
    line = next(line for line in result.labs[0].output.splitlines() if line.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def check_statuses(result) -> dict[str, str]:
    return {c.id: c.status for c in result.labs[0].checks}


@pytest.fixture(scope="module")
def warm():
    with WarmGrader([LAB2]) as grader:
        yield grader


@pytest.fixture
def submissions(tmp_path):
    tag = marker()
    hostile = write(tmp_path / "hostile", HOSTILE % {"tag": tag, "short": tag[-12:]})
    honest = write(tmp_path / "honest", solution_source() + PROBE)
    return tag, hostile, honest


def assert_hostile_left_nothing(tag: str, sandbox: Path) -> None:
    assert survivors(tag) == [], "the hostile submission's background process survived its grading"
    assert not Path(f"/tmp/left-behind-{tag}").exists()
    assert not sandbox.exists(), "the learner process's sandbox folder outlived its grading"


def next_sandbox(grader: WarmGrader) -> Path:
    """The sandbox folder of the learner process started ahead, which the next grading uses."""
    assert grader._spare is not None and grader._spare.base is not None
    return grader._spare.base


def test_hostile_then_honest_in_one_warm_grader(warm, submissions):
    tag, hostile, honest = submissions
    sandbox = next_sandbox(warm)
    first = warm.grade(hostile, [LAB2], seed=11, timeout=20)
    assert first.labs[0].score < LAB2.max_score  # the forged ARN earns nothing
    assert_hostile_left_nothing(tag, sandbox)

    second = warm.grade(honest, [LAB2], seed=11, timeout=20)
    assert second.labs[0].score == LAB2.max_score, second.labs[0].problems
    seen = probe_of(second)
    assert seen == {"roles": [], "buckets": [], "files": [LAB2.workspace_file], "env": None, "patched": False,
                    "print": "builtins"}
    assert check_statuses(second) == check_statuses(grade(honest, [LAB2], seed=11, timeout=20))


def test_honest_then_hostile_in_one_warm_grader(warm, submissions):
    tag, hostile, honest = submissions
    first = warm.grade(honest, [LAB2], seed=12, timeout=20)
    assert first.labs[0].score == LAB2.max_score, first.labs[0].problems
    assert probe_of(first)["roles"] == []

    sandbox = next_sandbox(warm)
    second = warm.grade(hostile, [LAB2], seed=12, timeout=20)
    cold = grade(hostile, [LAB2], seed=12, timeout=20)
    # The hostile submission gets exactly what a fresh grader gives it: nothing of the honest one helps.
    assert check_statuses(second) == check_statuses(cold)
    assert second.labs[0].score == cold.labs[0].score < LAB2.max_score
    assert_hostile_left_nothing(tag, sandbox)

    # ...and the grader is still clean for the next learner.
    third = warm.grade(honest, [LAB2], seed=13, timeout=20)
    assert third.labs[0].score == LAB2.max_score
    assert probe_of(third) == {"roles": [], "buckets": [], "files": [LAB2.workspace_file], "env": None,
                               "patched": False, "print": "builtins"}


def test_each_grading_gets_its_own_learner_process(warm, tmp_path):
    """The process started ahead is used once, then killed: two gradings never share a learner process."""
    folder = write(tmp_path / "starter", LAB2.starter_text())
    used = []
    for seed in (1, 2):
        spare = warm._spare
        assert spare is not None and spare.alive()
        result = warm.grade(folder, [LAB2], seed=seed, timeout=20)
        assert result.labs[0].score == 0
        assert spare.proc.returncode is not None and spare.base is None  # killed, its folder removed
        assert warm._spare is not spare and warm._spare.alive()
        used.append(spare.proc.pid)
    assert used[0] != used[1]


def test_ctypes_reached_through_the_fork_servers_numpy_is_refused(tmp_path):
    """A warm grader with lab 09 has its fork server import numpy (``warm.preloaded_libraries``), so every
    learner process it forks has numpy, and numpy's reference to ctypes, even one whose file never
    imports numpy: reaching ctypes through it must not reach native code, as for a file that imports it
    (tests/adversarial/test_grader_tampering.py)."""
    pytest.importorskip("numpy")
    from mlalab.catalog import find_lab
    from tests.adversarial import HEADER, SIGNATURE, TRY, assert_refused

    source = HEADER + TRY + '''
print("numpy preloaded", "numpy" in sys.modules, "ctypes in sys.modules", "ctypes" in sys.modules, flush=True)
ct = sys.modules["numpy"]._core._internal.ctypes
attempt("dlopen", lambda: ct.CDLL(None))
attempt("memory", lambda: ct.string_at(id(0), 8))
attempt("import again", lambda: __import__("ctypes"))
''' + SIGNATURE + "    return f'arn:aws:iam::123456789012:role/{role_name}'\n"
    with WarmGrader([LAB2, find_lab(9)]) as grader:
        if grader.forks is None:
            pytest.skip("no fork server here (MLALAB_FORK_SERVER=0): no numpy ahead of need either")
        assert grader.forks.ready(60)
        grader.grade(None, [LAB2], seed=4242)  # the process started ahead before the fork server was ready
        result = grader.grade(write(tmp_path / "numpy-thief", source), [LAB2], seed=4242).labs[0]
    assert "numpy preloaded True ctypes in sys.modules False" in result.output, result.output
    assert result.score == 0
    assert_refused(result, "use ctypes (native code can escape the sandbox)",
                   "import ctypes (native code can escape the sandbox)")
    for label in ("dlopen", "memory", "import again"):
        assert f"{label}: DONE" not in result.output, result.output
