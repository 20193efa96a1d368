"""The same submission earns the same result every time: 12 gradings in parallel and in series, and
in-process with the labs in reverse order, give identical per-check statuses and points.

Resource names are randomised per run (each batch draws its own seed), so only what grading decides
is compared: each check's status and points, each lab's status and score, and the totals.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlalab import cli
from mlalab.catalog import BEGIN, END, find_lab, load_labs
from mlalab.grading import grade
from mlalab.results import SubmissionResult

COPIES = 3  # per submission and per batch: 2 submissions x 3 copies x 2 batches = 12 gradings


def without_pager_alarm(solution: str) -> str:
    """The reference lab 1 with the composite (pager) alarm function left unwritten."""
    head, tail = solution.split("def create_pager_alarm(", 1)
    start, end = tail.index(BEGIN), tail.index(END) + len(END)
    return head + "def create_pager_alarm(" + tail[:start] + "raise NotImplementedError" + tail[end:]


def write_submission(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def submissions() -> dict[str, dict[str, str]]:
    lab1, lab2 = find_lab(1), find_lab(2)
    reference = {lab.workspace_file: lab.solution_path.read_text() for lab in load_labs()}
    partial = {lab1.workspace_file: without_pager_alarm(lab1.solution_path.read_text()),
               lab2.workspace_file: lab2.starter_text()}
    return {"reference": reference, "partial": partial}


def fingerprint(doc: dict) -> dict:
    """What grading decided, without run-specific names, times or the learner's label."""
    return {
        "status": doc["status"], "score": doc["score"], "max_score": doc["max_score"],
        "labs": {lab["lab"]: (lab["status"], lab["score"], lab["max_score"],
                              [(c["id"], c["status"], c["points"]) for c in lab["checks"]])
                 for lab in doc["labs"]},
    }


def in_process_fingerprint(result: SubmissionResult) -> dict:
    doc = result.to_dict()
    return fingerprint({**doc, "labs": sorted(doc["labs"], key=lambda lab: lab["lab"])})


@pytest.mark.slow
def test_twelve_gradings_in_parallel_and_in_series_and_in_any_lab_order_agree(tmp_path, capsys):
    kinds = submissions()
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for batch_number, jobs in ((1, 2), (2, 1)):
        room = tmp_path / f"class-{batch_number}"
        for kind, files in kinds.items():
            for copy in range(1, COPIES + 1):
                write_submission(room / f"{kind}-{batch_number}-{copy:02d}", files)
        out = tmp_path / f"out-{batch_number}"
        assert cli.main(["grade-many", str(room), "--jobs", str(jobs), "--out", str(out)]) == 0
        for kind in kinds:
            for copy in range(1, COPIES + 1):
                doc = json.loads((out / "results" / f"{kind}-{batch_number}-{copy:02d}.json").read_text())
                runs[kind].append(fingerprint(doc))
    printed = capsys.readouterr().out
    assert " error" not in printed.replace(" 0 error;", ""), printed

    labs = list(load_labs())
    for kind, files in kinds.items():
        assert len(runs[kind]) == 2 * COPIES
        first = runs[kind][0]
        assert all(run == first for run in runs[kind]), f"{kind}: the results differ between gradings"
        folder = write_submission(tmp_path / f"in-process-{kind}", files)
        reversed_order = grade(folder, list(reversed(labs)), timeout=60)
        assert [lab.lab for lab in reversed_order.labs] == [lab.id for lab in reversed(labs)]
        assert in_process_fingerprint(reversed_order) == first, f"{kind}: lab order changed the result"

    reference, partial = runs["reference"][0], runs["partial"][0]
    assert reference["status"] == "pass" and reference["score"] == reference["max_score"]
    assert 0 < partial["score"] < partial["max_score"]
    lab1_checks = {check_id: status for check_id, status, _ in partial["labs"][1][3]}
    assert lab1_checks["pager-composite"] == "fail" and lab1_checks["latency-metric"] == "pass"
    assert partial["labs"][2][1] == 0


def test_the_partial_submission_only_drops_the_pager_alarm():
    source = find_lab(1).solution_path.read_text()
    changed = without_pager_alarm(source)
    assert "put_composite_alarm" not in changed and "put_metric_alarm" in changed
    assert changed.count("raise NotImplementedError") == 1
    compile(changed, "lab01.py", "exec")
