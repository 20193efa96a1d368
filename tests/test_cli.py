"""The learner's workflow through the ``mlalab`` CLI and ``make``, with the exact messages."""

import io
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlalab import cli, report
from mlalab.catalog import PROJECT_ROOT, load_labs
from mlalab.cli import main
from mlalab.progress import Progress


@pytest.fixture
def ws(tmp_path) -> Path:
    return tmp_path / "workspace"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_lab_and_progress(capsys, ws, lab02):
    code, out, _ = run(capsys, "--workspace", str(ws), "list")
    assert code == 0
    for lab in load_labs():
        assert f"{lab.number:<4} {lab.task:<5}" in out and lab.title in out
    assert "not started" in out
    (ws).mkdir()
    shutil.copy(lab02.solution_path, ws / "lab02.py")
    run(capsys, "--workspace", str(ws), "check", "2")
    _, out, _ = run(capsys, "--workspace", str(ws), "list")
    assert "16/16 done" in out


def test_start_copies_the_starter_once(capsys, ws, lab01):
    code, out, _ = run(capsys, "--workspace", str(ws), "start", "01")
    assert code == 0 and f"Created {ws / 'lab01.py'} from the starter" in out
    assert (ws / "lab01.py").read_text() == lab01.starter_text()
    (ws / "lab01.py").write_text("# my work\n")
    code, out, _ = run(capsys, "--workspace", str(ws), "start", "1")
    assert "already exists; keeping your work" in out
    assert (ws / "lab01.py").read_text() == "# my work\n"


def test_check_starter_fails_with_exit_1_and_reference_passes(capsys, ws, lab02):
    code, out, _ = run(capsys, "--workspace", str(ws), "check", "2")
    assert code == 1
    assert f"Created {ws / 'lab02.py'} from the starter" in out
    assert "FAIL  The role trusts the SageMaker service, and nobody else  0/2" in out
    assert "Score 0/16" in out
    assert "\033[" not in out  # piped: no colour
    shutil.copy(lab02.solution_path, ws / "lab02.py")
    code, out, _ = run(capsys, "--workspace", str(ws), "check", "2", "--seed", "7")
    assert code == 0 and "Score 16/16" in out and "seed 7" in out


def test_unknown_lab_prints_the_catalogue_and_exits_2(capsys, ws):
    code, out, err = run(capsys, "--workspace", str(ws), "check", "99")
    assert code == 2
    assert err.startswith("mlalab check: there is no lab '99'. The labs are:\n")
    assert "Endpoint alarms that page the right person" in err


def test_the_catalogue_for_an_unknown_lab_shows_progress_like_list(capsys, ws):
    Progress(ws).record(2, 16, 16)
    _, listed, _ = run(capsys, "--workspace", str(ws), "list")
    code, _, err = run(capsys, "check", "99", "--workspace", str(ws))
    assert code == 2 and "16/16 done" in listed
    assert err == f"mlalab check: there is no lab '99'. The labs are:\n{listed}"
    code, _, err = run(capsys, "--workspace", str(ws), "hint", " ")
    assert code == 2 and err == f"mlalab hint: which lab? Give its number, e.g. 1. The labs are:\n{listed}"


@pytest.mark.parametrize("argv, workspace, no_color", [
    (["list"], None, False),
    (["--workspace", "a", "list"], "a", False),
    (["list", "--workspace", "b"], "b", False),
    (["--workspace", "a", "check", "1"], "a", False),  # not reset by the command's own parser
    (["check", "1", "--workspace", "b", "--no-color", "--seed", "3"], "b", True),
    (["--no-color", "grade", "sub", "--workspace", "c"], "c", True),
    (["iam-simulate", "--action", "s3:GetObject", "--no-colour", "--workspace", "d"], "d", True),
    (["dev", "--workspace", "e", "check"], "e", False),
])
def test_global_options_work_before_and_after_the_command(argv, workspace, no_color):
    args = cli.build_parser().parse_args(argv)
    assert (args.workspace, args.no_color) == (workspace, no_color)


def test_no_color_turns_colour_off_on_a_terminal(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(report, "use_colour", lambda stream: True)  # as on a terminal
    (tmp_path / "sub").mkdir()
    _, coloured, _ = run(capsys, "grade", str(tmp_path / "sub"), "--lab", "2")
    code, plain, _ = run(capsys, "grade", str(tmp_path / "sub"), "--lab", "2", "--no-color")
    assert "\033[" in coloured
    assert code == 0 and "\033[" not in plain and "Score 0/16" in plain


def test_hints_come_one_more_each_time(capsys, ws, lab01):
    _, first, _ = run(capsys, "--workspace", str(ws), "hint", "1")
    _, second, _ = run(capsys, "--workspace", str(ws), "hint", "1")
    assert first == f"Hint 1/{len(lab01.hints)}: {lab01.hints[0]}\n"
    assert second.splitlines()[1] == f"Hint 2/{len(lab01.hints)}: {lab01.hints[1]}"
    for _ in lab01.hints:
        _, last, _ = run(capsys, "--workspace", str(ws), "hint", "1")
    assert last.rstrip().endswith("That was the last hint.")


def test_reset_keeps_a_backup(capsys, ws, lab01):
    ws.mkdir()
    (ws / "lab01.py").write_text("# precious work\n")
    code, out, _ = run(capsys, "--workspace", str(ws), "reset", "1")
    assert code == 0
    backups = list((ws / ".mlalab" / "backups").glob("lab01-*.py"))
    assert len(backups) == 1 and backups[0].read_text() == "# precious work\n"
    assert f"Your previous file is kept at {backups[0]}" in out
    assert (ws / "lab01.py").read_text() == lab01.starter_text()


def test_solution_unlocks_only_after_passing(capsys, ws, lab02):
    code, _, err = run(capsys, "--workspace", str(ws), "solution", "2")
    assert code == 2
    assert err == ("mlalab solution: the reference solution for lab 02 unlocks once your lab passes "
                   "(make lab-2); instructors can use --force\n")
    code, out, _ = run(capsys, "--workspace", str(ws), "solution", "2", "--force")
    assert code == 0 and out == lab02.solution_path.read_text()
    ws.mkdir()
    shutil.copy(lab02.solution_path, ws / "lab02.py")
    run(capsys, "--workspace", str(ws), "check", "2")
    code, out, _ = run(capsys, "--workspace", str(ws), "solution", "2")
    assert code == 0 and "def create_training_role" in out


def test_watch_grades_on_start(capsys, ws):
    code, out, _ = run(capsys, "--workspace", str(ws), "watch", "2", "--max-runs", "1", "--interval", "0")
    assert code == 0 and "Watching" in out and "Score 0/16" in out


def test_grade_json_and_junit(capsys, tmp_path, lab01, lab02):
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(lab02.solution_path, sub / "lab02.py")
    code, out, _ = run(capsys, "grade", str(sub), "--lab", "2", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    lab = doc["labs"][0]
    why = (lab["problems"], [c["message"] for c in lab["checks"] if c["status"] != "pass"][:2], lab["isolation"])
    assert (doc["score"], doc["max_score"], doc["status"]) == (16, 16, "pass"), why
    assert [c["status"] for c in lab["checks"]] == ["pass"] * 9
    out_file = tmp_path / "junit.xml"
    code, _, _ = run(capsys, "grade", str(sub), "--lab", "1", "--lab", "2", "--format", "junit", "--out",
                     str(out_file))
    assert code == 0  # grading ran: exit 0 whatever the score
    root = ET.parse(out_file).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(lab01.checks) + len(lab02.checks)
    assert len(root.findall(".//failure")) == len(lab01.checks)  # lab01.py is missing from the submission


def test_grade_bad_folder_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, "grade", str(tmp_path / "nope"))
    assert code == 2 and err == f"mlalab grade: submission folder {tmp_path / 'nope'} does not exist\n"


def test_grade_a_file_says_a_folder_is_expected(capsys, tmp_path):
    (tmp_path / "lab02.py").write_text("")
    code, out, err = run(capsys, "grade", str(tmp_path / "lab02.py"))
    assert (code, out) == (2, "")
    assert err == (f"mlalab grade: {tmp_path / 'lab02.py'} is a file, but grade needs a submission folder laid out "
                   f"like the workspace (lab01.py, lab02.py, ...); to grade only this file: mlalab grade {tmp_path} "
                   "--lab 2\n")
    (tmp_path / "answers.zip").write_text("")
    code, _, err = run(capsys, "grade", str(tmp_path / "answers.zip"), "--format", "json")
    assert code == 2 and err == (f"mlalab grade: {tmp_path / 'answers.zip'} is a file, but grade needs a submission "
                                 "folder laid out like the workspace (lab01.py, lab02.py, ...)\n")


def test_grade_reference(capsys):
    code, out, _ = run(capsys, "grade", "--reference", "--lab", "1")
    assert code == 0 and "Score 25/25" in out


def test_iam_simulate_is_wired(capsys, tmp_path):
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}))
    code, out, _ = run(capsys, "iam-simulate", "--policy", str(policy), "--action", "s3:GetObject",
                       "--resource", "arn:aws:s3:::b/k", "--json")
    assert code == 0 and json.loads(out)["decision"] == "allowed"
    code, out, _ = run(capsys, "iam-simulate", "--policy", str(policy), "--action", "s3:PutObject",
                       "--resource", "arn:aws:s3:::b/k", "--json")
    assert code == 1 and json.loads(out)["decision"] == "implicit_deny"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert report.use_colour(FakeTty())
    assert not report.use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not report.use_colour(FakeTty())


def make(target: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLALAB_WORKSPACE": str(tmp_path / "ws")}
    return subprocess.run(["make", "-s", target], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)


def test_make_lab_targets(tmp_path):
    """`make lab-01` and `make lab-1` grade lab 1; failing checks are the report, not a make error; an
    unknown lab prints the catalogue and fails."""
    bad = make("lab-99", tmp_path)
    assert bad.returncode == 2 and "there is no lab '99'" in bad.stderr
    graded = make("lab-01", tmp_path)
    assert "Score 0/25" in graded.stdout and (tmp_path / "ws" / "lab01.py").is_file()
    # Grading ran: exit 0 and no "make: *** [Makefile:NN: lab-01] Error 1" under the report.
    assert (graded.returncode, graded.stderr) == (0, "")


def test_make_lab_without_a_number_lists_the_labs(tmp_path):
    done = make("lab-", tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith("make lab-N grades lab N: give its number, e.g. make lab-1. The labs:\n")
    assert all(f"{lab.number:<4} {lab.task:<5}" in done.stdout for lab in load_labs())


@pytest.mark.parametrize("fmt", ["json", "junit", "gradescope", "github"])
def test_verify_accepts_the_graders_documents_and_rejects_edits(capsys, tmp_path, monkeypatch, lab02, fmt):
    monkeypatch.setenv("MLALAB_SIGNING_KEY", "instructor-secret")
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(lab02.solution_path, sub / "lab02.py")
    doc = tmp_path / f"result.{fmt}"
    assert run(capsys, "grade", str(sub), "--lab", "2", "--format", fmt, "--out", str(doc))[0] == 0
    code, out, _ = run(capsys, "verify", str(doc))
    assert code == 0 and out == f"{doc}: valid, signed with MLALAB_SIGNING_KEY\n"
    monkeypatch.setenv("MLALAB_SIGNING_KEY", "a-guess")
    code, out, _ = run(capsys, "verify", str(doc))
    assert code == 1 and "NOT VALID" in out


def test_verify_detects_a_changed_score(capsys, tmp_path, monkeypatch, lab02):
    monkeypatch.setenv("MLALAB_SIGNING_KEY", "instructor-secret")
    (tmp_path / "sub").mkdir()
    doc = tmp_path / "result.json"
    run(capsys, "grade", str(tmp_path / "sub"), "--lab", "2", "--format", "json", "--out", str(doc))
    forged = json.loads(doc.read_text())
    assert forged["score"] == 0
    forged["score"] = forged["max_score"]
    doc.write_text(json.dumps(forged))
    code, out, _ = run(capsys, "verify", str(doc))
    assert code == 1 and out == f"{doc}: NOT VALID: it was changed after grading, or not signed with this key\n"


def test_verify_needs_the_key_and_a_document(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("MLALAB_SIGNING_KEY", raising=False)
    code, _, err = run(capsys, "verify", str(tmp_path / "x.json"))
    assert code == 2 and err.startswith("mlalab verify: MLALAB_SIGNING_KEY is not set")
    monkeypatch.setenv("MLALAB_SIGNING_KEY", "k")
    code, _, err = run(capsys, "verify", str(tmp_path / "x.json"))
    assert code == 2 and err.startswith(f"mlalab verify: cannot read {tmp_path / 'x.json'}")
    (tmp_path / "x.json").write_text("hello")
    code, _, err = run(capsys, "verify", str(tmp_path / "x.json"))
    assert code == 2 and "is not a results document of mla-labs" in err
