"""Optional extras a lab can ask for (``extras: [sdk]`` in its lab.yaml), installed the first time a
learner starts or checks that lab.

``make lab-1`` installs only what every lab needs. A lab that lets the learner use the SageMaker Python
SDK (``sagemaker-core``: about 270 MB with pandas and scipy, 10 to 30 s to install) asks for the ``sdk``
extra, and ``mlalab start N`` / ``mlalab check N`` install it then, with the virtualenv's own pip. The
requirements come from ``[project.optional-dependencies]`` in pyproject.toml (the one place they are
written; ``pip install -e '.[sdk]'`` installs the same).

Offline, the install fails: the learner gets one message that says what is missing, that the lab can
still be done with boto3, and the command to run once online. Nothing is retried in a loop, and
``MLALAB_NO_INSTALL=1`` (graders, CI images built ahead) turns installing off altogether.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from packaging.requirements import InvalidRequirement, Requirement

from mlalab.catalog import PROJECT_ROOT, CatalogError, Lab

DISTRIBUTION = "mla-labs"
NO_INSTALL = "MLALAB_NO_INSTALL"
PIP_TIMEOUT = 600  # seconds for the whole install; a stalled network ends in a message, not a hang
# What each extra is for, in the learner's words.
PURPOSE = {"sdk": "the SageMaker Python SDK (sagemaker-core: DefaultModelMonitor, ModelQualityMonitor, Session)"}



class ExtraInstallError(Exception):
    """An extra could not be installed: the message is for the learner, one paragraph."""


@dataclass(frozen=True)
class InstallResult:
    returncode: int
    output: str = ""


Installer = Callable[[Sequence[str]], InstallResult]


def requirements(extra: str, pyproject: Path | None = None) -> tuple[str, ...]:
    """The requirements of ``extra``: from pyproject.toml in a checkout, else from the installed
    distribution's metadata (``Requires-Dist: ...; extra == "sdk"``)."""
    path = pyproject or PROJECT_ROOT / "pyproject.toml"
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))["project"].get("optional-dependencies", {})
        except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
            raise CatalogError(f"{path}: cannot read [project.optional-dependencies]: {exc}") from exc
        if extra not in table:
            raise CatalogError(f"a lab asks for the extra {extra!r}, which {path.name} does not define "
                               f"(it defines: {', '.join(sorted(table)) or 'none'})")
        return tuple(str(r) for r in table[extra])
    found = []
    for line in importlib.metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(line)
        if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}) \
                and not requirement.marker.evaluate({"extra": ""}):
            requirement.marker = None
            found.append(str(requirement))
    if not found:
        raise CatalogError(f"a lab asks for the extra {extra!r}, which {DISTRIBUTION} does not define")
    return tuple(found)


def satisfied(requirement: str) -> bool:
    """Whether the installed distribution meets ``requirement`` (name and version range)."""
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as exc:
        raise CatalogError(f"invalid requirement {requirement!r} in pyproject.toml: {exc}") from exc
    try:
        version = importlib.metadata.version(parsed.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return parsed.specifier.contains(version, prereleases=True)


def missing(extras: Sequence[str], pyproject: Path | None = None) -> list[str]:
    """The requirements of ``extras`` that are not installed (in order, without repeats)."""
    wanted = [r for extra in extras for r in requirements(extra, pyproject)]
    return [r for r in dict.fromkeys(wanted) if not satisfied(r)]


def pip_install(requirements: Sequence[str]) -> InstallResult:
    """Install with this interpreter's pip (the virtualenv's): quiet, one retry, bounded in time."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--retries", "1", "--timeout", "20", *requirements]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return InstallResult(124, f"pip did not finish within {PIP_TIMEOUT} s")
    except OSError as exc:
        return InstallResult(127, f"could not run pip: {exc}")
    return InstallResult(done.returncode, (done.stdout or "") + (done.stderr or ""))


def _command(requirements: Sequence[str]) -> str:
    return f"{sys.executable} -m pip install " + " ".join(f"'{r}'" for r in requirements)


def ensure_extras(lab: Lab, *, installer: Installer = pip_install, out: TextIO | None = None,
                  pyproject: Path | None = None) -> list[str]:
    """Install what ``lab`` asks for and is not installed yet; returns the requirements installed
    (empty when nothing was needed). Raises :class:`ExtraInstallError` with a learner-facing message
    when installing is off or fails (offline): the caller decides whether the lab can go on."""
    if not lab.extras:
        return []
    needed = missing(lab.extras, pyproject)
    if not needed:
        return []
    out = out if out is not None else sys.stderr
    what = "; ".join(PURPOSE.get(e, e) for e in lab.extras)
    if os.environ.get(NO_INSTALL, "").strip() not in ("", "0"):
        raise ExtraInstallError(f"lab {lab.number} can use {what}, which is not installed and {NO_INSTALL} is set. "
                                f"Install it with: {_command(needed)}")
    print(f"Lab {lab.number} can use {what}: installing {', '.join(needed)} (once: 10 to 30 s, about 270 MB)…",
          file=out, flush=True)
    started = time.monotonic()
    result = installer(needed)
    if result.returncode != 0:
        last = [line for line in result.output.strip().splitlines() if line.strip()][-3:]
        detail = (" pip said: " + " | ".join(line.strip() for line in last)) if last else ""
        raise ExtraInstallError(
            f"could not install {', '.join(needed)} (pip exit {result.returncode}; are you offline?).{detail} "
            f"The lab can still be done with boto3; to use the SDK, run when you are online: {_command(needed)}")
    importlib.invalidate_caches()  # this process may look for the new packages later
    print(f"Installed {', '.join(needed)} in {time.monotonic() - started:.0f} s.", file=out, flush=True)
    return needed

