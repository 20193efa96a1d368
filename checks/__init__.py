"""Grading checks, one module per AWS service (``cloudwatch``, ``iam``, ...).

A check is a small function that reads AWS state through boto3 and returns a ``Verdict``: pass or
fail, with a message that teaches (the resource, the property, what was expected, what was found
and the exam concept behind it). A lab's test function calls ``require(verdict)``. The verdict type
and the failure exception belong to the harness (``mlalab.checking``): checks use them, the harness
never imports the checks.
"""

from mlalab.checking import CheckFailed, Verdict, fail, ok, require

__all__ = ["CheckFailed", "Verdict", "fail", "ok", "require"]
