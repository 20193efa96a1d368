"""KMS's cross-parameter rules.

Pages:
* CreateKey, https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html (KeyUsage: "the
  valid values depend on the KeySpec"; the table of key specs and their key usages is in
  https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html).
* PutKeyPolicy / CreateKey Policy: "The key policy must ... be a JSON document"
  (https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import Lookup, Rejection

# KeySpec prefix -> the KeyUsage values it allows (SM2 is China Regions only and allows the three).
_USAGES = {
    "SYMMETRIC_DEFAULT": {"ENCRYPT_DECRYPT"},
    "HMAC_": {"GENERATE_VERIFY_MAC"},
    "RSA_": {"ENCRYPT_DECRYPT", "SIGN_VERIFY"},
    "ECC_NIST_EDWARDS": {"SIGN_VERIFY"},
    "ECC_NIST_": {"SIGN_VERIFY", "KEY_AGREEMENT"},
    "ECC_SECG_": {"SIGN_VERIFY"},
    "ML_DSA_": {"SIGN_VERIFY"},
    "ML_KEM_": {"ENCAPSULATE_DECAPSULATE"},
    "SM2": {"ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"},
}


def key_usage_fits_key_spec(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """KeyUsage is one the KeySpec supports (default spec SYMMETRIC_DEFAULT, default usage
    ENCRYPT_DECRYPT) (CreateKey, KeyUsage and KeySpec)."""
    spec = p.get("KeySpec") or p.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = p.get("KeyUsage") or "ENCRYPT_DECRYPT"
    allowed = next((usages for prefix, usages in _USAGES.items() if spec.startswith(prefix)), None)
    if allowed is not None and usage not in allowed:
        # wording: inferred (AWS answers an incompatible pair with ValidationException).
        return Rejection("ValidationException", f"KeyUsage {usage} is not compatible with KeySpec {spec}")
    return None


def key_policy_is_json(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """A key policy is a JSON object with a Statement (CreateKey/PutKeyPolicy, Policy)."""
    policy = p.get("Policy")
    if policy is None:
        return None
    try:
        document = json.loads(policy)
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict) or "Statement" not in document:
        # KMS's code for this; wording: inferred.
        return Rejection("MalformedPolicyDocumentException", "The key policy is not a valid JSON policy document.")
    return None


RULES = {"CreateKey": [key_usage_fits_key_spec, key_policy_is_json], "PutKeyPolicy": [key_policy_is_json]}
