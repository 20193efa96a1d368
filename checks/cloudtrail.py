"""CloudTrail checks: a trail's configuration (GetTrail, GetTrailStatus, GetEventSelectors), what it
actually delivered to its bucket (the gzip JSON log files and digest files, read back through S3), the
bucket policy that lets CloudTrail write there (decided by the IAM engine), and an audit answer read
from Event history.

Behaviour first: a trail is judged on the records it delivered after the grader acted in the account,
so any configuration AWS would accept and that logs the right events passes (basic or advanced event
selectors, a key given by alias or ARN). Configuration is read to explain a failure, never instead of
the behaviour.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.iam import PolicyError, Request, evaluate, parse_policy

S3_BUCKET_POLICY_DOC = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html"


@dataclass
class Trail:
    """A trail as CloudTrail describes it, with its status and selectors (None fields: not set)."""

    name: str
    arn: str
    bucket: str
    prefix: str | None
    multi_region: bool
    global_events: bool
    validation: bool
    kms_key_id: str | None
    logging: bool
    event_selectors: list[dict[str, Any]] = field(default_factory=list)
    advanced_selectors: list[dict[str, Any]] = field(default_factory=list)

    def selectors_text(self) -> str:
        """The selectors, compactly, for a message."""
        if self.advanced_selectors:
            return "advanced event selectors " + json.dumps(self.advanced_selectors, separators=(",", ":"))
        if self.event_selectors:
            return "event selectors " + json.dumps(self.event_selectors, separators=(",", ":"))
        return "no event selectors (the default: management events only, no data events)"


def trail(aws, name: str) -> Trail | None:
    """The trail called ``name`` in the grader's region (None when it does not exist)."""
    ct = aws.client("cloudtrail")
    try:
        found = ct.get_trail(Name=name)["Trail"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TrailNotFoundException":
            return None
        raise
    status = ct.get_trail_status(Name=name)
    selectors = ct.get_event_selectors(TrailName=name)
    return Trail(name=found["Name"], arn=found["TrailARN"], bucket=found["S3BucketName"],
                 prefix=found.get("S3KeyPrefix") or None, multi_region=bool(found.get("IsMultiRegionTrail")),
                 global_events=bool(found.get("IncludeGlobalServiceEvents")),
                 validation=bool(found.get("LogFileValidationEnabled")), kms_key_id=found.get("KmsKeyId") or None,
                 logging=bool(status.get("IsLogging")), event_selectors=selectors.get("EventSelectors") or [],
                 advanced_selectors=selectors.get("AdvancedEventSelectors") or [])


def missing_trail(name: str) -> Verdict:
    return fail(f"trail {name} does not exist (cloudtrail.get_trail: TrailNotFoundException): "
                "create_audit_trail must create it with cloudtrail.create_trail(Name=trail_name, ...). "
                "Without a trail, CloudTrail keeps 90 days of management events in Event history only: no "
                "log files, no data events, no long-term audit record.")


@dataclass
class LogFile:
    key: str
    encryption: str | None  # the object's ServerSideEncryption
    kms_key: str | None  # its SSEKMSKeyId
    records: list[dict[str, Any]]


@dataclass
class Delivered:
    """What a trail's bucket holds: log files (with their records) and digest files."""

    logs: list[LogFile] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for log in self.logs for r in log.records]


def delivered(aws, bucket: str, prefix: str | None = None) -> Delivered:
    """Read every CloudTrail log file and list the digest files under ``[prefix/]AWSLogs/`` (an S3
    read of the bucket makes the lab's CloudTrail deliver what it has queued first)."""
    s3 = aws.client("s3")
    root = (f"{prefix}/" if prefix else "") + "AWSLogs/"
    found = Delivered()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=root):
        for item in page.get("Contents", []):
            key = item["Key"]
            if "/CloudTrail-Digest/" in key:
                found.digests.append(key)
            elif "/CloudTrail/" in key and key.endswith(".json.gz"):
                obj = s3.get_object(Bucket=bucket, Key=key)
                body = json.loads(gzip.decompress(obj["Body"].read()))
                found.logs.append(LogFile(key, obj.get("ServerSideEncryption"), obj.get("SSEKMSKeyId"),
                                          body.get("Records", [])))
    return found


@dataclass(frozen=True)
class Expected:
    """A call the grader made that the trail must (or must not) have logged."""

    what: str  # how the message names it: "DeleteEndpoint of churn-xgb-1a2b3c by priya.k"
    matches: Callable[[dict[str, Any]], bool]


def record_matcher(event_name: str, region: str | None = None, **parameters: str) -> Callable[[dict], bool]:
    """A record of ``event_name`` (in ``region``) whose requestParameters hold ``parameters``."""
    def match(record: dict[str, Any]) -> bool:
        if record.get("eventName") != event_name or (region and record.get("awsRegion") != region):
            return False
        given = record.get("requestParameters") or {}
        return all(given.get(k) == v for k, v in parameters.items())
    return match


def logged(t: Trail, logs: Delivered, expected: Sequence[Expected], concept: str) -> Verdict:
    """Every expected call is in the trail's delivered log files."""
    absent = [e.what for e in expected if not any(e.matches(r) for r in logs.records)]
    if not absent:
        return ok()
    if not t.logging:
        return fail(f"trail {t.name} is not logging (GetTrailStatus IsLogging is false), so it delivered nothing "
                    f"after it was created: call cloudtrail.start_logging(Name=trail_name). A trail records only "
                    f"while logging. {concept}")
    return fail(f"trail {t.name}: the log files in s3://{t.bucket} have no record of {'; '.join(absent)} "
                f"({len(logs.records)} records delivered in {len(logs.logs)} log files). The trail has "
                f"{t.selectors_text()}. {concept}")


def not_logged(t: Trail, logs: Delivered, unwanted: Callable[[dict[str, Any]], bool], what: str,
               concept: str) -> Verdict:
    """No delivered record is ``unwanted``."""
    found = [r for r in logs.records if unwanted(r)]
    if not found:
        return ok()
    sample = ", ".join(sorted({_describe(r) for r in found})[:3])
    return fail(f"trail {t.name} logged {len(found)} {what}, e.g. {sample}; expected none. The trail has "
                f"{t.selectors_text()}. {concept}")


def _describe(record: dict[str, Any]) -> str:
    resources = record.get("resources") or [{}]
    return f"{record.get('eventName')} on {resources[0].get('ARN') or record.get('eventSource')}"


def multi_region(t: Trail, logs: Delivered, probe: Expected, home: str) -> Verdict:
    """The trail logs every Region (and global services): configuration and a call made elsewhere."""
    if not t.multi_region or not t.global_events:
        found = f"IsMultiRegionTrail={t.multi_region}, IncludeGlobalServiceEvents={t.global_events}"
        return fail(f"trail {t.name} has {found}; expected both true. A single-Region trail logs only {home}: "
                    "an endpoint deleted or a model trained in another Region leaves no record. Create the trail "
                    "with IsMultiRegionTrail=True (global service events such as IAM are included by default). "
                    "Audit trails for compliance are multi-Region (CloudTrail best practice).")
    return logged(t, logs, [probe], "A multi-Region trail delivers every Region's events to the one bucket.")


def log_file_validation(t: Trail, logs: Delivered) -> Verdict:
    if not t.validation:
        return fail(f"trail {t.name} has LogFileValidationEnabled=False; expected True "
                    "(create_trail(..., EnableLogFileValidation=True)). With validation, CloudTrail writes a "
                    "signed digest file every hour (SHA-256 hashes of the log files, RSA signature), and "
                    "'aws cloudtrail validate-logs' proves no log file was changed or deleted after delivery: "
                    "the integrity evidence an audit asks for.")
    if logs.logs and not logs.digests:
        return fail(f"trail {t.name} has log file validation on but no digest file was delivered under "
                    f"AWSLogs/.../CloudTrail-Digest/ in s3://{t.bucket}.")
    return ok()


def encrypted_with(t: Trail, logs: Delivered, key_arn: str) -> Verdict:
    """The trail encrypts with the lab's key, and its log files are SSE-KMS under that key."""
    if t.kms_key_id != key_arn:
        found = t.kms_key_id or "no KmsKeyId (log files encrypted with SSE-S3 only)"
        return fail(f"trail {t.name} has KmsKeyId {found}; expected the lab's key {key_arn}. With KmsKeyId, "
                    "CloudTrail encrypts log and digest files with SSE-KMS: reading them then needs kms:Decrypt "
                    "on the key as well as s3:GetObject, a second control on who can read the audit trail. The "
                    "key policy must let cloudtrail.amazonaws.com use the key (kms:GenerateDataKey*, "
                    "kms:DescribeKey), or CreateTrail fails with InsufficientEncryptionPolicyException.")
    plain = [log.key for log in logs.logs if log.encryption != "aws:kms" or log.kms_key != key_arn]
    if plain:
        return fail(f"log file s3://{t.bucket}/{plain[0]} is not encrypted with SSE-KMS under {key_arn}.")
    return ok()


# --- resource policies, decided by the IAM engine ------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request to decide against a resource-based policy, and whether it must be allowed."""

    principal: str
    action: str
    resource: str
    allowed: bool
    why: str
    context: dict[str, Any] = field(default_factory=dict)


def resource_policy_probes(what: str, document: str | dict | None, probes: Sequence[Probe], concept: str,
                           resource_account: str) -> Verdict:
    """Decide each probe with the IAM engine against ``document`` alone (the resource-based policy:
    for a service principal or another account, the only policy that can allow). The resource lives in
    ``resource_account`` (aws:ResourceAccount), so another account's caller is a cross-account request."""
    if not document:
        return fail(f"{what} has no policy; expected one. {concept}")
    try:
        policy = parse_policy(what, document if isinstance(document, (str, dict)) else json.dumps(document))
    except PolicyError as exc:
        return fail(f"{what}: its policy is not a valid policy ({exc}). {concept}")
    for probe in probes:
        context = {"aws:ResourceAccount": resource_account, **probe.context}
        decision = evaluate(Request(probe.action, probe.resource, principal=probe.principal, context=context),
                            resource=[policy])
        if decision.allowed != probe.allowed:
            can = "can" if decision.allowed else "cannot"
            context = ", ".join(f"{k}={v}" for k, v in probe.context.items())
            return fail(f"{what}: {probe.principal} {can} {probe.action} on {probe.resource}"
                        + (f" (request context {context})" if context else "")
                        + f"; {decision.reason} It {'must' if probe.allowed else 'must not'}: {probe.why}. {concept}")
    return ok()


def bucket_policy(aws, bucket: str) -> str | None:
    try:
        return aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchBucketPolicy", "NoSuchBucket"):
            return None
        raise


def log_bucket_policy(aws, bucket: str, trail_arn: str, account: str, region: str,
                      prefix: str | None = None) -> Verdict:
    """Only CloudTrail, writing for this trail, may put objects in the log bucket."""
    root = (f"{prefix}/" if prefix else "") + f"AWSLogs/{account}/"
    log = f"arn:aws:s3:::{bucket}/{root}CloudTrail/{region}/2026/11/30/{account}_CloudTrail_{region}_x.json.gz"
    other_account = "444455556666"
    other_trail = f"arn:aws:cloudtrail:{region}:{other_account}:trail/exfiltration"
    sibling = f"arn:aws:cloudtrail:{region}:{account}:trail/scratch-trail"

    def cloudtrail(source: str, source_account: str) -> dict[str, Any]:
        return {"aws:SourceArn": source, "aws:SourceAccount": source_account,
                "s3:x-amz-acl": "bucket-owner-full-control"}

    return resource_policy_probes(f"bucket policy of log bucket {bucket}", bucket_policy(aws, bucket), [
        Probe("cloudtrail.amazonaws.com", "s3:PutObject", log, True, "this trail delivers its log files there",
              cloudtrail(trail_arn, account)),
        Probe("cloudtrail.amazonaws.com", "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", True,
              "CloudTrail checks the bucket ACL before it delivers", {"aws:SourceArn": trail_arn,
                                                                      "aws:SourceAccount": account}),
        Probe("cloudtrail.amazonaws.com", "s3:PutObject", log.replace(account, other_account), False,
              "another account's trail could fill your audit bucket with forged records (the confused deputy "
              "problem); condition the statement on aws:SourceArn = your trail's ARN",
              cloudtrail(other_trail, other_account)),
        Probe("cloudtrail.amazonaws.com", "s3:PutObject", log, False,
              "another trail of the account (aws:SourceAccount alone allows every trail in it) could write "
              "records into this trail's log prefix; aws:SourceArn names exactly one trail",
              cloudtrail(sibling, account)),
        Probe(f"arn:aws:iam::{other_account}:root", "s3:PutObject", log, False,
              "nobody but CloudTrail writes to an audit bucket"),
        Probe("*", "s3:PutObject", log, False, "nobody but CloudTrail writes to an audit bucket"),
    ], "The audit bucket's policy lets cloudtrail.amazonaws.com call s3:GetBucketAcl on the bucket and "
       f"s3:PutObject on {root}* with s3:x-amz-acl=bucket-owner-full-control, each conditioned on "
       f"aws:SourceArn = the trail's ARN ({S3_BUCKET_POLICY_DOC}).", account)


# --- the audit answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditAnswer:
    deleted_by: str
    deleted_at: datetime
    source_ip: str


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # CloudTrail times are UTC


def audit_report(aws, bucket: str, key: str, endpoint: str, expected: AuditAnswer) -> Verdict:
    """The incident report at s3://bucket/key names who deleted ``endpoint``, when and from where."""
    where = f"s3://{bucket}/{key}"
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NoSuchKey", "NoSuchBucket"):
            raise
        return fail(f"there is no incident report at {where}: investigate_endpoint_deletion must write its answer "
                    "there with s3.put_object.")
    try:
        report = json.loads(body)
    except ValueError:
        report = None
    if not isinstance(report, dict):
        return fail(f"the incident report {where} is not a JSON object: {body[:200]!r}; expected "
                    '{"deleted_by": ..., "deleted_at": ..., "source_ip": ...}.')
    wrong = []
    if report.get("deleted_by") != expected.deleted_by:
        wrong.append(f"deleted_by is {report.get('deleted_by')!r}, expected the caller's ARN (userIdentity.arn) "
                     f"{expected.deleted_by!r}")
    moment = _parse_time(report.get("deleted_at"))
    if moment is None or abs((moment - expected.deleted_at).total_seconds()) >= 1:
        wrong.append(f"deleted_at is {report.get('deleted_at')!r}, expected the event's time "
                     f"{expected.deleted_at.strftime('%Y-%m-%dT%H:%M:%SZ')} (ISO 8601, UTC)")
    if report.get("source_ip") != expected.source_ip:
        wrong.append(f"source_ip is {report.get('source_ip')!r}, expected {expected.source_ip!r}")
    if not wrong:
        return ok()
    return fail(f"incident report {where} on the deletion of endpoint {endpoint}: " + "; ".join(wrong) + ". "
                "LookupEvents returns 50 events a page, newest first (follow NextToken, or use the paginator); "
                "each event's CloudTrailEvent is the full record as a JSON string: userIdentity.arn is who, "
                "eventTime when, sourceIPAddress from where. A record with errorCode is a call that failed "
                "and deleted nothing.")
