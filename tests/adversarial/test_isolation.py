"""Which isolation grades the learner's code, and what that code can see of the machine."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from mlalab.sandbox import Call, jail_command, namespaces_available, run_learner
from tests.adversarial import PROJECT_ROOT, process_only

LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="the namespace sandbox exists on Linux only")

PROBE = '''
import json, os
def look():
    seen = {"root": sorted(os.listdir("/")), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
            "devices": sorted(os.listdir("/dev")), "project": os.path.exists(%(project)r),
            "solution": os.path.exists(%(solution)r), "home": os.path.exists(os.path.expanduser("~"))}
    print(json.dumps(seen))
'''


def run_probe(tmp_path):
    module = tmp_path / "lab99.py"
    module.write_text(PROBE % {"project": str(PROJECT_ROOT / "checks"),
                               "solution": str(PROJECT_ROOT / "labs" / "02_least_privilege_role" / "solution.py")})
    run = run_learner(module, "lab99", [Call("look", {})], port=9, timeout=20)
    return run, json.loads(run.output.strip().splitlines()[-1])


@LINUX_ONLY
def test_this_machine_grades_in_linux_namespaces(tmp_path, monkeypatch):
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    # About the automatic choice: a level CI forces for the rest of the suite (MLALAB_ISOLATION) is not it.
    monkeypatch.delenv("MLALAB_ISOLATION", raising=False)
    assert namespaces_available(), "user namespaces are available here, so the strong sandbox must be used"
    run, seen = run_probe(tmp_path)
    assert run.isolation == "linux-namespaces"
    # A minimal root: the project, the checks and the reference solutions do not exist in there,
    # only this run's processes are visible, and /dev holds no disk.
    assert not seen["project"] and not seen["solution"] and seen["home"]
    assert seen["pids"] == ["1"]
    assert seen["devices"] == sorted(["fd", "full", "null", "random", "stderr", "stdin", "stdout", "urandom", "zero"])


def test_process_only_fallback_is_reported(tmp_path, monkeypatch):
    process_only(monkeypatch)
    run, seen = run_probe(tmp_path)
    assert run.isolation == "process"
    assert seen["home"]


KERNEL_PROBE = '''
import json, os, socket, subprocess, sys
results = {}
def attempt(label, action):
    try:
        results[label] = ("DONE", repr(action())[:200])
    except BaseException as exc:
        results[label] = ("FAILED", f"{type(exc).__name__}: {exc}"[:200])
attempt("tcp to the grader's loopback", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2).close())
attempt("dns", lambda: socket.getaddrinfo("example.com", 443))
attempt("write checks", lambda: open(CHECKS, "a").write("# tampered\\n"))
attempt("write venv", lambda: open(VENV_FILE, "a").write("# tampered\\n"))
attempt("read solution", lambda: open(SOLUTION).read())
attempt("see the grader", lambda: os.listdir(f"/proc/{GRADER}"))
attempt("remount rw", lambda: subprocess.run(["mount", "-o", "remount,rw", "/"], check=True, capture_output=True))
attempt("new namespace remount", lambda: subprocess.run(
    ["unshare", "--user", "--map-root-user", "--mount", "mount", "-o", "remount,rw", "/usr"],
    check=True, capture_output=True))
attempt("new namespace umount", lambda: subprocess.run(
    ["unshare", "--user", "--map-root-user", "--mount", "umount", "-l", "/proc"], check=True, capture_output=True))
attempt("orphan", lambda: subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", MARKER],
                                            start_new_session=True).pid)
print(json.dumps(results))
'''


@LINUX_ONLY
def test_the_kernel_layer_holds_without_the_audit_hook(tmp_path):
    """White-box: run plain Python (no child.py, no audit hook) in the jail. What the hook refuses
    with words, the namespaces make impossible anyway: that is the boundary."""
    import botocore

    from tests.adversarial import marker, survivors

    if not namespaces_available():
        pytest.skip("user namespaces are not available on this machine")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    tag = marker()
    base = tmp_path / "jail"
    base.mkdir()
    home, root = jail_command.layout(base)
    checks = PROJECT_ROOT / "checks" / "cloudwatch.py"
    before = checks.read_bytes()
    script = KERNEL_PROBE
    for name, value in (("PORT", listener.getsockname()[1]), ("CHECKS", repr(str(checks))),
                        ("VENV_FILE", repr(botocore.__file__)), ("GRADER", os.getpid()), ("MARKER", repr(tag)),
                        ("SOLUTION", repr(str(PROJECT_ROOT / "labs" / "02_least_privilege_role" / "solution.py")))):
        script = script.replace(name, str(value))
    (home / "probe.py").write_text(script)
    argv = jail_command.jail_argv(home, root, [sys.executable, "-I", "-S", str(home / "probe.py")])
    done = subprocess.run(argv, cwd=home, env=jail_command.child_environment(home), capture_output=True, text=True,
                          timeout=30)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    assert checks.read_bytes() == before
    assert results.pop("orphan")[0] == "DONE"  # it started: the PID namespace must have ended it
    assert survivors(tag) == []
    assert {label: outcome for label, (outcome, _) in results.items()} == dict.fromkeys(results, "FAILED"), results
    assert "Read-only file system" in results["write venv"][1]
    assert "No such file or directory" in results["write checks"][1] + results["read solution"][1]
