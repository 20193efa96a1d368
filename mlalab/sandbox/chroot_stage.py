"""The ``chroot-seccomp`` isolation's stage: runs as root, drops everything, then execs the child.

Started by ``isolation.spawn_chroot`` as ``python -I -S chroot_stage.py SPEC_JSON -- CHILD_ARGV...``,
where the grader runs as root but user namespaces are refused (Docker's default seccomp profile,
Gradescope). Trusted code: no learner code has run yet. In this order:

1. loads ``seccomp.py`` (next to this file, by path) and ``ctypes`` while the machine's files are
   still visible;
2. resource limits for the learner's uid: processes (``RLIMIT_NPROC``: the uid is this grading's
   alone, so it bounds a fork bomb), address space, open files, CPU seconds, file size, no core;
3. ``chroot`` into the root ``chroot_root`` built and ``chdir`` to the learner's folder inside it;
4. no supplementary groups, then the learner's gid and uid (real, effective and saved: there is no
   way back to root), and a check that root is really gone;
5. ``no_new_privs`` and the seccomp filter (``seccomp.py`` says exactly what it refuses);
6. exec the child.

Standard library only and ``-S`` (no site-packages): nothing here may be importable from the
learner's side of the fence. Any failure ends the stage before learner code runs (exit 113).
"""

import importlib.util
import json
import os
import resource
import stat
import sys

HERE = os.path.dirname(os.path.realpath(__file__))


def load_seccomp():
    spec = importlib.util.spec_from_file_location("_mlalab_seccomp", os.path.join(HERE, "seccomp.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def set_limits(spec: dict) -> None:
    limits = {
        resource.RLIMIT_NPROC: int(spec.get("nproc", 64)),
        resource.RLIMIT_NOFILE: int(spec.get("nofile", 256)),
        resource.RLIMIT_CPU: int(spec.get("cpu_seconds", 300)),
        resource.RLIMIT_FSIZE: int(spec.get("file_mb", 32)) << 20,
        resource.RLIMIT_AS: int(spec.get("memory_mb", 2048)) << 20,
        resource.RLIMIT_DATA: int(spec.get("memory_mb", 2048)) << 20,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_MEMLOCK: 0,
        resource.RLIMIT_MSGQUEUE: 0,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))


def drop_to(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid) or os.getgroups():
        raise OSError("the learner's uid/gid did not take")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise OSError("root could be regained after dropping it")


def close_other_fds(keep: set[int]) -> None:
    """Only stdin/stdout/stderr and the event pipe cross into the jail: a folder's descriptor from
    outside would let ``fchdir`` walk out of the ``chroot``, so one is refused, not just closed."""
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        fd = int(name)
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue  # the listing's own descriptor, already closed
        if fd in keep and stat.S_ISDIR(mode):
            raise OSError(f"descriptor {fd} is a folder: it would lead out of the chroot")
        if fd > 2 and fd not in keep:
            os.close(fd)


def main() -> None:
    spec = json.loads(sys.argv[1])
    child_argv = sys.argv[sys.argv.index("--") + 1:]
    try:
        seccomp = load_seccomp()
        import ctypes  # noqa: F401 - loaded before the chroot (the filter is installed through it)

        close_other_fds({0, 1, 2, *map(int, spec.get("keep_fds", []))})
        set_limits(spec)
        os.chroot(spec["root"])
        os.chdir(spec["home"])
        drop_to(int(spec["uid"]), int(spec["gid"]))
        seccomp.install(os.getpid(), os.getpgid(0))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"mla-labs sandbox: could not build the chroot sandbox: {exc}", file=sys.stderr)
        os._exit(113)
    os.execv(child_argv[0], child_argv)


if __name__ == "__main__":
    main()
