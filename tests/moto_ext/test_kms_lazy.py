"""KMS keys' private keys are generated on first use (``fixtures.moto_ext.kms``), and nothing a caller
sees changes: Sign, Verify and GetPublicKey answer as moto does, with keys that really are the public
halves of the signing keys; Encrypt and Decrypt never need one.

AWS: Sign https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html, Verify
https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html, GetPublicKey
https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html (a DER-encoded
SubjectPublicKeyInfo), ReplicateKey https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import copy
from unittest import mock

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from fixtures.moto_ext import kms as kms_ext
from fixtures.moto_ext.kms.models import DeferredPrivateKey

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def kms(fresh_client):
    return fresh_client("kms", "list_keys")


@pytest.fixture
def generated() -> Iterator[dict[str, mock.MagicMock]]:
    """Counts of the key pairs cryptography generates (moto calls these for every private key)."""
    with mock.patch.object(rsa, "generate_private_key", wraps=rsa.generate_private_key) as rsa_gen, \
            mock.patch.object(ec, "generate_private_key", wraps=ec.generate_private_key) as ec_gen:
        yield {"rsa": rsa_gen, "ec": ec_gen}


def _key(key_id: str):
    from moto.kms.models import kms_backends

    return kms_backends[ACCOUNT][REGION].keys[key_id]


def test_create_key_generates_no_key_pair(kms, generated) -> None:
    ids = [kms.create_key()["KeyMetadata"]["KeyId"],
           kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"],
           kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]]
    described = kms.describe_key(KeyId=ids[1])["KeyMetadata"]
    assert (generated["rsa"].call_count, generated["ec"].call_count) == (0, 0)
    assert [type(_key(i).__dict__["private_key"]) for i in ids] == [DeferredPrivateKey] * 3
    # DescribeKey still answers moto's metadata for the spec
    assert described["KeySpec"] == "RSA_2048" and described["SigningAlgorithms"] == [
        "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
        "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"]


def test_rsa_sign_verify_and_public_key(kms, generated) -> None:
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"]
    message = b"model package v3"
    signature = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    assert generated["rsa"].call_count == 1
    assert generated["rsa"].call_args.kwargs == {"public_exponent": 65537, "key_size": 2048}

    verified = kms.verify(KeyId=key_id, Message=message, Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")
    tampered = kms.verify(KeyId=key_id, Message=b"model package v4", Signature=signature,
                          SigningAlgorithm="RSASSA_PSS_SHA_256")
    answer = kms.get_public_key(KeyId=key_id)
    assert (verified["SignatureValid"], tampered["SignatureValid"]) == (True, False)
    assert generated["rsa"].call_count == 1  # generated once, kept

    public = serialization.load_der_public_key(answer["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    public.verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                  salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256())
    from moto.kms.utils import RSAPrivateKey

    assert type(_key(key_id).private_key) is RSAPrivateKey  # moto's own type once read
    assert type(_key(key_id).__dict__["private_key"]) is RSAPrivateKey


def test_ecc_sign_verify_and_public_key(kms, generated) -> None:
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P384")["KeyMetadata"]["KeyId"]
    answer = kms.get_public_key(KeyId=key_id)  # the first read: GetPublicKey
    assert (generated["rsa"].call_count, generated["ec"].call_count) == (0, 1)
    # moto 5.2.5 answers the deprecated CustomerMasterKeySpec only (AWS sends KeySpec too): unchanged here
    assert answer["CustomerMasterKeySpec"] == "ECC_NIST_P384" and answer["SigningAlgorithms"] == ["ECDSA_SHA_384"]
    message = b"endpoint config"
    signature = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm="ECDSA_SHA_384")["Signature"]
    public = serialization.load_der_public_key(answer["PublicKey"])
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp384r1"
    public.verify(signature, message, ec.ECDSA(hashes.SHA384()))
    assert kms.verify(KeyId=key_id, Message=message, Signature=signature,
                      SigningAlgorithm="ECDSA_SHA_384")["SignatureValid"] is True
    assert generated["ec"].call_count == 1


def test_symmetric_encrypt_decrypt_and_data_keys_need_no_key_pair(kms, generated) -> None:
    key_id = kms.create_key(Description="model artifacts")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret weights")["CiphertextBlob"]
    plain = kms.decrypt(CiphertextBlob=blob)
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert plain["Plaintext"] == b"secret weights" and plain["KeyId"].endswith(key_id)
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    assert len(data_key["Plaintext"]) == 32
    assert generated["rsa"].call_count == 0
    assert isinstance(_key(key_id).__dict__["private_key"], DeferredPrivateKey)


def test_a_replica_shares_the_primary_key_pair(kms, generated) -> None:
    """moto's ReplicateKey copies the key object: the placeholder is shared, so both keys resolve to
    one key pair, as moto's eagerly generated one is shared."""
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048", MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    west = boto3.client("kms", endpoint_url=kms.meta.endpoint_url, region_name="eu-west-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")
    primary = kms.get_public_key(KeyId=key_id)["PublicKey"]
    replica = west.get_public_key(KeyId=key_id)["PublicKey"]
    assert primary == replica and generated["rsa"].call_count == 1


def test_a_copied_key_resolves_to_the_same_private_key(kms, generated) -> None:
    """Read through the copy first: the primary then answers the copy's key pair (no second one)."""
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    primary = _key(key_id)
    replica = copy(primary)
    assert replica.private_key is primary.private_key
    assert generated["ec"].call_count == 1


def test_uninstall_restores_moto_and_generates_the_deferred_keys(kms, generated) -> None:
    from moto.kms import models, utils

    deferred_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"]
    assert generated["rsa"].call_count == 0
    kms_ext.uninstall()
    try:
        assert generated["rsa"].call_count == 1  # the deferred key, generated before the property goes
        assert "private_key" not in vars(models.Key)
        assert models.generate_private_key is utils.generate_private_key
        assert type(_key(deferred_id).__dict__["private_key"]) is utils.RSAPrivateKey
        eager_id = kms.create_key()["KeyMetadata"]["KeyId"]
        assert generated["rsa"].call_count == 2  # moto's own CreateKey: generated at once
        assert type(_key(eager_id).private_key) is utils.RSAPrivateKey
        signature = kms.sign(KeyId=deferred_id, Message=b"m", SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["Signature"]
        assert kms.verify(KeyId=deferred_id, Message=b"m", Signature=signature,
                          SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["SignatureValid"] is True
    finally:
        kms_ext.install()
    # installed again over keys moto made eagerly: those are read as they are
    assert isinstance(vars(models.Key)["private_key"], property)
    assert type(_key(eager_id).private_key) is utils.RSAPrivateKey and generated["rsa"].call_count == 2
