"""Decline classes: which failed payments are worth retrying, and how (DESIGN §6).

The tables are Stripe's ``decline_code`` / ``failure_code`` values. A few codes Stripe
documents beyond DESIGN's table are placed where they are safest: ``stop_payment_order``
(the cardholder told the bank to stop paying us) is ``no_recovery``; ``invalid_number``,
``invalid_account`` and ``new_account_information_available`` need a new card, so
``customer_action``. Every other unknown code is ``scheduled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class DeclineClass(StrEnum):
    IMMEDIATE = "immediate"
    SCHEDULED = "scheduled"
    CUSTOMER_ACTION = "customer_action"
    NO_RECOVERY = "no_recovery"


IMMEDIATE_CODES = frozenset({"processing_error", "issuer_not_available", "reenter_transaction"})
SCHEDULED_CODES = frozenset(
    {
        "insufficient_funds",
        "do_not_honor",
        "generic_decline",
        "card_declined",
        "try_again_later",
        "card_velocity_exceeded",
        "withdrawal_count_limit_exceeded",
    }
)
CUSTOMER_ACTION_CODES = frozenset(
    {
        "expired_card",
        "incorrect_cvc",
        "invalid_cvc",
        "incorrect_number",
        "invalid_number",
        "invalid_account",
        "new_account_information_available",
        "incorrect_zip",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "authentication_required",
        "card_not_supported",
        "currency_not_supported",
    }
)
NO_RECOVERY_CODES = frozenset(
    {
        "fraudulent",
        "stolen_card",
        "lost_card",
        "pickup_card",
        "restricted_card",
        "security_violation",
        "revocation_of_authorization",
        "revocation_of_authorizations",
        "revocation_of_all_authorizations",
        "stop_payment_order",
        "merchant_blacklist",
        "do_not_try_again",
    }
)

# Visa category 1, "issuer will never approve" (Visa response codes 04, 07, 12, 14, 15,
# 41, 43, 46, 57, 62, R0, R1, R3), as Stripe reports them. Visa forbids any reattempt on
# the card after one of these; restricted_card (62) is Visa category 2, kept here on
# purpose because we never retry it either.
VISA_CATEGORY_1_CODES = frozenset(
    {
        "pickup_card",  # 04, 07
        "lost_card",  # 41
        "stolen_card",  # 43
        "restricted_card",  # 62
        "invalid_account",  # 14, 46 (closed account), 15 (no such issuer)
        "invalid_number",  # 14
        "incorrect_number",  # 14
        "security_violation",  # 63 / N7 family
        "transaction_not_allowed",  # 12, 57
        "not_permitted",  # 57
        "service_not_allowed",  # 57
        "stop_payment_order",  # R0
        "revocation_of_authorization",  # R1
        "revocation_of_authorizations",
        "revocation_of_all_authorizations",  # R3
    }
)

ADVICE_DO_NOT_TRY_AGAIN = "do_not_try_again"
ADVICE_CONFIRM_CARD_DATA = "confirm_card_data"
ADVICE_TRY_AGAIN_LATER = "try_again_later"
# Mastercard Merchant Advice Codes: 03 "do not try again", 21 "payment cancellation".
NETWORK_DO_NOT_TRY_AGAIN = frozenset({"03", "21"})
# 01 "new account information available": the card on file is outdated.
NETWORK_NEW_ACCOUNT_INFO = "01"

_DEFAULT_CLASS = {
    **dict.fromkeys(IMMEDIATE_CODES, DeclineClass.IMMEDIATE),
    **dict.fromkeys(SCHEDULED_CODES, DeclineClass.SCHEDULED),
    **dict.fromkeys(CUSTOMER_ACTION_CODES, DeclineClass.CUSTOMER_ACTION),
    **dict.fromkeys(NO_RECOVERY_CODES, DeclineClass.NO_RECOVERY),
}

ESCALATE_AFTER_UNRECOVERED = 3


def normalize(code: str | None) -> str | None:
    if code is None:
        return None
    code = code.strip().lower()
    return code or None


def decline_code_of(decline_code: str | None, failure_code: str | None) -> str | None:
    """The code that classifies a failure: the issuer's decline code, else Stripe's."""
    return normalize(decline_code) or normalize(failure_code)


def is_do_not_try_again(advice_code: str | None, network_advice_code: str | None) -> bool:
    return (
        normalize(advice_code) == ADVICE_DO_NOT_TRY_AGAIN
        or normalize(network_advice_code) in NETWORK_DO_NOT_TRY_AGAIN
    )


def default_class(code: str | None) -> DeclineClass:
    return _DEFAULT_CLASS.get(normalize(code) or "", DeclineClass.SCHEDULED)


def classify(
    decline_code: str | None,
    failure_code: str | None = None,
    advice_code: str | None = None,
    network_advice_code: str | None = None,
    overrides: Mapping[str, DeclineClass | str] | None = None,
) -> DeclineClass:
    """The class of one failed charge.

    Precedence, safest first: a no_recovery code or a do-not-try-again advice (nothing
    can move these out of no_recovery); a confirm-card-data advice; the workspace's
    override for the code; the default table, where a try-again-later advice turns
    a wait-for-the-customer code into scheduled retries.
    """
    code = decline_code_of(decline_code, failure_code)
    advice = normalize(advice_code)
    if code in NO_RECOVERY_CODES or is_do_not_try_again(advice, network_advice_code):
        return DeclineClass.NO_RECOVERY
    if advice == ADVICE_CONFIRM_CARD_DATA or normalize(network_advice_code) == (
        NETWORK_NEW_ACCOUNT_INFO
    ):
        return DeclineClass.CUSTOMER_ACTION
    if overrides and code is not None:
        normalized = {normalize(k): v for k, v in overrides.items()}
        if code in normalized:
            return DeclineClass(normalized[code])
    cls = default_class(code)
    if advice == ADVICE_TRY_AGAIN_LATER and cls is DeclineClass.CUSTOMER_ACTION:
        # The issuer says a later attempt may pass: retry, though the code alone would
        # wait for the customer. An immediate code keeps its quick retries.
        return DeclineClass.SCHEDULED
    return cls


def effective_class(
    cls: DeclineClass,
    code: str | None,
    past_unrecovered_for_customer: Mapping[str, int],
    cycles_not_recovered_by_retries: int = 0,
) -> DeclineClass:
    """Adaptive escalation: a scheduled decline stops blind retries (the customer must
    act) when its code already failed to recover for this customer in 3+ past campaigns
    (``code -> campaigns``), or when 3+ of the customer's past failed payments were not
    recovered by a retry at all (lost, or paid only after the customer acted)."""
    return (
        cls
        if escalation_reason(
            cls, code, past_unrecovered_for_customer, cycles_not_recovered_by_retries
        )
        is None
        else DeclineClass.CUSTOMER_ACTION
    )


def escalation_reason(
    cls: DeclineClass,
    code: str | None,
    past_unrecovered_for_customer: Mapping[str, int],
    cycles_not_recovered_by_retries: int = 0,
) -> str | None:
    """Why :func:`effective_class` escalates, in the merchant's words (None: it does not)."""
    if cls is not DeclineClass.SCHEDULED:
        return None
    name = normalize(code) or ""
    if past_unrecovered_for_customer.get(name, 0) >= ESCALATE_AFTER_UNRECOVERED:
        return f"{name} never recovered for this customer in 3 or more past campaigns"
    if cycles_not_recovered_by_retries >= ESCALATE_AFTER_UNRECOVERED:
        return (
            f"retries recovered none of this customer's last {cycles_not_recovered_by_retries} "
            "failed payments: straight to the card-update link, no blind retries"
        )
    return None


def normalize_brand(brand: str | None) -> str:
    return (brand or "").strip().lower().replace(" ", "").replace("_", "")


def card_block_reason(
    brand: str | None,
    decline_code: str | None,
    failure_code: str | None = None,
    advice_code: str | None = None,
    network_advice_code: str | None = None,
) -> str | None:
    """Why this decline forbids any further attempt on the same card, or None."""
    code = decline_code_of(decline_code, failure_code)
    if normalize(advice_code) == ADVICE_DO_NOT_TRY_AGAIN:
        return "the issuer advised do_not_try_again"
    nac = normalize(network_advice_code)
    if nac in NETWORK_DO_NOT_TRY_AGAIN:
        return f'the network advised "do not try again" (advice code {nac})'
    if code in NO_RECOVERY_CODES:
        return f"the card was declined as {code}"
    if normalize_brand(brand) == "visa" and code in VISA_CATEGORY_1_CODES:
        return f"Visa category 1 decline ({code}): the issuer will never approve"
    return None
