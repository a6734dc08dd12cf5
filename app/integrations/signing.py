"""The signature on every outbound webhook (pure rules, no clock reads).

``Backstop-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``: HMAC-SHA256, keyed with
the endpoint's secret, over ``"{t}.{raw body}"``, the scheme Stripe uses for its own
webhooks, so receivers can reuse what they know. While a rotated secret overlaps the
new one, the header carries one ``v1`` per secret, newest first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

HEADER = "Backstop-Signature"
PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def mac(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload: bytes, secrets_: Iterable[str], timestamp: int) -> str:
    """The header for ``payload`` sent at ``timestamp``, one ``v1`` per secret."""
    parts = [f"t={timestamp}"] + [f"v1={mac(payload, s, timestamp)}" for s in secrets_]
    if len(parts) == 1:
        raise ValueError("no secret to sign with")
    return ",".join(parts)


def mask(secret: str) -> str:
    """What a viewer sees of a secret: its prefix and last four characters."""
    return f"{PREFIX}{'•' * 12}{secret[-4:]}"
