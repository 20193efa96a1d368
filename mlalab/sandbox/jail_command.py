"""Starting a process in the Linux jail: its folders, its command line, its environment, and whether
this machine can build the jail at all.

``jail.py`` does the work inside the namespaces; this is the grader's side of it: what the jail
shows read-only, the ``unshare`` command line that runs ``jail.py``, and the one probe (a real jail
around a trivial command) that decides between ``"linux-namespaces"`` and the ``"process"``
fallback (docs/security.md has the threat model).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
import threading
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# What the minimal root of the Linux sandbox shows besides Python: the system's programs and libraries
# (and the loader's cache: a Python in /usr/local/lib, as in the official images, needs it).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
                "/etc/localtime")

_PROBE_LOCK = threading.Lock()


def namespaces_available() -> bool:
    """True when this machine lets us build the Linux sandbox (probed once per process, by building
    the real jail around a trivial command). Thread-safe: the grader starts the probe early, in the
    background, and the learner's process waits for its answer."""
    with _PROBE_LOCK:
        return _probe_namespaces()


namespaces_available.cache_clear = lambda: _probe_namespaces.cache_clear()  # type: ignore[attr-defined]


@cache
def _probe_namespaces() -> bool:
    if sys.platform != "linux" or not all(shutil.which(tool, path=TOOLS_PATH)
                                          for tool in ("unshare", "mount", "umount", "pivot_root")):
        return False
    base = Path(tempfile.mkdtemp(prefix="mlalab-probe-"))
    try:
        home, root = layout(base)
        check = ("import os; open('probe', 'w').write('x'); "
                 f"print(len([p for p in os.listdir('/proc') if p.isdigit()]), os.path.exists({str(root)!r}))")
        argv = jail_argv(home, root, [sys.executable, "-I", "-S", "-c", check])
        probe = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False, cwd=home,
                               env=child_environment(home), start_new_session=True)
        # Its home is writable, only its own process is in /proc (a new PID namespace with its own
        # /proc), the machine's /tmp is not there (the minimal root), and nothing it wrote reached
        # the disk (home is a tmpfs).
        return probe.returncode == 0 and probe.stdout.split() == ["1", "False"] and not (home / "probe").exists()
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        remove_tree(base)


def layout(base: Path) -> tuple[Path, Path]:
    """``base/home``: the learner's folder (cwd, the module's copy; in the Linux sandbox a tmpfs is
    mounted over it and the copy taken in); ``base/root``: where the jail mounts the minimal root."""
    home, root = base / "home", base / "root"
    home.mkdir(mode=0o755)
    root.mkdir(mode=0o755)
    return home, root


def visible_paths() -> list[str]:
    """What the jail shows read-only: system libraries, this Python, its packages, the child."""
    paths: list[str] = list(SYSTEM_PATHS)
    prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    for name in ("boto3", "botocore"):  # wherever the learner's AWS SDK lives
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            prefixes.add(str(Path(spec.origin).resolve().parent.parent))
    for prefix in prefixes:
        paths += [prefix, os.path.realpath(prefix)]
    exe = sys.executable  # and every link on the way to the interpreter
    for _ in range(10):
        paths.append(os.path.dirname(exe))
        if not os.path.islink(exe):
            break
        exe = os.path.join(os.path.dirname(exe), os.readlink(exe))
    paths.append(os.path.dirname(os.path.realpath(sys.executable)))
    paths.append(str(HERE))
    return [p for p in dict.fromkeys(os.path.normpath(p) for p in paths) if p != "/" and os.path.lexists(p)]


def jail_spec(home: Path, root: Path, shared: tuple[Path, ...] = ()) -> dict:
    """What ``jail.py`` builds: ``shared`` are more folders of the grader's to show read-only (the bridge
    socket's)."""
    return {"home": str(home), "root": str(root), "readonly": visible_paths() + [str(p) for p in shared]}


def jail_argv(home: Path, root: Path, child_argv: list[str], shared: tuple[Path, ...] = ()) -> list[str]:
    spec = jail_spec(home, root, shared)
    return ["unshare", "--user", "--map-root-user", "--net", "--pid", "--mount", "--ipc", "--uts", "--fork",
            "--kill-child", "--propagation", "private",
            sys.executable, "-I", "-S", str(HERE / "jail.py"), json.dumps(spec), "--", *child_argv]


def child_environment(sandbox: Path) -> dict[str, str]:
    """Built from nothing: no variable of the grader (secrets, signing keys) reaches the learner."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(sandbox),
        "TMPDIR": str(sandbox),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "NO_PROXY": "*",
    }


def remove_tree(path: Path) -> None:
    """Delete a sandbox folder whatever learner code left in it (a tree too deep for rmtree's
    recursion, folders without permissions): never an exception, never a leftover if avoidable."""
    try:
        shutil.rmtree(path)
        return
    except (OSError, RecursionError):
        pass
    subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True, check=False)
    subprocess.run(["rm", "-rf", str(path)], capture_output=True, check=False)
