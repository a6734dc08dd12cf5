from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.recovery.declines import (
    CUSTOMER_ACTION_CODES,
    IMMEDIATE_CODES,
    NO_RECOVERY_CODES,
    SCHEDULED_CODES,
    VISA_CATEGORY_1_CODES,
    DeclineClass,
    card_block_reason,
    classify,
    effective_class,
    escalation_reason,
)

C = DeclineClass
ALL_CODES = sorted(IMMEDIATE_CODES | SCHEDULED_CODES | CUSTOMER_ACTION_CODES | NO_RECOVERY_CODES)


@pytest.mark.parametrize(
    ("codes", "cls"),
    [
        (IMMEDIATE_CODES, C.IMMEDIATE),
        (SCHEDULED_CODES, C.SCHEDULED),
        (CUSTOMER_ACTION_CODES, C.CUSTOMER_ACTION),
        (NO_RECOVERY_CODES, C.NO_RECOVERY),
    ],
)
def test_every_default_table_row(codes, cls):
    for code in codes:
        assert classify(code, None) is cls, code
        assert classify(None, code) is cls, code  # failure_code when no decline_code
        assert classify(f" {code.upper()} ", None) is cls, code


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("processing_error", C.IMMEDIATE),
        ("issuer_not_available", C.IMMEDIATE),
        ("reenter_transaction", C.IMMEDIATE),
        ("insufficient_funds", C.SCHEDULED),
        ("do_not_honor", C.SCHEDULED),
        ("generic_decline", C.SCHEDULED),
        ("card_declined", C.SCHEDULED),
        ("try_again_later", C.SCHEDULED),
        ("card_velocity_exceeded", C.SCHEDULED),
        ("withdrawal_count_limit_exceeded", C.SCHEDULED),
        ("expired_card", C.CUSTOMER_ACTION),
        ("incorrect_cvc", C.CUSTOMER_ACTION),
        ("invalid_cvc", C.CUSTOMER_ACTION),
        ("incorrect_number", C.CUSTOMER_ACTION),
        ("incorrect_zip", C.CUSTOMER_ACTION),
        ("invalid_expiry_month", C.CUSTOMER_ACTION),
        ("invalid_expiry_year", C.CUSTOMER_ACTION),
        ("authentication_required", C.CUSTOMER_ACTION),
        ("card_not_supported", C.CUSTOMER_ACTION),
        ("currency_not_supported", C.CUSTOMER_ACTION),
        ("fraudulent", C.NO_RECOVERY),
        ("stolen_card", C.NO_RECOVERY),
        ("lost_card", C.NO_RECOVERY),
        ("pickup_card", C.NO_RECOVERY),
        ("restricted_card", C.NO_RECOVERY),
        ("security_violation", C.NO_RECOVERY),
        ("revocation_of_authorization", C.NO_RECOVERY),
        ("revocation_of_all_authorizations", C.NO_RECOVERY),
        ("merchant_blacklist", C.NO_RECOVERY),
        ("do_not_try_again", C.NO_RECOVERY),
        ("stop_payment_order", C.NO_RECOVERY),
        ("some_code_stripe_adds_tomorrow", C.SCHEDULED),
        ("", C.SCHEDULED),
    ],
)
def test_design_table(code, cls):
    assert classify(code) is cls


def test_no_code_at_all_is_scheduled():
    assert classify(None, None) is C.SCHEDULED


def test_decline_code_wins_over_failure_code():
    assert classify("insufficient_funds", "card_declined") is C.SCHEDULED
    assert classify("stolen_card", "card_declined") is C.NO_RECOVERY
    assert classify("expired_card", "processing_error") is C.CUSTOMER_ACTION


@pytest.mark.parametrize(
    ("advice", "network", "cls"),
    [
        ("do_not_try_again", None, C.NO_RECOVERY),
        ("DO_NOT_TRY_AGAIN", None, C.NO_RECOVERY),
        (None, "03", C.NO_RECOVERY),
        (None, "21", C.NO_RECOVERY),
        ("confirm_card_data", None, C.CUSTOMER_ACTION),
        (None, "01", C.CUSTOMER_ACTION),
        # A glitch the issuer says to retry later keeps its quick retries.
        ("try_again_later", None, C.IMMEDIATE),
        (None, "02", C.IMMEDIATE),  # not an override: the code's class stands
        ("unknown_advice", None, C.IMMEDIATE),
    ],
)
def test_advice_codes_override_the_code(advice, network, cls):
    assert classify("processing_error", None, advice, network) is cls


def test_try_again_later_advice_turns_customer_action_into_scheduled():
    assert classify("expired_card", advice_code="try_again_later") is C.SCHEDULED


def test_overrides_move_codes_between_retryable_classes():
    overrides = {"insufficient_funds": C.CUSTOMER_ACTION, "Expired_Card": "scheduled"}
    assert classify("insufficient_funds", overrides=overrides) is C.CUSTOMER_ACTION
    assert classify("expired_card", overrides=overrides) is C.SCHEDULED
    assert classify("do_not_honor", overrides=overrides) is C.SCHEDULED
    assert classify("do_not_honor", overrides={"do_not_honor": C.NO_RECOVERY}) is C.NO_RECOVERY


def test_override_beats_try_again_later_but_not_confirm_card_data():
    overrides = {"insufficient_funds": C.IMMEDIATE}
    assert classify("insufficient_funds", None, "try_again_later", None, overrides) is C.IMMEDIATE
    assert (
        classify("insufficient_funds", None, "confirm_card_data", None, overrides)
        is C.CUSTOMER_ACTION
    )


@settings(max_examples=300)
@given(
    code=st.sampled_from(sorted(NO_RECOVERY_CODES)) | st.sampled_from(ALL_CODES),
    advice=st.sampled_from([None, "do_not_try_again", "try_again_later", "confirm_card_data"]),
    network=st.sampled_from([None, "01", "02", "03", "21", "24"]),
    overrides=st.dictionaries(st.sampled_from(ALL_CODES), st.sampled_from(list(C))),
    via_failure_code=st.booleans(),
)
def test_law_nothing_leaves_no_recovery(code, advice, network, overrides, via_failure_code):
    args = (None, code) if via_failure_code else (code, "card_declined")
    cls = classify(*args, advice, network, overrides)
    if code in NO_RECOVERY_CODES or advice == "do_not_try_again" or network in {"03", "21"}:
        assert cls is C.NO_RECOVERY


@pytest.mark.parametrize(
    ("cls", "past", "expected"),
    [
        (C.SCHEDULED, {}, C.SCHEDULED),
        (C.SCHEDULED, {"insufficient_funds": 2}, C.SCHEDULED),
        (C.SCHEDULED, {"insufficient_funds": 3}, C.CUSTOMER_ACTION),
        (C.SCHEDULED, {"insufficient_funds": 7}, C.CUSTOMER_ACTION),
        (C.SCHEDULED, {"do_not_honor": 9}, C.SCHEDULED),  # another code's history
        (C.IMMEDIATE, {"insufficient_funds": 9}, C.IMMEDIATE),
        (C.NO_RECOVERY, {"insufficient_funds": 9}, C.NO_RECOVERY),
        (C.CUSTOMER_ACTION, {"insufficient_funds": 0}, C.CUSTOMER_ACTION),
    ],
)
def test_adaptive_escalation(cls, past, expected):
    assert effective_class(cls, "insufficient_funds", past) is expected


def test_escalation_normalizes_the_code():
    assert effective_class(C.SCHEDULED, " Insufficient_Funds", {"insufficient_funds": 3}) is (
        C.CUSTOMER_ACTION
    )


@pytest.mark.parametrize("code", sorted(VISA_CATEGORY_1_CODES))
def test_visa_category_1_blocks_visa_only(code):
    assert card_block_reason("visa", code)
    assert card_block_reason("Visa", code)
    if code not in NO_RECOVERY_CODES:
        assert card_block_reason("mastercard", code) is None


@pytest.mark.parametrize("brand", ["visa", "mastercard", "amex", None])
def test_do_not_try_again_blocks_every_brand(brand):
    assert "do_not_try_again" in card_block_reason(
        brand, "generic_decline", None, "do_not_try_again"
    )
    assert "03" in card_block_reason(brand, "generic_decline", None, None, "03")
    assert "21" in card_block_reason(brand, None, "card_declined", None, "21")
    assert card_block_reason(brand, "stolen_card")
    assert card_block_reason(brand, "insufficient_funds", None, "try_again_later", "02") is None


@given(
    cls=st.sampled_from(list(C)),
    by_code=st.integers(0, 9),
    cycles=st.integers(0, 9),
)
def test_escalation_only_stops_blind_retries_and_only_from_three(cls, by_code, cycles):
    got = effective_class(cls, "insufficient_funds", {"insufficient_funds": by_code}, cycles)
    reason = escalation_reason(cls, "insufficient_funds", {"insufficient_funds": by_code}, cycles)
    if cls is not C.SCHEDULED:
        assert got is cls and reason is None  # quick retries and the rest keep their class
    elif by_code >= 3 or cycles >= 3:
        assert got is C.CUSTOMER_ACTION and reason
    else:
        assert got is C.SCHEDULED and reason is None
