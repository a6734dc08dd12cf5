"""Test cards: Stripe's documented numbers and ``pm_card_*`` ids, plus the sandbox's own
cards that attach fine and decline later with a chosen code (see README.md).

Everything here is pure: which card a number or id names, and whether a charge on it
succeeds, given how many charges it has seen and the date on the clock.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

BRANDS = {"visa": "4", "mastercard": "5", "amex": "3", "discover": "6"}


@dataclass(frozen=True)
class Card:
    number: str
    brand: str = "visa"
    funding: str = "credit"
    country: str = "US"
    # Stripe's decline cards fail already when attached or set up (the $0 check).
    attach_decline: str | None = None
    # Charges after attaching: decline code for every charge, or None.
    charge_decline: str | None = None
    # Sandbox cards: the first charge succeeds, later ones decline with charge_decline;
    # with recover_after=N only the N charges after the first decline.
    first_charge_succeeds: bool = False
    recover_after: int | None = None
    advice_code: str | None = None
    # "setup": 3-D Secure on setup and on-session only; "always": every payment too.
    three_d_secure: str | None = None
    dispute_reason: str | None = None
    unique_fingerprint: bool = False

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def fingerprint(self, account_id: str, salt: str = "") -> str:
        seed = f"{account_id}:{self.number}:{salt if self.unique_fingerprint else ''}"
        return hashlib.sha256(seed.encode()).hexdigest()[:16]


def _c(number: str, brand: str = "visa", **kw) -> Card:
    return Card(number=number, brand=brand, **kw)


#: Stripe's documented test card numbers.
NUMBERS: dict[str, Card] = {
    c.number: c
    for c in [
        _c("4242424242424242"),
        _c("4000056655665556", funding="debit"),
        _c("5555555555554444", "mastercard"),
        _c("2223003122003222", "mastercard"),
        _c("5200828282828210", "mastercard", funding="debit"),
        _c("378282246310005", "amex"),
        _c("6011111111111117", "discover"),
        _c("4000000000000341", charge_decline="generic_decline"),
        _c("4000000000000002", attach_decline="generic_decline"),
        _c("4000000000009995", attach_decline="insufficient_funds"),
        _c("4000000000009987", attach_decline="lost_card"),
        _c("4000000000009979", attach_decline="stolen_card"),
        _c("4000000000000069", attach_decline="expired_card"),
        _c("4000000000000127", attach_decline="incorrect_cvc"),
        _c("4000000000000119", attach_decline="processing_error"),
        _c("4242424242424241", attach_decline="incorrect_number"),
        _c("4000000000006975", attach_decline="card_velocity_exceeded"),
        _c("4100000000000019", attach_decline="fraudulent"),
        _c("4000002500003155", three_d_secure="setup"),
        _c("4000002760003184", three_d_secure="always"),
        _c("4000000000003220", three_d_secure="setup"),
        _c("4000000000000259", dispute_reason="fraudulent"),
        _c("4000000000002685", dispute_reason="product_not_received"),
    ]
}

#: Stripe's documented PaymentMethod test ids.
PM_IDS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_visa_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeDeclinedVelocityLimitExceeded": "4000000000006975",
    "pm_card_radarBlock": "4100000000000019",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
}

#: Decline codes the sandbox cards can carry (``pm_card_sandbox_<code>``).
SANDBOX_CODES = (
    "insufficient_funds",
    "do_not_honor",
    "generic_decline",
    "expired_card",
    "incorrect_cvc",
    "processing_error",
    "card_velocity_exceeded",
    "authentication_required",
    "stolen_card",
    "lost_card",
    "fraudulent",
    "try_again_later",
    "issuer_not_available",
    "pickup_card",
    "restricted_card",
    "card_not_supported",
    "withdrawal_count_limit_exceeded",
    "do_not_try_again",
)

_SANDBOX = re.compile(
    r"^pm_card_sandbox_(?:(?P<brand>visa|mastercard|amex|discover)_)?(?P<code>[a-z_]+?)"
    r"(?:_(?P<always>always)|_recover(?P<recover>\d+))?$"
)

_SANDBOX_NUMBERS = {
    "visa": "4000009990000000",
    "mastercard": "5100009990000000",
    "amex": "340000999000000",
    "discover": "6011009990000000",
}


def sandbox_card(pm_id: str) -> Card | None:
    """``pm_card_sandbox[_<brand>]_<code>[_always|_recover<N>]``, or None."""
    match = _SANDBOX.match(pm_id)
    if not match or match.group("code") not in SANDBOX_CODES:
        return None
    brand = match.group("brand") or "visa"
    code = match.group("code")
    advice = None
    if code == "do_not_try_again":
        code, advice = "do_not_honor", "do_not_try_again"
    recover = match.group("recover")
    number = _SANDBOX_NUMBERS[brand][:-4] + f"{SANDBOX_CODES.index(match.group('code')):04d}"
    return Card(
        number=number,
        brand=brand,
        charge_decline=code,
        first_charge_succeeds=not match.group("always"),
        recover_after=int(recover) if recover is not None else None,
        advice_code=advice,
        unique_fingerprint=True,
    )


def card_for_number(number: str) -> Card:
    """Any other number that passes the Luhn check behaves as a plain good card."""
    digits = re.sub(r"\D", "", number)
    if digits in NUMBERS:
        return NUMBERS[digits]
    brand = {"4": "visa", "5": "mastercard", "2": "mastercard", "3": "amex", "6": "discover"}.get(
        digits[:1], "visa"
    )
    return Card(number=digits, brand=brand)


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in re.sub(r"\D", "", number)]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Decline:
    code: str  # the error's ``code`` / charge ``failure_code``
    decline_code: str
    message: str
    advice_code: str | None = None
    network_advice_code: str | None = None
    network_decline_code: str | None = None


_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "incorrect_number": "Your card number is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "card_velocity_exceeded": "Your card was declined for making repeated attempts too "
    "frequently or exceeding its amount limit.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}
_OWN_CODE = {
    "authentication_required",
    "expired_card",
    "incorrect_cvc",
    "incorrect_number",
    "processing_error",
}
_ADVICE = {
    "insufficient_funds": "try_again_later",
    "processing_error": "try_again_later",
    "try_again_later": "try_again_later",
    "issuer_not_available": "try_again_later",
    "card_velocity_exceeded": "try_again_later",
    "expired_card": "confirm_card_data",
    "incorrect_cvc": "confirm_card_data",
    "incorrect_number": "confirm_card_data",
    "stolen_card": "do_not_try_again",
    "lost_card": "do_not_try_again",
    "fraudulent": "do_not_try_again",
    "pickup_card": "do_not_try_again",
    "restricted_card": "do_not_try_again",
}
_NETWORK_DECLINE = {  # ISO 8583 response codes as the networks send them
    "insufficient_funds": "51",
    "do_not_honor": "05",
    "generic_decline": "05",
    "expired_card": "54",
    "incorrect_cvc": "N7",
    "stolen_card": "43",
    "lost_card": "41",
    "fraudulent": "59",
    "pickup_card": "04",
    "restricted_card": "62",
    "card_velocity_exceeded": "61",
    "withdrawal_count_limit_exceeded": "65",
    "processing_error": "96",
    "issuer_not_available": "91",
    "try_again_later": "19",
    "authentication_required": "1A",
    "card_not_supported": "57",
}


def decline(code: str, brand: str, advice_code: str | None = None) -> Decline:
    advice = advice_code or _ADVICE.get(code)
    network_advice = None
    if brand == "mastercard" and advice:
        # Mastercard merchant advice codes: 01 new info, 02 try later, 03 do not try again.
        network_advice = {
            "confirm_card_data": "01",
            "try_again_later": "02",
            "do_not_try_again": "03",
        }[advice]
    return Decline(
        code=code if code in _OWN_CODE else "card_declined",
        decline_code=code,
        message=_MESSAGES.get(code, "Your card was declined."),
        advice_code=advice,
        network_advice_code=network_advice,
        network_decline_code=_NETWORK_DECLINE.get(code),
    )


def charge_outcome(
    card: Card,
    charges_before: int,
    *,
    exp_month: int,
    exp_year: int,
    at: int,
    off_session: bool,
    authenticated: bool = False,
) -> Decline | None:
    """Whether the next charge on ``card`` declines; ``charges_before`` counts earlier ones.

    ``authenticated``: the cardholder passed 3-D Secure for this charge (or, on session,
    when the card was set up), which also clears a sandbox card's
    ``authentication_required`` decline."""
    moment = datetime.fromtimestamp(at, UTC)
    if (exp_year, exp_month) < (moment.year, moment.month):
        return decline("expired_card", card.brand)
    if card.attach_decline:
        return decline(card.attach_decline, card.brand)
    if card.three_d_secure == "always" and not authenticated:
        return decline("authentication_required", card.brand)
    if card.three_d_secure == "setup" and not off_session and not authenticated:
        return decline("authentication_required", card.brand)
    if card.charge_decline is None:
        return None
    if card.charge_decline == "authentication_required" and authenticated:
        return None
    if card.first_charge_succeeds:
        if charges_before == 0:
            return None
        if card.recover_after is not None and charges_before > card.recover_after:
            return None
    return decline(card.charge_decline, card.brand, card.advice_code)
