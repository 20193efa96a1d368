"""What one grader process leaves behind: its signed results document, read back and verified, or
in its place an ``error`` result that says why the submission could not be graded."""

from __future__ import annotations

import json
from pathlib import Path

from mlalab.catalog import Lab
from mlalab.formats import json_format
from mlalab.formats.integrity import verify
from mlalab.results import CheckResult, LabResult, SubmissionResult


def read_document(path: Path, key: bytes) -> tuple[str | None, SubmissionResult | None]:
    """The grader's JSON document as a result, or why it cannot be used."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "the grader finished without writing its results document", None
    except (OSError, ValueError) as exc:
        return f"the grader's results document is unreadable ({type(exc).__name__})", None
    if not isinstance(document, dict) or not verify(document, key):
        return "the grader's results document failed its integrity check (not written by the grader)", None
    try:
        return None, json_format.read(document)
    except (KeyError, TypeError, ValueError) as exc:
        return f"the grader's results document is malformed ({type(exc).__name__}: {exc})", None


def error_result(name: str, labs: list[Lab], reason: str, duration: float) -> SubmissionResult:
    """A submission that could not be graded: every lab and check is ``error`` with 0 points."""
    lab_results = [
        LabResult(lab=lab.id, slug=lab.slug, title=lab.title, task=lab.task, status="error", score=0.0,
                  max_score=lab.max_score, problems=[f"This submission could not be graded: {reason}"],
                  checks=[CheckResult(id=c.id, name=c.name, status="error", points=0.0, max_points=c.points,
                                      message=f"not graded: {reason}", task=lab.task) for c in lab.checks])
        for lab in labs
    ]
    return SubmissionResult(submission=name, status="error", score=0.0,
                            max_score=sum(lab.max_score for lab in labs), labs=lab_results,
                            duration=round(duration, 3), error=reason)
