"""The fork server (``mlalab/sandbox/zygote.py``, ``forkserver.py``): warm graders fork their learner
processes from it, and each forked process is as fresh, as jailed and as bare as one started the
ordinary way. The hostile submissions of tests/adversarial/test_modes.py run through it in every
isolation level; ``.ci/run`` runs the whole adversarial suite through it too."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from mlalab.catalog import find_lab
from mlalab.sandbox import Call, LearnerProcess
from mlalab.sandbox.forkserver import ForkedProcess, ForkServer, ForkServerGone
from mlalab.sandbox.jail_command import child_environment, layout
from mlalab.warm import WarmGrader, preloaded_libraries, preloaded_services

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fork server is Linux-only")

LAB2 = find_lab(2)
# What a learner process can see of where it came from.
LOOK = """import os, random, sys

def look():
    print("pid", os.getpid())
    print("random", random.random())
    print("ctypes", sorted(n for n in sys.modules if n.split(".")[0] in ("ctypes", "_ctypes")))
    print("numpy", "numpy" in sys.modules)
    print("grader", sorted(n for n in sys.modules if n.split(".")[0] in ("mlalab", "checks", "fixtures", "moto")))
    print("stages", sorted(n for n in sys.modules if n.startswith("_mlalab_") and n != "_mlalab_unix_http"))
    print("environment", sorted(os.environ))
    kinds = []
    for fd in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():  # no /proc in a chroot
        try:
            kinds.append(os.readlink(f"/proc/self/fd/{fd}").split(":")[0])
        except OSError:
            pass  # the listing's own descriptor
    print("fds", sorted(kinds))
    print("cwd", os.getcwd() == os.path.dirname(os.path.realpath(__file__)))
    status = open("/proc/self/status").read().splitlines() if os.path.exists("/proc/self/status") else []
    print("capabilities", [line for line in status if line.startswith(("CapEff", "CapPrm", "CapInh", "NoNewPrivs"))])
    print("home", sorted(os.listdir(".")))
    open("left-behind.txt", "w").write("from an earlier learner")
"""


@pytest.fixture
def server():
    forks = ForkServer(["iam"])
    yield forks
    forks.close()


def look(tmp_path, forks: ForkServer | None, name: str = "lab99") -> dict[str, str]:
    module = tmp_path / f"{name}.py"
    module.write_text(LOOK)
    process = LearnerProcess.ahead(port=9, forks=forks)
    if forks is not None:
        assert isinstance(process.proc, ForkedProcess)
    run = process.assign(module, name).run([Call("look", {})], timeout=30)
    assert run.call_event("look")["status"] == "ok", run.output
    return dict(line.split(" ", 1) for line in run.output.strip().splitlines())


def test_a_forked_learner_process_is_as_bare_as_a_started_one(tmp_path, server):
    forked, started = look(tmp_path, server), look(tmp_path, None, "lab98")
    assert forked["ctypes"] == started["ctypes"] == "[]"
    assert forked["grader"] == started["grader"] == "[]"
    assert forked["stages"] == "[]"
    assert forked["environment"] == started["environment"]
    assert forked["fds"] == started["fds"]
    assert forked["cwd"] == started["cwd"] == "True"
    assert forked["home"] == started["home"].replace("lab98", "lab99")
    assert forked["capabilities"] == started["capabilities"]


def test_each_forked_process_is_a_fresh_one(tmp_path, server):
    first, second = look(tmp_path, server), look(tmp_path, server, "lab98")
    assert first["random"] != second["random"]  # Python reseeds random in a forked child
    assert "left-behind.txt" not in second["home"] and "lab99.py" not in second["home"]


def test_the_fork_server_never_holds_the_graders_secrets(monkeypatch):
    monkeypatch.setenv("MLALAB_SIGNING_KEY", "forkserver-secret-51c3")
    forks = ForkServer()
    try:
        environ = open(f"/proc/{forks.proc.pid}/environ", "rb").read()
        assert b"forkserver-secret-51c3" not in environ
        assert sorted(v.split(b"=")[0].decode() for v in environ.split(b"\0") if v) == \
            sorted(child_environment(layout.__globals__["Path"]("/nonexistent")))
    finally:
        forks.close()


def test_a_failed_set_up_runs_no_learner_code_and_says_why(tmp_path, server):
    home, root = layout(tmp_path)
    read_fd, write_fd = os.pipe()
    try:
        proc = server.spawn({"isolation": "linux-namespaces", "cwd": str(home), "env": child_environment(home),
                             "jail": {"home": str(home), "root": "/nonexistent/root", "readonly": []}}, write_fd)
    finally:
        os.close(write_fd)
    out, _ = proc.communicate(timeout=30)
    os.close(read_fd)
    assert proc.returncode == 114
    assert out.decode().startswith("mla-labs sandbox: could not build the linux-namespaces sandbox: ")


def test_closing_the_server_kills_what_it_forked(tmp_path):
    forks = ForkServer()
    process = LearnerProcess.ahead(port=9, forks=forks)
    pid = process.proc.pid
    try:
        forks.close()
        ends = time.monotonic() + 10
        while time.monotonic() < ends and process.proc.poll() is None:
            time.sleep(0.05)
        assert process.proc.poll() == -signal.SIGKILL
        assert not os.path.exists(f"/proc/{pid}")  # killed and reaped by the server before it exited
    finally:
        process.close()
    with pytest.raises(ForkServerGone):
        forks.spawn({"isolation": "process", "cwd": "/", "env": {}}, 0)


def test_a_warm_grader_forks_and_survives_its_fork_servers_death(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / LAB2.workspace_file).write_text(LAB2.solution_path.read_text())
    with WarmGrader([LAB2]) as grader:
        assert grader.forks is not None and grader.forks.ready(timeout=60)
        assert grader.grade(folder).score == LAB2.max_score
        assert isinstance(grader._spare.proc, ForkedProcess)  # made while grading, by the warm server
        grader.forks.proc.kill()  # the next learner processes start the ordinary way
        grader.forks.proc.wait()
        result = grader.grade(folder)
        assert result.score == LAB2.max_score, result.labs[0].problems
        assert not isinstance(grader._spare.proc, ForkedProcess)


def test_a_warm_graders_lambda_handlers_are_forked_too(monkeypatch):
    """Lab 04's alarm acts through a Lambda function: its handler's process is learner code as well."""
    from mlalab.sandbox import handler

    started = []
    spawn_child = handler.spawn_child

    def recording(*args, **kwargs):
        spawned = spawn_child(*args, **kwargs)
        started.append(type(spawned[0]).__name__)
        return spawned

    monkeypatch.setattr(handler, "spawn_child", recording)
    lab4 = find_lab(4)
    with WarmGrader([lab4]) as grader:
        assert grader.forks.ready(timeout=60)
        result = grader.grade(None)
    assert result.score == lab4.max_score, result.labs[0].problems
    assert started and set(started) == {"ForkedProcess"}


def test_the_server_preloads_every_service_the_labs_use():
    lab1, lab2, lab5 = find_lab(1), find_lab(2), find_lab(5)
    assert preloaded_services([lab5]) == sorted(lab5.services)
    assert preloaded_services([lab1, lab2, lab5]) == ["cloudwatch", "ec2", "iam", "kms", "logs", "s3",
                                                      "sagemaker", "sns"]


def test_the_server_imports_the_libraries_the_labs_starters_import(tmp_path):
    """numpy (lab 09's starter imports it) is imported by the fork server, so each forked learner has it
    as one whose file imports it would; ctypes, which numpy imports, is dropped from ``sys.modules``
    all the same. Labs that import no such library get a fork server without it; the SageMaker SDK is
    never imported ahead (only its users pay for it)."""
    lab1, lab2, lab9 = find_lab(1), find_lab(2), find_lab(9)
    assert preloaded_libraries([lab1, lab2]) == []
    assert preloaded_libraries([lab1, lab9]) == ["numpy"]
    assert "sagemaker" not in preloaded_libraries([find_lab(n) for n in range(1, 11)])
    pytest.importorskip("numpy")
    forks = ForkServer(["s3"], ["numpy"])
    try:
        seen = look(tmp_path, forks)
    finally:
        forks.close()
    assert seen["numpy"] == "True" and seen["ctypes"] == "[]"


# What boto3 makes of the process's environment when the learner's code changes it first.
SESSION_LOOK = """import os, boto3

def look():
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
    os.environ["AWS_ACCESS_KEY_ID"] = "AKIDLEARNERS0WN"
    client = boto3.client("sts")
    print("region", client.meta.region_name)
    print("endpoint", client.meta.endpoint_url == os.environ["AWS_ENDPOINT_URL"])
    print("key", client._request_signer._credentials.access_key)
    boto3.setup_default_session(region_name="ap-south-1")
    print("replaced", boto3.client("sts").meta.region_name)
"""


def test_a_forked_learners_boto3_reads_its_own_environment(tmp_path, server):
    """The fork server makes boto3's default session ahead (``zygote.default_session``): the region, the
    credentials and the endpoint still come from the learner process's own environment when its first
    client is made, as in a process started the ordinary way."""
    seen = {}
    for name, forks in (("lab97", server), ("lab96", None)):
        module = tmp_path / f"{name}.py"
        module.write_text(SESSION_LOOK)
        process = LearnerProcess.ahead(port=9, forks=forks)
        run = process.assign(module, name).run([Call("look", {})], timeout=30)
        assert run.call_event("look")["status"] == "ok", run.output
        seen[name] = dict(line.split(" ", 1) for line in run.output.strip().splitlines())
    assert seen["lab97"] == seen["lab96"] == {"region": "eu-west-1", "endpoint": "True", "key": "AKIDLEARNERS0WN",
                                              "replaced": "ap-south-1"}
