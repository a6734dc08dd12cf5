"""The webhook signature rules, as laws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.stripe import signatures as sig

secrets_ = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=40
).map(lambda s: "whsec_" + s)
payloads = st.binary(max_size=512)
times = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


@given(payloads, secrets_, times, st.integers(min_value=-300, max_value=300))
def test_a_fresh_signature_verifies(payload, secret, t, skew) -> None:
    assert sig.verify(payload, sig.sign(payload, secret, t), [secret], now=t + skew) == t


@given(payloads, secrets_, times, st.integers(min_value=301, max_value=10**6), st.booleans())
def test_outside_the_tolerance_is_expired(payload, secret, t, skew, future) -> None:
    now = t - skew if future else t + skew
    with pytest.raises(sig.SignatureExpired):
        sig.verify(payload, sig.sign(payload, secret, t), [secret], now=now)


@given(payloads, payloads, secrets_, times)
def test_another_body_never_verifies(payload, other, secret, t) -> None:
    if payload == other:
        return
    with pytest.raises(sig.SignatureInvalid):
        sig.verify(other, sig.sign(payload, secret, t), [secret], now=t)


@given(payloads, secrets_, secrets_, times)
def test_another_secret_never_verifies(payload, secret, other, t) -> None:
    if secret == other:
        return
    with pytest.raises(sig.SignatureInvalid):
        sig.verify(payload, sig.sign(payload, secret, t), [other], now=t)


@given(payloads, secrets_, times)
def test_any_of_several_signatures_and_secrets(payload, secret, t) -> None:
    header = sig.sign(payload, secret, t).replace("v1=", "v1=deadbeef,v1=")
    assert sig.verify(payload, header, ["whsec_old", secret], now=t) == t


@pytest.mark.parametrize("header", [None, "", "t=1", "v1=abc", "t=x,v1=abc", "garbage"])
def test_malformed_headers(header) -> None:
    with pytest.raises((sig.SignatureMissing, sig.SignatureInvalid)):
        sig.verify(b"{}", header, ["whsec_x"], now=1)


def test_matches_the_stripe_sdk() -> None:
    import stripe

    payload, secret, t = b'{"id": "evt_1"}', "whsec_abc", 1_700_000_000
    expected = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, t)
    assert sig.sign(payload, secret, t) == expected
