"""GitHub Classroom output: the base64 ``result`` a grading step hands to the Classroom reporter.

Security: the Actions runner treats any stdout line that starts (after leading whitespace) with
``::`` as a workflow command (``::set-output``, ``::add-mask``, ``::stop-commands``...), and any line
containing ``##[`` as a legacy one. The Classroom reporter prints test names and messages to the log,
and the runner also splits lines on a bare CR. Every learner-influenced string that this module
returns, inside the base64 document or in plain text, therefore goes through :func:`neutralise`: all
line breaks become ``\\n`` and a backslash is put in front of a leading ``::`` and inside ``##[``.
The backslash is visible in a log and disappears when Markdown renders it.

The workflow ``templates/github-classroom.yml`` runs ``mlalab grade --format github`` and then this
module as ``python -m mlalab.formats.github notice|summary result.b64`` to print the notice and the
step summary from the document, so grading runs once.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import sys
from pathlib import Path

from mlalab.formats.integrity import clean_text, sign
from mlalab.formats.json_format import graded_checks, number
from mlalab.results import SubmissionResult

VERSION = 1
_LEADING_COMMAND = re.compile(r"^(\s*)::")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def neutralise(text: str) -> str:
    """Text that no Actions runner will read as a workflow command, on any line."""
    lines = clean_text(text).splitlines()  # also splits on \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029
    return "\n".join(_LEADING_COMMAND.sub(r"\1\\::", line).replace("##[", "#\\#[") for line in lines)


def lab_test_path(slug: str) -> str:
    """Where the lab's graded tests live, shown by Classroom as the test's file."""
    return f"labs/{slug}/test_lab.py"


def document(result: SubmissionResult) -> dict:
    """The unsigned ``result`` document (each test also carries ``max_score`` for the summary table)."""
    tests = [
        {
            "name": neutralise(f"Lab {lab.lab} · {check.name}"),
            "status": check.status,
            "score": check.points,
            "max_score": check.max_points,
            "message": neutralise(check.message),
            "test_code": f"mlalab grade --lab {lab.lab}",
            "filename": neutralise(lab_test_path(lab.slug)),
            "line_no": 0,
            "duration": round(check.duration, 3),
        }
        for lab, _, check in graded_checks(result)
    ]
    return {"version": VERSION, "status": result.status, "max_score": result.max_score, "tests": tests,
            "isolation": sorted({lab.isolation for lab in result.labs if lab.isolation})}


def render(result: SubmissionResult, *, nonce: str, key: bytes | None = None) -> str:
    """Base64 of the signed JSON: one line, safe to print and to put in ``$GITHUB_OUTPUT``."""
    payload = json.dumps(sign(document(result), nonce, key), ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(payload.encode("utf-8")).decode("ascii")


def decode(encoded: str) -> dict:
    """The document inside a rendered ``result`` (verify it with ``integrity.verify``)."""
    return json.loads(base64.b64decode(encoded.strip(), validate=True).decode("utf-8"))


def _as_document(result: SubmissionResult | dict) -> dict:
    return document(result) if isinstance(result, SubmissionResult) else result


def notice(result: SubmissionResult | dict) -> str:
    """The line the Classroom reporter also prints: numbers only, so nothing learner-made reaches it."""
    doc = _as_document(result)
    earned = sum(test["score"] for test in doc["tests"])
    return f"::notice title=Autograding complete::Points {number(earned)}/{number(doc['max_score'])}"


def _cell(text: str) -> str:
    """One Markdown table cell: HTML and Markdown escaped, line breaks as <br>, commands neutralised."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(neutralise(text), quote=True))
    return "<br>".join(escaped.split("\n"))


_STATUS_ICON = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error"}


def markdown_summary(result: SubmissionResult | dict) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: the total, then one table row per check."""
    doc = _as_document(result)
    earned = sum(test["score"] for test in doc["tests"])
    lines = [
        "## mla-labs autograding",
        "",
        f"**Points {number(earned)}/{number(doc['max_score'])}** ({_cell(doc['status'])})",
        "",
        "| Lab | Check | Status | Points |",
        "| --- | --- | --- | ---: |",
    ]
    for test in doc["tests"]:
        lab, _, check = test["name"].partition(" · ")
        status = _STATUS_ICON.get(test["status"], test["status"])
        points = f"{number(test['score'])}/{number(test.get('max_score', test['score']))}"
        lines.append(f"| {_cell(lab)} | {_cell(check)} | {_cell(status)} | {points} |")
    failed = [test for test in doc["tests"] if test["status"] != "pass" and test["message"]]
    if failed:
        lines += ["", "### What to fix", ""]
        lines += [f"- **{_cell(test['name'])}**: {_cell(test['message'])}" for test in failed]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m mlalab.formats.github notice|summary FILE``: print from a rendered result file."""
    parser = argparse.ArgumentParser(prog="python -m mlalab.formats.github", description=main.__doc__)
    parser.add_argument("what", choices=["notice", "summary"])
    parser.add_argument("result_file", type=Path, help="the file `mlalab grade --format github` wrote")
    args = parser.parse_args(argv)
    doc = decode(args.result_file.read_text(encoding="ascii"))
    sys.stdout.write((notice(doc) + "\n") if args.what == "notice" else markdown_summary(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
