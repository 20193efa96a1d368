"""What makes a cold ``mlalab check`` fast keeps what it does: the program ends right after ``check`` and
``grade`` (``cli.ONE_SHOT``) without tearing down the grader's heap, yet what it wrote (stdout, stderr,
the results document, the progress file) and its exit code are what an ordinary exit gives, and
``main([...])`` called by other code returns as before; a grading collects cyclic garbage less often and
gives the caller its collector back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mlalab import cli
from mlalab.catalog import find_lab


def mlalab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The program on pipes, block-buffered (as under ``make`` or CI): unflushed output would be lost."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-m", "mlalab.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def test_grade_writes_its_document_and_notes_before_the_process_ends(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    done = mlalab("grade", "--reference", "--lab", "2", "--format", "json", "--out", str(out), "--seed", "3",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    assert (doc["status"], doc["score"], doc["max_score"]) == ("pass", 16.0, 16.0)
    assert "MLALAB_SIGNING_KEY is not set" in done.stderr  # stderr flushed before the exit


def test_check_prints_the_whole_report_and_exits_1_on_a_starter(tmp_path: Path) -> None:
    lab = find_lab(2)
    done = mlalab("--workspace", str(tmp_path / "ws"), "--no-color", "check", "2", "--seed", "3", cwd=tmp_path)
    assert done.returncode == cli.EXIT_FAILED, done.stderr
    assert (tmp_path / "ws" / lab.workspace_file).read_text() == lab.starter_text()
    for check in lab.checks:  # every check's line made it to the pipe
        assert check.name in done.stdout
    progress = json.loads((tmp_path / "ws" / ".mlalab" / "progress.json").read_text())
    assert progress["labs"]["2"]["score"] == 0


def test_main_called_with_arguments_returns(capsys) -> None:
    assert cli.main(["list"]) == cli.EXIT_OK  # a caller's process goes on
    assert "not started" in capsys.readouterr().out


def test_a_grading_collects_less_often_and_puts_the_collector_back(monkeypatch) -> None:
    """During a session the collector runs at grading.SESSION_GC_THRESHOLDS with what was imported
    before frozen; after it, the caller's thresholds and an empty frozen generation are back."""
    import gc

    from mlalab import grading

    seen: list[tuple] = []
    real = grading.pytest.main

    def main(args, plugins=()):
        seen.append((gc.get_threshold(), gc.get_freeze_count() > 0))
        return real(args, plugins=plugins)

    monkeypatch.setattr(grading.pytest, "main", main)
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        result = grading.grade(None, [find_lab(2)], seed=3)
        after = (gc.get_threshold(), gc.get_freeze_count())
    finally:
        gc.set_threshold(*before)
    assert (result.score, result.max_score) == (16.0, 16.0)
    assert seen == [((50_000, 20, 100), True)]
    assert after == ((700, 10, 10), 0)


def test_a_batch_worker_ends_without_tearing_down_its_heap(tmp_path: Path) -> None:
    """``python -m mlalab.warm`` (a grade-many worker) ends as the program does (``exiting.end_process``):
    its atexit handlers run, its output is flushed, and the heap's teardown (1.4 s after a batch), which
    would run a module global's finalizer, is skipped."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    marks = tmp_path / "marks.txt"
    (hooks / "sitecustomize.py").write_text(
        "import atexit\n"
        f"MARKS = {str(marks)!r}\n"
        "def mark(what, open=open):  # bound now: teardown clears builtins and globals first\n"
        "    with open(MARKS, 'a') as f:\n"
        "        f.write(what + '\\n')\n"
        "atexit.register(mark, 'atexit')\n"
        "class Finalized:\n"
        "    def __del__(self, mark=mark):\n"
        "        mark('teardown')\n"
        "KEPT = Finalized()\n")
    env = {**os.environ, "PYTHONPATH": str(hooks), "MLALAB_WARM_LABS": "[2]"}
    env.pop("PYTHONUNBUFFERED", None)
    done = subprocess.run([sys.executable, "-m", "mlalab.warm"], input="", cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[0]) == {"ready": True}
    assert marks.read_text().split() == ["atexit"]


def test_a_grading_session_reads_no_installed_distributions_entry_points(monkeypatch) -> None:
    """The grading plugin is handed to pytest as a module: naming it (``-p mlalab.plugin``) made pytest
    scan every installed distribution's entry points for it, on every grading."""
    from importlib import metadata

    from mlalab import grading

    scans: list[str] = []
    real = metadata.distributions

    def distributions(**kwargs):
        scans.append("scan")
        return real(**kwargs)

    monkeypatch.setattr(metadata, "distributions", distributions)
    result = grading.grade(None, [find_lab(2)], seed=3)
    assert (result.score, result.max_score) == (16.0, 16.0)
    assert scans == []
