"""Checkout-recovery rules: consent (never without it), who gets a campaign, the
reminders' hours, the same purchase, and the credit."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from app.checkout_recovery import policy

T = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
SESSION = {
    "mode": "subscription",
    "consent": {"promotions": "opt_in"},
    "after_expiration": {"recovery": {"enabled": True, "url": "https://r.example/x"}},
    "metadata": {},
}


def test_consent_comes_from_stripe_or_the_merchants_records_only() -> None:
    assert policy.consent_of(SESSION, "stripe") == "stripe"
    assert policy.consent_of({**SESSION, "consent": {"promotions": "opt_out"}}, "stripe") is None
    assert policy.consent_of({**SESSION, "consent": None}, "stripe") is None
    assert policy.consent_of(SESSION, "metadata") is None  # Stripe's box is not the merchant's
    mine = {**SESSION, "metadata": {"marketing_consent": "opt_in"}}
    assert policy.consent_of(mine, "metadata") == "metadata"
    assert policy.consent_of(mine, "nonsense") is None


@given(
    consent=st.sampled_from([None, {}, {"promotions": None}, {"promotions": "opt_out"}]),
    email=st.sampled_from([None, "", "a@example.com"]),
)
def test_never_a_campaign_without_consent(consent, email) -> None:
    session = {**SESSION, "consent": consent}
    given_consent = policy.consent_of(session, "stripe")
    assert policy.why_not(session, email=email, consent=given_consent) is not None


def test_why_not_in_the_merchants_words() -> None:
    assert policy.why_not(SESSION, email="a@example.com", consent="stripe") is None
    assert (
        policy.why_not(SESSION, email=None, consent="stripe")
        == "the customer left no email address"
    )
    off = {**SESSION, "after_expiration": None}
    assert "recovery is not turned on" in policy.why_not(off, email="a@x.example", consent="stripe")
    assert policy.why_not({**SESSION, "mode": "payment"}, email="a@x.example", consent="stripe")


def test_reminders_go_hours_after_the_expiry() -> None:
    touches = policy.plan_touches(T, (1, 24, 72))
    assert [t.at - T for t in touches] == [dt.timedelta(hours=h) for h in (1, 24, 72)]
    assert touches[1].reason == "24 hours after the checkout expired"
    assert policy.delay_errors([1, 24, 72]) == []
    assert policy.delay_errors([24, 1])
    assert (
        policy.delay_errors([]) and policy.delay_errors([1, 2, 3, 4]) and policy.delay_errors([0])
    )


def test_the_same_purchase_is_the_same_prices_by_the_same_person() -> None:
    same = policy.same_purchase
    assert same(["p1"], "a@x.example", None, prices=["p1"], email="A@x.example", customer="cus_9")
    assert same(["p1"], "a@x.example", "cus_1", prices=["p1"], email=None, customer="cus_1")
    assert not same(["p1"], "a@x.example", None, prices=["p2"], email="a@x.example", customer=None)
    assert not same(
        ["p1"], "a@x.example", "cus_1", prices=["p1"], email="b@x.example", customer="cus_2"
    )


def test_credit_follows_win_back() -> None:
    day = dt.timedelta(days=1)
    assert (
        policy.credit(via_link=True, completed_at=T, last_touch_at=T, attribution_days=7) == "link"
    )
    assert (
        policy.credit(via_link=True, completed_at=T, last_touch_at=None, attribution_days=7) is None
    )
    assert (
        policy.credit(via_link=False, completed_at=T + day, last_touch_at=T, attribution_days=7)
        == "email"
    )
    assert (
        policy.credit(via_link=False, completed_at=T + 8 * day, last_touch_at=T, attribution_days=7)
        is None
    )
    assert (
        policy.credit(via_link=False, completed_at=T - day, last_touch_at=T, attribution_days=7)
        is None
    )
