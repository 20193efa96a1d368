"""CloudTrail's request rules.

Page: LookupEvents, https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
(MaxResults: "The number of events to return. Possible values are 1 through 50"; Errors:
InvalidMaxResultsException). CloudTrail answers an out-of-range MaxResults with its own exception,
not the generic ValidationException, so this rule runs before the model's range check (``EARLY``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlalab.engines.cloudtrail.history import MAX_RESULTS

from . import Lookup, Rejection


def max_results_in_range(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
    """MaxResults is 1 through 50 (LookupEvents, MaxResults; InvalidMaxResultsException)."""
    value = p.get("MaxResults")
    if isinstance(value, int) and not 1 <= value <= MAX_RESULTS:
        return Rejection("InvalidMaxResultsException", f"Max results must be between 1 and {MAX_RESULTS}.")
    return None


EARLY = {"LookupEvents": [max_results_in_range]}
RULES: dict = {}
