"""VPC reachability: can traffic flow from a source to a destination, through which components, and
which rule stops it. A pure evaluator over a snapshot of the VPC state (EC2's Describe* answers):
``snapshot`` (the state, and how to collect it), ``rules`` (security groups and network ACLs),
``reach`` (routing, gateways, endpoints and the hop-by-hop analysis), ``specs`` (naming the ends)."""

from .reach import (
    INTERNET_ADDRESS,
    Host,
    ReachError,
    Result,
    Service,
    analyze,
    best_route,
    endpoint_hosts,
    network_acl,
    route_table,
)
from .rules import EPHEMERAL, acl_decides, acl_decides_range, sg_allows
from .snapshot import Snapshot, SnapshotError, collect
from .specs import resolve

__all__ = ["EPHEMERAL", "INTERNET_ADDRESS", "Host", "ReachError", "Result", "Service", "Snapshot", "SnapshotError",
           "acl_decides", "acl_decides_range", "analyze", "best_route", "endpoint_hosts", "collect", "network_acl",
           "resolve", "route_table", "sg_allows"]
