"""``mlalab export --learner``: the learner edition has no solutions and no hidden checks, and it
installs and runs on its own with ``make lab-1``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from mlalab import cli, course, export
from mlalab.catalog import BEGIN, END, PROJECT_ROOT, load_labs

LEFT_OUT = ("tests", "bench", ".ci", ".git", ".venv", "workspace")
HIDDEN = ("02_least_privilege_role", "no-other-services")  # hidden in the test's copy of the project


def text_files(root: Path) -> dict[str, str]:
    out = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not {".venv", "workspace"}.intersection(relative.parts) \
                and not any(p.endswith(".egg-info") for p in relative.parts):
            try:
                out[relative.as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return out


def solution_lines() -> set[str]:
    """The substantial code lines inside the reference solutions' solution blocks."""
    lines: set[str] = set()
    for lab in load_labs():
        inside = False
        for line in lab.solution_path.read_text().splitlines():
            stripped = line.strip()
            if stripped in (BEGIN, END):
                inside = stripped == BEGIN
            elif inside and len(stripped) >= 30 and not stripped.startswith("#"):
                lines.add(stripped)
    assert lines, "the reference solutions have no solution blocks to look for"
    return lines


def shipped_by_design() -> set[str]:
    """Every line of the project's own shipped sources and instructions (not solutions, wrong
    solutions or generated rewrites)."""
    lines: set[str] = set()
    for folder in ("checks", "fixtures", "mlalab"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            lines |= {line.strip() for line in path.read_text().splitlines()}
    for lab in load_labs():
        if lab.instructions_path.is_file():
            lines |= {line.strip() for line in lab.instructions_path.read_text().splitlines()}
    return lines


def assert_learner_edition(root: Path) -> None:
    files = text_files(root)
    assert not [name for name in files if Path(name).name in ("solution.py", "mutations.py", "rewrites.py")]
    for name in LEFT_OUT:
        assert not (root / name).exists(), f"{name} must not be in the learner edition"
    assert not [name for name, text in files.items()
                if any(line.strip() in (BEGIN, END) for line in text.splitlines())]
    # Lab material never holds the marker's text at all (the tooling's code and the README name it).
    assert not [name for name, text in files.items() if name.startswith("labs/") and BEGIN in text]
    # A solution line the export must not carry; lines that shipped files hold by design (the grader's
    # own code reading the same event field, a README showing how to zip a handler) are not leaks.
    leaked = solution_lines() - shipped_by_design()
    assert not [(name, line) for name, text in files.items() for line in text.splitlines()
                if line.strip() in leaked]
    for lab in load_labs():
        folder = root / "labs" / lab.slug
        assert (folder / "starter.py").read_text() == lab.starter_text()
        assert (folder / "test_lab.py").is_file() and (folder / "lab.yaml").is_file()
        if lab.instructions_path.is_file():
            assert (folder / "README.md").is_file()
        assert yaml.safe_load((folder / "lab.yaml").read_text())["edition"] == "learner"
    for name in ("pyproject.toml", "Makefile", "mlalab/cli.py", "mlalab/checking.py", "checks/iam.py",
                 "fixtures/scenarios.py"):
        assert (root / name).is_file(), name
    readme = (root / "README.md").read_text()
    assert readme.startswith("# mla-labs · learner edition")
    assert "solution" not in readme and "make test" not in readme
    makefile = (root / "Makefile").read_text()
    assert "lab-%:" in makefile and "bench/bench.py" not in makefile and "\ntest:" not in makefile


def test_export_writes_the_learner_edition(tmp_path, capsys):
    dest = tmp_path / "learner"
    assert cli.main(["export", "--learner", str(dest)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Wrote the learner edition to {dest}: {len(load_labs())} labs with starters, ")
    assert out[0].endswith(" files, no reference solutions.")
    assert out[1] == f"Learners run: cd {dest} && make lab-1"
    assert_learner_edition(dest)


def test_export_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    dest = tmp_path / "learner"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    assert cli.main(["export", "--learner", str(dest)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"mlalab export: {dest} is not empty; the learner edition needs a new or empty folder")
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert cli.main(["export", "--learner", str(dest / "notes.txt")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_learner_lab_yaml_drops_hidden_checks():
    text, hidden = export.learner_lab_yaml(
        "id: 3\nchecks:\n  - {id: a, name: A, points: 1}\n  - {id: b, name: B, points: 2, hidden: true}\n")
    meta = yaml.safe_load(text)
    assert hidden == ["b"]
    assert [c["id"] for c in meta["checks"]] == ["a"] and meta["edition"] == "learner"


def project_copy_with_a_hidden_check(root: Path) -> Path:
    """The project's source (as the export reads it) with one check of lab 2 marked hidden."""
    root.mkdir()
    for name in (*course.FILES, export.LEARNER_README):
        if (PROJECT_ROOT / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, root / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in course.DIRECTORIES:
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=ignore)
    meta_file = root / "labs" / HIDDEN[0] / "lab.yaml"
    meta = yaml.safe_load(meta_file.read_text())
    [check] = [c for c in meta["checks"] if c["id"] == HIDDEN[1]]
    check["hidden"] = True
    meta_file.write_text(yaml.safe_dump(meta, sort_keys=False))
    return root


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("make") or not shutil.which("python3.11"),
                    reason="needs make and python3.11 on PATH, as the learner edition's Makefile does")
def test_the_learner_edition_installs_and_runs_make_lab_1(tmp_path):
    source = project_copy_with_a_hidden_check(tmp_path / "source")
    dest = tmp_path / "learner"
    summary = export.export_learner(dest, project_root=source)
    assert summary.hidden_checks == [f"lab 02: {HIDDEN[1]}"]
    assert_learner_edition(dest)
    exported_meta = yaml.safe_load((dest / "labs" / HIDDEN[0] / "lab.yaml").read_text())
    assert HIDDEN[1] not in [c["id"] for c in exported_meta["checks"]]

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS", "MLALAB_WORKSPACE")}
    started = time.monotonic()
    done = subprocess.run(["make", "lab-1"], cwd=dest, env=env, capture_output=True, text=True, timeout=900,
                          check=False)
    took = time.monotonic() - started
    print(f"\nmake lab-1 in a fresh learner edition (venv + install + grading): {took:.1f} s")
    output = done.stdout + done.stderr
    assert "Score 0/25" in output, output[-3000:]
    # Failing checks are the learner's normal loop: make exits 0 once grading ran, with no "Error" line.
    assert "Error" not in output.split("Score 0/25")[-1]
    assert done.returncode == 0
    starter = (dest / "labs" / "01_endpoint_alarms" / "starter.py").read_text()
    assert (dest / "workspace" / "lab01.py").read_text() == starter

    # The edition's own mlalab, from its own folder: every starter earns nothing, and no check errors
    # (a hidden check's test that was not deselected would stop grading altogether).
    mlalab = dest / ".venv" / "bin" / "mlalab"
    starters = dest / "starters"
    starters.mkdir()
    for lab in load_labs():
        shutil.copy(dest / "labs" / lab.slug / "starter.py", starters / lab.workspace_file)
    graded = subprocess.run([str(mlalab), "grade", str(starters), "--format", "json", "--seed", "3"],
                            cwd=dest, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert graded.returncode == 0, graded.stderr
    result = json.loads(graded.stdout)
    assert result["score"] == 0
    assert [lab["lab"] for lab in result["labs"]] == [lab.id for lab in load_labs()]
    for lab in result["labs"]:
        assert lab["score"] == 0 and lab["status"] == "fail"
        assert {check["status"] for check in lab["checks"]} == {"fail"}
    lab2 = next(lab for lab in result["labs"] if lab["slug"] == HIDDEN[0])
    source_lab2 = next(lab for lab in load_labs() if lab.slug == HIDDEN[0])
    assert HIDDEN[1] not in [check["id"] for check in lab2["checks"]]
    assert lab2["max_score"] == source_lab2.max_score - source_lab2.check(HIDDEN[1]).points

    python = dest / ".venv" / "bin" / "python"
    which = subprocess.run([str(python), "-c", "import mlalab; print(mlalab.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert Path(which.stdout.strip()).resolve().is_relative_to(dest.resolve())
    solution = subprocess.run([str(mlalab), "solution", "1", "--force"], cwd=dest, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert solution.returncode == 2
    assert solution.stderr.strip() == "mlalab solution: lab 01 has no reference solution in this edition"


def test_gradescope_package_builds_a_zip_with_executable_scripts(tmp_path, capsys):
    target = tmp_path / "autograder.zip"
    assert cli.main(["gradescope-package", "--out", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    with zipfile.ZipFile(target) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & 0o111, f"{script} is not executable in the zip"
    if shutil.which("unzip"):
        unpacked = tmp_path / "unpacked"
        subprocess.run(["unzip", "-q", str(target), "-d", str(unpacked)], check=True, timeout=60)
        for script in ("setup.sh", "run_autograder"):
            assert os.access(unpacked / script, os.X_OK), script
        assert (unpacked / "mla-labs" / "pyproject.toml").is_file()
    else:  # pragma: no cover - unzip is part of the CI image
        pytest.skip("unzip is not installed")


def test_gradescope_package_into_a_folder(tmp_path, capsys):
    assert cli.main(["gradescope-package", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "autograder.zip")
    assert zipfile.is_zipfile(tmp_path / "autograder.zip")
