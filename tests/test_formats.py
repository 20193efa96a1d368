"""Every results format, rendered from one hand-built submission with hostile learner output."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import yaml

from mlalab.formats import FORMATS, github, gradescope, integrity, json_format, junit, write
from mlalab.results import CheckResult, LabResult, SubmissionResult

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NONCE = "3f9c2a7d0b1e4c56"
KEY = b"instructor-secret"
# What a learner's code could print: workflow commands (also after a bare CR and a Unicode line
# separator), a legacy command, an early end of <system-out>, NUL and BEL bytes, HTML, Markdown.
HOSTILE = (
    "hello\n::set-output name=x::y\n  ::add-mask::secret\rbefore\r::warning::bare cr\u2028::error::ls"
    "\n</system-out><evil/>\x00\x07 <script>alert(1)</script> | `tick` ##[set-output name=a;]b\n"
)


def make_result() -> SubmissionResult:
    lab1 = LabResult(
        lab=1, slug="01_endpoint_alarms", title="Endpoint alarms", task="4.2", status="fail",
        score=3.0, max_score=5.0, output=HOSTILE, output_truncated=True, duration=1.5, seed=42,
        isolation="linux-namespaces",
        checks=[
            CheckResult("latency-alarm", "Latency alarm exists", "pass", 2.0, 2.0, "Alarm found.", "4.2",
                        0.25),
            CheckResult("error-alarm", "5xx alarm <b>", "fail", 0.0, 2.0,
                        "Threshold was 5.\n::set-output name=x::y", "4.2", 0.5),
            CheckResult("sns-topic", "Alarm notifies | SNS", "pass", 1.0, 1.0, "Topic wired.", "4.3", 0.125),
        ],
    )
    lab2 = LabResult(
        lab=2, slug="02_drift_monitor", title="Drift monitor", task="4.1", status="error",
        score=0.0, max_score=4.0, problems=["Your code timed out after 60 s"], duration=60.0, seed=7,
        isolation="process",
        checks=[CheckResult("baseline-job", "Baseline job ran", "error", 0.0, 4.0, "KeyError: 'x'", "4.1")],
    )
    return SubmissionResult(submission="learner<script>", status="fail", score=3.0, max_score=9.0,
                            labs=[lab1, lab2], duration=61.5)


def error_result() -> SubmissionResult:
    return SubmissionResult(submission="empty", status="error", score=0.0, max_score=9.0,
                            error="No lab folders found", duration=0.1)


def lines_of(text: str) -> list[str]:
    return text.splitlines()  # every separator the Actions runner (and more) splits on


def assert_no_workflow_command(text: str) -> None:
    for line in lines_of(text):
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line


def all_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []


# --- registry and writing -------------------------------------------------------------------


def test_formats_registry_and_write(tmp_path: Path) -> None:
    assert {"json", "junit", "gradescope", "github"} <= set(FORMATS)
    out = tmp_path / "deep" / "result.json"
    text = write(make_result(), "json", out, NONCE)
    assert out.read_bytes() == text.encode("utf-8")
    assert write(make_result(), "junit", None, NONCE, KEY).startswith("<?xml")
    with pytest.raises(ValueError, match="unknown results format"):
        write(make_result(), "yaml", None, NONCE)


# --- integrity ------------------------------------------------------------------------------


def test_sign_and_verify_with_nonce_and_key() -> None:
    doc = {"b": [1, 2.5, "é"], "a": {"z": None}}
    signed = integrity.sign(doc, NONCE)
    assert signed["integrity"]["nonce"] == NONCE and signed["integrity"]["algorithm"] == "hmac-sha256"
    assert integrity.verify(signed) and integrity.verify(signed, expected_nonce=NONCE)
    assert not integrity.verify(signed, expected_nonce="another-run")
    assert not integrity.verify({**signed, "b": [1, 2.5, "e"]})
    keyed = integrity.sign(doc, NONCE, KEY)
    assert integrity.verify(keyed, KEY) and not integrity.verify(keyed) and not integrity.verify(keyed, b"x")
    assert not integrity.verify(doc)  # unsigned
    assert not integrity.verify({**signed, "bad": "\ud800"})  # text no grader writes: False, not a crash
    expected = integrity.signature(integrity.canonical_json(doc), NONCE)
    assert signed["integrity"]["signature"] == expected
    assert integrity.canonical_json(doc) == '{"a":{"z":null},"b":[1,2.5,"é"]}'.encode()


# --- JSON -----------------------------------------------------------------------------------


def test_json_document_exact() -> None:
    doc = json.loads(FORMATS["json"](make_result(), nonce=NONCE))
    block = doc.pop("integrity")
    assert block["nonce"] == NONCE and block["algorithm"] == "hmac-sha256" and len(block["signature"]) == 64
    assert doc == {
        "version": 1, "status": "fail", "score": 3.0, "max_score": 9.0, "submission": "learner<script>",
        "duration": 61.5,
        "labs": [
            {
                "lab": 1, "slug": "01_endpoint_alarms", "title": "Endpoint alarms", "task": "4.2",
                "status": "fail", "score": 3.0, "max_score": 5.0, "duration": 1.5, "seed": 42,
                "isolation": "linux-namespaces", "output": HOSTILE, "output_truncated": True, "problems": [],
                "checks": [
                    {"id": "latency-alarm", "name": "Latency alarm exists", "status": "pass", "points": 2.0,
                     "max_points": 2.0, "message": "Alarm found.", "task": "4.2", "duration": 0.25},
                    {"id": "error-alarm", "name": "5xx alarm <b>", "status": "fail", "points": 0.0,
                     "max_points": 2.0, "message": "Threshold was 5.\n::set-output name=x::y", "task": "4.2",
                     "duration": 0.5},
                    {"id": "sns-topic", "name": "Alarm notifies | SNS", "status": "pass", "points": 1.0,
                     "max_points": 1.0, "message": "Topic wired.", "task": "4.3", "duration": 0.125},
                ],
            },
            {
                "lab": 2, "slug": "02_drift_monitor", "title": "Drift monitor", "task": "4.1",
                "status": "error", "score": 0.0, "max_score": 4.0, "duration": 60.0, "seed": 7,
                "isolation": "process", "output": "", "output_truncated": False,
                "problems": ["Your code timed out after 60 s"],
                "checks": [
                    {"id": "baseline-job", "name": "Baseline job ran", "status": "error", "points": 0.0,
                     "max_points": 4.0, "message": "KeyError: 'x'", "task": "4.1", "duration": 0.0},
                ],
            },
        ],
    }


def test_json_error_field_and_integrity() -> None:
    doc = json.loads(json_format.render(error_result(), nonce=NONCE, key=KEY))
    assert doc["status"] == "error" and doc["error"] == "No lab folders found" and doc["labs"] == []
    assert "error" not in json.loads(json_format.render(make_result(), nonce=NONCE))
    assert integrity.verify(doc, KEY, expected_nonce=NONCE)
    doc["score"] = 9.0
    assert not integrity.verify(doc, KEY)


def test_json_survives_undecodable_learner_output() -> None:
    result = make_result()
    result.labs[0].output = "bad \udcff byte"  # what surrogateescape decoding leaves behind
    doc = json.loads(json_format.render(result, nonce=NONCE))
    assert doc["labs"][0]["output"] == "bad ? byte" and integrity.verify(doc)


# --- JUnit ----------------------------------------------------------------------------------


def test_junit_structure() -> None:
    xml = junit.render(make_result(), nonce=NONCE)
    assert "\x00" not in xml and "\x07" not in xml
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["lab01 endpoint_alarms", "lab02 drift_monitor"]
    lab1, lab2 = suites
    props = {p.get("name"): p.get("value") for p in lab1.findall("properties/property")}
    assert props == {"score": "3", "max_score": "5", "status": "fail", "task": "4.2", "seed": "42",
                     "isolation": "linux-namespaces"}
    cases = lab1.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "latency-alarm: Latency alarm exists",
        "error-alarm: 5xx alarm <b>",
        "sns-topic: Alarm notifies | SNS",
    ]
    assert {c.get("classname") for c in cases} == {"lab01_endpoint_alarms"}
    assert cases[0].get("time") == "0.250" and list(cases[0]) == []
    failure = cases[1].find("failure")
    assert failure.get("message") == "Threshold was 5."
    assert failure.text == "Threshold was 5.\n::set-output name=x::y"
    # The learner's output is one text node: stripped of XML-illegal characters, nothing injected.
    out = lab1.find("system-out").text
    assert out == junit.xml_text(HOSTILE).replace("\r", "\n")  # XML parsers normalise a bare CR
    assert "</system-out><evil/>" in out and lab1.find(".//evil") is None
    assert [c.get("name") for c in lab2.findall("testcase")] == [
        "baseline-job: Baseline job ran", "lab-not-graded: Lab could not be graded"]
    assert lab2.findall("testcase")[1].find("error").text == "Your code timed out after 60 s"
    assert lab2.find("system-err").text == "Your code timed out after 60 s"


def test_junit_integrity() -> None:
    xml = junit.render(make_result(), nonce=NONCE, key=KEY)
    prop = ET.fromstring(xml).find("properties/property[@name='integrity']")
    nonce, signature = prop.get("value").split(":")
    assert nonce == NONCE and len(signature) == 64
    assert junit.verify(xml, KEY, expected_nonce=NONCE)
    assert not junit.verify(xml) and not junit.verify(xml, KEY, expected_nonce="other")
    assert not junit.verify(xml.replace('name="score" value="3"', 'name="score" value="5"'), KEY)
    assert not junit.verify(xml.replace("Threshold was 5.", "Threshold was 6."), KEY)
    assert not junit.verify("<testsuites/>") and not junit.verify("not xml")


def test_junit_submission_error() -> None:
    root = ET.fromstring(junit.render(error_result(), nonce=NONCE))
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "lab00 submission"
    assert suite.find("testcase/error").text == "No lab folders found"


# --- Gradescope -----------------------------------------------------------------------------


def test_gradescope_document_exact() -> None:
    doc = json.loads(gradescope.render(make_result(), nonce=NONCE))
    assert list(doc) == ["score", "execution_time", "output", "output_format", "visibility",
                         "stdout_visibility", "tests", "extra_data"]
    assert (doc["score"], doc["execution_time"], doc["output_format"]) == (3.0, 62, "text")
    assert doc["visibility"] == doc["stdout_visibility"] == "visible"
    assert doc["output"].startswith("mla-labs: 3/9 points (fail)\nIsolation: linux-namespaces, process\n"
                                    "Lab 1 · Endpoint alarms: 3/5 (fail)\n")
    assert "Lab 2 problem: Your code timed out after 60 s" in doc["output"]
    assert "what your code printed (truncated)" in doc["output"]

    def entry(name, number, score, max_score, status, output, tags):
        return {"name": name, "number": number, "score": score, "max_score": max_score, "status": status,
                "output": output, "tags": tags, "visibility": "visible"}

    lab1, lab2 = "01_endpoint_alarms", "02_drift_monitor"
    assert doc["tests"] == [
        entry("Lab 1 · Latency alarm exists", "1.1", 2.0, 2.0, "passed", "Alarm found.", ["4.2", lab1]),
        entry("Lab 1 · 5xx alarm <b>", "1.2", 0.0, 2.0, "failed", "Threshold was 5.\n::set-output name=x::y",
              ["4.2", lab1]),
        entry("Lab 1 · Alarm notifies | SNS", "1.3", 1.0, 1.0, "passed", "Topic wired.", ["4.3", lab1]),
        entry("Lab 2 · Baseline job ran", "2.1", 0.0, 4.0, "failed", "KeyError: 'x'", ["4.1", lab2]),
        entry("Lab 2 · Lab could not be graded", "2.2", 0.0, 0.0, "failed", "Your code timed out after 60 s",
              ["4.1", lab2]),
    ]
    assert list(doc["extra_data"]) == ["integrity"]
    assert integrity.verify(doc, expected_nonce=NONCE)
    doc["tests"][1]["score"] = 2.0
    assert not integrity.verify(doc)


def test_gradescope_keyed_integrity() -> None:
    doc = json.loads(gradescope.render(make_result(), nonce=NONCE, key=KEY))
    assert integrity.verify(doc, KEY) and not integrity.verify(doc)


def _zip_entries(tmp_path: Path) -> tuple[Path, dict[str, zipfile.ZipInfo]]:
    path = gradescope.build_autograder_zip(tmp_path, PROJECT_ROOT)
    with zipfile.ZipFile(path) as archive:
        return path, {info.filename: info for info in archive.infolist()}


def test_gradescope_zip_contents(tmp_path: Path) -> None:
    path, entries = _zip_entries(tmp_path)
    assert path == tmp_path / "autograder.zip"
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(entries[script].external_attr >> 16) == 0o755
        assert stat.S_ISREG(entries[script].external_attr >> 16)
    assert "mla-labs/pyproject.toml" in entries
    assert "mla-labs/mlalab/results.py" in entries
    assert "mla-labs/mlalab/formats/templates/github-classroom.yml" in entries
    assert stat.S_IMODE(entries["mla-labs/mlalab/results.py"].external_attr >> 16) == 0o644
    for name in entries:
        parts = name.split("/")
        assert parts[0] in {"setup.sh", "run_autograder", "mla-labs"}, name
        assert not {"__pycache__", ".venv", "workspace", ".git"} & set(parts), name
        assert len(parts) < 2 or parts[1] in gradescope.PROJECT_ENTRIES, name  # so never tests/
        assert not name.endswith(".pyc")
    # Reproducible: the same project gives the same bytes.
    again = gradescope.build_autograder_zip(tmp_path / "again.zip", PROJECT_ROOT)
    assert again.read_bytes() == path.read_bytes()


def test_gradescope_scripts_are_valid_bash(tmp_path: Path) -> None:
    for script in (gradescope.SETUP_SH, gradescope.RUN_AUTOGRADER):
        assert script.startswith("#!/usr/bin/env bash\n")
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    assert "--format gradescope --out \"$RESULTS\"" in gradescope.RUN_AUTOGRADER
    assert "/autograder/submission" in gradescope.RUN_AUTOGRADER


def _run_autograder(tmp_path: Path, fake_mlalab: str) -> dict:
    """Run the real run_autograder with /autograder moved into tmp_path and a stand-in grader."""
    root = tmp_path / "autograder"
    (root / "source" / gradescope.SOURCE_DIR).mkdir(parents=True)
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "results").mkdir()
    (root / "results" / "results.json").write_text('{"score": 100}')  # planted by someone else
    grader = root / "venv" / "bin" / "mlalab"
    grader.write_text("#!/usr/bin/env bash\n" + fake_mlalab)
    grader.chmod(0o755)
    script = tmp_path / "run_autograder"
    script.write_text(gradescope.RUN_AUTOGRADER.replace("/autograder", str(root)))
    subprocess.run(["bash", str(script)], check=True, env={**os.environ, "PATH": os.environ["PATH"]})
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_success_and_fallback(tmp_path: Path) -> None:
    written = _run_autograder(tmp_path / "ok", 'test "$1 $3 $4" = "grade --format gradescope" && '
                                               'echo \'{"score": 7}\' > "$6"; exit 1\n')
    assert written == {"score": 7}
    crashed = _run_autograder(tmp_path / "crash", "exit 3\n")
    assert crashed["score"] == 0 and crashed["tests"] == []
    assert "could not grade this submission (exit code 3)" in crashed["output"]


# --- GitHub Classroom ------------------------------------------------------------------------


def test_github_document_exact() -> None:
    encoded = github.render(make_result(), nonce=NONCE)
    assert "\n" not in encoded and base64.b64decode(encoded, validate=True)
    doc = github.decode(encoded)
    assert integrity.verify(doc, expected_nonce=NONCE)
    block = doc.pop("integrity")
    assert block["nonce"] == NONCE

    def entry(name, status, score, max_score, message, lab, slug, duration=0.0):
        return {"name": name, "status": status, "score": score, "max_score": max_score, "message": message,
                "test_code": f"mlalab grade --lab {lab}", "filename": f"labs/{slug}/test_lab.py",
                "line_no": 0, "duration": duration}

    lab1, lab2 = "01_endpoint_alarms", "02_drift_monitor"
    assert doc == {
        "version": 1, "status": "fail", "max_score": 9.0,
        "tests": [
            entry("Lab 1 · Latency alarm exists", "pass", 2.0, 2.0, "Alarm found.", 1, lab1, 0.25),
            entry("Lab 1 · 5xx alarm <b>", "fail", 0.0, 2.0, "Threshold was 5.\n\\::set-output name=x::y",
                  1, lab1, 0.5),
            entry("Lab 1 · Alarm notifies | SNS", "pass", 1.0, 1.0, "Topic wired.", 1, lab1, 0.125),
            entry("Lab 2 · Baseline job ran", "error", 0.0, 4.0, "KeyError: 'x'", 2, lab2),
            entry("Lab 2 · Lab could not be graded", "error", 0.0, 0.0, "Your code timed out after 60 s",
                  2, lab2),
        ],
        "isolation": ["linux-namespaces", "process"],
    }


def test_github_integrity_tamper() -> None:
    doc = github.decode(github.render(make_result(), nonce=NONCE, key=KEY))
    assert integrity.verify(doc, KEY)
    doc["tests"][1]["status"] = "pass"
    assert not integrity.verify(doc, KEY)


def test_github_neutralise() -> None:
    text = github.neutralise(HOSTILE)
    assert_no_workflow_command(text)
    assert "\r" not in text and "\u2028" not in text
    assert "\\::set-output name=x::y" in text and "  \\::add-mask::secret" in text
    assert github.neutralise("a :: b") == "a :: b"  # only a line start (or ##[) is a command


def test_github_learner_text_cannot_issue_commands() -> None:
    result = make_result()
    for check in result.labs[0].checks:
        check.message = HOSTILE
        check.name = "x\n::set-output name=n::v"
    doc = github.decode(github.render(result, nonce=NONCE))
    for text in all_strings(doc):
        assert_no_workflow_command(text)
    summary = github.markdown_summary(result)
    assert_no_workflow_command(summary)
    assert "<script>" not in summary and "&lt;script&gt;" in summary


def test_github_notice_and_summary() -> None:
    result = make_result()
    assert github.notice(result) == "::notice title=Autograding complete::Points 3/9"
    summary = github.markdown_summary(result)
    table = [line for line in summary.splitlines() if line.startswith("| Lab ")]
    assert table[0] == "| Lab | Check | Status | Points |"
    assert table[1] == "| Lab 1 | Latency alarm exists | ✅ pass | 2/2 |"
    assert table[2] == "| Lab 1 | 5xx alarm &lt;b&gt; | ❌ fail | 0/2 |"
    assert table[3] == "| Lab 1 | Alarm notifies \\| SNS | ✅ pass | 1/1 |"
    assert "| Lab 2 | Lab could not be graded | ⚠️ error | 0/0 |" in summary
    assert "**Points 3/9**" in summary
    assert "Threshold was 5.<br>\\\\::set-output name=x::y" in summary
    assert github.markdown_summary(github.document(result)) == summary  # the same from the decoded document


def test_github_cli_prints_from_result_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result_file = tmp_path / "result.b64"
    write(make_result(), "github", result_file, NONCE)
    assert github.main(["notice", str(result_file)]) == 0
    assert capsys.readouterr().out == "::notice title=Autograding complete::Points 3/9\n"
    github.main(["summary", str(result_file)])
    assert capsys.readouterr().out == github.markdown_summary(make_result())


def test_github_cli_as_a_module_runs_without_warnings(tmp_path: Path) -> None:
    """The workflow runs `python -m mlalab.formats.github`: importing the package must not import the module
    first (Python would warn "found in sys.modules ... prior to execution" on stderr, or fail with -W error)."""
    result_file = tmp_path / "result.b64"
    write(make_result(), "github", result_file, NONCE)
    for what in ("notice", "summary"):
        done = subprocess.run([sys.executable, "-W", "error", "-m", "mlalab.formats.github", what, str(result_file)],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        assert done.stdout
    # The writers load on first use, and FORMATS still works as a mapping that can be extended.
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import sys; from mlalab.formats import FORMATS, write; "
         "assert 'mlalab.formats.github' not in sys.modules; print(sorted(FORMATS)); FORMATS['github']; "
         "assert 'mlalab.formats.github' in sys.modules"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "['github', 'gradescope', 'json', 'junit']\n", "")


def test_formats_registry_is_lazy_and_extensible() -> None:
    assert FORMATS["github"] is github.render and FORMATS["json"] is json_format.render
    assert "text" not in FORMATS and "json" in FORMATS and len(FORMATS) == len(list(FORMATS))
    FORMATS["upper"] = lambda result, *, nonce, key=None: result.submission.upper()
    try:
        assert write(make_result(), "upper", None, NONCE) == "LEARNER<SCRIPT>"
        assert "upper" in FORMATS and "upper" in set(FORMATS)
    finally:
        del FORMATS["upper"]
    assert "upper" not in FORMATS
    with pytest.raises(KeyError):
        FORMATS["yaml"]


def test_github_workflow_template() -> None:
    path = Path(github.__file__).parent / "templates" / "github-classroom.yml"
    text = path.read_text()
    workflow = yaml.safe_load(text)
    (job,) = workflow["jobs"].values()
    assert job["name"] == "Autograding Tests"
    steps = {step.get("name"): step for step in job["steps"]}
    assert steps["Set up Python 3.11"]["with"]["python-version"] == "3.11"
    # labs/ is not in the Python package: the course is checked out and installed editable, beside the
    # learner's work (never inside it), from a documented placeholder repository and pinned ref.
    assert steps["Checkout the learner's work"]["with"]["path"] == "submission"
    course = steps["Check out the course (mla-labs)"]
    assert course["uses"].startswith("actions/checkout@")
    assert course["with"]["repository"] == "YOUR-ORG/mla-labs" and course["with"]["ref"] == "v0.1.0"
    assert course["with"]["path"] == "mla-labs"
    assert "placeholder" in text and "YOUR-ORG/mla-labs" in text.split("name: Autograding Tests")[0]
    assert steps["Install mla-labs"]["run"] == "python -m pip install -e ./mla-labs"
    assert "pip install -e" in text
    assert not any(line.strip().startswith("run:") and "pip install" in line and " -e " not in line
                   for line in text.splitlines())
    grade = steps["Grade"]["run"]
    assert "mlalab grade submission --format github --out result.b64" in grade
    assert 'echo "result=$(cat result.b64)" >> "$GITHUB_OUTPUT"' in grade
    assert "python -m mlalab.formats.github notice result.b64" in grade
    assert 'summary result.b64 >> "$GITHUB_STEP_SUMMARY"' in grade
    assert steps["Report to GitHub Classroom"]["env"]["GRADE_RESULTS"] == "${{ steps.grade.outputs.result }}"
