"""The end of dunning (DESIGN §6, §7): the pause offer that follows the last touch, and
the last-chance discount the final touch carries. Pure rules: no I/O, no clock reads.

The pause offer goes two days after the final reminder email, at 10:00 the customer's
time, pulled in before the campaign's 30-day window ends. It is a customer message, so
it must also leave the workspace's gap after the last touch: when the window leaves no
room for that (the extended sequence's last email falls on the window's last day), it
is not sent at all, and the timeline says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..retain import policy as retain_policy
from .sequences import PAUSE_DAYS, send_time

PAUSE_OFFER_DAYS = PAUSE_DAYS
PAUSE_OFFER_AFTER_DAYS = 2
#: The offer leaves at least this long before the window ends, so the runner (which
#: skips anything due at or after the end) still sends it.
WINDOW_MARGIN = dt.timedelta(hours=1)
DISCOUNT_PERCENT = (5, 90)
DISCOUNT_MONTHS = (1, 12)


@dataclass(frozen=True)
class PlannedOffer:
    at: dt.datetime | None
    """When the offer goes (UTC); None when the window leaves no room for it."""
    reason: str


def plan_pause_offer(
    last_touch_at: dt.datetime,
    window_ends_at: dt.datetime,
    tz: str,
    *,
    gap: dt.timedelta,
    last_label: str = "final reminder email",
) -> PlannedOffer:
    """When the pause offer follows the campaign's last touch (sent at ``last_touch_at``).
    Always after the last touch by at least ``gap`` and before the window ends."""
    wanted = send_time(last_touch_at, PAUSE_OFFER_AFTER_DAYS, tz)
    latest = window_ends_at - WINDOW_MARGIN
    earliest = last_touch_at + max(gap, dt.timedelta(minutes=1))
    days = f"{PAUSE_OFFER_AFTER_DAYS} days after the {last_label}"
    if earliest <= wanted <= latest:
        return PlannedOffer(
            wanted,
            f"pause offer: retries and reminders are exhausted; {days}, at 10:00 the "
            "customer's time",
        )
    hours = round(gap.total_seconds() / 3600)
    if wanted < earliest <= latest:  # a gap longer than two days between emails
        return PlannedOffer(
            earliest,
            f"pause offer: retries and reminders are exhausted; {hours} h after the "
            f"{last_label} (the least time between two emails)",
        )
    if latest >= earliest:
        return PlannedOffer(
            latest,
            f"pause offer: retries and reminders are exhausted; pulled in before the 30-day "
            f"window ends ({days} would be too late)",
        )
    return PlannedOffer(
        None,
        f"no pause offer: the 30-day window ends less than {hours} h after the {last_label}, "
        "so there is no room to send it",
    )


def discount_words(percent: int, months: int) -> str:
    """The offer in the merchant's words: "20% off the next 3 months"."""
    return f"{percent}% off the next {'month' if months == 1 else f'{months} months'}"


def discount_errors(percent: int | None, months: int | None) -> list[str]:
    """What is wrong with a last-chance discount (both None means off)."""
    if percent is None and months is None:
        return []
    if percent is None or months is None:
        return ["give the last-chance discount both a percent and a number of months"]
    errors = []
    if not DISCOUNT_PERCENT[0] <= percent <= DISCOUNT_PERCENT[1]:
        errors.append(
            f"the last-chance discount is {DISCOUNT_PERCENT[0]} to {DISCOUNT_PERCENT[1]} "
            "percent off"
        )
    if not DISCOUNT_MONTHS[0] <= months <= DISCOUNT_MONTHS[1]:
        errors.append(
            f"the last-chance discount lasts {DISCOUNT_MONTHS[0]} to {DISCOUNT_MONTHS[1]} months"
        )
    return errors


def _as_retain_offer(percent: int, months: int) -> dict[str, object]:
    return {"type": "discount", "percent_off": percent, "months": months}


def coupon_id(percent: int, months: int) -> str:
    """One Stripe coupon per shape, shared with Retain's discount offers of that shape."""
    return retain_policy.coupon_id(_as_retain_offer(percent, months))


def coupon_params(percent: int, months: int) -> dict[str, object]:
    """The coupon as Retain makes it: ``percent`` off, repeating for ``months``."""
    return {
        "percent_off": percent,
        "duration": "repeating",
        "duration_in_months": months,
        "name": retain_policy.describe_offer(_as_retain_offer(percent, months))[:40],
    }
