"""Stage 1 of the Linux sandbox: runs as root of a fresh user+net+pid+mount+ipc+uts namespace.

Started by ``process.LearnerProcess`` (command line: ``jail_command.jail_argv``) as ``unshare --user
--map-root-user --net --pid --mount --ipc --uts --fork --kill-child python -I -S jail.py SPEC_JSON --
CHILD_ARGV...``. It is trusted code (no learner code has run yet) and does the privileged set-up
that needs root *inside* the namespaces:

1. brings up the loopback interface of the new (otherwise empty) network namespace;
2. builds a new, minimal root file system and pivots into it, so the learner's process sees only
   what it needs, read-only: the system's programs and libraries (``/usr``...), the Python
   installation and the virtualenv, and the sandbox's own code; plus its own folder (``home``,
   the only writable place: a small tmpfs, so nothing it writes reaches the disk), the folder with
   the Unix socket to the lab's AWS (read-only), a fresh ``/proc`` of its own PID namespace (no other process on the
   machine is visible), and a ``/dev`` with the harmless devices only (null, zero, full, random,
   urandom). The project (checks, lab tests, reference solutions), other submissions, the
   grader's files and home, ``/run`` (its Unix sockets) and ``/tmp`` simply do not exist there;
3. execs the learner child inside a *nested* user namespace where it holds no capability over
   these mounts, so it cannot undo them (umount/remount need CAP_SYS_ADMIN in the owner namespace;
   the old root is detached, so there is nothing underneath to reveal).

Standard library only and ``-S`` (no site-packages): nothing here may be importable from the
learner's side of the fence.
"""

import fcntl
import json
import os
import shutil
import socket
import struct
import subprocess
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
DEVICES = ("null", "zero", "full", "random", "urandom")
HOSTS = "127.0.0.1 localhost\n::1 localhost\n"
TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"  # mount, umount, pivot_root


class JailError(Exception):
    pass


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, check=False, env={"PATH": TOOLS_PATH})
    if done.returncode != 0:
        raise JailError(f"{' '.join(argv)}: {done.stderr.decode(errors='replace').strip()}")


def bind(source: str, target: str, *, writable: bool = False) -> None:
    run("mount", "--bind", source, target)
    flags = "remount,bind," + ("nosuid,nodev,noexec" if writable else "ro,nosuid,nodev")
    # A flag the source mount has is locked in a user namespace, and a classic remount that leaves it
    # out tries to clear it (EPERM): keep noatime/noexec when the machine set them.
    for extra in ("", ",noatime", ",noexec", ",noatime,noexec"):
        try:
            run("mount", "-o", flags + extra, target)
            return
        except JailError as exc:
            error = exc
    raise error


def inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def expose(root: str, path: str) -> None:
    """Make ``path`` of the host visible, read-only, at the same place under ``root``."""
    if not os.path.lexists(path) or os.path.lexists(inside(root, path)):
        return
    target = inside(root, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.islink(path):  # /bin -> usr/bin on merged-/usr systems: the same link, then its target
        link = os.readlink(path)
        os.symlink(link, target)
        expose(root, os.path.realpath(path))
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        open(target, "w").close()
    bind(path, target)


def build_root(spec: dict) -> None:
    root, home = spec["root"], spec["home"]
    run("mount", "-t", "tmpfs", "-o", "size=4m,mode=755,nosuid,nodev", "mlalab-root", root)
    for path in sorted(set(spec["readonly"]), key=len):
        if path != "/" and not any(path.startswith(p.rstrip("/") + "/") for p in spec["readonly"] if p != path):
            expose(root, path)
    # The learner's folder, at the same path as outside (paths in tracebacks match): a size-capped
    # tmpfs holding a copy of what ``LearnerProcess`` put there, gone with the namespace. Nothing the learner
    # writes reaches the machine's disk: no disk to fill, no tree left behind for the grader to delete.
    scratch = inside(root, home)
    os.makedirs(scratch, exist_ok=True)
    run("mount", "-t", "tmpfs", "-o", f"size={int(spec.get('scratch_mb', 64))}m,nr_inodes=16384,mode=755,"
        "nosuid,nodev,noexec", "mlalab-home", scratch)
    for entry in os.scandir(home):
        if entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, os.path.join(scratch, entry.name))
    # A /proc of this PID namespace only (read-only: no /proc/self/mem writes, no sysctl).
    os.makedirs(inside(root, "/proc"), exist_ok=True)
    run("mount", "-t", "proc", "-o", "ro,nosuid,nodev,noexec", "proc", inside(root, "/proc"))
    # A /dev with the harmless devices only: no disks, no /dev/shm, no terminals.
    dev = inside(root, "/dev")
    os.makedirs(dev, exist_ok=True)
    run("mount", "-t", "tmpfs", "-o", "size=64k,mode=755,nosuid,noexec", "mlalab-dev", dev)
    for name in DEVICES:
        open(os.path.join(dev, name), "w").close()
        run("mount", "--bind", os.path.join("/dev", name), os.path.join(dev, name))
    for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2")):
        os.symlink(link, os.path.join(dev, name))
    run("mount", "-o", "remount,bind,ro,nosuid,noexec", dev)
    os.makedirs(inside(root, "/etc"), exist_ok=True)
    with open(inside(root, "/etc/hosts"), "w") as f:
        f.write(HOSTS)
    os.makedirs(inside(root, "/tmp"), exist_ok=True)
    # Pivot: the new root becomes "/", the old one is detached (not just hidden under it).
    os.chdir(root)
    run("pivot_root", ".", ".")
    run("umount", "-l", ".")
    os.chdir("/")
    run("mount", "-o", "remount,bind,ro,nosuid,nodev", "/")
    os.chdir(home)


def main() -> None:
    spec = json.loads(sys.argv[1])
    child_argv = sys.argv[sys.argv.index("--") + 1 :]
    try:
        loopback_up()
        build_root(spec)
    except (OSError, JailError) as exc:
        # Trusted set-up failed: say so on stderr (captured as output) and never run learner code
        # in a half-built jail.
        print(f"mla-labs sandbox: could not build the Linux sandbox: {exc}", file=sys.stderr)
        os._exit(112)
    os.execvp("unshare", ["unshare", "--user", *child_argv])


if __name__ == "__main__":
    main()
