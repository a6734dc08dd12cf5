"""The holdout draw: deterministic from the workspace's salt and the invoice id, a share
that converges to the setting, and monotonic in the share."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.recovery import holdout

SALT = "00" * 31 + "2a"
salts = st.binary(min_size=32, max_size=32).map(bytes.hex)
invoice_ids = st.text(min_size=1, max_size=40).map(lambda s: f"in_{s}")
percents = st.integers(min_value=0, max_value=holdout.MAX_PERCENT)


@given(salts, invoice_ids, percents)
def test_the_same_invoice_always_gets_the_same_answer(salt, invoice_id, percent) -> None:
    first = holdout.is_held_out(salt, invoice_id, percent)
    assert all(holdout.is_held_out(salt, invoice_id, percent) == first for _ in range(3))
    assert 0 <= holdout.score(salt, invoice_id) < 1


@given(salts, invoice_ids, percents, percents)
def test_raising_the_share_only_adds_invoices(salt, invoice_id, a, b) -> None:
    low, high = sorted((a, b))
    if holdout.is_held_out(salt, invoice_id, low):
        assert holdout.is_held_out(salt, invoice_id, high)


@settings(max_examples=20, deadline=None)
@given(salts, st.sampled_from([1, 5, 10, 20]))
def test_the_share_held_out_converges_to_the_setting(salt, percent) -> None:
    n = 20_000
    held = sum(holdout.is_held_out(salt, f"in_{i:08d}", percent) for i in range(n))
    share = percent / 100
    # Five standard deviations of a binomial share: fails about once in 3.5 million.
    tolerance = 5 * (share * (1 - share) / n) ** 0.5
    assert abs(held / n - share) < tolerance


@given(salts, invoice_ids)
def test_off_or_without_a_salt_nothing_is_held_out(salt, invoice_id) -> None:
    assert not holdout.is_held_out(salt, invoice_id, 0)
    assert not holdout.is_held_out(None, invoice_id, 10)


def test_another_salt_draws_other_invoices() -> None:
    ids = [f"in_{i}" for i in range(2000)]
    one = {i for i in ids if holdout.is_held_out(SALT, i, 10)}
    other = {i for i in ids if holdout.is_held_out(holdout.new_salt(), i, 10)}
    assert one != other


def test_the_draw_is_hmac_sha256_of_the_invoice_id_under_the_salt() -> None:
    import hashlib
    import hmac

    digest = hmac.new(bytes.fromhex(SALT), b"in_123", hashlib.sha256).digest()
    assert holdout.score(SALT, "in_123") == int.from_bytes(digest[:8], "big") / 2**64


def test_the_reason_says_why_in_words() -> None:
    assert holdout.reason(5) == (
        "held out: in the 5 % control group that gets Stripe's retries only, "
        "so the lift can be measured"
    )


def test_the_setting_as_typed() -> None:
    assert holdout.check_percent("0") == (0, None)
    assert holdout.check_percent(" 7 % ") == (7, None)
    assert holdout.check_percent("20") == (20, None)
    for bad in ("21", "-1", "5.5", "", "ten"):
        percent, error = holdout.check_percent(bad)
        assert percent is None and error
