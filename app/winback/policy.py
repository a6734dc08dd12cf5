"""Win-back rules (DESIGN §9). Pure: no I/O, no Flask, no clock reads.

Which reason a cancel falls under (from our cancel flow's survey, else Stripe's
``cancellation_details.feedback``), when each touch goes, whether a return counts for
us, and what a campaign's offer is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..dunning.sequences import send_time

VOLUNTARY, INVOLUNTARY = "voluntary", "involuntary"
#: The reasons copy is written for, in the order the settings show them.
REASONS = ("too_expensive", "missing_feature", "not_using", "switched", "other")
#: Involuntary cancels (the payment failed for good) get their own copy.
PAYMENT_FAILED = "payment_failed"
COPY_KEYS = (*REASONS, PAYMENT_FAILED)
REASON_LABELS = {
    "too_expensive": "Too expensive",
    "missing_feature": "Missing a feature",
    "not_using": "Not using it",
    "switched": "Switched to another product",
    "other": "Other or no reason",
    PAYMENT_FAILED: "Payment failed (involuntary)",
}

# Our cancel flows' survey keys (app/retain/templates.py), grouped.
_SURVEY = {
    "too_expensive": "too_expensive",
    "budget": "too_expensive",
    "student": "too_expensive",
    "nonprofit": "too_expensive",
    "missing_features": "missing_feature",
    "technical_issues": "missing_feature",
    "results": "missing_feature",
    "not_for_me": "missing_feature",
    "not_using": "not_using",
    "low_usage": "not_using",
    "adoption": "not_using",
    "no_time": "not_using",
    "break": "not_using",
    "off_season": "not_using",
    "travel": "not_using",
    "injury": "not_using",
    "project_done": "not_using",
    "switching": "switched",
    "in_house": "switched",
}
# Stripe's cancellation_details.feedback (its own portal asks this).
_FEEDBACK = {
    "too_expensive": "too_expensive",
    "missing_features": "missing_feature",
    "low_quality": "missing_feature",
    "too_complex": "missing_feature",
    "unused": "not_using",
    "switched_service": "switched",
}


def reason_group(survey_key: str | None, stripe_feedback: str | None) -> str:
    """The reason a cancel's copy follows: the survey answer first (the customer's own
    words in our flow), else what Stripe's portal asked, else ``other``."""
    key = (survey_key or "").strip().lower()
    if key in _SURVEY:
        return _SURVEY[key]
    if key in REASONS:
        return key
    return _FEEDBACK.get((stripe_feedback or "").strip().lower(), "other")


def copy_key(kind: str, reason: str) -> str:
    """Which copy a campaign's touches use: involuntary ones their own."""
    return PAYMENT_FAILED if kind == INVOLUNTARY else reason


# -- the sequence -------------------------------------------------------------------------------

DEFAULT_DELAYS = (14, 14)
MAX_TOUCHES = 3
DELAY_RANGE = (0, 90)
ATTRIBUTION_RANGE = (1, 90)
DEFAULT_ATTRIBUTION_DAYS = 30


@dataclass(frozen=True)
class Touch:
    number: int
    at: dt.datetime
    reason: str


_ORDINALS = ("first", "second", "third")


def touch_label(number: int) -> str:
    """The touch in the merchant's words: "first win-back email"."""
    ordinal = _ORDINALS[number - 1] if 0 < number <= len(_ORDINALS) else f"#{number}"
    return f"{ordinal} win-back email"


def plan_touches(ended_at: dt.datetime, tz: str, delays: Sequence[int]) -> list[Touch]:
    """Each touch at 10:00 in the customer's timezone: the first ``delays[0]`` days after
    the end, each next one ``delays[i]`` days after the one before."""
    if ended_at.tzinfo is None:
        raise ValueError("ended_at must be timezone-aware")
    touches: list[Touch] = []
    base = ended_at
    for number, days in enumerate(delays[:MAX_TOUCHES], start=1):
        at = send_time(base, days, tz)
        after = "the subscription ended" if number == 1 else f"the {touch_label(number - 1)}"
        reason = f"{_days(days)} after {after}, at 10:00 the customer's time"
        touches.append(Touch(number, at, reason))
        base = at
    return touches


def close_at(last_touch_at: dt.datetime, attribution_days: int) -> dt.datetime:
    """A campaign whose customer has not come back ends when the last touch's
    attribution window does."""
    return last_touch_at + dt.timedelta(days=attribution_days)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def delay_errors(delays: Sequence[int]) -> list[str]:
    errors = []
    if not 1 <= len(delays) <= MAX_TOUCHES:
        errors.append(f"send 1 to {MAX_TOUCHES} win-back emails")
    low, high = DELAY_RANGE
    for number, days in enumerate(delays, start=1):
        if not low <= days <= high:
            errors.append(f"the {touch_label(number)} goes {low} to {high} days after")
        elif number > 1 and days < 1:
            errors.append(f"the {touch_label(number)} goes at least 1 day after the one before")
    return errors


# -- attribution --------------------------------------------------------------------------------


def credit(
    *,
    via_link: bool,
    returned_at: dt.datetime,
    last_touch_at: dt.datetime | None,
    attribution_days: int,
) -> str | None:
    """Whether a return counts for the campaign: ``link`` (through our page), ``email``
    (any other way, within the window after a touch), or None (not claimed)."""
    if via_link:
        return "link"
    if last_touch_at is None or returned_at < last_touch_at:
        return None
    if returned_at - last_touch_at <= dt.timedelta(days=attribution_days):
        return "email"
    return None


# -- the offer ----------------------------------------------------------------------------------

OFFER_PERCENT = (5, 90)
OFFER_MONTHS = (1, 12)
OFFER_TO = ("too_expensive", "everyone")


@dataclass(frozen=True)
class Offer:
    percent: int
    months: int

    @property
    def coupon_id(self) -> str:
        """One coupon per offer shape, shared by every customer who takes it."""
        return f"backstop_winback_{self.percent}pct_{self.months}m"

    @property
    def describe(self) -> str:
        months = "1 month" if self.months == 1 else f"{self.months} months"
        return f"{self.percent}% off for {months}"


def offer_for(
    percent: int | None, months: int | None, offer_to: str, reason: str, kind: str
) -> Offer | None:
    """The campaign's offer, if the merchant set one and it is for this customer."""
    if not percent or not months:
        return None
    if offer_to != "everyone" and (kind == INVOLUNTARY or reason != "too_expensive"):
        return None
    return Offer(percent, months)


def offer_errors(percent: int | None, months: int | None, offer_to: str) -> list[str]:
    errors = []
    if (percent is None) != (months is None):
        errors.append("an offer needs both a percentage and a number of months")
    if percent is not None and not OFFER_PERCENT[0] <= percent <= OFFER_PERCENT[1]:
        errors.append(f"the offer is {OFFER_PERCENT[0]} to {OFFER_PERCENT[1]} percent off")
    if months is not None and not OFFER_MONTHS[0] <= months <= OFFER_MONTHS[1]:
        errors.append(f"the offer lasts {OFFER_MONTHS[0]} to {OFFER_MONTHS[1]} months")
    if offer_to not in OFFER_TO:
        errors.append("offer it to customers who said it was too expensive, or to everyone")
    return errors
