"""What a dunning email says: the decline decides the explanation and the button, the
merchant may rewrite each touch's subject and message (DESIGN §7). Pure rules.

Merchant copy is plain text with a few ``{placeholders}``; it is never a template (no
Jinja, no attribute access), so it cannot reach anything but the values listed here.
Our own copy is marked with ``N_`` for the catalogue and translated, placeholders and
all, into the customer's language by the caller (``translate``); the merchant's is theirs
and is never translated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..i18n import N_

PLACEHOLDERS = {
    "name": "the customer's name (or 'there')",
    "merchant": "your business name",
    "amount": "the amount due, e.g. 49.00 USD",
    "deadline": "the last day to pay, e.g. December 29",
}
_TOKEN = re.compile(r"\{([a-z_]+)\}")
MAX_SUBJECT = 150
MAX_MESSAGE = 2000

VARIANTS = (
    "insufficient_funds",
    "expired_card",
    "authentication_required",
    "no_recovery",
    "generic",
)
_EXPIRED = {"expired_card", "invalid_expiry_month", "invalid_expiry_year"}
_AUTH = {"authentication_required", "authentication_not_handled"}


def variant_for(decline_class: str, code: str | None) -> str:
    """Which explanation fits the decline."""
    if decline_class == "no_recovery":
        return "no_recovery"
    code = (code or "").strip().lower()
    if code in _AUTH:
        return "authentication_required"
    if code in _EXPIRED:
        return "expired_card"
    if code == "insufficient_funds":
        return "insufficient_funds"
    return "generic"


@dataclass(frozen=True)
class Explanation:
    headline: str
    body: str
    button: str


EXPLANATIONS: Mapping[str, Explanation] = {
    "insufficient_funds": Explanation(
        N_("Your payment didn't go through"),
        N_(
            "Your bank declined the payment of {amount} for lack of funds. We'll try again in "
            "a few days; if you'd rather use another card, you can change it in one tap."
        ),
        N_("Update payment method"),
    ),
    "expired_card": Explanation(
        N_("Your card has expired"),
        N_(
            "The card on file for your {merchant} subscription has expired, so the payment of "
            "{amount} couldn't be made. Add your new card to keep your subscription."
        ),
        N_("Add your new card"),
    ),
    "authentication_required": Explanation(
        N_("Your bank needs you to confirm this payment"),
        N_(
            "Your bank asked for a quick confirmation (3-D Secure) before it lets the payment "
            "of {amount} through. Confirm it with your bank below."
        ),
        N_("Confirm the payment"),
    ),
    "no_recovery": Explanation(
        N_("Please use another card"),
        N_(
            "The payment of {amount} for your {merchant} subscription couldn't be made with "
            "the card on file. Please add another card to keep your subscription."
        ),
        N_("Use another card"),
    ),
    "generic": Explanation(
        N_("Your payment didn't go through"),
        N_(
            "The payment of {amount} for your {merchant} subscription was declined. We'll "
            "try again soon; updating your card now is the quickest way to fix it."
        ),
        N_("Update payment method"),
    ),
}


@dataclass(frozen=True)
class TouchCopy:
    subject: str
    message: str


def default_copy(position: int, count: int, *, paused: bool = False) -> TouchCopy:
    """The copy of a touch nobody rewrote: the tone firms up along the sequence; the
    extended sequence's last touch may announce a pause instead of an end."""
    if position == 1:
        return TouchCopy(
            N_("Your {merchant} payment didn't go through"),
            N_(
                "Hi {name}, we couldn't take your latest payment for {merchant}. "
                "Nothing is lost yet."
            ),
        )
    if position == count and paused:
        return TouchCopy(
            N_("Your {merchant} subscription is paused"),
            N_(
                "Hi {name}, we still couldn't take your payment, so rather than end your "
                "{merchant} subscription we've paused it."
            ),
        )
    if position == count:
        return TouchCopy(
            N_("Last reminder: your {merchant} payment is still due"),
            N_(
                "Hi {name}, this is our last reminder. If the payment isn't made by "
                "{deadline}, your {merchant} subscription will end."
            ),
        )
    return TouchCopy(
        N_("Reminder: your {merchant} payment is still due"),
        N_("Hi {name}, your {merchant} payment is still outstanding."),
    )


def copy_for(
    overrides: Mapping[str, Mapping[str, str]],
    key: str,
    position: int,
    count: int,
    *,
    paused: bool = False,
    translate: Callable[[str], str] = str,
) -> TouchCopy:
    """The merchant's copy for touch ``key`` where they wrote some, else the default
    (ours, put into the customer's language by ``translate``)."""
    default = default_copy(position, count, paused=paused)
    own = overrides.get(key) or {}
    return TouchCopy(
        subject=(own.get("subject") or "").strip() or translate(default.subject),
        message=(own.get("message") or "").strip() or translate(default.message),
    )


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace the known ``{placeholders}``; anything else stays as written."""
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def copy_errors(
    subject: str, message: str, placeholders: Mapping[str, str] = PLACEHOLDERS
) -> list[str]:
    """What is wrong with copy a merchant wrote (empty means "use the default"), where
    only ``placeholders`` may appear."""
    errors = []
    if len(subject) > MAX_SUBJECT:
        errors.append(f"the subject is {len(subject)} characters; keep it under {MAX_SUBJECT}")
    if "\n" in subject or "\r" in subject:
        errors.append("the subject must be one line")
    if len(message) > MAX_MESSAGE:
        errors.append(f"the message is {len(message)} characters; keep it under {MAX_MESSAGE}")
    unknown = sorted({t for t in _TOKEN.findall(subject + message) if t not in placeholders})
    if unknown:
        known = ", ".join("{" + p + "}" for p in placeholders)
        errors.append(
            f"unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use {known}"
        )
    return errors


_DECLINES = {
    "insufficient_funds": N_("Your bank declined the card for lack of funds. Try another card."),
    "expired_card": N_("That card has expired. Please use another card."),
    "incorrect_cvc": N_("The security code doesn't match. Check it, or use another card."),
    "authentication_required": N_("Your bank needs to confirm this card. Please try again."),
    "card_declined": N_("Your bank declined the card. Please use another card."),
    "do_not_honor": N_(
        "Your bank declined the card. Please contact your bank or use another card."
    ),
}


def decline_message(code: str | None) -> str:
    """What the card-update page tells a customer whose new card was declined (marked
    for the catalogue; the page translates it)."""
    return _DECLINES.get(
        (code or "").strip().lower(), N_("The card was declined. Please use another card.")
    )
