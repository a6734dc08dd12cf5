"""The ``Backstop-Signature`` header, checked by a verifier written here from Stripe's
documented scheme (not by our own code): HMAC-SHA256 over ``"{t}.{payload}"``, a
tolerance window, any one ``v1`` matching during a rotation."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.integrations import catalogue, signing


class Rejected(Exception):
    pass


def reference_verify(payload: bytes, header: str, secret: str, now: int, tolerance: int = 300):
    """A receiver's verifier, as the docs tell merchants to write it."""
    items = [part.split("=", 1) for part in header.split(",")]
    timestamps = [v for k, v in items if k == "t"]
    candidates = [v for k, v in items if k == "v1"]
    if len(timestamps) != 1 or not candidates:
        raise Rejected("malformed header")
    t = int(timestamps[0])
    expected = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise Rejected("no matching signature")
    if abs(now - t) > tolerance:
        raise Rejected("too old")
    return json.loads(payload)


secrets_ = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=8, max_size=60)


@given(payload=st.binary(min_size=0, max_size=512), secret=secrets_, t=st.integers(1, 2**33))
def test_every_signature_verifies_with_its_secret(payload: bytes, secret: str, t: int) -> None:
    header = signing.header(payload, [secret], t)
    items = [p.split("=", 1) for p in header.split(",")]
    assert items[0] == ["t", str(t)] and [k for k, _ in items[1:]] == ["v1"]
    expected = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    assert items[1][1] == expected


def test_round_trip_of_a_real_event_and_its_refusals() -> None:
    body = json.dumps(
        catalogue.sample(
            "recovery.campaign.recovered", workspace="acme", now=_when(), test_id="evt_test_1"
        ),
        separators=(",", ":"),
    ).encode()
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(secret) > 40
    header = signing.header(body, [secret], 1_767_225_600)
    event = reference_verify(body, header, secret, now=1_767_225_600 + 299)
    assert event["type"] == "recovery.campaign.recovered"
    with pytest.raises(Rejected, match="too old"):
        reference_verify(body, header, secret, now=1_767_225_600 + 301)
    with pytest.raises(Rejected, match="no matching"):
        reference_verify(body, header, signing.new_secret(), now=1_767_225_600)
    with pytest.raises(Rejected, match="no matching"):
        reference_verify(body.replace(b"4900", b"4901"), header, secret, now=1_767_225_600)


def test_during_a_rotation_both_secrets_verify() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    header = signing.header(b'{"x":1}', [new, old], 100)
    assert header.count("v1=") == 2
    assert reference_verify(b'{"x":1}', header, old, now=100) == {"x": 1}
    assert reference_verify(b'{"x":1}', header, new, now=100) == {"x": 1}
    with pytest.raises(ValueError, match="no secret"):
        signing.header(b"{}", [], 100)


def test_a_viewer_sees_only_the_end_of_a_secret() -> None:
    secret = signing.new_secret()
    masked = signing.mask(secret)
    assert masked.endswith(secret[-4:]) and secret[6:-4] not in masked


def _when():
    import datetime as dt

    return dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
