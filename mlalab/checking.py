"""The contract between the harness and the checks: the verdict a check returns, and the exception
that turns a failing verdict into a failed check (the harness shows its message to the learner)."""

from __future__ import annotations

from dataclasses import dataclass


class CheckFailed(AssertionError):
    """Raised by ``require``; the grader shows its message to the learner verbatim."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed


def ok(message: str = "") -> Verdict:
    return Verdict(True, message)


def fail(message: str) -> Verdict:
    return Verdict(False, message)


def require(*verdicts: Verdict) -> None:
    """Fail the current check with the first failing verdict's message."""
    for verdict in verdicts:
        if not verdict.passed:
            raise CheckFailed(verdict.message)
