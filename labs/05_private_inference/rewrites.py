"""Lab 05's generated solutions: rewrites of the reference (``solution.py``) that AWS treats exactly like
it (each must earn full marks, alone or composed in any order), and single mutations that change what
the network allows (each must lose the points of the checks in ``fails``, also after any rewrites).
``tests/property`` draws them with Hypothesis. Not for the learner edition: the edits quote the reference.

Mutations are applied to the reference first, then rewrites."""

from __future__ import annotations

import re

from mlalab.catalog import lab_module
from tests.property.edits import Rewrite, sub

WRONG = lab_module(__file__, "mutations").MUTATIONS  # the contract's wrong solutions, reused verbatim


def literal(check: str):
    """The contract's text edit for ``check`` as a rewrite edit."""
    (old, new), = WRONG[check]
    return sub(re.escape(old), lambda _: new)


FLOW_LOGS = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFlowLogs.html"
NACL_RULES = "https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html"
ENDPOINT_POLICY = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html"
SG_RULES = "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"

REWRITES = [
    Rewrite("flow-logs-all", sub(r'TrafficType="REJECT"', 'TrafficType="ALL"'),
            f"ALL traffic includes the rejected flows: {FLOW_LOGS}"),
    Rewrite("acl-renumbered", sub(r"\((100|110), (False|True), ", lambda m: f"({int(m[1]) * 2}, {m[2]}, "),
            f"only the order of rule numbers matters, not their values: {NACL_RULES}"),
    Rewrite("endpoint-policy-get-only",
            sub(r'"Action": \["s3:GetObject", "s3:ListBucket"\]', '"Action": "s3:GetObject"'),
            f"reading the model artefact needs s3:GetObject only: {ENDPOINT_POLICY}"),
    Rewrite("policy-indented",
            sub(r"PolicyDocument=json\.dumps\(policy\)", "PolicyDocument=json.dumps(policy, indent=2)"),
            "whitespace in a JSON policy means nothing"),
    Rewrite("endpoint-rule-with-description",
            sub(r'"UserIdGroupPairs": \[\{"GroupId": app_security_group_id\}\]',
                '"UserIdGroupPairs": [{"GroupId": app_security_group_id, "Description": "application tier"}]'),
            f"a rule's description changes nothing it allows: {SG_RULES}"),
    Rewrite("endpoint-ingress-protocol-number",
            sub(r'\{"IpProtocol": "tcp", "FromPort": 443', '{"IpProtocol": "6", "FromPort": 443'),
            f"protocol 6 is TCP: {SG_RULES}"),
]

MUTATIONS = [
    Rewrite("same-zone", sub(r"\[zones\[0\], zones\[1\]\]", "[zones[0], zones[0]]"), "one Availability Zone",
            frozenset({"private-subnets"})),
    Rewrite("default-route-to-igw", literal("no-internet-path"), "the private subnets become public",
            frozenset({"no-internet-path"})),
    Rewrite("acl-not-associated", literal("network-acl"),
            "the subnets keep the default ACL", frozenset({"network-acl"})),
    Rewrite("acl-ssh-from-internet", sub(r"(    rules = \[\n)", '\\1        (90, False, "0.0.0.0/0", 22, 22),\n'),
            "SSH from anywhere passes the ACL", frozenset({"network-acl"})),
    Rewrite("endpoint-cidr-source", literal("endpoint-access"),
            "every host of the VPC reaches the endpoints", frozenset({"endpoint-access"})),
    Rewrite("no-private-dns", sub(r"PrivateDnsEnabled=True", "PrivateDnsEnabled=False"),
            "the service name still resolves to public addresses", frozenset({"endpoint-access"})),
    Rewrite("endpoint-all-ports",
            sub(r'\{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,\n( +)"UserIdGroupPairs"',
                '{"IpProtocol": "-1",\n\\1"UserIdGroupPairs"'),
            "the application reaches every port", frozenset({"endpoint-access"})),
    Rewrite("endpoint-policy-every-bucket", literal("s3-gateway"),
            "every bucket through the endpoint", frozenset({"s3-gateway"})),
    Rewrite("gateway-without-route-table",
            sub(r'RouteTableIds=\[t\["RouteTableId"\] for t in tables\["RouteTables"\]\]', "RouteTableIds=[]"),
            "no route to S3", frozenset({"s3-gateway"})),
    Rewrite("model-open-ingress", literal("no-open-ingress"),
            "port 8080 open to the world", frozenset({"no-open-ingress"})),
    Rewrite("flow-logs-accept", sub(r'TrafficType="REJECT"', 'TrafficType="ACCEPT"'), "rejects are not logged",
            frozenset({"flow-logs"})),
    Rewrite("no-network-isolation", sub(r"EnableNetworkIsolation=True", "EnableNetworkIsolation=False"),
            "the container may call out", frozenset({"model-isolation"})),
    Rewrite("model-one-subnet", sub(r'VpcConfig=\{"Subnets": subnets,', 'VpcConfig={"Subnets": subnets[:1],'),
            "the model runs in one zone", frozenset({"model-isolation"})),
]
