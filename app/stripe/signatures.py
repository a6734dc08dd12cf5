"""Stripe's webhook signature (``Stripe-Signature: t=<unix>,v1=<hex>``): pure rules.

HMAC-SHA256 over ``"{t}.{raw body}"`` with the endpoint secret, compared in constant
time, accepted within ``tolerance`` seconds of ``now`` either way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


class SignatureError(Exception):
    """Base of the reasons a webhook is refused."""


class SignatureMissing(SignatureError):
    pass


class SignatureInvalid(SignatureError):
    pass


class SignatureExpired(SignatureError):
    pass


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def parse_header(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureMissing("no Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureInvalid("timestamp is not a number")
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureInvalid("header lacks t= or v1=")
    return timestamp, signatures


def verify(
    payload: bytes, header: str | None, secrets: Iterable[str], *, now: int, tolerance: int = 300
) -> int:
    """Return the signed timestamp, or raise a :class:`SignatureError`."""
    timestamp, signatures = parse_header(header)
    matched = False
    for secret in secrets:
        expected = hmac.new(
            secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256
        ).hexdigest()
        for candidate in signatures:
            # Check every pair so timing does not reveal which secret or position matched.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureInvalid("no signature matches")
    if abs(now - timestamp) > tolerance:
        raise SignatureExpired("timestamp outside the tolerance")
    return timestamp
