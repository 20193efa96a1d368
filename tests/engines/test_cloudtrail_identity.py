"""``userIdentity`` shapes and the ``Username`` Event history shows for them, against the CloudTrail user
guide, "CloudTrail userIdentity element"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html),
and the LookupEvents API reference (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from mlalab.engines.cloudtrail import identity

WHEN = datetime(2026, 3, 2, 14, 5, 9, tzinfo=UTC)
# The guide's examples: "principalId": "AIDAJ45Q7YFFAREXAMPLE" (user), "AROAIDPPEZS35WEXAMPLE" (role):
# the four-letter prefix and 17 more characters.
UNIQUE_ID = r"{prefix}[A-Z0-9]{{17}}"


def test_user_principal_id_has_the_shape_of_an_iam_unique_id():
    principal = identity.iam_user("123456789012", "Alice", "AKIAEXAMPLE")["principalId"]
    assert re.fullmatch(UNIQUE_ID.format(prefix="AIDA"), principal), principal


def test_role_session_principal_is_the_role_id_then_the_session_name():
    """The guide's AssumedRole example: ``principalId`` is ``AROAIDPPEZS35WEXAMPLE:AssumedRoleSessionName`` and
    ``sessionIssuer.principalId`` is the same role id alone."""
    who = identity.assumed_role("123456789012", "RoleToBeAssumed", "MySessionName", "ASIAEXAMPLE", WHEN)
    role_id = who["sessionContext"]["sessionIssuer"]["principalId"]
    assert re.fullmatch(UNIQUE_ID.format(prefix="AROA"), role_id), role_id
    assert who["principalId"] == f"{role_id}:MySessionName"


def test_access_key_id_is_absent_when_no_key_signed_the_call():
    """``accessKeyId``: "might not be present" (the guide's field list); never a null."""
    assert "accessKeyId" not in identity.iam_user("123456789012", "Alice", None)
    assert "accessKeyId" not in identity.root("123456789012")


def test_root_identity_carries_the_access_key_that_signed_the_call():
    who = identity.root("123456789012", "AKIAROOTEXAMPLE")
    assert who == {"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root",
                   "accountId": "123456789012", "accessKeyId": "AKIAROOTEXAMPLE"}


def test_a_service_call_names_the_service_in_invoked_by():
    """``type`` AWSService: "The request was made by an AWS service account"; ``invokedBy`` names the service."""
    assert identity.aws_service("sagemaker.amazonaws.com") == {"type": "AWSService",
                                                               "invokedBy": "sagemaker.amazonaws.com"}


@pytest.mark.parametrize(("who", "expected"), [
    (identity.iam_user("123456789012", "Alice", "AKIAEXAMPLE"), "Alice"),
    (identity.assumed_role("123456789012", "ops", "bob", "ASIAEXAMPLE", WHEN), "bob"),
    (identity.root("123456789012", "AKIAROOTEXAMPLE"), "root"),
    # "Values for AWS STS APIs with SAML and web identity federation": a SAMLUser / WebIdentityUser
    # carries its own userName, which is the name Event history shows.
    ({"type": "SAMLUser", "principalId": "SampleUkh1i4+ExamplexL/jEvs=:SamlExample", "userName": "SamlExample",
      "identityProvider": "bdGOnTesti4+ExamplexL/jEvs="}, "SamlExample"),
    ({"type": "WebIdentityUser", "principalId": "accounts.google.com:[id]", "userName": "[id]",
      "identityProvider": "accounts.google.com"}, "[id]"),
])
def test_username_event_history_shows(who, expected):
    """LookupEvents ``Username``: the user's name, the session name of a role session (AWS CLI reference,
    ``lookup-events`` example), ``root`` for the account's root user."""
    assert identity.username(who) == expected
