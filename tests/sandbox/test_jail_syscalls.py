"""The Linux jail's set-up through system calls (mlalab/sandbox/jail.py): the root it builds, read back
from a jailed child's ``/proc/self/mountinfo``; the same root through the mount(8) programs (the
fallback when ctypes is missing); locked flags of a source mount kept on the read-only remount; errors
naming the operation; no ``ctypes`` left for the learner.

mount(2): https://man7.org/linux/man-pages/man2/mount.2.html (MS_REMOUNT|MS_BIND changes the
per-mount flags only; "the default atime for remount is preservation" since Linux 3.17);
mount_namespaces(7): flags of mounts copied into a less privileged namespace are locked;
pivot_root(2) NOTES: ``pivot_root(".", ".")`` then ``umount2(".", MNT_DETACH)``;
proc(5), /proc/self/mountinfo: the fields parsed below.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mlalab.sandbox import jail, jail_command

JAIL = str(jail_command.HERE / "jail.py")

REPORT = r"""
import errno, json, os
mounts = {}
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    dash = fields.index("-")
    mounts[fields[4]] = {"options": fields[5].split(","), "fstype": fields[dash + 1], "source": fields[dash + 2],
                         "super": fields[dash + 3].split(",")}
def attempt(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "ok"
    except OSError as exc:
        return errno.errorcode[exc.errno]
writes = {p: attempt(p) for p in ("/hacked", "/etc/hosts", "/proc/self/comm", "/dev/hacked", "written")}
print(json.dumps({"mounts": mounts, "writes": writes, "dev": sorted(os.listdir("/dev")),
                  "note": open("note.txt").read(), "cwd": os.getcwd(), "root_seen": os.path.exists(ROOT),
                  "ctypes": sorted(n for n in __import__("sys").modules if "ctypes" in n)}))
"""


def needs_namespaces() -> None:
    if not jail_command.namespaces_available():
        pytest.skip("user namespaces are not available on this machine")


def jailed_report(base: Path, *, without_ctypes: bool = False) -> dict:
    """Build the jail around REPORT (the way ``_probe_namespaces`` does) and return what it saw."""
    home, root = jail_command.layout(base)
    (home / "note.txt").write_text("copied in")
    argv = jail_command.jail_argv(home, root, [sys.executable, "-I", "-S", "-c",
                                               REPORT.replace("ROOT", repr(str(root)))])
    if without_ctypes:  # the same script with ``import ctypes`` failing: the mount(8) programs do the work
        at = argv.index(JAIL)
        argv[at:at + 1] = ["-c", "import sys, runpy; sys.modules['ctypes'] = None; "
                                 f"runpy.run_path({JAIL!r}, run_name='__main__')"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, cwd=home,
                          env=jail_command.child_environment(home), start_new_session=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    report["home"], report["home_on_disk"] = str(home), sorted(p.name for p in home.iterdir())
    return report


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    needs_namespaces()
    base = tmp_path_factory.mktemp("jail")
    try:
        return jailed_report(base)
    finally:
        jail_command.remove_tree(base)


def test_root_is_the_read_only_tmpfs(report):
    root = report["mounts"]["/"]
    assert (root["fstype"], root["source"]) == ("tmpfs", "mlalab-root")
    assert {"ro", "nosuid", "nodev", "relatime"} <= set(root["options"])
    assert "size=4096k" in root["super"] and "mode=755" in root["super"]
    assert report["writes"]["/hacked"] == "EROFS" and report["writes"]["/etc/hosts"] == "EROFS"
    assert report["root_seen"] is False  # the grader's folders are not there


def test_home_is_a_writable_noexec_tmpfs_that_never_reaches_the_disk(report):
    home = report["mounts"][report["home"]]
    assert (home["fstype"], home["source"]) == ("tmpfs", "mlalab-home")
    assert home["options"][0] == "rw" and {"nosuid", "nodev", "noexec"} <= set(home["options"])
    assert {"size=65536k", "nr_inodes=16384", "mode=755"} <= set(home["super"])  # 64 MB, the default
    assert report["cwd"] == report["home"] and report["note"] == "copied in"
    assert report["writes"]["written"] == "ok"
    assert report["home_on_disk"] == ["note.txt"]


def test_proc_is_read_only(report):
    proc = report["mounts"]["/proc"]
    assert proc["fstype"] == "proc"
    assert {"ro", "nosuid", "nodev", "noexec"} <= set(proc["options"])
    assert report["writes"]["/proc/self/comm"] == "EROFS"  # writable on a read-write /proc


def test_dev_holds_the_five_devices_only(report):
    dev = report["mounts"]["/dev"]
    assert (dev["fstype"], dev["source"]) == ("tmpfs", "mlalab-dev")
    assert {"ro", "nosuid", "noexec"} <= set(dev["options"]) and "nodev" not in dev["options"]
    assert report["dev"] == sorted([*jail.DEVICES, "fd", "stdin", "stdout", "stderr"])
    devices = sorted(p for p in report["mounts"] if p.startswith("/dev/"))
    assert devices == sorted(f"/dev/{name}" for name in jail.DEVICES)
    assert report["writes"]["/dev/hacked"] == "EROFS"


def test_every_host_folder_is_read_only_nosuid_nodev(report):
    ours = {"/", "/proc", "/dev", report["home"], *(f"/dev/{name}" for name in jail.DEVICES)}
    shown = {p: m for p, m in report["mounts"].items() if p not in ours}
    assert "/usr" in shown  # whole, not only the parts /bin, /lib... lead to
    for path, mount in shown.items():
        assert mount["options"][0] == "ro" and {"nosuid", "nodev"} <= set(mount["options"]), path


def test_no_ctypes_reaches_the_learner(report):
    assert report["ctypes"] == []


def test_the_mount_programs_fallback_builds_the_same_root(report, tmp_path):
    fallback = jailed_report(tmp_path, without_ctypes=True)

    def table(found: dict) -> dict:
        return {p.replace(found["home"], "HOME"): (m["options"], m["fstype"], m["source"])
                for p, m in found["mounts"].items()}

    assert table(fallback) == table(report)
    assert fallback["writes"] == report["writes"] and fallback["dev"] == report["dev"]


LOCKED = r"""
import json, os, sys, importlib.util
spec = importlib.util.spec_from_file_location("j", sys.argv[1])
jail = importlib.util.module_from_spec(spec); spec.loader.exec_module(jail)
source, target = sys.argv[2], sys.argv[3]
os.makedirs(target)
jail.bind(source, target)
options = next(line.split()[5] for line in open("/proc/self/mountinfo") if line.split()[4] == target)
print(json.dumps({"options": options.split(","), "ctypes": "ctypes" in sys.modules}))
"""


@pytest.mark.parametrize(("flags", "kept"), [("noexec,noatime", {"noexec", "noatime"}),
                                             ("strictatime", set()),
                                             ("nodiratime", {"nodiratime", "relatime"})])
def test_a_locked_flag_of_the_source_is_kept_on_the_remount(tmp_path, flags, kept):
    """A mount made in one user namespace and seen from a nested one has its flags locked: the bind's
    read-only remount must keep them (noexec named again; the atime ones kept by naming none)."""
    needs_namespaces()
    source, scratch = tmp_path / "source", tmp_path / "scratch"
    source.mkdir()
    scratch.mkdir()
    inner = f"{sys.executable} -I -S -c '{LOCKED}' {JAIL} {source} {scratch}/target"
    outer = (f"mount -t tmpfs -o {flags},nodev,nosuid src {source} && mount -t tmpfs scratch {scratch} && "
             f"exec unshare --user --map-root-user --mount --propagation private {inner}")
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
                           "sh", "-c", outer], capture_output=True, text=True, timeout=30, check=False,
                          env={"PATH": jail.TOOLS_PATH})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    options = set(found["options"])
    assert {"ro", "nosuid", "nodev"} | kept <= options
    assert not ({"noexec", "noatime", "nodiratime", "relatime"} - kept) & options  # nothing added either
    assert found["ctypes"] is True  # bind alone keeps the library; build_root drops it


@pytest.fixture
def keep_ctypes_modules():
    """The helpers load ctypes and build_root drops it from sys.modules: give this process its own back."""
    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] in jail.CTYPES_MODULES}
    yield
    jail.forget_ctypes()
    sys.modules.update(saved)


def test_a_failing_mount_names_the_operation_the_path_and_the_reason(tmp_path, keep_ctypes_modules):
    missing = str(tmp_path / "missing")
    with pytest.raises(jail.JailError) as failed:
        jail.mount(("mount", "--bind", missing, missing + "-target"), missing, missing + "-target", None,
                   jail.MS_BIND)
    # not root outside a namespace: EPERM; root (in a container): the path is not there
    assert failed.value.errno in (errno.EPERM, errno.ENOENT)
    assert str(failed.value) == f"mount --bind {missing} {missing}-target: {os.strerror(failed.value.errno)}"
    with pytest.raises(jail.JailError, match=rf"^umount -l {missing}: "):
        jail.umount_detach(missing)


def test_a_failed_build_root_still_drops_ctypes():
    """In a process that had ctypes loaded already (a fork server's), as after a successful build."""
    script = ("import ctypes, json, sys, importlib.util\n"
              f"spec = importlib.util.spec_from_file_location('j', {JAIL!r})\n"
              "jail = importlib.util.module_from_spec(spec); spec.loader.exec_module(jail)\n"
              "try:\n"
              "    jail.build_root({'root': '/nonexistent/root', 'home': '/nonexistent/home', 'readonly': []})\n"
              "except jail.JailError as exc:\n"
              "    print(json.dumps([str(exc), sorted(n for n in sys.modules if 'ctypes' in n)]))\n")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True,
                          timeout=30, check=False)
    message, left = json.loads(done.stdout)
    assert message.startswith("mount -t tmpfs -o size=4m,mode=755,nosuid,nodev mlalab-root /nonexistent/root: ")
    assert message.split(": ", 1)[1] in (os.strerror(errno.EPERM), os.strerror(errno.ENOENT))
    assert left == []


IN_PROCESS = r"""
import ctypes, json, socket, sys, importlib.util  # a fork server's process: ctypes and more loaded already
spec = importlib.util.spec_from_file_location("j", sys.argv[1])
jail = importlib.util.module_from_spec(spec); spec.loader.exec_module(jail)
jail.loopback_up()
jail.build_root(json.loads(sys.argv[2]))
left = sorted(n for n in sys.modules if "ctypes" in n)
with socket.socket() as server, socket.socket() as client:  # the loopback is up
    server.bind(("127.0.0.1", 0)); server.listen(); client.connect(server.getsockname())
root = next(line.split()[5] for line in open("/proc/self/mountinfo") if line.split()[4] == "/")
import ctypes as again  # from the read-only root, for whoever needs it next (the final unshare)
print(json.dumps({"left": left, "root": root.split(","), "cwd": __import__("os").getcwd(),
                  "again": again.sizeof(again.c_void_p)}))
"""


def test_build_root_in_process_as_a_fork_server_calls_it(tmp_path):
    needs_namespaces()
    home, root = jail_command.layout(tmp_path)
    argv = jail_command.jail_argv(home, root, ["true"])
    spec = argv[argv.index(JAIL) + 1]
    command = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--mount", "--fork", "--kill-child",
               "--propagation", "private", sys.executable, "-I", "-S", "-c", IN_PROCESS, JAIL, spec]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False, cwd=home,
                          env=jail_command.child_environment(home))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["left"] == []
    assert found["root"][:3] == ["ro", "nosuid", "nodev"] and found["cwd"] == str(home)
    assert found["again"] == struct.calcsize("P")
