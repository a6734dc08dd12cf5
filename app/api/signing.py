"""The embed signature (DESIGN §8): exact, because merchants' code depends on it.

The signed string joins the fields with a real newline: the portal and the payment
wall sign ``customer\\ntimestamp``, the cancel flow ``customer\\nsubscription\\ntimestamp``.
HMAC-SHA256 with the workspace's embed secret, lowercase hex; the timestamp (epoch
seconds) is accepted within ±300 s of ``now``. Pure rules: no Flask, no clock reads.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TOLERANCE = 300
_HEX = re.compile(r"[0-9a-f]{64}")


class EmbedSignatureError(Exception):
    """Why a signed embed request is refused (the API answers 401 with this text)."""


class MalformedSignature(EmbedSignatureError):
    pass


class SignatureMismatch(EmbedSignatureError):
    pass


class SignatureExpired(EmbedSignatureError):
    pass


def signing_string(customer: str, timestamp: int, subscription: str | None = None) -> str:
    """``customer\\n[subscription\\n]timestamp``. A field holding a newline could make two
    different requests sign the same string, so it is refused."""
    fields = [customer] if subscription is None else [customer, subscription]
    for field in fields:
        if not field or "\n" in field or "\r" in field:
            raise MalformedSignature("customer and subscription must be non-empty, one line each")
    return "\n".join([*fields, str(timestamp)])


def sign(secret: str, customer: str, timestamp: int, subscription: str | None = None) -> str:
    """The signature a merchant's server sends (what their own code computes)."""
    message = signing_string(customer, timestamp, subscription).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    *,
    customer: str,
    timestamp: object,
    signature: object,
    now: int,
    subscription: str | None = None,
    tolerance: int = TOLERANCE,
) -> int:
    """The accepted timestamp, or an :class:`EmbedSignatureError` saying why not.

    ``timestamp`` and ``signature`` come from the request as they are; anything but an
    integer and 64 lowercase hex characters is malformed."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise MalformedSignature("timestamp must be an integer (epoch seconds)")
    if not isinstance(signature, str) or not _HEX.fullmatch(signature):
        raise MalformedSignature("signature must be 64 lowercase hex characters")
    expected = sign(secret, customer, timestamp, subscription)
    if not hmac.compare_digest(expected, signature):
        raise SignatureMismatch("the signature does not match")
    if abs(now - timestamp) > tolerance:
        raise SignatureExpired(f"the timestamp is more than {tolerance} s from now")
    return timestamp
