"""SNS signs notifications with one key per Region (``fixtures.moto_ext.sns``), as AWS signs with one
certificate per Region, instead of moto's new RSA key per subscription; every notification's signature
verifies against the certificate at its ``SigningCertURL``, over AWS's string to sign (with the Subject,
which moto's leaves out).

AWS: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html (the string to
sign for a Notification: Message, MessageId, [Subject,] Timestamp, TopicArn, Type, each name and value
on a line of its own).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from unittest import mock

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fixtures.moto_ext import sns as sns_ext
from mlalab.server import LabServer


@pytest.fixture
def generated() -> Iterator[mock.MagicMock]:
    with mock.patch.object(rsa, "generate_private_key", wraps=rsa.generate_private_key) as made:
        yield made


def _notifications(server, region: str, count: int, subject: str | None = None) -> list[dict]:
    """``count`` topics of ``region``, each with an SQS queue subscribed (not raw): one notification each."""
    def client(service: str):
        return boto3.client(service, region_name=region, endpoint_url=server.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    sns, sqs = client("sns"), client("sqs")
    sns.list_topics()  # the server installs SNS's extensions on its first request
    found = []
    for n in range(count):
        topic = sns.create_topic(Name=f"drift-alerts-{n}")["TopicArn"]
        queue = sqs.create_queue(QueueName=f"on-call-{n}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        extra = {"Subject": subject} if subject else {}
        sns.publish(TopicArn=topic, Message=f"feature drift on endpoint {n}", **extra)
        body = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"][0]["Body"]
        found.append(json.loads(body))
    return found


def _certificate(notification: dict, region: str) -> x509.Certificate:
    """The certificate the notification names, as moto serves it at ``SigningCertURL``."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    name = notification["SigningCertURL"].rsplit("/", 1)[1]
    assert notification["SigningCertURL"] == f"https://sns.{region}.amazonaws.com/{name}"
    return x509.load_pem_x509_certificate(sns_backends[DEFAULT_ACCOUNT_ID][region]._message_public_keys[name])


def _verify(notification: dict, region: str) -> rsa.RSAPublicKey:
    """Verify as a subscriber does, over AWS's string to sign (Subject only when present)."""
    fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    signed = "".join(f"{name}\n{notification[name]}\n" for name in fields if name in notification)
    public = _certificate(notification, region).public_key()
    public.verify(base64.b64decode(notification["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    return public


def _numbers(key: rsa.RSAPublicKey) -> tuple[int, int]:
    return key.public_numbers().n, key.public_numbers().e


def test_subscriptions_of_a_region_share_its_key(server, generated) -> None:
    sns_ext.region_key("us-east-1")  # this process's key for the Region (a test before may have made it)
    generated.reset_mock()
    LabServer.reset()
    keys = {_numbers(_verify(n, "us-east-1")) for n in _notifications(server, "us-east-1", 3)}
    LabServer.reset()  # moto's reset drops its certificates, not the Region's key
    keys |= {_numbers(_verify(n, "us-east-1")) for n in _notifications(server, "us-east-1", 1)}
    assert generated.call_count == 0  # moto would have made four keys: one per subscription
    assert keys == {_numbers(sns_ext.region_key("us-east-1").public_key())}


def test_each_region_has_its_own_key(server) -> None:
    LabServer.reset()
    east = _verify(_notifications(server, "us-east-1", 1)[0], "us-east-1")
    west = _verify(_notifications(server, "eu-west-1", 1)[0], "eu-west-1")
    assert _numbers(east) != _numbers(west)


def test_a_notification_with_a_subject_is_signed_over_awss_string(server) -> None:
    """moto 5.2.5 leaves the Subject out of the string it signs; AWS puts it in (between MessageId and
    Timestamp). A subscriber verifying as AWS documents must see the signature verify."""
    LabServer.reset()
    notification = _notifications(server, "us-east-1", 1, subject="Drift on churn-endpoint")[0]
    assert notification["Subject"] == "Drift on churn-endpoint"
    _verify(notification, "us-east-1")
    assert sns_ext.string_to_sign(notification).split("\n")[4:6] == ["Subject", "Drift on churn-endpoint"]


def test_a_tampered_notification_does_not_verify(server) -> None:
    from cryptography.exceptions import InvalidSignature

    LabServer.reset()
    notification = _notifications(server, "us-east-1", 1)[0]
    with pytest.raises(InvalidSignature):
        _verify({**notification, "Message": "no drift"}, "us-east-1")


def test_uninstall_gives_moto_its_method_back(server) -> None:
    from moto.sns.models import Subscription

    sns_ext.install()
    assert Subscription.private_key is sns_ext.models._private_key
    sns_ext.uninstall()
    try:
        assert Subscription.private_key is not sns_ext.models._private_key
        assert hasattr(Subscription.private_key, "cache_clear")  # moto's own lru_cache method
        assert Subscription.get_post_data.__module__ == "moto.sns.models"
    finally:
        sns_ext.install()


def test_the_event_a_subscribed_function_gets_is_signed_too(server) -> None:
    """SNS's event for a Lambda subscriber (``lambda_.responses.sns_event``) carries a real signature and a
    certificate URL that serves the key verifying it, as AWS's does: not a placeholder."""
    from moto.sns.models import sns_backends

    from fixtures.moto_ext.lambda_.responses import sns_event

    LabServer.reset()
    notification = _notifications(server, "us-east-1", 1)[0]  # installs SNS's extension, makes a subscription
    subscription = next(iter(sns_backends["123456789012"]["us-east-1"].subscriptions.values()))
    sns = sns_event(subscription, "retrain the churn model", "6f6c9b5e-0000-4000-8000-000000000001",
                    "Drift on churn-endpoint", None)["Records"][0]["Sns"]
    as_notification = {**sns, "SigningCertURL": sns["SigningCertUrl"]}
    assert _numbers(_verify(as_notification, "us-east-1")) == _numbers(_verify(notification, "us-east-1"))
    assert sns["SignatureVersion"] == "2" and sns["Subject"] == "Drift on churn-endpoint"
