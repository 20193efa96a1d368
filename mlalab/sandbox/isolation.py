"""Which isolation grades the learner's code, and the ``chroot-seccomp`` one's grader side.

Three levels, strongest first (docs/security.md has the threat model of each):

- ``linux-namespaces``: user namespaces work (``jail_command.namespaces_available``);
- ``chroot-seccomp``: they do not, but the grader is root (Gradescope, Docker's default profile):
  ``chroot`` into a cached minimal root (``chroot_root``), a uid of its own per grading, no groups,
  rlimits, ``no_new_privs`` and a seccomp filter (``seccomp``), set up by ``chroot_stage.py``;
- ``process``: neither (a laptop): the audit-hook fallback, practice-grade.

``MLALAB_ISOLATION`` (``auto``, the default, or one of the three) forces a level, for CI and tests; a
level this machine cannot provide is refused with an :class:`IsolationUnavailable` that says why,
never silently replaced by a weaker one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

from mlalab.sandbox.bridge import UnixBridge
from mlalab.sandbox.forkserver import ForkedProcess, ForkServer, launch
from mlalab.sandbox.jail_command import HERE, child_environment, layout, remove_tree

LEVELS = ("process", "chroot-seccomp", "linux-namespaces")  # weakest first: rank = index
ENV = "MLALAB_ISOLATION"
_PROBE_LOCK = threading.Lock()
_SLOT_LOCK = threading.Lock()
NPROC = 96  # processes and threads of one grading's uid (OpenBLAS starts one thread per core)


class IsolationUnavailable(RuntimeError):
    """The isolation asked for (``MLALAB_ISOLATION``) cannot be built on this machine."""


def rank(level: str) -> int:
    """Order of strength (``process`` 0 < ``chroot-seccomp`` 1 < ``linux-namespaces`` 2); -1 if unknown."""
    return LEVELS.index(level) if level in LEVELS else -1


def choose_isolation(namespaces_available: Callable[[], bool]) -> str:
    """The level to grade with: ``MLALAB_ISOLATION`` if set (refused when unavailable), else the
    strongest this machine provides. ``namespaces_available`` is passed in so that tests patching
    ``process.namespaces_available`` keep working."""
    wanted = os.environ.get(ENV, "auto").strip() or "auto"
    if wanted not in (*LEVELS, "auto"):
        raise IsolationUnavailable(f"{ENV}={wanted!r} is not one of auto, {', '.join(reversed(LEVELS))}")
    if wanted == "process":
        return "process"
    if wanted == "linux-namespaces":
        if not namespaces_available():
            raise IsolationUnavailable(f"{ENV}=linux-namespaces, but this machine cannot build the namespace "
                                       "sandbox (unshare missing, or user namespaces refused)")
        return wanted
    if wanted == "chroot-seccomp":
        if (why := chroot_unavailable()) is not None:
            raise IsolationUnavailable(f"{ENV}=chroot-seccomp, but {why}")
        return wanted
    if namespaces_available():
        return "linux-namespaces"
    return "chroot-seccomp" if chroot_unavailable() is None else "process"


def chroot_unavailable() -> str | None:
    """None when the chroot-seccomp sandbox works here (probed once, by running a real one), else why not."""
    with _PROBE_LOCK:
        return _probe_chroot()


chroot_unavailable.cache_clear = lambda: _probe_chroot.cache_clear()  # type: ignore[attr-defined]


@cache
def _probe_chroot() -> str | None:
    if sys.platform != "linux":
        return "it needs Linux"
    if os.uname().machine not in ("x86_64", "aarch64"):
        return f"its seccomp filter knows x86_64 and aarch64 only, not {os.uname().machine}"
    if os.geteuid() != 0:
        return "the grader is not root (chroot and the learner's own uid need root)"
    base = Path(tempfile.mkdtemp(prefix="mlalab-probe-"))
    os.chmod(base, 0o755)
    try:
        home, _ = layout(base)
        check = ("import os, socket\ntry:\n    socket.socket(socket.AF_INET)\nexcept PermissionError:\n"
                 "    print(os.getuid() != 0, os.path.exists('/run'), os.path.exists('/proc'))\n")
        proc, _, extra, _ = spawn_chroot(base, {"memory_mb": 512}, 0, -1,
                                         [sys.executable, "-I", "-S", "-c", check])
        try:
            out, _ = proc.communicate(timeout=30)
        finally:
            if extra:
                remove_tree(extra)
        text = out.decode(errors="replace")
        if proc.returncode != 0 or text.split() != ["True", "True", "False"]:
            return f"a trial chroot sandbox did not behave (exit {proc.returncode}: {text.strip()[-300:]})"
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not available, and why
        return f"the chroot sandbox could not be built: {exc}"
    finally:
        remove_tree(base)
        del home


def allocate_uid(root: Path) -> tuple[int, Path]:
    """A uid no other grading uses: ``/run/<uid>`` is made atomically (``mkdir``) and removed with the
    grading. A folder left by a crashed grader is reused once no process runs as its uid."""
    from mlalab.sandbox.chroot_root import UID_COUNT, UID_FIRST

    run = root / "run"
    start = (os.getpid() * 7 + int(time.monotonic() * 1000)) % UID_COUNT
    with _SLOT_LOCK:
        for step in range(UID_COUNT):
            uid = UID_FIRST + (start + step) % UID_COUNT
            folder = run / str(uid)
            try:
                folder.mkdir(mode=0o711)
            except FileExistsError:
                if time.time() - folder.stat().st_mtime > 6 * 3600 and not _uid_running(uid):
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            return uid, folder
    raise IsolationUnavailable("every learner uid of the chroot sandbox is in use")


def _uid_running(uid: int) -> bool:
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    return True
            except OSError:
                pass
    return False


def spawn_chroot(base: Path, job: dict, port: int, event_fd: int, child_argv: list[str],
                 forks: ForkServer | None = None) -> tuple[subprocess.Popen | ForkedProcess, UnixBridge | None,
                                                          Path | None, str]:
    """Start ``child_argv`` in the chroot-seccomp sandbox. ``job``'s paths become the jail's own
    (``/run/<uid>/home``, its socket ``/run/<uid>/aws.sock``); what ``base/home`` holds is copied in.
    Returns what ``process.spawn_child`` returns: the process, the bridge, the folder to remove with
    the grading (``/run/<uid>`` of the root) and ``"chroot-seccomp"``."""
    from mlalab.sandbox.chroot_root import jail_root

    root = jail_root()
    uid, run_dir = allocate_uid(root)
    bridge = None
    try:
        inner = f"/run/{uid}"
        home = run_dir / "home"
        home.mkdir(mode=0o700)
        for entry in os.scandir(base / "home"):
            if entry.is_file(follow_symlinks=False):
                shutil.copyfile(entry.path, home / entry.name)
                os.chown(home / entry.name, uid, uid)
        os.chown(home, uid, uid)
        os.chmod(home, 0o700)
        if "module_path" in job:
            job["module_path"] = f"{inner}/home/{Path(job['module_path']).name}"
        job["home"] = f"{inner}/home"
        job["unix_socket"] = f"{inner}/aws.sock"
        job["isolation"] = "chroot-seccomp"
        if port:
            bridge = UnixBridge(str(run_dir / "aws.sock"), port)
            os.chown(run_dir / "aws.sock", uid, uid)
            os.chmod(run_dir / "aws.sock", 0o600)  # that uid only: other gradings have other uids
        spec = {"root": str(root), "home": job["home"], "uid": uid, "gid": uid, "nproc": NPROC,
                "keep_fds": [event_fd] if event_fd >= 0 else [],
                "memory_mb": max(2048, int(job.get("memory_mb", 1024)))}
        argv = [sys.executable, "-I", "-S", str(HERE / "chroot_stage.py"), json.dumps(spec), "--", *child_argv]
        env = {**child_environment(Path(job["home"])), "OPENBLAS_NUM_THREADS": "1"}
        proc = launch(argv, {"isolation": "chroot-seccomp", "cwd": "/", "env": env, "stage": spec}, event_fd, forks)
    except BaseException:
        if bridge:
            bridge.close()
        remove_tree(run_dir)
        raise
    return proc, bridge, run_dir, "chroot-seccomp"


PRACTICE_NOTE = ("warning: this grading ran practice-grade (isolation \"process\"): the learner's code ran as the "
                 "grader's user, guarded by an audit hook only, which is not a security boundary. Grade a course "
                 "on Linux with user namespaces, or as root (chroot-seccomp); see docs/security.md")


def practice_note(result: object) -> str | None:
    """The warning ``mlalab grade`` prints when a lab of ``result`` (a ``SubmissionResult``) was graded
    in the process-only fallback, else None."""
    labs = getattr(result, "labs", [])
    return PRACTICE_NOTE if any(getattr(lab, "isolation", "") == "process" for lab in labs) else None


def require_isolation(level: str, namespaces_available: Callable[[], bool] | None = None) -> str:
    """The level this machine grades with, if it is at least ``level``; else :class:`IsolationUnavailable`
    saying what it would be (``grade-many --require-isolation``)."""
    if rank(level) < 0:
        raise IsolationUnavailable(f"unknown isolation {level!r}: one of {', '.join(reversed(LEVELS))}")
    if namespaces_available is None:
        from mlalab.sandbox.jail_command import namespaces_available
    got = choose_isolation(namespaces_available)
    if rank(got) < rank(level):
        raise IsolationUnavailable(f"this machine grades with isolation {got!r}, below the required {level!r} "
                                   "(docs/security.md says what each level needs)")
    return got
