"""Grading checks, one module per AWS service (``cloudwatch``, ``iam``, ...).

A check is a small function that reads AWS state through boto3 and returns a ``Verdict``: pass or
fail, with a message that teaches (the resource, the property, what was expected, what was found
and the exam concept behind it). A lab's test function calls ``require(verdict)``.
"""

from checks.core import CheckFailed, Verdict, fail, ok, require

__all__ = ["CheckFailed", "Verdict", "fail", "ok", "require"]
