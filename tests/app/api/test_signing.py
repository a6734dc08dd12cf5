"""The embed signature's laws (DESIGN §8), property-tested."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.api.signing import (
    MalformedSignature,
    SignatureExpired,
    SignatureMismatch,
    sign,
    signing_string,
    verify,
)

ids = st.text(
    alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=40,
)
secrets_ = st.text(min_size=1, max_size=64).filter(lambda s: "\x00" not in s)
times = st.integers(min_value=0, max_value=2**40)
NOW = 1_795_000_000


def test_the_documented_example_a_merchant_can_reproduce() -> None:
    secret, customer, ts = "embed_secret_123", "cus_ABC", 1_795_000_000
    expected = hmac.new(secret.encode(), f"{customer}\n{ts}".encode(), hashlib.sha256).hexdigest()
    assert sign(secret, customer, ts) == expected
    cancel = hmac.new(
        secret.encode(), f"{customer}\nsub_1\n{ts}".encode(), hashlib.sha256
    ).hexdigest()
    assert sign(secret, customer, ts, "sub_1") == cancel
    assert signing_string(customer, ts, "sub_1") == "cus_ABC\nsub_1\n1795000000"


@given(secrets_, ids, st.none() | ids, st.integers(-300, 300))
def test_what_is_signed_is_accepted_within_300_seconds(secret, customer, sub, skew) -> None:
    signature = sign(secret, customer, NOW + skew, sub)
    assert (
        verify(
            secret,
            customer=customer,
            subscription=sub,
            timestamp=NOW + skew,
            signature=signature,
            now=NOW,
        )
        == NOW + skew
    )


@given(secrets_, ids, times, st.integers(301, 10**6), st.sampled_from([-1, 1]))
def test_outside_300_seconds_is_expired(secret, customer, ts, distance, sign_) -> None:
    signature = sign(secret, customer, ts)
    with pytest.raises(SignatureExpired):
        verify(
            secret, customer=customer, timestamp=ts, signature=signature, now=ts + sign_ * distance
        )


@given(secrets_, ids, times, st.integers(0, 63), st.sampled_from("0123456789abcdef"))
def test_any_changed_character_is_refused(secret, customer, ts, index, char) -> None:
    signature = sign(secret, customer, ts)
    forged = signature[:index] + char + signature[index + 1 :]
    if forged == signature:
        return
    with pytest.raises(SignatureMismatch):
        verify(secret, customer=customer, timestamp=ts, signature=forged, now=ts)


@given(secrets_, secrets_, ids, times)
def test_another_workspaces_secret_is_refused(secret, other, customer, ts) -> None:
    if secret == other:
        return
    with pytest.raises(SignatureMismatch):
        verify(other, customer=customer, timestamp=ts, signature=sign(secret, customer, ts), now=ts)


@given(secrets_, ids, ids, times)
def test_a_portal_signature_does_not_open_a_cancel_flow(secret, customer, sub, ts) -> None:
    with pytest.raises(SignatureMismatch):
        verify(
            secret,
            customer=customer,
            subscription=sub,
            timestamp=ts,
            signature=sign(secret, customer, ts),
            now=ts,
        )


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("1795000000", "a" * 64),  # a string, not a number
        (True, "a" * 64),
        (1.5, "a" * 64),
        (NOW, "A" * 64),  # upper-case hex
        (NOW, "a" * 63),
        (NOW, None),
        (NOW, ["a" * 64]),
    ],
)
def test_malformed_fields_are_refused_before_any_hmac(timestamp, signature) -> None:
    with pytest.raises(MalformedSignature):
        verify("s", customer="cus_1", timestamp=timestamp, signature=signature, now=NOW)


@pytest.mark.parametrize("customer", ["", "cus_1\n1795000000", "cus\r1"])
def test_fields_that_could_collide_are_refused(customer) -> None:
    with pytest.raises(MalformedSignature):
        signing_string(customer, NOW)
