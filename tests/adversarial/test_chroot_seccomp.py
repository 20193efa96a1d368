"""The chroot-seccomp isolation (issue 12): the boundary where user namespaces are refused but the
grader is root (Gradescope, Docker's default seccomp profile).

White-box first, like test_isolation's kernel layer: plain Python (no child.py, no audit hook) in
the chroot sandbox, attacking it directly: what the hook refuses with words, the chroot, the
learner's own uid, the rlimits and the seccomp filter must make impossible anyway. Then real
gradings in this mode, and the Gradescope package end to end in a container-like setting.

The whole adversarial suite runs in this mode with ``MLALAB_ISOLATION=chroot-seccomp pytest
tests/adversarial`` (CI forces each level; a level the machine cannot provide is an error there).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlalab.sandbox import isolation, jail_command, process
from mlalab.sandbox.isolation import IsolationUnavailable, choose_isolation
from tests.adversarial import LAB2, PROJECT_ROOT, grade_lab, marker, solution_source, survivors

needs_chroot = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                                  reason="the chroot-seccomp isolation needs Linux and a root grader")

ESCAPES = r'''
import json, os, socket, sys, errno
results = {}
def attempt(label, action):
    try:
        results[label] = ("DONE", repr(action())[:300])
    except BaseException as exc:
        results[label] = ("FAILED", f"{type(exc).__name__}: {exc}"[:300])
def chroot_escape():
    os.makedirs("x", exist_ok=True)
    os.chroot("x")
    for _ in range(64):
        os.chdir("..")
    os.chroot(".")
    return os.listdir("/")
def fd_escape():
    for fd in range(3, 256):
        try:
            os.fchdir(fd)
        except OSError:
            continue
        return os.listdir("..")
    raise OSError("no folder descriptor came in")
def fork_bomb():
    count = 0
    try:
        while True:
            if os.fork() == 0:
                import time
                time.sleep(60)
                os._exit(0)
            count += 1
    except OSError as exc:
        return (count, exc.errno)
attempt("ids", lambda: (os.getresuid(), os.getresgid(), os.getgroups()))
attempt("regain root", lambda: os.setuid(0))
attempt("chroot escape", chroot_escape)
attempt("proc root", lambda: os.listdir("/proc/1/root"))
attempt("inherited folder fd", fd_escape)
attempt("signal the grader", lambda: os.kill(GRADER, 0))
attempt("kill the sleeper", lambda: os.kill(SLEEPER, 9))
attempt("kill everything", lambda: os.kill(-1, 9))
attempt("pidfd the grader", lambda: os.pidfd_open(GRADER))
attempt("inet socket", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2))
attempt("inet6 socket", lambda: socket.socket(socket.AF_INET6))
attempt("netlink socket", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW))
attempt("read the project", lambda: os.listdir(PROJECT))
attempt("read a solution", lambda: open(SOLUTION).read())
attempt("read root's home", lambda: open("/root/.bashrc").read())
attempt("read the pyenv original", lambda: open("/root/.pyenv/version").read())
attempt("what /root holds", lambda: sorted(os.listdir("/root")))
attempt("write the venv", lambda: open(VENV_FILE, "a").write("# tampered\n"))
attempt("write the root", lambda: open("/planted", "w").write("x"))
attempt("list other gradings", lambda: os.listdir("/run"))
attempt("leave the group", os.setsid)
attempt("fork bomb", fork_bomb)
print(json.dumps(results), flush=True)
'''


def run_escapes(tmp_path: Path, *, pass_fd: int = -1, timeout: float = 60) -> tuple[dict, subprocess.CompletedProcess]:
    import botocore

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.3)
    sleeper = subprocess.Popen(["sleep", "60"])
    base = tmp_path / "jail"
    base.mkdir()
    os.chmod(base, 0o755)
    home, _ = jail_command.layout(base)
    script = ESCAPES
    for name, value in (("GRADER", os.getpid()), ("SLEEPER", sleeper.pid), ("PORT", listener.getsockname()[1]),
                        ("PROJECT", repr(str(PROJECT_ROOT / "checks"))), ("VENV_FILE", repr(botocore.__file__)),
                        ("SOLUTION", repr(str(LAB2.solution_path)))):
        script = script.replace(name, str(value))
    (home / "probe.py").write_text(script)
    extra = None
    try:
        proc, _, extra, level = isolation.spawn_chroot(base, {"memory_mb": 512}, 0, pass_fd,
                                                       [sys.executable, "-I", "-S", "probe.py"])
        assert level == "chroot-seccomp"
        try:
            proc.stdin.close()
            proc.wait(timeout=timeout)  # its forked sleepers keep stdout open until the group is killed
        finally:
            process.kill_group(proc)
        out = proc.stdout.read()
        with pytest.raises(TimeoutError):
            listener.accept()
        assert sleeper.poll() is None, "the learner's code killed a root process of the machine"
    finally:
        sleeper.kill()
        sleeper.wait()
        listener.close()
        if extra:
            jail_command.remove_tree(extra)
    text = out.decode(errors="replace")
    lines = text.strip().splitlines()
    return (json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}), \
        subprocess.CompletedProcess(proc.args, proc.returncode, text)


@needs_chroot
def test_the_chroot_seccomp_boundary_holds_without_the_audit_hook(tmp_path):
    before = (PROJECT_ROOT / "checks" / "cloudwatch.py").read_bytes()
    results, done = run_escapes(tmp_path)
    assert results, done.stdout
    outcome = {label: status for label, (status, _) in results.items()}
    uid = results["ids"][1]
    assert outcome.pop("ids") == "DONE" and "(0, 0, 0)" not in uid and "[]" in uid, uid
    fork = results.pop("fork bomb")
    outcome.pop("fork bomb")
    assert outcome.pop("what /root holds") == "DONE"
    assert results["what /root holds"][1] == "['.pyenv']"  # the jail's own copy only
    assert outcome == dict.fromkeys(outcome, "FAILED"), results
    said = {label: text for label, (_, text) in results.items()}
    assert "PermissionError" in said["chroot escape"]  # seccomp: chroot() is refused to the learner
    assert "No such file or directory" in said["proc root"]  # no /proc at all
    assert "no folder descriptor came in" in said["inherited folder fd"]
    for label in ("signal the grader", "kill the sleeper", "kill everything", "pidfd the grader", "inet socket",
                  "inet6 socket", "netlink socket", "leave the group", "regain root"):
        assert "Operation not permitted" in said[label], (label, said[label])
    for label in ("read the project", "read a solution", "read the pyenv original", "read root's home"):
        assert "No such file or directory" in said[label], (label, said[label])
    assert "PermissionError" in said["write the venv"] and "PermissionError" in said["write the root"]
    assert "PermissionError" in said["list other gradings"]
    # RLIMIT_NPROC bounds the fork bomb (this grading's uid is its alone), and every process it made
    # died with the process group.
    count, code = json.loads(fork[1].replace("(", "[").replace(")", "]"))
    assert 0 < count <= isolation.NPROC and code == 11, fork  # EAGAIN
    assert (PROJECT_ROOT / "checks" / "cloudwatch.py").read_bytes() == before


@needs_chroot
def test_a_folder_descriptor_never_crosses_into_the_jail(tmp_path):
    """A grader bug that passed a folder's descriptor would let fchdir() walk out: the stage refuses."""
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        results, done = run_escapes(tmp_path, pass_fd=fd, timeout=30)
    finally:
        os.close(fd)
    assert results == {} and done.returncode == 113
    assert "is a folder: it would lead out of the chroot" in done.stdout


@needs_chroot
def test_a_grading_in_chroot_seccomp_earns_its_points_and_says_its_isolation(tmp_path, monkeypatch):
    monkeypatch.setenv("MLALAB_ISOLATION", "chroot-seccomp")
    result = grade_lab(tmp_path, solution_source())
    assert result.isolation == "chroot-seccomp"
    assert result.score == result.max_score == LAB2.max_score, result.problems


@needs_chroot
def test_hostile_code_in_chroot_seccomp_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("MLALAB_ISOLATION", "chroot-seccomp")
    tag = marker()
    source = solution_source() + f'''
import os, signal, socket
def _hostile():
    print("uid", os.getuid())
    for action in (lambda: signal.pidfd_send_signal(os.pidfd_open(os.getppid()), 9),
                   lambda: socket.create_connection(("1.1.1.1", 53), timeout=1),
                   lambda: open("/root/.bashrc").read(),
                   lambda: os.kill(os.getppid(), 9)):
        try:
            action()
        except BaseException as exc:
            print("refused:", type(exc).__name__)
_hostile()
{tag!r}
'''
    from mlalab.sandbox.chroot_root import UID_COUNT, UID_FIRST, jail_root

    result = grade_lab(tmp_path, source)
    assert result.isolation == "chroot-seccomp"
    assert result.output.count("refused:") == 4, result.output
    assert survivors(tag) == []
    # the grader is alive (we are it), and the learner's uid folder is gone with the grading (other
    # gradings running at the same time, e.g. on another xdist worker, have folders of their own uids)
    uid = int(result.output.split("uid ", 1)[1].split()[0])
    assert UID_FIRST <= uid < UID_FIRST + UID_COUNT
    assert not (jail_root() / "run" / str(uid)).exists()


def test_a_forced_level_the_machine_cannot_provide_is_refused(monkeypatch):
    monkeypatch.setenv("MLALAB_ISOLATION", "linux-namespaces")
    with pytest.raises(IsolationUnavailable, match="cannot build the namespace sandbox"):
        choose_isolation(lambda: False)
    monkeypatch.setenv("MLALAB_ISOLATION", "bogus")
    with pytest.raises(IsolationUnavailable, match="not one of auto"):
        choose_isolation(lambda: True)
    monkeypatch.setenv("MLALAB_ISOLATION", "process")
    assert choose_isolation(lambda: True) == "process"


@needs_chroot
def test_without_unshare_a_root_grader_chooses_chroot_seccomp(tmp_path):
    """The automatic choice with ``unshare`` hidden in a private mount namespace (root, no user
    namespace: what a Docker container running as root allows)."""
    code = ("from mlalab.sandbox import jail_command, isolation\n"
            "print(jail_command.namespaces_available(), isolation.choose_isolation(jail_command.namespaces_available))")
    done = hidden_unshare([sys.executable, "-c", code], env={**os.environ, "MLALAB_ISOLATION": "auto"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "chroot-seccomp"]


def hidden_unshare(argv: list[str], env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``argv`` where ``unshare`` does not exist (bound over by /dev/null in a private mount
    namespace); ``/autograder`` may be bound in too (``AUTOGRADER`` in env)."""
    binds = [f"mount --bind /dev/null {shutil.which('unshare')}"]
    if env.get("AUTOGRADER"):
        binds.append(f"mkdir -p /autograder && mount --bind {env['AUTOGRADER']} /autograder")
    script = " && ".join(binds) + ' && exec "$@"'
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=PROJECT_ROOT)


@needs_chroot
@pytest.mark.slow
def test_gradescope_package_end_to_end_as_root_without_user_namespaces(tmp_path):
    """``mlalab gradescope-package``, then its setup.sh and run_autograder in an /autograder layout,
    as root, with ``unshare`` hidden: results.json is written, verifies with the key, and says
    chroot-seccomp. Offline: apt-get is a no-op and pip finds the project's dependencies through the
    project's own virtualenv (a .pth), never an index; setup.sh builds nothing (no build backend), as
    an image built without network needs."""
    import zipfile

    from mlalab.formats import integrity

    autograder = tmp_path / "autograder"
    (autograder / "source").mkdir(parents=True)
    (autograder / "submission").mkdir()
    (autograder / "submission" / LAB2.workspace_file).write_text(solution_source())
    package = tmp_path / "autograder.zip"
    made = subprocess.run([str(Path(sys.prefix, "bin", "mlalab")), "gradescope-package", "--out", str(package)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env={**os.environ, "MLALAB_SIGNING_KEY": "k" * 32})
    assert made.returncode == 0, made.stderr
    zipfile.ZipFile(package).extractall(autograder / "source")
    for name in ("setup.sh", "run_autograder"):
        os.chmod(autograder / "source" / name, 0o755)
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    deps = Path(sys.prefix, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages")
    base_python = Path(sys.base_prefix, "bin", "python3.11")
    (shims / "python3.11").write_text(  # the image's python3.11; its venvs see the project's dependencies
        f'#!/bin/sh\nif [ "$1 $2" = "-m venv" ]; then {base_python} "$@" --without-pip && '
        f'echo {deps} > "$3/lib/python3.11/site-packages/zz_dependencies.pth"; exit $?; fi\n'
        f'exec {base_python} "$@"\n')
    for shim in shims.iterdir():
        os.chmod(shim, 0o755)
    env = {"PATH": f"{shims}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
           "AUTOGRADER": str(autograder), "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "MLALAB_SIGNING_KEY": "k" * 32,
           # its own cache: the image's venv needs a root of its own, which must not evict (as a stale
           # root) the one the rest of the suite grades with, running beside it
           "MLALAB_CHROOT_CACHE": "/var/cache/mlalab/gradescope-e2e"}
    started = time.monotonic()
    setup = hidden_unshare(["bash", "-c", "cd /autograder/source && ./setup.sh"], env)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    graded = hidden_unshare(["bash", "-c", "/autograder/source/run_autograder"], env)
    assert graded.returncode == 0, graded.stderr[-3000:]
    document = json.loads((autograder / "results" / "results.json").read_text())
    assert integrity.verify(document, ("k" * 32).encode()), document
    assert not integrity.verify(document, b"a guessed key")
    assert "Isolation: chroot-seccomp" in document["output"], document["output"][:500]
    assert document["score"] == LAB2.max_score  # lab 2's reference solution; no other lab was submitted
    lab2 = [t for t in document["tests"] if t["number"].startswith(f"{LAB2.id}.")]
    assert lab2 and all(t["status"] == "passed" for t in lab2), lab2
    assert time.monotonic() - started < 600
