"""Signatures that tell a results document the grader wrote from one somebody else wrote.

The classic autograder cheat is for the learner's code to write the results file itself. Two
defences work together here:

1. Results leave through a channel the learner's process cannot write: the trusted grader renders
   them only after the learner's process has exited, to a path that process never had access to.
2. Every document carries ``integrity``: an HMAC-SHA256 over its canonical JSON. The grader
   generates the per-run ``nonce`` (and holds the optional long-lived ``key``) itself and never
   places either in the learner process's environment, arguments or files, so code running as the
   learner cannot compute a valid signature for a document it made up.

Keyed with the nonce alone (no ``key``), a signature proves the document belongs to the run whose
nonce the verifier expects (pass ``expected_nonce``) and was not altered by accident; since the nonce
is printed in the document, whoever reads a finished document could re-sign an edited copy. Keyed
with a ``key`` shared only between the grader and the verifier (an instructor), it also proves that
nobody without the key has edited the document since, at any time.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

ALGORITHM = "hmac-sha256"
# Printed on stderr by `mlalab grade` (signed formats) and `mlalab grade-many` when no key is set.
UNVERIFIABLE_NOTE = ("note: MLALAB_SIGNING_KEY is not set; the documents are signed with a one-time nonce and "
                     "cannot be verified later (set the key to make `mlalab verify` work)")


def clean_text(text: str) -> str:
    """Make text encodable as strict UTF-8 (lone surrogates become "?").

    Learner output may be decoded with ``surrogateescape``; a lone surrogate would make canonical
    encoding, and therefore signing and writing the document, fail.
    """
    return text.encode("utf-8", "replace").decode("utf-8")


def canonical_json(document: dict) -> bytes:
    """The exact bytes that are signed: key order and spacing fixed, so any reader can recompute them."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def signature(payload: bytes, nonce: str, key: bytes | None = None) -> str:
    """Hex HMAC-SHA256 of ``payload``, keyed with ``key`` or, without one, with the nonce's bytes."""
    secret = key if key is not None else nonce.encode("utf-8")
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def integrity_block(payload: bytes, nonce: str, key: bytes | None = None) -> dict:
    """The ``integrity`` object for an already-serialised payload."""
    return {"nonce": nonce, "algorithm": ALGORITHM, "signature": signature(payload, nonce, key)}


def sign(document: dict, nonce: str, key: bytes | None = None) -> dict:
    """Return a copy of ``document`` with a top-level ``integrity`` object over the rest of it."""
    unsigned = {k: v for k, v in document.items() if k != "integrity"}
    return {**unsigned, "integrity": integrity_block(canonical_json(unsigned), nonce, key)}


def _split(document: dict) -> tuple[dict, dict | None]:
    """Separate the integrity object from the signed part.

    It sits at the top level, or in ``extra_data`` for Gradescope, whose schema keeps unknown data
    there; an ``extra_data`` left empty by removing it was not part of the signed document.
    """
    if "integrity" in document:
        return {k: v for k, v in document.items() if k != "integrity"}, document["integrity"]
    extra = document.get("extra_data")
    if isinstance(extra, dict) and "integrity" in extra:
        unsigned = copy.deepcopy(document)
        block = unsigned["extra_data"].pop("integrity")
        if not unsigned["extra_data"]:
            del unsigned["extra_data"]
        return unsigned, block
    return document, None


def verify_payload(
    payload: bytes, block: object, key: bytes | None = None, *, expected_nonce: str | None = None
) -> bool:
    """Check an integrity object against the bytes it claims to sign (constant-time compare)."""
    if not isinstance(block, dict) or block.get("algorithm") != ALGORITHM:
        return False
    nonce, claimed = block.get("nonce"), block.get("signature")
    if not isinstance(nonce, str) or not isinstance(claimed, str):
        return False
    if expected_nonce is not None and not hmac.compare_digest(nonce, expected_nonce):
        return False
    return hmac.compare_digest(signature(payload, nonce, key), claimed)


def verify(document: dict, key: bytes | None = None, *, expected_nonce: str | None = None) -> bool:
    """True when the document's signature matches its content (and its nonce, when one is expected)."""
    unsigned, block = _split(document)
    try:
        payload = canonical_json(unsigned)
    except (TypeError, ValueError):  # not JSON-serialisable, or text no grader could have written
        return False
    return verify_payload(payload, block, key, expected_nonce=expected_nonce)
