"""Checkout-recovery rules. Pure: no I/O, no Flask, no clock reads.

Whether an expired Checkout Session may be written to at all (an email, a recovery
URL, and the customer's consent), when each touch goes (hours after the expiry), when a
later checkout counts as the same purchase, and whether it counts for us.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_DELAYS_HOURS = (1, 24, 72)
MAX_TOUCHES = 3
DELAY_RANGE = (1, 168)
ATTRIBUTION_RANGE = (1, 30)
DEFAULT_ATTRIBUTION_DAYS = 7

#: Where consent comes from. ``stripe``: the customer ticked Checkout's promotions box
#: (``consent_collection[promotions]=auto``, ``consent.promotions == "opt_in"``), the
#: only consent Stripe lets recovery emails rest on. ``metadata``: the merchant records
#: consent under their own policy, per session, in ``metadata[CONSENT_KEY]``.
CONSENT_SOURCES = ("stripe", "metadata")
CONSENT_KEY = "marketing_consent"
_YES = ("opt_in", "true", "yes")


def consent_of(session: Mapping[str, Any], source: str) -> str | None:
    """How the customer agreed to hear from the merchant (the source's name), or None:
    then nobody is written to, whatever else the session says."""
    if source == "stripe":
        consent = session.get("consent") or {}
        return "stripe" if consent.get("promotions") == "opt_in" else None
    if source == "metadata":
        value = str((session.get("metadata") or {}).get(CONSENT_KEY) or "").strip().lower()
        return "metadata" if value in _YES else None
    return None


def email_of(session: Mapping[str, Any], customer_email: str | None) -> str | None:
    """The address the customer gave: on the page, else the merchant's prefill, else the
    Stripe customer's."""
    details = session.get("customer_details") or {}
    return details.get("email") or session.get("customer_email") or customer_email or None


def why_not(session: Mapping[str, Any], *, email: str | None, consent: str | None) -> str | None:
    """Why an expired session gets no campaign, in the merchant's words; None if it does."""
    if session.get("mode") != "subscription":
        return "not a subscription checkout"
    if not email:
        return "the customer left no email address"
    if consent is None:
        return "the customer did not agree to marketing emails"
    recovery = (session.get("after_expiration") or {}).get("recovery") or {}
    if not recovery.get("enabled") or not recovery.get("url"):
        return "recovery is not turned on for this Checkout Session"
    return None


# -- the sequence -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Touch:
    number: int
    at: dt.datetime
    reason: str


_ORDINALS = ("first", "second", "third")


def touch_label(number: int) -> str:
    """The touch in the merchant's words: "first checkout reminder"."""
    ordinal = _ORDINALS[number - 1] if 0 < number <= len(_ORDINALS) else f"#{number}"
    return f"{ordinal} checkout reminder"


def _hours(n: int) -> str:
    return "1 hour" if n == 1 else f"{n} hours"


def plan_touches(expired_at: dt.datetime, delays_hours: Sequence[int]) -> list[Touch]:
    """Each touch ``delays_hours[i]`` hours after the checkout expired (not after the
    touch before: "1 h, 24 h, 72 h" is how merchants think of it)."""
    if expired_at.tzinfo is None:
        raise ValueError("expired_at must be timezone-aware")
    return [
        Touch(
            number,
            expired_at + dt.timedelta(hours=hours),
            f"{_hours(hours)} after the checkout expired",
        )
        for number, hours in enumerate(delays_hours[:MAX_TOUCHES], start=1)
    ]


def close_at(last_touch_at: dt.datetime, attribution_days: int) -> dt.datetime:
    return last_touch_at + dt.timedelta(days=attribution_days)


def delay_errors(delays_hours: Sequence[int]) -> list[str]:
    errors = []
    if not 1 <= len(delays_hours) <= MAX_TOUCHES:
        errors.append(f"send 1 to {MAX_TOUCHES} checkout reminders")
    low, high = DELAY_RANGE
    for number, hours in enumerate(delays_hours, start=1):
        if not low <= hours <= high:
            errors.append(f"the {touch_label(number)} goes {low} to {high} hours after the expiry")
        elif number > 1 and hours <= delays_hours[number - 2]:
            errors.append(f"the {touch_label(number)} goes later than the one before")
    return errors


# -- the purchase and who gets the credit ---------------------------------------------------------


def same_purchase(
    campaign_prices: Sequence[str],
    campaign_email: str,
    campaign_customer: str | None,
    *,
    prices: Sequence[str],
    email: str | None,
    customer: str | None,
) -> bool:
    """A completed checkout is the abandoned one's when it is for the same set of prices
    and by the same person (the Stripe customer, or the email address)."""
    if sorted(set(prices)) != sorted(set(campaign_prices)):
        return False
    if campaign_customer and customer == campaign_customer:
        return True
    return bool(email) and (email or "").strip().lower() == campaign_email


def credit(
    *,
    via_link: bool,
    completed_at: dt.datetime,
    last_touch_at: dt.datetime | None,
    attribution_days: int,
) -> str | None:
    """``link`` (through the recovery link in our email), ``email`` (another checkout
    within the window after a touch), or None (not claimed)."""
    if via_link and last_touch_at is not None:
        return "link"
    if last_touch_at is None or completed_at < last_touch_at:
        return None
    if completed_at - last_touch_at <= dt.timedelta(days=attribution_days):
        return "email"
    return None
