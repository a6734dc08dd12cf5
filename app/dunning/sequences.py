"""The dunning sequences and when each touch goes out (DESIGN §7). Pure rules: no I/O,
no clock reads.

A touch ``dN`` goes at 10:00 in the customer's timezone on the N-th day after the
failure (local calendar days); d0 is the first 10:00 at or after the failure. No touch
goes after the campaign's window ends: the last one is pulled inside it. A high-value
payment's first touch goes at the failure itself, unless it is night for the customer
(21:00 to 08:00): then at 08:00 (:func:`early_first_touch`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..times import zone

SEQUENCES: dict[str, tuple[int, ...]] = {
    "standard": (0, 3, 7, 14),
    "short": (1, 3, 7),
    "extended": (0, 3, 7, 14, 21, 30),
}
DEFAULT_SEQUENCE = "standard"
SEND_TIME = dt.time(10, 0)
PAUSE_OFFER_FROM_DAY = 7  # the extended sequence offers a pause from d7 on
PAUSE_DAYS = (14, 30, 60)
#: No early (high-value) touch lands in these local hours: from NIGHT[0] to NIGHT[1].
NIGHT = (dt.time(21, 0), dt.time(8, 0))
_LAST_TOUCH_MARGIN = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Touch:
    key: str
    """``d0``, ``d3``, ...: the touch's name in settings and on the timeline."""
    day: int
    at: dt.datetime
    """When to send, in UTC."""
    position: int
    """1-based place in the sequence."""
    count: int
    offers_pause: bool
    """Extended sequence from d7: the email offers a pause instead of losing the account."""
    is_final: bool
    why: str | None = None
    """When the touch is not at 10:00 local: why (a high-value payment's first touch)."""

    @property
    def label(self) -> str:
        return position_label(self.position, self.count)

    @property
    def reason(self) -> str:
        when = (
            "on the day of the failure" if self.day == 0 else f"{_days(self.day)} after the failure"
        )
        at = self.why or f"{when}, at 10:00 the customer's time"
        return f"{self.label} ({self.position} of {self.count}): {at}"


def touch_keys(sequence: str) -> tuple[str, ...]:
    return tuple(f"d{day}" for day in SEQUENCES[sequence])


def send_time(failed_at: dt.datetime, day: int, tz: str) -> dt.datetime:
    """10:00 local on the ``day``-th calendar day after the failure (never before it)."""
    zone_info = zone(tz)
    local_day = failed_at.astimezone(zone_info).date() + dt.timedelta(days=day)
    at = dt.datetime.combine(local_day, SEND_TIME, tzinfo=zone_info).astimezone(dt.UTC)
    while at < failed_at:
        local_day += dt.timedelta(days=1)
        at = dt.datetime.combine(local_day, SEND_TIME, tzinfo=zone_info).astimezone(dt.UTC)
    return at


def early_first_touch(failed_at: dt.datetime, tz: str) -> tuple[dt.datetime, str]:
    """A high-value payment's first touch: at the failure, or at 08:00 local when the
    failure falls in the customer's night; with the why for the timeline. Never before
    the failure, never at night, never later than the usual first touch (d0's 10:00)."""
    zone_info = zone(tz)
    local = failed_at.astimezone(zone_info)
    evening, morning = NIGHT
    if morning <= local.time() < evening:
        return failed_at, "at the failure, because the payment is high-value"
    day = local.date() + dt.timedelta(days=1 if local.time() >= evening else 0)
    at = dt.datetime.combine(day, morning, tzinfo=zone_info).astimezone(dt.UTC)
    return max(at, failed_at), (
        f"at {morning:%H:%M} the customer's time (the failure came at night for them), "
        "early because the payment is high-value"
    )


def plan_touches(
    sequence: str,
    failed_at: dt.datetime,
    tz: str,
    *,
    window_ends_at: dt.datetime,
    early_first: bool = False,
) -> list[Touch]:
    """Every touch of ``sequence`` for a failure at ``failed_at`` (aware), in order;
    ``early_first``: a high-value payment's, whose first touch goes early."""
    if sequence not in SEQUENCES:
        raise ValueError(f"unknown dunning sequence {sequence!r}")
    if failed_at.tzinfo is None:
        raise ValueError("failed_at must be timezone-aware")
    days = SEQUENCES[sequence]
    latest = window_ends_at - _LAST_TOUCH_MARGIN
    touches = []
    for position, day in enumerate(days, start=1):
        at, why = send_time(failed_at, day, tz), None
        if early_first and position == 1:
            early, why = early_first_touch(failed_at, tz)
            at = min(at, early)
        at = min(at, latest)
        if touches and at <= touches[-1].at:
            continue  # pulled onto the previous touch by the window's end: one is enough
        touches.append(
            Touch(
                key=f"d{day}",
                day=day,
                at=at,
                position=position,
                count=len(days),
                offers_pause=sequence == "extended" and day >= PAUSE_OFFER_FROM_DAY,
                is_final=position == len(days),
                why=why,
            )
        )
    return touches


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def position_label(position: int, count: int) -> str:
    """The touch in the merchant's words: "first reminder email" ... "final reminder email"."""
    if position == count and count > 1:
        return "final reminder email"
    ordinal = _ORDINALS[position - 1] if 0 < position <= len(_ORDINALS) else f"#{position}"
    return f"{ordinal} reminder email"


def touch_label(sequence: str, key: str) -> str:
    """``d7`` of ``sequence`` in words; a touch the sequence no longer has (the merchant
    switched sequences) is named by its day."""
    found = find_touch(sequence, key)
    if found is None:
        return f"reminder email of day {touch_day(key)}"
    return position_label(*found)


def touch_day(key: str) -> int:
    """The day of touch ``dN``."""
    try:
        return int(key.removeprefix("d"))
    except ValueError:
        raise ValueError(f"not a touch: {key!r}") from None


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def find_touch(sequence: str, key: str) -> tuple[int, int] | None:
    """(position, count) of touch ``key`` in ``sequence``, or None."""
    keys = touch_keys(sequence) if sequence in SEQUENCES else ()
    return (keys.index(key) + 1, len(keys)) if key in keys else None
