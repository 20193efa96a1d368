"""The minimal root of the ``chroot-seccomp`` isolation, built without mounts, as root.

Where user namespaces are refused (Docker's default seccomp profile, Gradescope) but the grader is
root, the learner's process is ``chroot``-ed into a private folder that holds exactly what it needs,
as hard links (copies across file systems) of the originals:

- the Python installation (its standard library without ``test``/``idlelib``/``tkinter``/``turtledemo``)
  and the virtualenv, at their own paths, so ``sys.executable`` and tracebacks read the same;
- the sandbox's own code (``mlalab/sandbox/*.py``: copies);
- the shared libraries that ``ldd`` names for the interpreter and every extension module (and
  ``libgcc_s``, which the C library loads when a thread exits);
- ``/etc``: ``ld.so.cache``, ``localtime``, ``hosts`` (localhost), and ``passwd``/``group`` entries for the
  learners' uids only (``learner<uid>``; no grader account);
- ``/dev``: ``null``, ``zero``, ``full``, ``random``, ``urandom`` (``mknod`` as root; where ``mknod`` is
  refused, ``null`` becomes an empty read-only file and the others are left out);
- ``/run``: mode 0711, where each grading gets ``/run/<uid>/`` (the bridge's socket, owned by that
  uid, mode 0600) and ``/run/<uid>/home`` (the learner's folder, owned by that uid, mode 0700).

Every folder is root's, mode 0755; files keep their owner (root) and mode, and none is writable by
others (a file that is gets a copy without that bit): the learner's uid can write nowhere but its
home. There is no ``/proc``, no ``/tmp``, no ``/root`` beyond the path to the Python installation, and
no file of the project but the sandbox's code.

The root is cached per machine under ``/var/cache/mlalab/chroot`` (root's, 0755; ``MLALAB_CHROOT_CACHE``
moves it), keyed on the interpreter, its version, the virtualenv's package folders and the sandbox's
code: a change to any of them builds a new root (and removes old ones no grading uses).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import site
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from mlalab.sandbox.jail_command import HERE

CACHE_DIR = Path(os.environ.get("MLALAB_CHROOT_CACHE", "/var/cache/mlalab/chroot"))
UID_FIRST, UID_COUNT = 64000, 1000  # one uid per concurrent grading (inside a 65536-uid container map)
STDLIB_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3"}
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9)}
EXTRA_LIBRARIES = ("libgcc_s.so.1",)  # dlopen()ed by glibc when a thread exits: ldd cannot see it
_LOCK = threading.Lock()
_BUILT: dict[str, Path] = {}
STATS: dict[str, float] = {}  # the last build: seconds, files, bytes (for bench and tests)


class ChrootError(Exception):
    """The chroot root cannot be built here (not root, mknod refused for /dev/null...)."""


def python_trees() -> list[Path]:
    """The folders of the Python installation and the virtualenv the child needs."""
    trees = {Path(sys.base_prefix) / "bin", Path(sys.base_prefix) / "lib", Path(sys.prefix) / "bin",
             Path(sys.prefix) / "lib", Path(sys.prefix) / "pyvenv.cfg", *map(Path, site.getsitepackages())}
    for name in ("boto3", "botocore"):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            trees.add(Path(spec.origin).parent.parent)
    if (Path(sys.prefix) / "lib64").exists():
        trees.add(Path(sys.prefix) / "lib64")
    return sorted({t for t in trees if t.exists()}, key=lambda p: len(str(p)))


def fingerprint() -> str:
    """Changes when the interpreter, its version, the installed packages or the sandbox's code do."""
    digest = hashlib.sha256()
    exe = os.path.realpath(sys.executable)
    st = os.stat(exe)
    digest.update(f"{exe}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{sys.version}|{sys.prefix}".encode())
    for tree in python_trees():
        if tree.is_dir() and tree.name == "site-packages":
            digest.update(f"{tree}|{tree.stat().st_mtime_ns}".encode())
            for entry in sorted(os.scandir(tree), key=lambda e: e.name):
                digest.update(f"{entry.name}|{entry.stat(follow_symlinks=False).st_mtime_ns}".encode())
    for path in sorted(HERE.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def inside(root: Path, path: str | Path) -> Path:
    return root / str(path).lstrip("/")


def _mirror_link(link: Path, target: Path) -> None:
    """A symbolic link met on the way to a path, recreated (once) at its place under the root."""
    if not os.path.lexists(target):
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        os.symlink(os.readlink(link), target)


def _place(root: Path, source: str, *, copy: bool = False) -> None:
    """Put ``source`` (a file) at its own path under ``root``: a hard link, or a copy across file
    systems or when the original is writable by others. Folders on the way are created 0755 and
    symbolic links on the way are reproduced (``/lib`` -> ``usr/lib`` on merged-/usr systems)."""
    parts = Path(source).parts[1:]
    current = Path("/")
    for i, part in enumerate(parts):
        current = current / part
        target = inside(root, current)
        if os.path.islink(current):
            _mirror_link(current, target)
            resolved = os.path.realpath(current)
            _place(root, os.path.join(resolved, *parts[i + 1:]) if i + 1 < len(parts) else resolved, copy=copy)
            return
        if i + 1 < len(parts):
            if not target.is_dir():
                target.mkdir(mode=0o755, parents=True, exist_ok=True)
            continue
        if os.path.lexists(target):
            return
        _link_file(current, target, copy=copy)


def _link_file(source: Path, target: Path, *, copy: bool = False) -> None:
    mode = source.stat().st_mode
    if copy or mode & stat.S_IWOTH or mode & stat.S_ISUID or mode & stat.S_ISGID:
        shutil.copyfile(source, target)
        os.chmod(target, stat.S_IMODE(mode) & 0o755)
        return
    try:
        os.link(source, target)
    except OSError:  # another file system (EXDEV) or hard links refused: a copy
        shutil.copyfile(source, target)
        os.chmod(target, stat.S_IMODE(mode) & 0o755)


def _place_tree(root: Path, tree: Path, counts: dict) -> list[str]:
    """Link a whole tree (its symlinks kept as symlinks); returns the ELF files found in it."""
    elves: list[str] = []
    if tree.is_file() or tree.is_symlink() and not tree.is_dir():
        _place(root, str(tree))
        return elves
    _place_dir(root, tree)
    stdlib = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    for folder, dirs, files in os.walk(tree):
        here = Path(folder)
        if here == stdlib:  # the tests and GUI of the standard library; its site-packages unless the venv uses it
            skip = STDLIB_SKIP | ({"site-packages"} if sys.prefix != sys.base_prefix and not _system_site() else set())
            dirs[:] = [d for d in dirs if d not in skip]
        target_dir = inside(root, here)
        for name in dirs:
            source = here / name
            target = target_dir / name
            if source.is_symlink():
                if not os.path.lexists(target):
                    os.symlink(os.readlink(source), target)
            elif not target.exists():
                target.mkdir(mode=0o755)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        for name in files:
            source, target = here / name, target_dir / name
            if os.path.lexists(target):
                continue
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
                continue
            if not source.is_file():
                continue  # sockets, fifos: never
            _link_file(source, target)
            counts["files"] += 1
            counts["bytes"] += source.stat().st_size
            if name.endswith(".so") or ".so." in name or name.startswith("python"):
                elves.append(str(source))
    return elves


def _system_site() -> bool:
    """Whether the virtualenv also sees the base installation's site-packages."""
    cfg = Path(sys.prefix) / "pyvenv.cfg"
    text = cfg.read_text() if cfg.is_file() else ""
    return any(line.replace(" ", "").lower() == "include-system-site-packages=true" for line in text.splitlines())


def _place_dir(root: Path, directory: Path) -> None:
    """The folder itself (and the path to it) under root, following links on the way."""
    current = Path("/")
    for i, part in enumerate(directory.parts[1:]):
        current = current / part
        target = inside(root, current)
        if os.path.islink(current):
            _mirror_link(current, target)
            _place_dir(root, Path(os.path.realpath(current), *directory.parts[i + 2:]))
            return
        if not target.is_dir():
            target.mkdir(mode=0o755, parents=True, exist_ok=True)


def shared_libraries(elves: list[str]) -> set[str]:
    """Every shared library ``ldd`` names for these files (absolute paths, as the loader finds them)."""
    found: set[str] = set()
    for start in range(0, len(elves), 200):
        done = subprocess.run(["ldd", *elves[start:start + 200]], capture_output=True, text=True, check=False,
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
        for line in done.stdout.splitlines():
            line = line.strip()
            if "=>" in line:
                path = line.split("=>", 1)[1].strip().split(" (", 1)[0].strip()
            elif line.startswith("/") and " (0x" in line:
                path = line.split(" (", 1)[0]
            else:
                continue
            if path.startswith("/") and os.path.exists(path):
                found.add(path)
    return found


def _system_library(name: str) -> str | None:
    done = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/sbin:/sbin:/usr/bin:/bin", "LC_ALL": "C"})
    for line in done.stdout.splitlines():
        if line.strip().startswith(name + " ") and "=>" in line:
            return line.split("=>", 1)[1].strip()
    return None


def _etc(root: Path) -> None:
    etc = inside(root, "/etc")
    etc.mkdir(mode=0o755, exist_ok=True)
    for name in ("ld.so.cache", "localtime"):
        source = Path("/etc") / name
        if source.exists():
            shutil.copyfile(source, etc / name)  # localtime is a link into zoneinfo: its content
            os.chmod(etc / name, 0o644)
    (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    uids = range(UID_FIRST, UID_FIRST + UID_COUNT)
    (etc / "passwd").write_text("".join(f"learner{u}:x:{u}:{u}::/run/{u}/home:/usr/sbin/nologin\n" for u in uids))
    (etc / "group").write_text("".join(f"learner{u}:x:{u}:\n" for u in uids))
    for name in ("passwd", "group", "hosts"):
        os.chmod(etc / name, 0o644)


def _dev(root: Path) -> list[str]:
    """The harmless devices; returns what could not be made."""
    dev = inside(root, "/dev")
    dev.mkdir(mode=0o755, exist_ok=True)
    missing = []
    for name, (major, minor) in DEVICES.items():
        try:
            os.mknod(dev / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
            os.chmod(dev / name, 0o666)
        except OSError:
            missing.append(name)
    if "null" in missing:  # readers get an empty file; nobody can write it
        (dev / "null").touch(mode=0o444)
        os.chmod(dev / "null", 0o444)
    return missing


def build(root: Path) -> dict:
    """Build the root at ``root`` (which must not exist). Returns counts and time."""
    started = time.monotonic()
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    counts = {"files": 0, "bytes": 0}
    elves = [os.path.realpath(sys.executable)]
    for tree in python_trees():
        elves += _place_tree(root, tree, counts)
    for path in sorted(HERE.glob("*.py")):
        _place(root, str(path), copy=True)
    libraries = shared_libraries(sorted(set(elves)))
    for name in EXTRA_LIBRARIES:
        if (path := _system_library(name)) is not None:
            libraries.add(path)
    for library in sorted(libraries):
        _place(root, library)
    _etc(root)
    missing = _dev(root)
    run = inside(root, "/run")
    run.mkdir(mode=0o711, exist_ok=True)
    os.chmod(run, 0o711)
    for folder, dirs, _ in os.walk(root):  # every folder root's and 0755 (the /root on the way too)
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path) and path != str(run):
                os.chmod(path, 0o755)
    info = {"seconds": round(time.monotonic() - started, 3), "files": counts["files"], "bytes": counts["bytes"],
            "libraries": len(libraries), "missing_devices": missing}
    (root.parent / (root.name + ".json")).write_text(json.dumps(info))
    return info


def jail_root() -> Path:
    """The cached root for this interpreter, virtualenv and sandbox code, built if needed (as root)."""
    if os.geteuid() != 0:
        raise ChrootError("the chroot-seccomp isolation needs the grader to run as root")
    key = fingerprint()
    with _LOCK:
        if key in _BUILT and _BUILT[key].is_dir():
            return _BUILT[key]
        CACHE_DIR.mkdir(parents=True, exist_ok=True, mode=0o755)
        for folder in (CACHE_DIR, *CACHE_DIR.parents):
            st = folder.stat()
            if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
                raise ChrootError(f"{folder} must be root's and not writable by others (the jail is built there)")
        root = CACHE_DIR / key
        with open(CACHE_DIR / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another grader process may be building the same root
            if not root.is_dir():
                building = CACHE_DIR / f"{key}.building-{os.getpid()}"
                shutil.rmtree(building, ignore_errors=True)
                info = build(building)
                os.rename(CACHE_DIR / f"{building.name}.json", CACHE_DIR / f"{key}.json")
                os.rename(building, root)
                STATS.update(info)
                _remove_stale(key)
        _BUILT[key] = root
        return root


def _remove_stale(current: str) -> None:
    """Old roots (another venv or sandbox version) that no grading uses any more."""
    for entry in CACHE_DIR.iterdir():
        name = entry.name.split(".", 1)[0]
        if name == current or not entry.is_dir() or ".building-" in entry.name:
            continue
        run = entry / "run"
        if run.is_dir() and any(run.iterdir()):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        (CACHE_DIR / f"{name}.json").unlink(missing_ok=True)


def root_size(root: Path) -> int:
    """Bytes of the files under ``root`` (hard links count at their full size)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total
