"""``mlalab iam-simulate``: the offline twin of the IAM policy simulator.

It answers "would this principal be allowed to do this action on this resource?" from policy files,
with the same evaluation logic AWS documents (see ``mlalab.engines.iam``), and shows the
statement that decided. Exit status: 0 allowed, 1 denied, 2 bad input (one line on stderr starting
with "mlalab iam-simulate: ", never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlalab.engines.iam import (
    DEFAULT_PRINCIPAL,
    Decision,
    Policy,
    PolicyError,
    Request,
    RequestError,
    evaluate,
    parse_policy,
)

PROG = "mlalab iam-simulate"
EXIT_ALLOWED, EXIT_DENIED, EXIT_BAD_INPUT = 0, 1, 2


class InputError(Exception):
    """Something the learner passed that cannot be simulated; the message is shown as-is."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options on ``parser`` (the lead wires it into ``mlalab``)."""
    parser.description = (
        "Decide whether a request would be allowed, offline, with AWS's policy evaluation logic, "
        "and show the statement that decided."
    )
    files = parser.add_argument_group("policies (JSON files)")
    files.add_argument(
        "--policy", metavar="FILE", action="append", default=[],
        help="an identity-based policy of the principal (repeatable)",
    )  # fmt: skip
    files.add_argument(
        "--resource-policy", metavar="FILE", action="append", default=[],
        help="the resource-based policy (bucket policy, key policy, trust policy...)",
    )  # fmt: skip
    files.add_argument(
        "--key-policy", metavar="FILE",
        help="the KMS key's key policy, for kms:* actions on a key (default: AWS's default key policy, "
        "which lets the account's IAM policies decide)",
    )  # fmt: skip
    files.add_argument("--boundary", metavar="FILE", help="the principal's permissions boundary")
    files.add_argument(
        "--scp", metavar="FILE", action="append", default=[],
        help="a service control policy; repeat for each level, root first (each level must allow)",
    )  # fmt: skip
    files.add_argument(
        "--session-policy", metavar="FILE", help="a session policy passed when assuming the role"
    )
    request = parser.add_argument_group("request")
    request.add_argument(
        "--principal", metavar="ARN", default=DEFAULT_PRINCIPAL,
        help="the caller: a user, role, assumed-role session, root or service principal "
        f"(default {DEFAULT_PRINCIPAL})",
    )  # fmt: skip
    request.add_argument("--action", metavar="A", required=True, help="one action, e.g. s3:GetObject")
    request.add_argument("--resource", metavar="ARN", default="*", help='the resource ARN (default "*")')
    request.add_argument(
        "--context", metavar="KEY=VALUE", action="append", default=[],
        help="a condition key, e.g. aws:SourceIp=203.0.113.7; repeat a key for a multivalued key",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the decision as a JSON document")


def run(args: argparse.Namespace) -> int:
    """Evaluate and print; 0 allowed, 1 denied, 2 on bad input (message on stderr)."""
    try:
        decision = _decide(args)
    except (InputError, PolicyError, RequestError) as exc:
        return _fail(str(exc))
    except Exception as exc:  # never a traceback for a learner: report it as one line
        return _fail(f"internal error while evaluating ({type(exc).__name__}: {exc})")
    if args.json:
        print(json.dumps(decision_document(decision), indent=2))
    else:
        print(format_decision(decision))
    return EXIT_ALLOWED if decision.allowed else EXIT_DENIED


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _decide(args: argparse.Namespace) -> Decision:
    if not args.policy and not args.resource_policy and not args.key_policy:
        raise InputError("nothing to evaluate: give at least one --policy, --resource-policy or --key-policy FILE")
    if args.key_policy and not args.action.lower().startswith("kms:"):
        raise InputError(f"--key-policy applies to kms:* actions on a KMS key, not to {args.action}")
    if args.key_policy and args.resource_policy:
        raise InputError("a KMS key has one key policy: give it with --key-policy only, not also --resource-policy")
    context = parse_context(args.context)
    identity = [load_policy(path, "identity") for path in args.policy]
    resource = [load_policy(path, "resource") for path in args.resource_policy]
    if args.key_policy:
        resource.append(load_policy(args.key_policy, "resource"))
    boundary = load_policy(args.boundary, "boundary") if args.boundary else None
    scps = [load_policy(path, "scp") for path in args.scp]
    session = load_policy(args.session_policy, "session") if args.session_policy else None
    request = Request(action=args.action, resource=args.resource, principal=args.principal, context=context)
    return evaluate(
        request, identity=identity, resource=resource, boundary=boundary, scps=scps, session=session
    )


def load_policy(path: str, kind: str) -> Policy:
    """Read and validate one policy file; the policy is named by the path as given."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read policy file {path}: {exc.strerror or exc}") from None
    return parse_policy(path, text, kind=kind)


def parse_context(items: list[str]) -> dict[str, str | list[str]]:
    """KEY=VALUE items -> context; a key given twice or more becomes a multivalued (list) key."""
    values: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"bad --context {item!r}: expected KEY=VALUE, e.g. aws:SourceIp=203.0.113.7")
        name = spelling.setdefault(key.lower(), key)  # keys are case-insensitive
        values.setdefault(name, []).append(value)
    return {key: vals[0] if len(vals) == 1 else vals for key, vals in values.items()}


def decision_document(decision: Decision) -> dict:
    """The --json document: decision, statement (or null) and reason."""
    statement = None
    if decision.statement is not None:
        m = decision.statement
        statement = {
            "policy": m.policy,
            "index": m.index,
            "sid": m.sid,
            "effect": m.effect,
            "statement": m.statement,
        }
    document = {"decision": decision.decision, "statement": statement, "reason": decision.reason}
    if decision.assumed_key_policy is not None:
        document["assumed_key_policy"] = {"note": ASSUMED_KEY_POLICY, "policy": decision.assumed_key_policy.document}
    return document


# The KMS Developer Guide, "Default key policy": what a key created without a policy gets.
ASSUMED_KEY_POLICY = (
    "no key policy was given for this KMS key (--key-policy FILE), so AWS's default key policy was assumed: "
    'its "Enable IAM User Permissions" statement allows kms:* to the account, which lets IAM policies decide'
)


def format_decision(decision: Decision) -> str:
    """Human output: the decision, the reason, then the deciding statement and its JSON."""
    lines = [f"decision: {decision.decision}", f"reason: {decision.reason}"]
    m = decision.statement
    if m is None:
        lines.append("deciding statement: none")
    else:
        sid = repr(m.sid) if m.sid else "none"
        lines.append(f"deciding statement: policy {m.policy!r}, index {m.index}, Sid {sid} ({m.effect})")
        lines.extend("  " + line for line in json.dumps(m.statement, indent=2).splitlines())
    if decision.assumed_key_policy is not None:
        lines.append(f"key policy: {ASSUMED_KEY_POLICY}")
        lines.extend("  " + line for line in json.dumps(decision.assumed_key_policy.document, indent=2).splitlines())
    if decision.missing_context_keys:
        lines.append(
            "context keys the policies use but the request lacks: " + ", ".join(decision.missing_context_keys)
        )
    return "\n".join(lines)
