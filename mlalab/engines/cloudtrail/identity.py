"""``userIdentity`` elements of CloudTrail records, in AWS's shapes.

AWS documents the element in "CloudTrail userIdentity element"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html):
an IAM user has ``type`` IAMUser, ``principalId`` (the user's unique id), ``arn``, ``accountId``,
``accessKeyId`` and ``userName``; a role session has ``type`` AssumedRole, ``principalId``
``{role id}:{session name}``, the ``arn:aws:sts::{account}:assumed-role/{role}/{session}`` ARN and a
``sessionContext`` with the ``sessionIssuer`` (the role) and ``attributes``
(``creationDate``, ``mfaAuthenticated`` as the string "true"/"false").
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from .records import iso


def unique_id(prefix: str, seed: str) -> str:
    """A stable IAM-style unique id (``AIDA...`` for users, ``AROA...`` for roles) derived from ``seed``."""
    digest = hashlib.sha256(seed.encode()).hexdigest().upper()
    return prefix + "".join(c for c in digest if c.isalnum())[:17]


def iam_user(account: str, user_name: str, access_key_id: str | None, user_id: str | None = None,
             path: str = "/") -> dict[str, Any]:
    identity = {"type": "IAMUser", "principalId": user_id or unique_id("AIDA", f"{account}:{user_name}"),
                "arn": f"arn:aws:iam::{account}:user{path}{user_name}", "accountId": account}
    if access_key_id:
        identity["accessKeyId"] = access_key_id
    identity["userName"] = user_name
    return identity


def assumed_role(account: str, role_name: str, session_name: str, access_key_id: str | None,
                 created: datetime, role_id: str | None = None, path: str = "/",
                 mfa_authenticated: bool = False) -> dict[str, Any]:
    role_id = role_id or unique_id("AROA", f"{account}:{role_name}")
    identity: dict[str, Any] = {"type": "AssumedRole", "principalId": f"{role_id}:{session_name}",
                                "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}",
                                "accountId": account}
    if access_key_id:
        identity["accessKeyId"] = access_key_id
    identity["sessionContext"] = {
        "sessionIssuer": {"type": "Role", "principalId": role_id,
                          "arn": f"arn:aws:iam::{account}:role{path}{role_name}",
                          "accountId": account, "userName": role_name},
        "webIdFederationData": {},
        "attributes": {"creationDate": iso(created), "mfaAuthenticated": "true" if mfa_authenticated else "false"},
    }
    return identity


def root(account: str, access_key_id: str | None = None) -> dict[str, Any]:
    identity = {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account}
    if access_key_id:
        identity["accessKeyId"] = access_key_id
    return identity


def aws_service(principal: str) -> dict[str, Any]:
    """A call an AWS service made on its own (``sagemaker.amazonaws.com``)."""
    return {"type": "AWSService", "invokedBy": principal}


def username(identity: dict[str, Any]) -> str | None:
    """The ``Username`` LookupEvents shows: the user name, or for a role session the session name
    (AWS CLI reference, ``lookup-events`` example: an AssumedRole event has ``Username`` my-session-name)."""
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity.get("userName")
    if kind == "AssumedRole":
        return identity.get("arn", "").rsplit("/", 1)[-1] or None
    if kind == "Root":
        return "root"
    return identity.get("userName") or identity.get("invokedBy")
