"""``mlalab reachability``: can traffic get from a source to a destination in a VPC, by which path, and
which rule stops it - the offline twin of VPC Reachability Analyzer, using the evaluator that grades
lab 05 (``mlalab.engines.network``).

The VPC state comes from a JSON snapshot file (``--snapshot``, the document ``--save-snapshot``
writes) or, without one, from EC2 Describe* calls through boto3's usual configuration: with
``AWS_ENDPOINT_URL`` pointing at ``mlalab serve``, that is the simulator's state.

Exit status: 0 reachable, 1 not reachable, 2 bad input (one line on stderr starting with
"mlalab reachability: ", never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mlalab.engines.network import ReachError, Result, Service, Snapshot, SnapshotError, analyze, collect, resolve

PROG = "mlalab reachability"
EXIT_REACHABLE, EXIT_UNREACHABLE, EXIT_BAD_INPUT = 0, 1, 2
ENDS = ("internet, an IP address, subnet-ID[:sg-ID,...] (a host there with those security groups), eni-ID, "
        "vpce-ID (an interface endpoint), s3://bucket/key (an S3 GetObject) or com.amazonaws.REGION.SERVICE")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options on ``parser``."""
    parser.description = ("Decide whether a connection can be opened from a source to a destination in a VPC "
                          "(security groups, network ACLs, routes, gateways, VPC endpoints and their policies), "
                          "and print the path or the rule that blocks it.")
    parser.add_argument("--source", required=True, help=f"where the connection starts: {ENDS}")
    parser.add_argument("--destination", required=True, help="where it goes (same forms)")
    parser.add_argument("--port", type=int, required=True, help="destination port")
    parser.add_argument("--protocol", default="tcp", choices=("tcp", "udp"), help="default tcp")
    parser.add_argument("--principal", help="the caller's ARN, for an endpoint policy's Principal")
    parser.add_argument("--snapshot", metavar="FILE", help="read the VPC state from this JSON file instead of EC2")
    parser.add_argument("--save-snapshot", metavar="FILE", help="write the VPC state read from EC2 to this file")
    parser.add_argument("--region", help="the Region to read (default: boto3's configuration)")
    parser.add_argument("--json", action="store_true", help="print reachable, path, blocked_by and reason as JSON")


def run(args: argparse.Namespace) -> int:
    """Answer one question; see the module docstring for the exit status."""
    try:
        if not 0 <= args.port <= 65535:
            raise ReachError(f"--port {args.port} is not a port (0-65535)")
        snap = Snapshot.parse(_state(args))
        source = resolve(snap, args.source, args.principal)
        destination = resolve(snap, args.destination, args.principal)
        if isinstance(source, Service):
            raise ReachError(f"--source {args.source} is a service; a connection starts from a host ({ENDS})")
        results = [analyze(snap, src, dst, args.port, args.protocol)
                   for src in source for dst in ([destination] if isinstance(destination, Service) else destination)]
    except (ReachError, SnapshotError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = next((r for r in results if r.reachable), results[0])
    print(json.dumps(result.as_dict(), indent=2) if args.json else _text(args, result))
    return EXIT_REACHABLE if result.reachable else EXIT_UNREACHABLE


def _state(args: argparse.Namespace) -> dict[str, Any]:
    if args.snapshot:
        try:
            return json.loads(Path(args.snapshot).read_text())
        except OSError as exc:
            raise SnapshotError(f"cannot read snapshot file {args.snapshot!r}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"snapshot file {args.snapshot!r} is not JSON: {exc}") from None
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        ec2 = boto3.client("ec2", region_name=args.region)
        state = collect(ec2, ec2.meta.region_name)
    except (BotoCoreError, ClientError) as exc:
        raise SnapshotError(f"cannot read the VPC state from EC2 (is AWS_ENDPOINT_URL set to a running "
                            f"'mlalab serve'?): {exc}") from None
    if args.save_snapshot:
        Path(args.save_snapshot).write_text(json.dumps(state, indent=1, default=str))
    return state


def _text(args: argparse.Namespace, result: Result) -> str:
    head = (f"reachable: {args.source} -> {args.destination} {args.protocol} {args.port}" if result.reachable else
            f"not reachable: {args.source} -> {args.destination} {args.protocol} {args.port}")
    lines = [head, *(f"  {hop}" for hop in result.path)]
    if not result.reachable:
        lines += [f"blocked by: {result.blocked_by}", f"  {result.reason}"]
    return "\n".join(lines)
