"""Gradescope's ``results.json``, and the autograder zip that produces it on Gradescope.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds the
image, then ``run_autograder`` for every submission (placed in ``/autograder/submission``) and
uploads ``/autograder/results/results.json``. All text is shown with ``output_format: text``, so
learner output needs no HTML escaping here. The integrity object lives in ``extra_data``, the place
Gradescope's schema keeps data it does not interpret.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from mlalab import course
from mlalab.formats.integrity import clean_text, sign
from mlalab.formats.json_format import graded_checks, number
from mlalab.results import SubmissionResult

SOURCE_DIR = "mla-labs"  # the project's folder inside the zip, i.e. /autograder/source/mla-labs
PROJECT_ENTRIES = ("pyproject.toml", "README.md", *course.DIRECTORIES)
EXCLUDED_NAMES = {"__pycache__", ".venv", "workspace", ".pytest_cache", ".ruff_cache", ".git"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same project always builds the same zip

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, while it builds the autograder image.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# The labs are built and tested on Python 3.11; Ubuntu 22.04 images package it as python3.11.
apt-get install -y python3.11 python3.11-venv || apt-get install -y python3 python3-venv
PYTHON=python3.11
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "mla-labs needs Python 3.11+"'
"$PYTHON" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
# As Gradescope setups do: install the dependencies, and run the grader from its source folder (so labs/,
# lab metadata and test modules, stays beside mlalab/). Not `pip install -e`: that builds the project with
# its build backend (setuptools>=77), one more download, impossible in an image built offline; the grader
# needs no build, only its folder on sys.path (a .pth) and its `mlalab` command (pyproject's scripts).
cd ./{SOURCE_DIR}
/autograder/venv/bin/python - <<'PY'
import pathlib, subprocess, sys, sysconfig, tomllib
project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
subprocess.run([sys.executable, "-m", "pip", "install", *project["dependencies"]], check=True)
pathlib.Path(sysconfig.get_paths()["purelib"], "mla_labs.pth").write_text(f"{{pathlib.Path.cwd()}}\\n")
for name, target in project["scripts"].items():
    module, function = target.split(":")
    script = pathlib.Path(sys.prefix, "bin", name)
    script.write_text(f"#!{{sys.executable}}\\nimport sys, {{module}}\\nsys.exit({{module}}.{{function}}())\\n")
    script.chmod(0o755)
PY
"""

# Shown when the grader itself crashed, instead of Gradescope's generic "autograder failed".
_FALLBACK = json.dumps({
    "score": 0,
    "output": "The autograder could not grade this submission (exit code %s). Please tell your instructor.",
    "output_format": "text",
    "visibility": "visible",
    "stdout_visibility": "visible",
    "tests": [],
})

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission; it must leave /autograder/results/results.json.
set -uo pipefail
RESULTS=/autograder/results/results.json
mkdir -p /autograder/results
rm -f "$RESULTS"  # only the document the grader writes during this run may be uploaded
cd /autograder/source/{SOURCE_DIR}
/autograder/venv/bin/mlalab grade /autograder/submission --format gradescope --out "$RESULTS"
code=$?
if [ ! -s "$RESULTS" ]; then
    printf '{_FALLBACK}\\n' "$code" > "$RESULTS"
fi
exit 0
"""


def _summary(result: SubmissionResult) -> str:
    """The submission-level text: the total, one line per lab, then problems and learner output."""
    lines = [f"mla-labs: {number(result.score)}/{number(result.max_score)} points ({result.status})"]
    if result.error:
        lines.append(f"Grading error: {result.error}")
    if isolations := sorted({lab.isolation for lab in result.labs if lab.isolation}):
        lines.append(f"Isolation: {', '.join(isolations)}")
    for lab in result.labs:
        points = f"{number(lab.score)}/{number(lab.max_score)}"
        lines.append(f"Lab {lab.lab} · {lab.title}: {points} ({lab.status})")
    for lab in result.labs:
        lines.extend(f"Lab {lab.lab} problem: {problem}" for problem in lab.problems)
        if lab.output:
            cut = " (truncated)" if lab.output_truncated else ""
            lines.append(f"\n--- Lab {lab.lab}: what your code printed{cut} ---\n{lab.output.rstrip()}")
    return clean_text("\n".join(lines))


def document(result: SubmissionResult) -> dict:
    """The unsigned results.json content; error checks count as ``failed`` (Gradescope has no error)."""
    tests = [
        {
            "name": clean_text(f"Lab {lab.lab} · {check.name}"),
            "number": f"{lab.lab}.{number_in_lab}",
            "score": check.points,
            "max_score": check.max_points,
            "status": "passed" if check.status == "pass" else "failed",
            "output": clean_text(check.message),
            "tags": [clean_text(check.task), clean_text(lab.slug)],
            "visibility": "visible",
        }
        for lab, number_in_lab, check in graded_checks(result)
    ]
    return {
        "score": result.score,
        "execution_time": round(result.duration),
        "output": _summary(result),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "visible",
        "tests": tests,
    }


def render(result: SubmissionResult, *, nonce: str, key: bytes | None = None) -> str:
    signed = sign(document(result), nonce, key)
    signed["extra_data"] = {"integrity": signed.pop("integrity")}
    return json.dumps(signed, indent=2, ensure_ascii=False) + "\n"


def _project_files(project_root: Path) -> list[Path]:
    files = []
    for entry in PROJECT_ENTRIES:
        path = project_root / entry
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in candidates:
            relative = file.relative_to(project_root)
            if not EXCLUDED_NAMES.intersection(relative.parts) and not file.name.endswith(EXCLUDED_SUFFIXES):
                files.append(relative)
    return files


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16  # regular file + Unix mode
    archive.writestr(info, data)


def build_autograder_zip(dest: Path, project_root: Path) -> Path:
    """Write the Gradescope autograder zip and return its path.

    ``dest`` is the zip file to write, or an existing folder to write ``autograder.zip`` into. The
    scripts sit at the zip's root as Gradescope requires, marked executable; the project is copied
    as source under ``mla-labs/`` (tests, virtualenvs, workspaces and caches left out).
    """
    dest, project_root = Path(dest), Path(project_root)
    target = dest / "autograder.zip" if dest.is_dir() else dest
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        for relative in _project_files(project_root):
            source = project_root / relative
            executable = bool(source.stat().st_mode & 0o111)  # keep helper scripts runnable
            _add(archive, f"{SOURCE_DIR}/{relative.as_posix()}", source.read_bytes(), executable)
    return target
