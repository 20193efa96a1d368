"""Instructor commands failing cleanly: an install without the lab catalogue, ``grade --reference`` in
the learner edition, and the note that documents signed without MLALAB_SIGNING_KEY cannot be verified."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlalab import catalog, cli
from mlalab.catalog import PROJECT_ROOT, CatalogError, find_lab, load_labs
from mlalab.formats.integrity import UNVERIFIABLE_NOTE, verify

NOTE = ("note: MLALAB_SIGNING_KEY is not set; the documents are signed with a one-time nonce and cannot be "
        "verified later (set the key to make `mlalab verify` work)")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- no labs folder: a plain (non-editable) pip install --------------------------------------------


def test_a_missing_labs_folder_is_a_clear_catalogue_error(tmp_path):
    missing = tmp_path / "site-packages" / "labs"
    with pytest.raises(CatalogError) as raised:
        load_labs(missing)
    assert str(raised.value) == (
        f"no labs folder at {missing}: mla-labs must be installed from a checkout of the course "
        "(pip install -e PATH), not as a plain package")


def test_grade_without_the_labs_folder_prints_one_line_and_exits_3(tmp_path):
    """What `pip install "git+https://.../mla-labs"` installs: the packages, without labs/."""
    site = tmp_path / "site-packages"
    for package in ("mlalab", "checks", "fixtures"):  # pyproject's packages.find include
        shutil.copytree(PROJECT_ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    submission = tmp_path / "submission"
    submission.mkdir()
    done = subprocess.run([sys.executable, "-m", "mlalab.cli", "grade", str(submission), "--format", "github",
                           "--out", str(tmp_path / "result.b64")],
                          cwd=site, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stderr == (
        f"mlalab: the lab catalogue is broken: no labs folder at {site / 'labs'}: mla-labs must be installed "
        "from a checkout of the course (pip install -e PATH), not as a plain package\n")
    assert "Traceback" not in done.stderr and done.stdout == ""


# --- grade --reference in the learner edition -----------------------------------------------------


def learner_edition_lab(tmp_path: Path) -> catalog.Lab:
    """Lab 1 as the learner edition ships it: lab.yaml and checks, no solution.py."""
    lab = find_lab(1)
    folder = tmp_path / lab.slug
    shutil.copytree(lab.path, folder, ignore=shutil.ignore_patterns("solution.py", "__pycache__"))
    return dataclasses.replace(lab, path=folder)


def test_grade_reference_refuses_in_the_learner_edition(tmp_path, monkeypatch, capsys):
    lab = learner_edition_lab(tmp_path)
    assert not lab.solution_path.exists()
    monkeypatch.setattr(cli, "load_labs", lambda: (find_lab(2), lab))
    assert run(capsys, "grade", "--reference") == (
        2, "", "mlalab grade: this edition has no reference solutions\n")
    monkeypatch.setattr(cli, "resolve_lab", lambda token, workspace=None: lab)
    code, out, err = run(capsys, "grade", "--reference", "--lab", "1", "--format", "json")
    assert (code, out, err) == (2, "", "mlalab grade: this edition has no reference solutions\n")


# --- the note about unverifiable documents ---------------------------------------------------------


def test_grade_out_without_a_key_notes_that_the_document_cannot_be_verified(tmp_path, monkeypatch, capsys):
    assert UNVERIFIABLE_NOTE == NOTE
    submission = tmp_path / "sub"
    submission.mkdir()  # nothing submitted: graded quickly, and earns nothing
    doc = tmp_path / "result.json"

    monkeypatch.delenv("MLALAB_SIGNING_KEY", raising=False)
    code, out, err = run(capsys, "grade", str(submission), "--lab", "2", "--format", "json", "--out", str(doc))
    assert (code, out, err) == (0, "", NOTE + "\n")
    assert verify(json.loads(doc.read_text()), None)  # signed with the nonce only

    code, _, err = run(capsys, "grade", str(submission), "--lab", "2", "--out", str(tmp_path / "report.txt"))
    assert (code, err) == (0, "")  # the text report is not a signed document

    monkeypatch.setenv("MLALAB_SIGNING_KEY", "instructor-secret")
    code, out, err = run(capsys, "grade", str(submission), "--lab", "2", "--format", "json", "--out", str(doc))
    assert (code, out, err) == (0, "", "")
    assert verify(json.loads(doc.read_text()), b"instructor-secret")
