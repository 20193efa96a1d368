"""``mlalab iam-grants``: what a policy grants, by service, access level and resource, with the
statement that grants it - the offline twin of IAM Access Analyzer's policy checks (and of the IAM
console's policy summary). It uses the same analysis that grades lab 02 (``mlalab.engines.iam.grants``).

Exit status: 0 when the policies were read, 2 on bad input (one line on stderr starting with
"mlalab iam-grants: ", never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from mlalab.engines.iam import PolicyError, parse_policy
from mlalab.engines.iam.grants import ACCESS_LEVELS, Grant, policy_grants, unknown_actions

PROG = "mlalab iam-grants"
EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options on ``parser``."""
    parser.description = (
        "List everything identity-based policies grant: every action their Action/NotAction matches in the "
        "IAM action catalogue, with its access level, the resources it applies to and the statement."
    )
    parser.add_argument("--policy", metavar="FILE", action="append", required=True,
                        help="an identity-based policy (JSON file; repeatable)")
    parser.add_argument("--json", action="store_true", help="print the grants as a JSON document")


def run(args: argparse.Namespace) -> int:
    """Print the grants; 0 when the policies could be read, 2 on bad input."""
    try:
        policies = [_load(path) for path in args.policy]
    except PolicyError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    grants = [g for policy in policies for g in policy_grants(policy)]
    unknown = [(policy.name, index, action) for policy in policies for index, action in unknown_actions(policy)]
    print(_json(grants, unknown) if args.json else _text(grants, unknown))
    return EXIT_OK


def _load(path: str):
    """Parse one policy file; a PolicyError names the file and says what is wrong and where."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path!r}: {exc.strerror or exc}") from None
    return parse_policy(path, text, kind="identity")


def _level_rank(level: str) -> int:
    return ACCESS_LEVELS.index(level) if level in ACCESS_LEVELS else len(ACCESS_LEVELS)


def _text(grants: list[Grant], unknown: list[tuple[str, int, str]]) -> str:
    """Service -> access level -> resource -> actions, each with the statements that grant them."""
    if not grants:
        lines = ["grants nothing: no Allow statement matches a catalogued action on a resource it applies to"]
    else:
        lines = []
        by_service: dict[str, list[Grant]] = defaultdict(list)
        for grant in grants:
            by_service[grant.service].append(grant)
        for service in sorted(by_service):
            lines.append(f"{service}  ({len({g.action for g in by_service[service]})} actions)")
            for level in sorted({g.access_level for g in by_service[service]}, key=_level_rank):
                lines.append(f"  {level}")
                groups: dict[tuple[str, str], list[Grant]] = defaultdict(list)
                for g in by_service[service]:
                    if g.access_level == level:
                        groups[(g.where(), g.statement_label())].append(g)
                for (where, statement), items in groups.items():
                    names = ", ".join(sorted({g.action.split(":", 1)[1] for g in items}))
                    condition = items[0].conditions
                    lines.append(f"    on {where}: {names}")
                    lines.append(f"      by {statement}"
                                 + (f", under a Condition on {', '.join(condition)}" if condition else ""))
    for name, index, action in unknown:
        lines.append(f"note: {name!r} Statement[{index}] names {action}, which is not in the IAM action catalogue: "
                     "it grants nothing (check the spelling)")
    return "\n".join(lines)


def _json(grants: list[Grant], unknown: list[tuple[str, int, str]]) -> str:
    return json.dumps({
        "grants": [{
            "action": g.action, "service": g.service, "access_level": g.access_level, "resource": g.resource,
            "not_resource": list(g.not_resource), "resource_types": list(g.resource_types), "policy": g.policy,
            "statement": g.statement_index, "sid": g.sid, "conditions": list(g.conditions),
        } for g in grants],
        "unknown_actions": [{"policy": name, "statement": index, "action": action} for name, index, action in unknown],
    }, indent=2)
