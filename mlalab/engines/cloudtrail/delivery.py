"""Trail delivery to S3: log file and digest file names and contents.

Log files (CloudTrail user guide, "Finding your CloudTrail log files"):
``{prefix/}AWSLogs/{account}/CloudTrail/{region}/{yyyy}/{mm}/{dd}/`` then
``{account}_CloudTrail_{region}_{yyyymmddThhmmZ}_{16 random characters}.json.gz``,
a gzip of ``{"Records": [...]}``.

Digest files ("CloudTrail digest file structure" and "Custom implementations of CloudTrail log file
integrity validation"): ``{prefix/}AWSLogs/{account}/CloudTrail-Digest/{region}/{yyyy}/{mm}/{dd}/`` then
``{account}_CloudTrail-Digest_{region}_{trail}_{home region}_{yyyymmddThhmmssZ}.json.gz``
listing each delivered log file with the SHA-256 of its uncompressed content, chained to the previous
digest by its signature. The signature (hex, S3 object metadata ``signature``, algorithm in
``signature-algorithm``: SHA256withRSA) is RSA over the SHA-256 of the data signing string
``{digestEndTime}\\n{bucket}/{digest key}\\n{hex sha256 of the uncompressed digest}\\n{previous signature}``.
AWS signs with a regional private key whose public half ``ListPublicKeys`` returns; here the key pair
is generated locally once per process (so a signature verifies with :func:`public_key_pem`, not with
AWS's keys), and ``digestPublicKeyFingerprint`` is the MD5 of its DER public key, in hex.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from .records import iso

_ALPHABET = string.ascii_letters + string.digits


def _base(prefix: str | None, account: str, kind: str, region: str, when: datetime) -> str:
    lead = f"{prefix.rstrip('/')}/" if prefix else ""
    return f"{lead}AWSLogs/{account}/{kind}/{region}/{when:%Y/%m/%d}/"


def log_file_key(account: str, region: str, when: datetime, prefix: str | None = None,
                 suffix: str | None = None) -> str:
    suffix = suffix or "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return _base(prefix, account, "CloudTrail", region, when) + \
        f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{suffix}.json.gz"


def digest_file_key(account: str, region: str, trail_name: str, home_region: str, end: datetime,
                    prefix: str | None = None) -> str:
    return _base(prefix, account, "CloudTrail-Digest", region, end) + \
        f"{account}_CloudTrail-Digest_{region}_{trail_name}_{home_region}_{end:%Y%m%dT%H%M%SZ}.json.gz"


def log_file(records: list[dict[str, Any]]) -> tuple[bytes, str]:
    """(gzip body, hex SHA-256 of the uncompressed content) of a log file."""
    raw = json.dumps({"Records": records}, separators=(",", ":")).encode()
    return gzip.compress(raw, mtime=0), hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class DeliveredLog:
    bucket: str
    key: str
    sha256: str
    oldest: datetime
    newest: datetime


@dataclass(frozen=True)
class Digest:
    bucket: str
    key: str
    body: bytes  # gzip
    signature: str
    sha256: str  # of the uncompressed digest


@cache
def _key_pair():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_key_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization

    return _key_pair().public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint() -> str:
    from cryptography.hazmat.primitives import serialization

    der = _key_pair().public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.md5(der).hexdigest()


def signing_string(end: datetime, bucket: str, key: str, digest_sha256: str, previous_signature: str | None) -> str:
    return f"{iso(end)}\n{bucket}/{key}\n{digest_sha256}\n{previous_signature or 'null'}"


def sign(data: str) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return _key_pair().sign(data.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()


def verify(data: str, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        _key_pair().public_key().verify(bytes.fromhex(signature), data.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def digest_file(*, account: str, region: str, trail_name: str, home_region: str, bucket: str,
                prefix: str | None, start: datetime, end: datetime, logs: list[DeliveredLog],
                previous: Digest | None) -> Digest:
    """The next digest of a trail's chain, covering the log files delivered since the previous one."""
    key = digest_file_key(account, region, trail_name, home_region, end, prefix)
    document: dict[str, Any] = {
        "awsAccountId": account, "digestStartTime": iso(start), "digestEndTime": iso(end),
        "digestS3Bucket": bucket, "digestS3Object": key, "digestPublicKeyFingerprint": fingerprint(),
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": iso(max(log.newest for log in logs)) if logs else None,
        "oldestEventTime": iso(min(log.oldest for log in logs)) if logs else None,
        "previousDigestS3Bucket": previous.bucket if previous else None,
        "previousDigestS3Object": previous.key if previous else None,
        "previousDigestHashValue": previous.sha256 if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous.signature if previous else None,
        "logFiles": [{"s3Bucket": log.bucket, "s3Object": log.key, "hashValue": log.sha256,
                      "hashAlgorithm": "SHA-256", "newestEventTime": iso(log.newest),
                      "oldestEventTime": iso(log.oldest)} for log in logs],
    }
    raw = json.dumps(document, separators=(",", ":")).encode()
    sha = hashlib.sha256(raw).hexdigest()
    signature = sign(signing_string(end, bucket, key, sha, previous.signature if previous else None))
    return Digest(bucket, key, gzip.compress(raw, mtime=0), signature, sha)
