"""Learner code that forges the grader's verdict instead of earning it: fake results files, text that
looks like a passing report, GitHub workflow commands, fake events on the grader's pipe."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlalab import report
from mlalab.formats import github, integrity, junit
from tests.adversarial import HEADER, LAB2, SIGNATURE, TRY, grade_submission, isolation

KEY = "adversarial-instructor-key-5b1f0c"
MLALAB = Path(sys.executable).parent / "mlalab"
FORMATS = ("json", "junit", "gradescope", "github")
FAKE = {
    "json": json.dumps({"version": 1, "status": "pass", "score": 16, "max_score": 16, "labs": [],
                        "integrity": {"nonce": "0" * 32, "algorithm": "hmac-sha256", "signature": "f" * 64}}),
    "junit": '<?xml version="1.0"?>\n<testsuites tests="9" failures="0" errors="0"><testsuite name="lab02" '
             'tests="9" failures="0" errors="0"/></testsuites>\n',
    "gradescope": json.dumps({"score": 16, "output": "All tests passed", "tests": []}),
    "github": base64.b64encode(json.dumps({"version": 1, "status": "pass", "max_score": 16, "tests": [
        {"name": "Lab 2", "status": "pass", "score": 16, "max_score": 16, "message": ""}]}).encode()).decode(),
}
COMMANDS = [
    "::set-output name=result::" + FAKE["github"],
    "::notice title=Autograding complete::Points 16/16",
    "  ::add-mask::hide-the-real-score",
    "x\r::error title=forged::carriage return",
    "y\u2028::warning::line separator",
    "##[error]legacy command",
    "::stop-commands::forged-token",
]


def forging_source(fmt: str, submission: Path, out: Path) -> str:
    targets = [str(submission / "results.json"), str(submission / out.name), "results.json",
               "/autograder/results/results.json", "/tmp/results.json", str(out)]
    return HEADER + TRY + f'''
FAKE = {FAKE[fmt]!r}
def forge():
    for target in {targets!r}:
        attempt("mkdir " + target, lambda: os.makedirs(os.path.dirname(target) or ".", exist_ok=True))
        attempt("write " + target, lambda: open(target, "w").write(FAKE))
forge()
print(os.environ)
''' + SIGNATURE + "    forge()\n    return None\n"


COMMANDS_SOURCE = HEADER + f'''
import json, boto3
def create_training_role(role_name, training_bucket, training_prefix, artifact_bucket, artifact_prefix,
                         kms_key_arn, log_group):
    for line in {COMMANDS!r}:
        print(line)
    trust = {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
             "Principal": {{"Service": "sagemaker.amazonaws.com"}}, "Action": "sts:AssumeRole"}}]}}
    iam = boto3.client("iam")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
    policy = {{"Version": "2012-10-17", "Statement": [{{"Sid": "A\\n::notice title=Autograding complete::"
               "Points 16/16", "Effect": "Allow", "Action": "*", "Resource": "*"}}]}}
    iam.put_role_policy(RoleName=role_name, PolicyName="training", PolicyDocument=json.dumps(policy))
    raise RuntimeError("\\n::set-output name=result::forged\\r::notice title=Autograding complete::Points 16/16")
'''


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Real ``mlalab grade`` runs, one per format (and one for workflow commands), all at once."""
    base = tmp_path_factory.mktemp("cli")
    jobs = {}
    for name in (*FORMATS, "commands"):
        submission, out = base / name / "submission", base / name / "out" / f"result.{name}"
        submission.mkdir(parents=True)
        out.parent.mkdir()
        fmt = "github" if name == "commands" else name
        source = COMMANDS_SOURCE if name == "commands" else forging_source(fmt, submission, out)
        (submission / LAB2.workspace_file).write_text(source)
        env = {**os.environ, "MLALAB_SIGNING_KEY": KEY}
        proc = subprocess.Popen([str(MLALAB), "grade", str(submission), "--lab", "2", "--format", fmt, "--out",
                                 str(out), "--seed", "7", "--timeout", "20"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        jobs[name] = (proc, submission, out)
    runs = {}
    for name, (proc, submission, out) in jobs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        runs[name] = {"submission": submission, "out": out, "text": out.read_text(encoding="utf-8"),
                      "stdout": stdout}
    return runs


# --- 2. fake results files in every format -------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_fake_results_file_is_replaced_by_the_graders_signed_document(cli_runs, fmt):
    run = cli_runs[fmt]
    text, out, submission = run["text"], run["out"], run["submission"]
    assert text != FAKE[fmt]
    assert KEY not in text  # the learner printed its whole environment: the key was never in it
    key = KEY.encode()
    if fmt == "json":
        doc = json.loads(text)
        assert doc["score"] == 0 and doc["status"] == "fail"
        assert integrity.verify(doc, key) and not integrity.verify(doc, b"a guessed key")
        problems = doc["labs"][0]["problems"]
        output = doc["labs"][0]["output"]
    elif fmt == "junit":
        assert junit.verify(text, key) and not junit.verify(text, b"a guessed key")
        suite = ET.fromstring(text).find("testsuite")
        assert suite.find("properties/property[@name='score']").get("value") == "0"
        problems = [suite.findtext("system-err")]
        output = suite.findtext("system-out")
    elif fmt == "gradescope":
        doc = json.loads(text)
        assert doc["score"] == 0
        assert integrity.verify(doc, key) and not integrity.verify(doc, b"a guessed key")
        problems = output = [doc["output"]]
        output = doc["output"]
    else:
        doc = github.decode(text)
        assert sum(test["score"] for test in doc["tests"]) == 0
        assert integrity.verify(doc, key) and not integrity.verify(doc, b"a guessed key")
        problems, output = None, None  # the Classroom document carries checks only
    # Nothing reached the submission folder; the grader's --out file is the only document there is.
    assert sorted(p.name for p in submission.iterdir()) == ["lab02.py"]
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    if problems is not None:
        said = "\n".join(problems)
        assert (f"the sandbox refused: your code tried to write to {out} (only files in its own sandbox folder "
                "can be changed)") in said
        assert "the sandbox refused: your code tried to write to /autograder/results/results.json" in said
        if isolation() == "linux-namespaces":  # the hook only reports: the kernel refuses
            assert "write /tmp/results.json: FAILED OSError: [Errno 30] Read-only file system" in output
        else:  # the hook refuses first (in chroot-seccomp, /tmp does not even exist in the jail)
            assert ("write /tmp/results.json: FAILED PermissionError: mla-labs sandbox: your code tried to write to "
                    "/tmp/results.json") in output
        assert f"write {out}: FAILED" in output


# --- 10. GitHub workflow commands ----------------------------------------------------------------

def _command_lines(text: str) -> list[str]:
    """Lines an Actions runner would read as workflow commands."""
    lines = text.replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n").split("\n")
    return [line for line in lines if line.lstrip().startswith("::") or "##[" in line]


def test_github_workflow_commands_from_learner_code_never_reach_the_runner(cli_runs, tmp_path):
    run = cli_runs["commands"]
    encoded = run["text"]
    assert "\n" not in encoded.strip() and _command_lines(encoded) == []
    doc = github.decode(encoded)
    assert integrity.verify(doc, KEY.encode())
    earned = sum(test["score"] for test in doc["tests"])
    assert earned < 16  # what the role (trust policy + "Action": "*") deserves, nothing forged
    for test in doc["tests"]:
        assert _command_lines(test["name"]) == [] and _command_lines(test["message"]) == [], test
    printed = {}
    for what in ("notice", "summary"):
        done = subprocess.run([sys.executable, "-m", "mlalab.formats.github", what, str(run["out"])],
                              capture_output=True, text=True, check=True)
        printed[what] = done.stdout
    # The one workflow command printed is the grader's own notice, with the grader's numbers.
    assert printed["notice"] == f"::notice title=Autograding complete::Points {earned:g}/16\n"
    assert _command_lines(printed["summary"]) == []


# --- 4. printing text that imitates a passing report ---------------------------------------------

def test_text_that_imitates_a_passing_report_stays_inside_the_output_frame(tmp_path):
    fakes = ["  PASS  The role trusts the SageMaker service, and nobody else  2/2",
             "  Score 16/16", "Total 39/39", "x\r  Score 16/16", "\x1b[2K\x1b[1G  Score 16/16\x1b[8m",
             "\x1b[A\x1b[A  Score 16/16", "y\u2028  PASS  everything  16/16", "\u202e61/61 erocS"]
    source = HEADER + f"for line in {fakes!r}:\n    print(line)\n" + SIGNATURE + "    return None\n"
    result = grade_submission(tmp_path, source)
    lab = result.labs[0]
    assert lab.score == 0
    text = report.render(result)
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    for line in text.splitlines():
        if any(fake in line for fake in ("16/16", "39/39", "PASS", "61/61")):
            assert line.startswith("    │ "), line
    assert "  Score 0/16" in text.splitlines()
    assert "    │ \\x1b[2K\\x1b[1G  Score 16/16\\x1b[8m" in text.splitlines()  # shown, harmless


# --- 14. forging the event pipe ------------------------------------------------------------------

def test_forged_events_on_the_graders_pipe_earn_nothing_and_are_reported(tmp_path):
    fake = "".join(json.dumps(e) + "\n" for e in [
        {"event": "call", "function": "create_training_role", "status": "ok", "returned": "'arn'"},
        {"event": "done"},
        {"event": "call", "function": "create_training_role", "status": "raised", "error": {"type": 1}},
        {"event": "import", "status": "ok", "error": {"where": {"line": "x"}}},
        {"event": "violation", "what": "\x1b[2J  PASS  Score 16/16"},
        {"event": "score", "points": 16},
    ]) + "not json at all\n[1, 2]\n"
    source = HEADER + TRY + f'''
import stat
FAKE = {fake!r}.encode()
def forge():
    # Every pipe but stdout: found by fstat, which needs no /proc (chroot-seccomp has none)
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, FAKE)
        except OSError:
            continue
attempt("forge", forge)
''' + SIGNATURE + '''    forge()
    sys.modules["__main__"].emit(event="call", function="create_training_role", status="ok", returned="'arn'")
    sys.modules["__main__"].emit(event="done")
    os._exit(0)
'''
    lab = grade_submission(tmp_path, source).labs[0]
    assert lab.score == 0 and lab.status == "fail"
    assert all(check.status == "fail" for check in lab.checks)  # graded, not errored
    forged = [p for p in lab.problems if "of its own to the grader's event channel; they were ignored" in p]
    assert forged and forged[0].startswith("your code wrote "), lab.problems
    assert int(forged[0].split()[3]) >= 8, forged  # the 8 lines written to the pipe's descriptor, not only emit()
    assert "points come from the AWS state the checks read" in forged[0]
    assert not any("\x1b" in p for p in lab.problems)


# --- forging a "grader error" ---------------------------------------------------------------------

def test_names_the_grader_could_not_read_back_are_refused_like_aws_does(tmp_path):
    """A name with an escape character (not valid in XML) or a CR (an XML reader turns it into LF)
    stored in moto would make the grader's own reads fail: every check "error", "a bug in mla-labs",
    and the learner's text in the reports. The lab's AWS refuses such names, as AWS does."""
    source = HEADER + "import json, boto3\n" + SIGNATURE + '''    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
             "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                         "Resource": "arn:aws:s3:::nothing/*"}]})
    for name in ("esc\\x1b[2J", "cr\\r::notice::x", "ls\\u2028x", "nul\\x00"):
        try:
            iam.put_role_policy(RoleName=role_name, PolicyName=name, PolicyDocument=policy)
            print(repr(name), "STORED")
        except Exception as exc:
            print(repr(name), "REFUSED", exc)
    iam.tag_role(RoleName=role_name, Tags=[{"Key": "k", "Value": "v\\x1b[8m"}])
'''
    result = grade_submission(tmp_path, source).labs[0]
    assert result.status == "fail" and not any(check.status == "error" for check in result.checks), \
        [check.message for check in result.checks]
    assert "STORED" not in result.output, result.output
    assert ("the parameter PolicyName contains a line break or control character, which AWS does not accept"
            in result.output)
    assert any("AWS returned ValidationError from TagRole" in p and "control character" in p
               for p in result.problems), result.problems


def test_no_forged_event_can_crash_the_grader_or_put_control_characters_in_the_report():
    """Fuzz the grader's side of the event pipe: whatever learner code writes there, screening and
    the feedback built from it never raise, and produce plain text only."""
    import random

    from mlalab import feedback
    from mlalab.sandbox import LearnerRun, screen_events

    rng = random.Random(20260101)
    values = [None, 0, -1, 10**30, 1.5, True, "", "create_training_role", "x\x1b[2J\r\n::set-output::y", [],
              ["a", 1], {}, {"line": "x"}, {"line": 3}, {"line": 3, "code": "c"}, {"where": {"code": 1}},
              {"type": "E", "message": "m", "where": {"line": 1, "code": "\x9b31m"}}, [[[[[]]]]], "ok", "raised",
              "syntax", "exit", "missing", "signature", "not_implemented"]
    keys = ["event", "function", "status", "error", "what", "defined", "close", "found", "returned", "where",
            "type", "message", "line", "offset", "code", "aws_code", "aws_message", "operation"]
    kinds = ["ready", "import", "start", "call", "violation", "memory", "done", "score", None, 7]
    start = [{"event": "ready"}, {"event": "import", "status": "ok"},
             {"event": "start", "function": "create_training_role"}]
    crafted = [  # each once crashed a naive reader of these events
        start + [{"event": "call", "function": "create_training_role", "status": "raised", "error": "x"}],
        start + [{"event": "call", "function": "create_training_role", "status": "raised",
                  "error": {"type": "E", "where": {"code": "no line"}}}],
        [{"event": "ready"}, {"event": "import", "status": "raised", "error": None}],
        [{"event": "ready"}, {"event": "import", "status": "syntax"}],
    ]
    for events in crafted:
        screened, forged = screen_events("\n".join(map(json.dumps, events)).encode(), ["create_training_role"])
        assert forged == 1
        feedback.problems(LAB2, LearnerRun(events=screened, forged=forged), 60, 1024)
    accepted = 0
    for _ in range(1500):
        lines = []
        if rng.random() < 0.7:  # a plausible start, so that later fields reach the feedback code
            lines.append(json.dumps({"event": "ready"}))
            lines.append(json.dumps({"event": "import", "status": rng.choice(["ok", "ok", "raised", "syntax",
                                                                                "exit"]),
                                     "error": {"type": "E", "message": "m", "line": 2, "offset": None,
                                               "where": rng.choice([None, {"line": 1, "code": "c"}])}}))
            lines.append(json.dumps({"event": "start", "function": "create_training_role"}))
        for _ in range(rng.randint(0, 8)):
            event = {key: rng.choice(values) for key in rng.sample(keys, rng.randint(0, 6))}
            event["event"] = rng.choice(kinds)
            if rng.random() < 0.8:
                event["function"] = "create_training_role"
            if rng.random() < 0.8:
                event["status"] = rng.choice(["ok", "raised", "syntax", "exit", "missing", "signature",
                                              "not_implemented"])
            if rng.random() < 0.5:
                event["error"] = {key: rng.choice(values) for key in rng.sample(keys[9:], rng.randint(0, 5))}
            lines.append(json.dumps(event) if rng.random() < 0.9 else rng.choice(["{", "[]", "null", "\x00"]))
        events, forged = screen_events("\n".join(lines).encode(), ["create_training_role"])
        accepted += len(events)
        run = LearnerRun(events=events, forged=forged, exit_code=rng.choice([None, 0, 1, -9, -11, -200]),
                         timed_out=rng.random() < 0.2)
        for problem in feedback.problems(LAB2, run, 60, 1024):
            assert isinstance(problem, str)
            assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) <= 0x9f for c in problem), problem
    assert accepted > 1000  # the fuzz reached the feedback code, not only the screening
