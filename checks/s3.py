"""Reading what a learner's code (or a job it started) left in S3: the helpers every check module uses."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from mlalab.checking import Verdict, fail, ok


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://bucket/key`` URI."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def read_object(aws, uri: str) -> bytes | None:
    """The object's bytes, or None when there is no such object (or bucket)."""
    bucket, key = split_uri(uri)
    try:
        return aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return None


def read_json(aws, uri: str, what: str, hint: str = "") -> tuple[object, Verdict]:
    """The JSON document at ``uri``, or a failing verdict that says what was wrong with it (``hint``: what the
    learner should have done, added to the message when there is no document)."""
    body = read_object(aws, uri)
    if body is None:
        return None, fail(f"there is no {what} at {uri}{'; ' + hint if hint else '.'}")
    try:
        return json.loads(body), ok()
    except (ValueError, UnicodeDecodeError) as exc:
        return None, fail(f"{uri} is not JSON ({what}: {exc}); it starts with {body[:120]!r}.")
