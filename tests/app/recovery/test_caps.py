from __future__ import annotations

import datetime as dt

import pytest

from app.recovery.caps import Allowed, Attempt, Decline, Refused, check_attempt
from app.recovery.declines import DeclineClass
from app.recovery.policy import DAY, PAYDAY, InvalidPolicy, Policy

NOW = dt.datetime(2026, 5, 11, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def attempts(*ages: dt.timedelta, decline: Decline | None = None) -> list[Attempt]:
    return [Attempt(NOW - age, decline) for age in ages]


def check(**kwargs):
    base = {
        "invoice_attempts": [],
        "campaign_auto_retries": 0,
        "card_history": [],
        "brand": "visa",
        "last_decline": None,
        "invoice_status": "open",
        "subscription_status": "past_due",
    }
    return check_attempt(NOW, **{**base, **kwargs})


def test_allowed_by_default():
    result = check()
    assert result == Allowed()
    assert result


@pytest.mark.parametrize("status", ["paid", "void", "uncollectible", "draft"])
def test_refused_when_the_invoice_is_not_open(status):
    result = check(invoice_status=status)
    assert result == Refused("invoice_closed", f"the invoice is {status}: nothing to collect")
    assert not result


@pytest.mark.parametrize("status", ["canceled", "incomplete_expired", "paused"])
def test_refused_when_the_subscription_ended(status):
    assert check(subscription_status=status).code == "subscription_ended"


@pytest.mark.parametrize("status", ["past_due", "unpaid", "active", "trialing"])
def test_live_subscriptions_allowed(status):
    assert check(subscription_status=status)


# -- per invoice: 6 in any 30 days, ours and Stripe's ----------------------------------


def test_sixth_attempt_allowed_seventh_refused():
    five = attempts(*(d * DAY for d in (1, 5, 10, 20, 29)))
    assert check(invoice_attempts=five)
    refused = check(invoice_attempts=[*five, Attempt(NOW - HOUR)])
    assert refused.code == "invoice_cap"
    assert refused.reason == (
        "6 attempts on this invoice (ours and Stripe's) in the last 30 days; the cap is 6"
    )


def test_an_attempt_exactly_30_days_old_no_longer_counts():
    six = attempts(30 * DAY, *(d * DAY for d in (1, 2, 3, 4, 5)))
    assert check(invoice_attempts=six)
    almost = attempts(30 * DAY - dt.timedelta(seconds=1), *(d * DAY for d in (1, 2, 3, 4, 5)))
    assert not check(invoice_attempts=almost)


def test_future_attempts_count():
    assert not check(invoice_attempts=attempts(*([-HOUR] * 6)))


def test_lowered_invoice_cap():
    assert not check(
        invoice_attempts=attempts(DAY, 2 * DAY), policy=Policy(max_attempts_per_invoice_30d=2)
    )


# -- per campaign: 4 automatic retries -------------------------------------------------


def test_automatic_retry_cap_and_card_update_exemption():
    assert check(campaign_auto_retries=3)
    refused = check(campaign_auto_retries=4)
    assert refused.code == "auto_retry_cap"
    assert "only a card update" in refused.reason
    assert check(campaign_auto_retries=4, automatic=False)
    assert not check(campaign_auto_retries=1, policy=Policy(max_auto_retries=1))


# -- per card fingerprint ----------------------------------------------------------------


def test_visa_15_per_30_days():
    fourteen = attempts(*(d * DAY for d in range(1, 15)))
    assert check(card_history=fourteen)
    refused = check(card_history=[*fourteen, Attempt(NOW - 29 * DAY)])
    assert refused.code == "visa_cap"
    assert check(card_history=[*fourteen, Attempt(NOW - 30 * DAY)])
    assert not check(card_history=fourteen[:3], policy=Policy(visa_max_30d=3))


@pytest.mark.parametrize("brand", ["mastercard", "MasterCard", "master_card"])
def test_mastercard_10_per_24_hours(brand):
    nine = attempts(*(h * HOUR for h in range(1, 10)))
    assert check(brand=brand, card_history=nine)
    refused = check(brand=brand, card_history=[*nine, Attempt(NOW - 23 * HOUR)])
    assert refused.code == "mastercard_24h_cap"
    assert "24 h" in refused.reason
    assert check(brand=brand, card_history=[*nine, Attempt(NOW - 24 * HOUR)])


def test_mastercard_35_per_30_days():
    # 34 attempts spread so that no 24 h holds 10
    spread = attempts(*(dt.timedelta(hours=2 + 20 * i) for i in range(34)))
    assert check(brand="mastercard", card_history=spread)
    more = [*spread, Attempt(NOW - dt.timedelta(days=29, hours=23))]
    assert check(brand="mastercard", card_history=more).code == "mastercard_30d_cap"


def test_other_brands_have_no_network_cap():
    many = attempts(*([HOUR] * 40))
    assert check(brand="amex", card_history=many)
    assert check(brand=None, card_history=many)
    assert not check(brand="visa", card_history=many)


# -- never again on this card -------------------------------------------------------------


@pytest.mark.parametrize(
    "decline",
    [
        Decline("stolen_card"),
        Decline(None, "lost_card"),
        Decline("fraudulent"),
        Decline("generic_decline", advice_code="do_not_try_again"),
        Decline("generic_decline", network_advice_code="03"),
        Decline("insufficient_funds", network_advice_code="21"),
    ],
)
@pytest.mark.parametrize("brand", ["visa", "mastercard", "amex"])
def test_never_after_a_no_recovery_decline(decline, brand):
    assert check(brand=brand, last_decline=decline).code == "card_blocked"
    history = [Attempt(NOW - 300 * DAY, decline)]  # however long ago, on any invoice
    assert check(brand=brand, card_history=history).code == "card_blocked"


@pytest.mark.parametrize(
    "code", ["invalid_account", "incorrect_number", "transaction_not_allowed", "not_permitted"]
)
def test_never_after_a_visa_category_1_decline(code):
    history = [Attempt(NOW - 40 * DAY, Decline(code))]
    refused = check(brand="visa", card_history=history)
    assert refused.code == "card_blocked"
    assert "Visa category 1" in refused.reason
    assert check(brand="mastercard", card_history=history)


def test_last_decline_on_another_card_does_not_block_the_new_one():
    old_card = Decline("stolen_card", fingerprint="fp_old")
    assert check(last_decline=old_card, fingerprint="fp_new")
    assert not check(last_decline=old_card, fingerprint="fp_old")
    assert not check(last_decline=Decline("stolen_card"), fingerprint="fp_new")  # unknown card


def test_retryable_declines_do_not_block():
    history = [Attempt(NOW - DAY, Decline("insufficient_funds", advice_code="try_again_later"))]
    assert check(card_history=history, last_decline=Decline("do_not_honor"))


def test_decline_class():
    assert Decline("expired_card").cls is DeclineClass.CUSTOMER_ACTION
    assert Decline("x", advice_code="do_not_try_again").cls is DeclineClass.NO_RECOVERY


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        check_attempt(
            dt.datetime(2026, 5, 11),
            invoice_attempts=[],
            campaign_auto_retries=0,
            card_history=[],
            brand="visa",
            last_decline=None,
            invoice_status="open",
            subscription_status="past_due",
        )


# -- policy validation -------------------------------------------------------------------


def test_default_policy_is_valid():
    assert Policy().validate() == Policy()


def test_caps_may_be_lowered():
    lowered = Policy(
        max_attempts_per_invoice_30d=3,
        max_auto_retries=0,
        visa_max_30d=1,
        mastercard_max_24h=1,
        mastercard_max_30d=1,
        cadences={"default": (DAY,)},
        immediate_offsets=(),
    )
    assert lowered.validate() is lowered


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts_per_invoice_30d": 7}, "above the legal maximum of 6"),
        ({"max_auto_retries": 5}, "max auto retries is 5, above the legal maximum of 4"),
        ({"visa_max_30d": 16}, "legal maximum of 15"),
        ({"mastercard_max_24h": 11}, "legal maximum of 10"),
        ({"mastercard_max_30d": 36}, "legal maximum of 35"),
        ({"visa_max_30d": 0}, "visa max 30d must be at least 1"),
        ({"max_auto_retries": -1}, "must be at least 0"),
        ({"mastercard_max_24h": 2.5}, "must be a whole number"),
        ({"cadences": {"generic_decline": (DAY,)}}, 'need a "default" entry'),
        ({"cadences": {"default": ()}}, "the cadence for default is empty"),
        ({"cadences": {"default": (-DAY,)}}, "between 1 hour and 30 days"),
        ({"cadences": {"default": (dt.timedelta(minutes=5),)}}, "between 1 hour"),
        ({"cadences": {"default": (31 * DAY,)}}, "between 1 hour and 30 days"),
        ({"cadences": {"default": ("tuesday",)}}, "use a duration or 'payday'"),
        ({"cadences": {"default": (DAY,) * 5}}, "5 steps, more than the 4 automatic"),
        ({"immediate_offsets": (HOUR,) * 5}, "5 immediate retries exceed the 4"),
        ({"cadences": {"default": (DAY,), "stolen_card": (DAY,)}}, "stolen_card gets no blind"),
        ({"cadences": {"default": (DAY,), "expired_card": (DAY,)}}, "expired_card gets no"),
        ({"immediate_offsets": (dt.timedelta(0),)}, "must be positive and at most 1 day"),
        ({"immediate_offsets": (2 * DAY,)}, "must be positive and at most 1 day"),
        ({"overrides": {"stolen_card": DeclineClass.SCHEDULED}}, "cannot be moved out of"),
        ({"overrides": {"x": "sometimes"}}, "is not a decline class"),
    ],
)
def test_invalid_policies(kwargs, message):
    with pytest.raises(InvalidPolicy, match=message.replace("(", r"\(")) as excinfo:
        Policy(**kwargs).validate()
    assert any(message in error for error in excinfo.value.errors)


def test_validation_lists_every_problem():
    policy = Policy(max_auto_retries=9, visa_max_30d=99, cadences={"default": (PAYDAY, -DAY)})
    assert len(policy.errors()) == 3


def test_no_recovery_override_to_no_recovery_is_fine():
    assert Policy(overrides={"stolen_card": DeclineClass.NO_RECOVERY}).validate()


def test_cadence_for():
    policy = Policy()
    assert policy.cadence_for("Insufficient_Funds")[1] == PAYDAY
    assert policy.cadence_for(None) == (3 * DAY, 5 * DAY, 7 * DAY)
    assert Policy(cadences={}).cadence_for("x") == (3 * DAY, 5 * DAY, 7 * DAY)
