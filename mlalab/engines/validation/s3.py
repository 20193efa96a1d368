"""S3's rules. S3 does not answer in the Coral validation format, so the generic model check is not
applied to it; these rules answer in S3's own codes and wording.

Pages:
* Bucket naming rules, https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
  (3-63 characters; lowercase letters, digits, dots, hyphens; begins and ends with a letter or digit;
  no two adjacent dots; not an IP address; not starting with xn--, sthree- or amzn-s3-demo-; not
  ending with -s3alias, --ol-s3, .mrap or --x-s3).
* PutBucketPolicy, https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
  (the policy is a JSON document; its resources are in this bucket).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection

_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")


def bucket_name_problem(name: str) -> bool:
    return not _NAME.fullmatch(name) or ".." in name or bool(_IP.fullmatch(name)) \
        or name.startswith(_PREFIXES) or name.endswith(_SUFFIXES)


def bucket_name(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A new bucket's name follows the bucket naming rules (CreateBucket, Bucket)."""
    name = p.get("Bucket")
    if isinstance(name, str) and bucket_name_problem(name):
        # S3's code and message as AWS returns them.
        return Rejection("InvalidBucketName", "The specified bucket is not valid.")
    return None


def bucket_policy(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A bucket policy is a JSON object whose statements name a Principal and resources of this bucket
    (PutBucketPolicy, Policy)."""
    text = p.get("Policy")
    if not isinstance(text, str):
        return None
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):
        policy = None
    if not isinstance(policy, dict) or not text.lstrip().startswith("{"):
        # AWS's wording.
        return Rejection("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
    statements = policy.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    for statement in statements:
        if not isinstance(statement, dict):
            return Rejection("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            # AWS's wording for a bucket policy statement without a principal.
            return Rejection("MalformedPolicy", "Missing required field Principal")
        resources = statement.get("Resource", statement.get("NotResource", []))
        for resource in resources if isinstance(resources, list) else [resources]:
            if isinstance(resource, str) and not _in_bucket(resource, p.get("Bucket", "")):
                # AWS's wording.
                return Rejection("MalformedPolicy", "Policy has invalid resource")
    return None


def _in_bucket(resource: str, bucket: str) -> bool:
    if not resource.startswith("arn:aws:s3:::"):
        return resource == "*"
    name = resource[len("arn:aws:s3:::"):].split("/", 1)[0]
    return name == bucket or "*" in name or "?" in name


RULES = {"CreateBucket": [bucket_name], "PutBucketPolicy": [bucket_policy]}
