"""STS's cross-parameter rules.

Page: AssumeRole, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
(DurationSeconds: "from 900 seconds up to the maximum session duration setting for the role";
the 900-43200 range itself is in botocore's model). GetCallerIdentity takes no parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection


def duration_within_role_maximum(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
    """DurationSeconds is at most the role's MaxSessionDuration (AssumeRole, DurationSeconds)."""
    duration = p.get("DurationSeconds")
    if not isinstance(duration, int) or lookup is None:
        return None
    maximum = lookup("role_max_session_duration", arn=p.get("RoleArn"))
    if isinstance(maximum, int) and duration > maximum:
        # AWS's wording (quoted in public issues about AssumeRole with a long DurationSeconds).
        return Rejection("ValidationError",
                         "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return None


RULES = {"AssumeRole": [duration_within_role_maximum]}
