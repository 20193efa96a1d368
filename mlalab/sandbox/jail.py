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
learner's side of the fence. The mounts are system calls (mount(2), umount2(2), pivot_root(2) through
``ctypes``, which leaves ``sys.modules`` once the root is built): the mount(8) programs they replace cost
~0.05 s of CPU per learner process, and remain the fallback where ctypes or the system call is missing.
"""

import fcntl
import json
import os
import struct
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
AF_INET, SOCK_DGRAM = 2, 2
DEVICES = ("null", "zero", "full", "random", "urandom")
HOSTS = "127.0.0.1 localhost\n::1 localhost\n"
TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"  # mount, umount, pivot_root: the fallbacks of the system calls
# <linux/mount.h>; the same numbers on every architecture.
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 0x1, 0x2, 0x4, 0x8, 0x20, 0x1000
MNT_DETACH = 2
# pivot_root has no libc wrapper: its number per 64-bit architecture (arch/x86/entry/syscalls/syscall_64.tbl,
# include/uapi/asm-generic/unistd.h); elsewhere the pivot_root program does it.
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
CTYPES_MODULES = ("ctypes", "_ctypes")

_libc_cache: list = []  # [(ctypes, libc) or None]: loaded on first use, dropped at the end of build_root


class JailError(Exception):
    """A set-up step failed: the message names the operation (as the equivalent command line), its path
    and the system's reason; ``errno`` is set when a system call failed."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


def loopback_up() -> None:
    # _socket, not socket: the same object for an ioctl without socket.py's imports (enum, selectors).
    import _socket

    s = _socket.socket(AF_INET, SOCK_DGRAM)
    try:
        ifreq = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))
    finally:
        s.close()


def run(*argv: str) -> None:
    """A set-up program (the fallback when a system call cannot be made from here)."""
    import subprocess  # only for the fallbacks: its imports cost more than the jail's system calls

    done = subprocess.run(argv, capture_output=True, check=False, env={"PATH": TOOLS_PATH})
    if done.returncode != 0:
        raise JailError(f"{' '.join(argv)}: {done.stderr.decode(errors='replace').strip()}")


def libc():
    """``(ctypes, libc)`` with ``mount``, ``umount2`` and ``syscall`` typed, or None when this Python
    has no working ctypes (built without libffi): then the programs do the work, as they always could."""
    if not _libc_cache:
        try:
            import ctypes

            lib = ctypes.CDLL(None, use_errno=True)  # the process's own libc, no library search
            lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                                  ctypes.c_char_p]
            lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
            lib.syscall.restype = ctypes.c_long
            _libc_cache.append((ctypes, lib))
        except (ImportError, OSError, AttributeError):
            _libc_cache.append(None)
    return _libc_cache[0]


def forget_ctypes() -> None:
    """Leave no ctypes behind for the learner's code (the module, its submodules, the C extension)."""
    _libc_cache.clear()
    for name in [n for n in sys.modules if n.split(".")[0] in CTYPES_MODULES]:
        del sys.modules[name]


def _failed(ctypes, argv: tuple[str, ...]) -> JailError:
    errno = ctypes.get_errno()
    return JailError(f"{' '.join(argv)}: {os.strerror(errno)}", errno)


def _path(path: str | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def mount(argv: tuple[str, ...], source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    """mount(2), or ``argv`` (the same mount as a command line: also the error message's operation)."""
    loaded = libc()
    if loaded is None:
        run(*argv)
        return
    ctypes, lib = loaded
    if lib.mount(_path(source), _path(target), _path(fstype), flags, _path(data)) != 0:
        raise _failed(ctypes, argv)


def bind(source: str, target: str, *, writable: bool = False) -> None:
    mount(("mount", "--bind", source, target), source, target, None, MS_BIND)
    options = "remount,bind," + ("nosuid,nodev,noexec" if writable else "ro,nosuid,nodev")
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (MS_NOEXEC if writable else MS_RDONLY)
    # A flag the source mount has is locked in a user namespace, and a remount that leaves it out tries to
    # clear it (EPERM): keep noexec when the machine set it. The atime flags need no retry with the system
    # call: a remount naming none keeps the mount's own (fs/namespace.c, path_mount: "The default atime for
    # remount is preservation"), whereas mount(8) (util-linux 2.38) adds MS_RELATIME, hence its ",noatime".
    extras = ("", ",noatime", ",noexec", ",noatime,noexec")
    if libc() is not None:
        extras = ("", ",noexec")
    for extra in extras:
        try:
            mount(("mount", "-o", options + extra, target), None, target, None,
                  flags | (MS_NOEXEC if "noexec" in extra else 0))
            return
        except JailError as exc:
            error = exc
    raise error


def umount_detach(path: str) -> None:
    """umount2(path, MNT_DETACH): ``umount -l``."""
    loaded = libc()
    if loaded is None:
        run("umount", "-l", path)
        return
    ctypes, lib = loaded
    if lib.umount2(_path(path), MNT_DETACH) != 0:
        raise _failed(ctypes, ("umount", "-l", path))


def pivot_here() -> None:
    """pivot_root(".", "."): the current folder becomes "/", the old root is stacked on it (pivot_root(2)
    NOTES: then ``umount2(".", MNT_DETACH)`` detaches it)."""
    loaded = libc()
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if loaded is None or number is None or loaded[0].sizeof(loaded[0].c_void_p) != 8:  # not a 32-bit ABI
        run("pivot_root", ".", ".")
        return
    ctypes, lib = loaded
    if lib.syscall(ctypes.c_long(number), ctypes.c_char_p(b"."), ctypes.c_char_p(b".")) != 0:
        raise _failed(ctypes, ("pivot_root", ".", f". (in {os.getcwd()})"))


def copy_file(source: str, target: str) -> None:
    """The bytes of ``source`` into a new ``target`` (shutil.copyfile's job, without its imports)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)


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
    """The minimal root (module docstring), pivoted into; the mounts are system calls (``ctypes``, which
    leaves ``sys.modules`` at the end, built or not), each with its mount(8) equivalent as the fallback."""
    try:
        _build_root(spec)
    finally:
        forget_ctypes()


def _build_root(spec: dict) -> None:
    root, home = spec["root"], spec["home"]
    mount(("mount", "-t", "tmpfs", "-o", "size=4m,mode=755,nosuid,nodev", "mlalab-root", root),
          "mlalab-root", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    # Real folders before links, then the shortest first (not the set's hash order): /usr itself, whole,
    # before /bin -> usr/bin, which would otherwise leave only /usr/bin of it.
    for path in sorted(set(spec["readonly"]), key=lambda p: (os.path.islink(p), len(p), p)):
        if path != "/" and not any(path.startswith(p.rstrip("/") + "/") for p in spec["readonly"] if p != path):
            expose(root, path)
    # The learner's folder, at the same path as outside (paths in tracebacks match): a size-capped
    # tmpfs holding a copy of what ``LearnerProcess`` put there, gone with the namespace. Nothing the learner
    # writes reaches the machine's disk: no disk to fill, no tree left behind for the grader to delete.
    scratch = inside(root, home)
    os.makedirs(scratch, exist_ok=True)
    size = f"size={int(spec.get('scratch_mb', 64))}m,nr_inodes=16384,mode=755"
    mount(("mount", "-t", "tmpfs", "-o", f"{size},nosuid,nodev,noexec", "mlalab-home", scratch),
          "mlalab-home", scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, size)
    for entry in os.scandir(home):
        if entry.is_file(follow_symlinks=False):
            copy_file(entry.path, os.path.join(scratch, entry.name))
    # A /proc of this PID namespace only (read-only: no /proc/self/mem writes, no sysctl).
    proc = inside(root, "/proc")
    os.makedirs(proc, exist_ok=True)
    mount(("mount", "-t", "proc", "-o", "ro,nosuid,nodev,noexec", "proc", proc),
          "proc", proc, "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # A /dev with the harmless devices only: no disks, no /dev/shm, no terminals.
    dev = inside(root, "/dev")
    os.makedirs(dev, exist_ok=True)
    mount(("mount", "-t", "tmpfs", "-o", "size=64k,mode=755,nosuid,noexec", "mlalab-dev", dev),
          "mlalab-dev", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")
    for name in DEVICES:
        device, target = os.path.join("/dev", name), os.path.join(dev, name)
        open(target, "w").close()
        mount(("mount", "--bind", device, target), device, target, None, MS_BIND)
    for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2")):
        os.symlink(link, os.path.join(dev, name))
    mount(("mount", "-o", "remount,bind,ro,nosuid,noexec", dev),
          None, dev, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC)
    os.makedirs(inside(root, "/etc"), exist_ok=True)
    with open(inside(root, "/etc/hosts"), "w") as f:
        f.write(HOSTS)
    os.makedirs(inside(root, "/tmp"), exist_ok=True)
    # Pivot: the new root becomes "/", the old one is detached (not just hidden under it).
    os.chdir(root)
    pivot_here()
    umount_detach(".")
    os.chdir("/")
    mount(("mount", "-o", "remount,bind,ro,nosuid,nodev", "/"),
          None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
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
