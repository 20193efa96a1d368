"""``mlalab grade-many``: a class graded in parallel, one grader process per submission, where one
submission's crash or hang never touches another."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlalab import batch, cli
from mlalab.batch import worker
from mlalab.batch.submissions import Submission, same_untouched, untouched
from mlalab.catalog import find_lab, load_labs
from mlalab.formats import json_format
from mlalab.formats.integrity import verify
from mlalab.formats.json_format import document, number
from mlalab.results import CheckResult, LabResult, SubmissionResult
from tests.adversarial import marker, survivors

SYNTAX_ERROR = "def create_latency_alarms(endpoint_name:\n    pass\n"


def write_submission(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def reference_files() -> dict[str, str]:
    return {lab.workspace_file: lab.solution_path.read_text() for lab in load_labs()}


def starter_files() -> dict[str, str]:
    return {lab.workspace_file: lab.starter_text() for lab in load_labs()}


def crash_for(learner: str, real=worker.grader_command):
    """A grader command that kills itself (as the OOM killer would) for one learner only."""

    def command(submission, out_file, options):
        if submission.name == learner:
            return [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
        return real(submission, out_file, options)

    return command


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_class_folder_one_grader_crash_leaves_the_others_untouched(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MLALAB_SIGNING_KEY", raising=False)
    lab1, lab2 = find_lab(1), find_lab(2)
    room = tmp_path / "class"
    write_submission(room / "alice", reference_files())
    write_submission(room / "bob", {lab2.workspace_file: lab2.starter_text()})  # never submitted lab 1
    write_submission(room / "carol", {lab1.workspace_file: SYNTAX_ERROR,
                                      lab2.workspace_file: lab2.solution_path.read_text()})
    write_submission(room / "dave", reference_files())  # a perfect submission, but its grader dies
    (room / lab1.workspace_file).write_text(lab1.solution_path.read_text())  # a stray file: not a learner
    monkeypatch.setattr(worker, "grader_command", crash_for("dave"))
    out = tmp_path / "out"

    code = cli.main(["grade-many", str(room), "--out", str(out), "--jobs", "2", "--seed", "7", "--cold"])

    printed, errors = capsys.readouterr()
    assert code == 0
    assert errors.splitlines() == [
        f"warning: ignoring lab01.py at the top of {room}: it is a class folder (its subfolders hold lab "
        "files), and lab files belong in a learner's folder",
        "note: MLALAB_SIGNING_KEY is not set; the documents are signed with a one-time nonce and cannot be "
        "verified later (set the key to make `mlalab verify` work)",
    ]
    labs = list(load_labs())
    full = {lab.id: number(lab.max_score) for lab in labs}
    expected = [["learner", "lab", "score", "max_score", "status"]]
    # Labs 3 and up: alice and dave submitted every reference, bob and carol only labs 1-2.
    for learner, scores, others in (("alice", {1: "pass", 2: "pass"}, "pass"),
                                    ("bob", {1: "missing", 2: "fail"}, "missing"),
                                    ("carol", {1: "fail", 2: "pass"}, "missing"),
                                    ("dave", {1: "error", 2: "error"}, "error")):
        for lab in labs:
            status = scores.get(lab.id, others)
            expected.append([learner, str(lab.id), full[lab.id] if status == "pass" else "0", full[lab.id],
                             status])
    assert read_csv(out / "grades.csv") == expected

    report = (out / "report.html").read_text(encoding="utf-8")
    assert '<td class="num missing" title="not submitted">—</td>' in report  # bob's lab 1
    for learner in ("alice", "bob", "carol", "dave"):
        assert f'data-learner="{learner}"' in report
        doc = json.loads((out / "results" / f"{learner}.json").read_text(encoding="utf-8"))
        assert doc["submission"] == learner
        assert verify(doc)
    dave = json.loads((out / "results" / "dave.json").read_text(encoding="utf-8"))
    assert dave["status"] == "error" and dave["score"] == 0
    assert dave["error"] == "the grader process died (SIGKILL)"
    assert all(check["status"] == "error" for lab in dave["labs"] for check in lab["checks"])
    carol = json.loads((out / "results" / "carol.json").read_text(encoding="utf-8"))
    assert any("SyntaxError" in problem for problem in carol["labs"][0]["problems"])

    lines = printed.splitlines()
    cap = 60 * len(load_labs()) + worker.CAP_SLACK  # every lab's time limit, plus the grader's own start-up
    assert lines[0] == f"Grading 4 submissions with 2 jobs (seed 7, 60 s per lab, {cap:g} s per submission)"
    total = sum(lab.max_score for lab in labs)
    assert f"] dave: 0/{number(total)} error (" in printed
    assert any(line.startswith("[") and "] dave: 0/" in line and line.endswith(
        ": the grader process died (SIGKILL)") for line in lines)
    assert f"] alice: {number(total)}/{number(total)} pass (" in printed
    mean = number((total + lab2.max_score) / 4)
    assert any(line.startswith("Total: 4 submissions in ") and line.endswith(
        f": 1 pass, 2 fail, 1 error; mean score {mean}/{number(total)}") for line in lines)
    written = f"Wrote {out / 'grades.csv'}, {out / 'report.html'} and 4 results in {out / 'results'}{os.sep}"
    assert lines[-1] == written


def test_a_grader_over_its_time_cap_is_killed_with_everything_it_started(tmp_path, monkeypatch, capsys):
    lab2 = find_lab(2)
    room = tmp_path / "class"
    write_submission(room / "erin", {lab2.workspace_file: lab2.starter_text()})
    # frank's own edit: an untouched starter like erin's would be given her grade, never graded
    write_submission(room / "frank", {lab2.workspace_file: lab2.starter_text() + "# frank was here\n"})
    tag = marker()  # on both hung processes' command lines: found by name, never by a reusable pid
    started_file = tmp_path / "grandchild.started"
    hang = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {tag!r}],\n"
        "                         start_new_session=True)\n"
        f"open({str(started_file)!r}, 'w').close()\n"
        "time.sleep(600)\n"
    )
    real = worker.grader_command
    monkeypatch.setattr(worker, "grader_command", lambda submission, out_file, options: (
        [sys.executable, "-c", hang, tag] if submission.name == "frank" else real(submission, out_file, options)))
    # The cap (1 s per lab + 29 s) is also erin's, and her grader is real: it took 7-9 s on this
    # 2-core machine under load, so the former 10 s cap made her an "error" now and then.
    monkeypatch.setattr(worker, "CAP_SLACK", 29.0)
    out = tmp_path / "out"

    started = time.monotonic()
    code = cli.main(["grade-many", str(room), "--lab", "2", "--timeout", "1", "--out", str(out),
                     "--jobs", "2", "--cold"])
    elapsed = time.monotonic() - started

    assert code == 0
    assert elapsed < 300  # the hung grader was stopped at its cap (30 s), not left to sleep its 600 s
    limit = "grading took longer than 30 s (the per-submission limit: 1 s per lab + 29 s) and was stopped"
    assert f"frank: 0/{number(lab2.max_score)} error" in capsys.readouterr().out
    rows = read_csv(out / "grades.csv")[1:]
    assert rows == [["erin", "2", "0", number(lab2.max_score), "fail"],
                    ["frank", "2", "0", number(lab2.max_score), "error"]]
    frank = json.loads((out / "results" / "frank.json").read_text(encoding="utf-8"))
    assert frank["error"] == limit
    assert started_file.exists(), "the hung grader never started its own process: nothing was tested"
    assert survivors(tag) == [], "a process started by the killed grader survived it"


def test_exit_3_when_no_submission_could_be_graded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLALAB_SIGNING_KEY", "instructor-secret")  # with the key: no note about verifying
    room = tmp_path / "class"
    write_submission(room / "gina", starter_files())
    monkeypatch.setattr(worker, "grader_command", crash_for("gina"))

    code = cli.main(["grade-many", str(room), "--out", str(tmp_path / "out"), "--cold"])

    assert code == 3
    assert capsys.readouterr().err.strip() == (
        "mlalab grade-many: grading could not run for any submission (see the reasons above)")
    assert read_csv(tmp_path / "out" / "grades.csv")[1][4] == "error"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlalab.cli", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_a_folder_that_does_not_exist_is_named_with_exit_2(tmp_path):
    missing = tmp_path / "no-such-class"
    done = run_cli("grade-many", str(missing), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"mlalab grade-many: {missing} does not exist or is not a folder"
    assert not (tmp_path / "out").exists()


def test_other_bad_input_exits_2(tmp_path):
    room = tmp_path / "class"
    write_submission(room / "hal", {})
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    done = run_cli("grade-many", str(room), "--out", str(not_a_folder))
    assert (done.returncode, done.stderr.strip()) == (
        2, f"mlalab grade-many: --out {not_a_folder} is a file, not a folder")
    done = run_cli("grade-many", str(room), "--out", str(tmp_path / "o"), "--jobs", "0")
    assert (done.returncode, done.stderr.strip()) == (2, "mlalab grade-many: --jobs must be at least 1")
    done = run_cli("grade-many", str(room), "--out", str(tmp_path / "o"), "--lab", "99")
    assert done.returncode == 2 and "there is no lab '99'" in done.stderr


def test_discover_submissions_and_class_folders(tmp_path):
    solo = write_submission(tmp_path / "solo", {"lab01.py": ""})
    (solo / "notes").mkdir()  # a subfolder does not make a submission a class folder
    room = tmp_path / "room"
    write_submission(room / "zoe", {"lab02.py": ""})
    write_submission(room / "solo", {"lab01.py": ""})
    write_submission(room / "empty", {})
    (room / ".git").mkdir()
    (room / "__pycache__").mkdir()
    found = batch.discover([solo, room])
    assert [(s.name, s.path) for s in found] == [
        ("solo", solo.resolve()), ("empty", (room / "empty").resolve()),
        ("solo-2", (room / "solo").resolve()), ("zoe", (room / "zoe").resolve())]
    with pytest.raises(batch.BatchInputError, match="nope, .*nada do not exist"):
        batch.discover([tmp_path / "nope", tmp_path / "nada"])


def test_stray_lab_files_do_not_turn_a_class_into_one_learner(tmp_path):
    room = tmp_path / "room"
    write_submission(room / "zoe", {"lab02.py": ""})
    write_submission(room / "yan", {})
    (room / "lab01.py").write_text("")
    (room / "lab02.py").write_text("")
    (room / "notes.py").write_text("")
    warnings: list[str] = []
    found = batch.discover([room], warnings.append)
    assert [s.name for s in found] == ["yan", "zoe"]
    assert warnings == [f"warning: ignoring lab01.py, lab02.py at the top of {room}: it is a class folder (its "
                        "subfolders hold lab files), and lab files belong in a learner's folder"]
    # Subfolders without lab files (notes/, an empty learner) leave a folder with lab files one submission.
    solo = write_submission(tmp_path / "solo", {"lab01.py": ""})
    write_submission(solo / "notes", {"readme.txt": ""})
    warnings.clear()
    assert [s.path for s in batch.discover([solo], warnings.append)] == [solo.resolve()] and warnings == []


def test_not_submitted_labs_come_from_the_files(tmp_path):
    folder = write_submission(tmp_path / "ann", {"lab02.py": "", "lab1.py": ""})
    assert batch.not_submitted(batch.Submission("ann", folder), list(load_labs())) == {
        lab.id for lab in load_labs() if lab.id != 2}


def test_json_read_rebuilds_what_the_json_document_holds():
    result = SubmissionResult(
        submission="x", status="fail", score=2.0, max_score=4.0, duration=1.25, labs=[LabResult(
            lab=1, slug="01_a", title="A", task="4.2", status="fail", score=2.0, max_score=4.0, output="hi\n",
            output_truncated=True, problems=["p"], duration=0.5, seed=9, checks=[
                CheckResult("c1", "one", "pass", 2.0, 2.0, "one", "4.2", 0.125),
                CheckResult("c2", "two", "fail", 0.0, 2.0, "why", "4.2", 0.25)])])
    assert json_format.read(json.loads(json.dumps(document(result)))).to_dict() == result.to_dict()


def test_results_file_names_stay_inside_results(tmp_path):
    assert batch.results_file_name("alice") == "alice.json"
    assert batch.results_file_name("../evil name") == "_evil_name.json"
    assert os.sep not in batch.results_file_name("a/b")


def test_untouched_submissions_are_grouped_by_what_they_hold(tmp_path):
    lab1, lab2 = find_lab(1), find_lab(2)
    labs = [lab1, lab2]
    starters = {lab1.workspace_file: lab1.starter_text(), lab2.workspace_file: lab2.starter_text()}
    room = tmp_path / "class"
    folders = {
        "ann": starters,
        "ben": starters,
        "cat": {lab2.workspace_file: lab2.starter_text()},  # lab 1 missing: holds something else
        "dan": {lab2.workspace_file: lab2.starter_text()},
        "eve": {**starters, lab1.workspace_file: lab1.starter_text() + " "},  # a space is her own
        "fay": starters,
    }
    subs = [Submission(name, write_submission(room / name, files)) for name, files in folders.items()]
    (room / "gus").mkdir()
    (room / "gus" / lab1.workspace_file).write_bytes(b"\xff\xfe not text")
    subs.append(Submission("gus", room / "gus"))

    same = same_untouched(subs, labs)

    assert {name: first.name for name, first in same.items()} == {"ben": "ann", "fay": "ann", "dan": "cat"}
    starter_texts = {lab.id: lab.starter_text() for lab in labs}
    assert untouched(subs[2], labs, starter_texts) == ("missing", "starter")
    assert untouched(subs[4], labs, starter_texts) is None
    assert untouched(subs[-1], labs, starter_texts) is None


def graded_names(monkeypatch) -> list[str]:
    """The submissions a batch really grades (the others get a copy of a grade)."""
    graded: list[str] = []
    real = worker.grade_one

    def grade_one(submission, *args, **kwargs):
        graded.append(submission.name)
        return real(submission, *args, **kwargs)

    monkeypatch.setattr(worker, "grade_one", grade_one)
    return graded


def test_identical_untouched_starters_are_graded_once(tmp_path, monkeypatch, capsys):
    lab2 = find_lab(2)
    room = tmp_path / "class"
    for name in ("ivy", "jon", "kim"):
        write_submission(room / name, {lab2.workspace_file: lab2.starter_text()})
    write_submission(room / "lee", {lab2.workspace_file: lab2.starter_text() + "\n# mine\n"})
    graded = graded_names(monkeypatch)
    out = tmp_path / "out"

    code = cli.main(["grade-many", str(room), "--lab", "2", "--out", str(out), "--jobs", "2", "--seed", "5",
                     "--cold"])

    assert code == 0
    assert sorted(graded) == ["ivy", "lee"]  # jon and kim hold exactly what ivy holds
    docs = {name: json.loads((out / "results" / f"{name}.json").read_text()) for name in ("ivy", "jon", "kim")}
    for name in ("jon", "kim"):
        assert docs[name]["submission"] == name and docs[name]["duration"] == 0.0
        assert verify(docs[name])
        assert docs[name]["labs"] == docs["ivy"]["labs"]
    assert docs["ivy"]["score"] == 0 and docs["ivy"]["status"] == "fail"
    assert [row[4] for row in read_csv(out / "grades.csv")[1:]] == ["fail"] * 4
    printed = capsys.readouterr().out
    assert "] jon: 0/" in printed and "] kim: 0/" in printed and "[4/4]" in printed


def test_an_untouched_starter_whose_grading_failed_is_not_handed_on(tmp_path, monkeypatch, capsys):
    lab2 = find_lab(2)
    room = tmp_path / "class"
    for name in ("max", "nia"):
        write_submission(room / name, {lab2.workspace_file: lab2.starter_text()})
    monkeypatch.setattr(worker, "grader_command", crash_for("max"))
    graded = graded_names(monkeypatch)
    out = tmp_path / "out"

    code = cli.main(["grade-many", str(room), "--lab", "2", "--out", str(out), "--seed", "5", "--cold"])

    assert code == 0
    assert graded == ["max", "nia"]  # max's grader died: nia is graded herself
    assert read_csv(out / "grades.csv")[1:] == [["max", "2", "0", number(lab2.max_score), "error"],
                                                ["nia", "2", "0", number(lab2.max_score), "fail"]]


def test_only_a_starters_grade_is_handed_on():
    """A grade is copied to other untouched submissions only when it is what a starter earns: nothing, no
    check in error, no learner code stopped or refused (``results.is_starters_grade``)."""
    from mlalab.batch.grade_many import untouched_grade

    def lab(status="fail", score=0.0, problems=()):
        return LabResult(2, "02_least_privilege_role", "t", "4.3", status, score, 16.0, problems=list(problems))

    def submission(*labs, error=None):
        return SubmissionResult.of_labs("ivy", list(labs), 1.0) if error is None else \
            SubmissionResult("ivy", "error", 0.0, 16.0, list(labs), error=error)

    assert untouched_grade(submission(lab(), lab(problems=["lab01.py was not found in the submission"])))
    assert not untouched_grade(submission(lab(), lab(status="pass", score=16.0)))
    assert not untouched_grade(submission(lab(score=2.0)))
    assert not untouched_grade(submission(lab(status="error")))
    assert not untouched_grade(submission(lab(problems=["your code did not finish within 60 s"])))
    assert not untouched_grade(submission(lab(status="error"), error="the grader process died (SIGKILL)"))
