"""CloudWatch Logs' cross-parameter rules.

Page: PutRetentionPolicy, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
("Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
2192, 2557, 2922, 3288, and 3653"; botocore's model has the member as a plain integer).
CreateLogGroup's name rules (length, pattern) are in the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


def retention_days(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """retentionInDays is one of the documented values (PutRetentionPolicy, retentionInDays)."""
    days = p.get("retentionInDays")
    if days is not None and days not in RETENTION_DAYS:
        # AWS's wording and code (the Coral enum message, answered as InvalidParameterException).
        return Rejection("InvalidParameterException",
                         f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                         f"constraint: Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]")
    return None


RULES = {"PutRetentionPolicy": [retention_days]}
