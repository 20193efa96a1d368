"""The result model every report format is written from.

Only the trusted grader builds these objects: nothing in them comes from the learner's process
except ``LabResult.output`` (captured, capped text that is always shown as quoted learner output)
and the wording of ``LabResult.problems``, written from the learner process's untrusted events:
they explain a failed check but never award a point.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["pass", "fail", "error"]


@dataclass
class CheckResult:
    """One graded check: an assertion over the AWS state the learner's code left behind."""

    id: str  # stable id from the lab's metadata, e.g. "latency-alarm-critical"
    name: str  # human title from the metadata
    status: Status  # pass: every assertion held; fail: one did not; error: the check could not run
    points: float  # points earned (0 unless status == "pass")
    max_points: float
    message: str  # the teaching message (why it failed, or a short confirmation)
    task: str  # exam task id, e.g. "4.2"
    duration: float = 0.0  # seconds spent in the check


@dataclass
class LabResult:
    """One lab graded for one submission."""

    lab: int  # lab number, e.g. 1
    slug: str  # folder name, e.g. "01_endpoint_alarms"
    title: str
    task: str  # exam task id the lab trains, e.g. "4.2"
    status: Status  # pass: all checks passed; fail: some failed; error: the lab could not be graded
    score: float
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    output: str = ""  # what the learner's code printed (stdout+stderr), capped
    output_truncated: bool = False
    problems: list[str] = field(default_factory=list)  # learner-facing notes: syntax error, time-out...
    duration: float = 0.0
    seed: int = 0
    isolation: str = ""  # what isolated the learner's code: linux-namespaces, chroot-seccomp or process


@dataclass
class SubmissionResult:
    """Everything graded for one submission folder (one learner)."""

    submission: str  # the folder graded (or the learner's name in batch grading)
    status: Status
    score: float
    max_score: float
    labs: list[LabResult] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None  # why grading itself could not run, when status == "error"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of_labs(cls, submission: str, labs: list[LabResult], duration: float) -> SubmissionResult:
        """The submission's result from its labs' (its status and scores follow from theirs)."""
        return cls(submission=submission, status=submission_status(labs), score=sum(r.score for r in labs),
                   max_score=sum(r.max_score for r in labs), labs=labs, duration=duration)


# How a lab's problems begin when the learner's code had to be stopped or refused (feedback.py's wording).
STOPPED = ("the sandbox refused", "your code did not finish within", "your code ran out of memory",
           "the learner process crashed", "your code wrote")


def stopped(lab: LabResult) -> bool:
    """Whether the learner's code of ``lab`` had to be stopped or was refused."""
    return any(problem.startswith(STOPPED) for problem in lab.problems)


def was_stopped(result: SubmissionResult) -> bool:
    """Whether the learner's code of any lab of ``result`` had to be stopped or was refused."""
    return any(stopped(lab) for lab in result.labs)


def is_starters_grade(lab: LabResult) -> bool:
    """Whether ``lab`` is what an untouched starter earns: nothing, no check in error (status "fail"),
    no learner code stopped or refused. Only such a grade is ever handed to another submission."""
    return lab.status == "fail" and lab.score == 0 and not stopped(lab)


def submission_status(labs: list[LabResult]) -> Status:
    if not labs:
        return "error"
    if all(lab.status == "pass" for lab in labs):
        return "pass"
    return "fail"
