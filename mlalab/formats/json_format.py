"""The project's own JSON results document: everything the grader knows, one document per submission.

This is the lossless format: other tools (dashboards, the class report, re-scoring scripts) read it,
so field names are stable and versioned by ``version``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from mlalab.formats.integrity import clean_text, sign
from mlalab.results import CheckResult, LabResult, SubmissionResult

VERSION = 1
NOT_GRADED_ID = "lab-not-graded"


def number(value: float) -> str:
    """Points as people write them: 3, 2.5, 0.33."""
    return f"{round(value, 2):g}"


def graded_checks(result: SubmissionResult) -> Iterator[tuple[LabResult, int, CheckResult]]:
    """Each check with its 1-based number in its lab, as the per-test formats list them.

    Those formats only show tests, so a lab that could not be graded (or has no checks) becomes one
    extra errored test carrying its problems, and a submission that could not be graded at all
    becomes a lab 0 "submission": otherwise the failure would be invisible in Gradescope or CI.
    """
    why = result.error or "The submission could not be graded."
    labs = result.labs or [
        LabResult(lab=0, slug="submission", title="Submission", task="", status="error", score=0.0,
                  max_score=result.max_score, problems=[why])
    ]
    for lab in labs:
        for number_in_lab, check in enumerate(lab.checks, start=1):
            yield lab, number_in_lab, check
        if lab.status == "error" or not lab.checks:
            yield lab, len(lab.checks) + 1, CheckResult(
                id=NOT_GRADED_ID,
                name="Lab could not be graded",
                status="error",
                points=0.0,
                max_points=max(lab.max_score - sum(c.max_points for c in lab.checks), 0.0),
                message="\n".join(lab.problems) or "This lab could not be graded.",
                task=lab.task,
            )


def _seconds(value: float) -> float:
    return round(value, 3)


def check_document(check: CheckResult) -> dict:
    return {
        "id": clean_text(check.id),
        "name": clean_text(check.name),
        "status": check.status,
        "points": check.points,
        "max_points": check.max_points,
        "message": clean_text(check.message),
        "task": clean_text(check.task),
        "duration": _seconds(check.duration),
    }


def lab_document(lab: LabResult) -> dict:
    return {
        "lab": lab.lab,
        "slug": clean_text(lab.slug),
        "title": clean_text(lab.title),
        "task": clean_text(lab.task),
        "status": lab.status,
        "score": lab.score,
        "max_score": lab.max_score,
        "duration": _seconds(lab.duration),
        "seed": lab.seed,
        "isolation": lab.isolation,  # linux-namespaces, chroot-seccomp or process (practice-grade)
        "output": clean_text(lab.output),  # learner-controlled: consumers must treat it as quoted text
        "output_truncated": lab.output_truncated,
        "problems": [clean_text(p) for p in lab.problems],
        "checks": [check_document(c) for c in lab.checks],
    }


def document(result: SubmissionResult) -> dict:
    """The unsigned document; ``error`` is present only when the submission could not be graded."""
    doc: dict = {
        "version": VERSION,
        "status": result.status,
        "score": result.score,
        "max_score": result.max_score,
        "submission": clean_text(result.submission),
        "duration": _seconds(result.duration),
    }
    if result.status == "error":
        doc["error"] = clean_text(result.error or "")
    doc["labs"] = [lab_document(lab) for lab in result.labs]
    return doc


def read(document: dict) -> SubmissionResult:
    """Rebuild the :class:`SubmissionResult` a document was written from (the inverse of :func:`document`;
    batch grading reads each learner's document back with it). Raises KeyError/TypeError/ValueError
    on a malformed document."""
    labs = []
    for lab in document["labs"]:
        checks = [CheckResult(id=str(c["id"]), name=str(c["name"]), status=c["status"],
                              points=float(c["points"]), max_points=float(c["max_points"]),
                              message=str(c["message"]), task=str(c["task"]),
                              duration=float(c.get("duration", 0.0)))
                  for c in lab["checks"]]
        labs.append(LabResult(
            lab=int(lab["lab"]), slug=str(lab["slug"]), title=str(lab["title"]), task=str(lab["task"]),
            status=lab["status"], score=float(lab["score"]), max_score=float(lab["max_score"]), checks=checks,
            output=str(lab.get("output", "")), output_truncated=bool(lab.get("output_truncated", False)),
            problems=[str(p) for p in lab.get("problems", [])], duration=float(lab.get("duration", 0.0)),
            seed=int(lab.get("seed", 0)), isolation=str(lab.get("isolation", ""))))
    return SubmissionResult(
        submission=str(document["submission"]), status=document["status"], score=float(document["score"]),
        max_score=float(document["max_score"]), labs=labs, duration=float(document.get("duration", 0.0)),
        error=document.get("error") or None)


def render(result: SubmissionResult, *, nonce: str, key: bytes | None = None) -> str:
    return json.dumps(sign(document(result), nonce, key), indent=2, ensure_ascii=False) + "\n"
